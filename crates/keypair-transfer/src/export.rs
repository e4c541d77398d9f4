//! Writing a store out in the export format.

use crate::error::TransferError;
use crate::format::{digest_line, record_line};
use crate::progress::Progress;
use crate::scan::Batches;
use crate::{FORMAT, FORMAT_VERSION};
use keypair_core::KeyPairStore;
use sha2::{Digest, Sha256};
use std::io::Write;

/// Streams every key pair of `store` to `out` in the export format, naming `source` (a
/// store kind, never its URL) in the header; returns the count.
pub async fn export(
    store: &dyn KeyPairStore,
    source: &str,
    out: &mut (dyn Write + Send),
    progress: &mut dyn Progress,
) -> Result<u64, TransferError> {
    let total = store.count_all().await?;
    progress.start(total);
    let header = serde_json::json!({"format": FORMAT, "version": FORMAT_VERSION, "source": source, "count": total});
    writeln!(out, "{header}")?;
    let mut digest = Sha256::new();
    let mut count = 0u64;
    let mut batches = Batches::new(store);
    loop {
        let batch = batches.next().await?;
        if batch.is_empty() {
            break;
        }
        for kp in &batch {
            let line = record_line(kp)?;
            digest_line(&mut digest, &line);
            writeln!(out, "{line}")?;
        }
        count += batch.len() as u64;
        progress.advance(batch.len() as u64);
    }
    let digest = format!("sha256:{}", hex::encode(digest.finalize()));
    // Written field by field: the trailer is recognised by its first field.
    writeln!(
        out,
        "{{\"trailer\":true,\"count\":{count},\"digest\":\"{digest}\"}}"
    )?;
    out.flush()?;
    progress.finish("exported");
    Ok(count)
}
