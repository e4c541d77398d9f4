//! Loading an export into a store: the file checked whole first ([`crate::check`]), so a
//! damaged or hostile one changes nothing, then loaded in atomic batches. A record
//! already stored identically is skipped, so running an import again resumes it and
//! changes nothing once done.

use crate::error::{format_error, TransferError};
use crate::format::{check, next_line, parse_record};
use crate::progress::Progress;
use crate::BATCH;
use keypair_core::{KeyPairStore, LoadReport};
use std::io::BufRead;

/// Opens the export from its start, once for each pass.
pub type Open<'a> = dyn FnMut() -> std::io::Result<Box<dyn BufRead + Send>> + Send + 'a;

/// Loads an export into `store`: checks it whole, then loads it in batches.
pub async fn import(
    store: &dyn KeyPairStore,
    open: &mut Open<'_>,
    progress: &mut dyn Progress,
) -> Result<LoadReport, TransferError> {
    let count = check(&mut *open()?)?;
    load(store, open, count, progress).await
}

/// The second pass of an import: an export that [`check`] found to hold `count` valid
/// records, loaded in batches.
pub async fn load(
    store: &dyn KeyPairStore,
    open: &mut Open<'_>,
    count: u64,
    progress: &mut dyn Progress,
) -> Result<LoadReport, TransferError> {
    let mut input = open()?;
    next_line(&mut *input, 1)?;
    progress.start(count);
    let mut total = LoadReport::default();
    let mut batch = Vec::with_capacity(BATCH.min(count as usize));
    for line_no in 2..count + 2 {
        let line = next_line(&mut *input, line_no)?
            .ok_or_else(|| format_error(line_no, "the file changed while it was read"))?;
        batch.push(parse_record(&line, line_no)?);
        if batch.len() == BATCH || line_no == count + 1 {
            let report = store.load(&batch).await?;
            total.loaded += report.loaded;
            total.present += report.present;
            progress.advance(batch.len() as u64);
            batch.clear();
        }
    }
    progress.finish(&format!(
        "{} loaded, {} already present",
        total.loaded, total.present
    ));
    Ok(total)
}
