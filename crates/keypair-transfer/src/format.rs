//! The export format, JSON Lines: a header (format, version, source, count), one
//! `KeyPairRecord` a line in key-id order, and a trailer with the count and the SHA-256
//! of every record line's bytes, each followed by `\n`; and the checks an import makes of
//! a file before it loads anything.

use crate::error::{format_error, TransferError};
use crate::{FORMAT, FORMAT_VERSION, MAX_LINE};
use keypair_core::{KeyPair, KeyPairRecord};
use sha2::{Digest, Sha256};
use std::io::BufRead;

/// Adds one record line to a digest: the line's bytes, then a newline. The export's
/// trailer, the import's check and the verification all digest this way.
pub(crate) fn digest_line(digest: &mut Sha256, line: &str) {
    digest.update(line.as_bytes());
    digest.update(b"\n");
}

/// The canonical line of a record.
pub(crate) fn record_line(kp: &KeyPair) -> Result<String, TransferError> {
    serde_json::to_string(&KeyPairRecord::from(kp)).map_err(|e| TransferError::Io(e.into()))
}

/// One line of at most [`MAX_LINE`] bytes without its newline, or `None` at the end.
pub(crate) fn next_line(
    input: &mut dyn BufRead,
    line_no: u64,
) -> Result<Option<String>, TransferError> {
    let mut buf = Vec::new();
    let limit = MAX_LINE as u64 + 1;
    let n = std::io::Read::take(&mut *input, limit).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() > MAX_LINE {
        return Err(format_error(
            line_no,
            format!("the line is longer than {MAX_LINE} bytes"),
        ));
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| format_error(line_no, "the line is not UTF-8"))
}

/// The header's count, after checking its format and version.
fn check_header(line: Option<String>) -> Result<u64, TransferError> {
    let line = line.ok_or_else(|| {
        format_error(
            1,
            "the file is empty; an export starts with its header line",
        )
    })?;
    let header: serde_json::Value = serde_json::from_str(&line)
        .map_err(|e| format_error(1, format!("the header is not JSON: {e}")))?;
    if header["format"] != FORMAT {
        return Err(format_error(
            1,
            format!("this is not a keypair export (format {})", header["format"]),
        ));
    }
    if header["version"] != FORMAT_VERSION {
        return Err(format_error(
            1,
            format!(
                "format version {} is not supported; this keypaird reads version {FORMAT_VERSION}",
                header["version"]
            ),
        ));
    }
    header["count"]
        .as_u64()
        .ok_or_else(|| format_error(1, "the header has no count"))
}

/// A record line through the core's value types.
pub(crate) fn parse_record(line: &str, line_no: u64) -> Result<KeyPair, TransferError> {
    serde_json::from_str::<KeyPair>(line)
        .map_err(|e| format_error(line_no, format!("invalid record: {e}")))
}

/// The first pass of an import: every line of an export read and checked, nothing
/// loaded; the number of records. A damaged or hostile file is refused with its line
/// number.
pub fn check(input: &mut dyn BufRead) -> Result<u64, TransferError> {
    let declared = check_header(next_line(input, 1)?)?;
    let mut digest = Sha256::new();
    let mut count = 0u64;
    let mut line_no = 1u64;
    loop {
        line_no += 1;
        let line = next_line(input, line_no)?.ok_or_else(|| {
            format_error(
                line_no,
                "the file ends without its trailer line: it is truncated; export it again",
            )
        })?;
        if line.starts_with("{\"trailer\":true") {
            check_trailer(
                &line,
                line_no,
                count,
                declared,
                &format!("sha256:{}", hex::encode(digest.finalize())),
            )?;
            if next_line(input, line_no + 1)?.is_some() {
                return Err(format_error(
                    line_no + 1,
                    "there is more after the trailer line",
                ));
            }
            return Ok(count);
        }
        parse_record(&line, line_no)?;
        digest_line(&mut digest, &line);
        count += 1;
    }
}

fn check_trailer(
    line: &str,
    line_no: u64,
    count: u64,
    declared: u64,
    digest: &str,
) -> Result<(), TransferError> {
    let trailer: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| format_error(line_no, format!("the trailer is not JSON: {e}")))?;
    if trailer["count"].as_u64() != Some(count) || declared != count {
        return Err(format_error(
            line_no,
            format!(
                "the file has {count} records, but its header says {declared} and its trailer {}",
                trailer["count"]
            ),
        ));
    }
    if trailer["digest"].as_str() != Some(digest) {
        return Err(format_error(
            line_no,
            "the digest does not match the records: the file was changed or damaged",
        ));
    }
    Ok(())
}
