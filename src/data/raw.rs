//! Raw fixed-size records: the file is N records of exactly D bytes each, nothing else.

use std::path::Path;

use super::source::read_file;
use super::Dataset;
use crate::error::{Error, Result};

/// Splits `bytes` into records of `record_size` bytes.
///
/// The length must be a positive multiple of `record_size`.
pub fn parse_raw(bytes: Vec<u8>, record_size: usize) -> Result<Dataset> {
    if record_size == 0 {
        return Err(Error::parameter("the record size must be at least 1 byte"));
    }
    if bytes.is_empty() {
        return Err(Error::format("raw records", "empty: it holds 0 records"));
    }
    let extra = bytes.len() % record_size;
    if extra != 0 {
        return Err(Error::format(
            "raw records",
            format!(
                "{} bytes are not a whole number of {record_size}-byte records: \
                 {} records leave {extra} trailing bytes",
                bytes.len(),
                bytes.len() / record_size
            ),
        ));
    }
    Dataset::new(record_size, bytes)
}

/// Loads a raw file (gzip-compressed content is decompressed first), capped at `limit` bytes.
pub fn load_raw(path: &Path, record_size: usize, limit: u64) -> Result<Dataset> {
    if record_size == 0 {
        return Err(Error::parameter("the record size must be at least 1 byte"));
    }
    parse_raw(read_file(path, limit)?, record_size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::source::DEFAULT_LIMIT;

    #[test]
    fn splits_records() {
        let ds = parse_raw(vec![1, 2, 3, 4, 5, 6], 3).unwrap();
        assert_eq!(ds.len(), 2);
        assert_eq!(ds.dims(), 3);
        assert_eq!(ds.record(1), &[4, 5, 6]);
        assert_eq!(ds.alphabet(), &[5, 6, 7]);
    }

    #[test]
    fn reports_trailing_bytes() {
        let e = parse_raw(vec![0; 10], 4).unwrap_err();
        assert!(matches!(e, Error::Format(_)));
        assert!(e.to_string().contains("leave 2 trailing bytes"), "{e}");
    }

    #[test]
    fn rejects_empty_and_zero_size() {
        assert!(parse_raw(Vec::new(), 4)
            .unwrap_err()
            .to_string()
            .contains("0 records"));
        assert!(matches!(
            parse_raw(vec![1], 0).unwrap_err(),
            Error::Parameter(_)
        ));
    }

    #[test]
    fn loads_file_and_enforces_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.bin");
        std::fs::write(&path, [9u8; 32]).unwrap();
        let ds = load_raw(&path, 8, DEFAULT_LIMIT).unwrap();
        assert_eq!((ds.len(), ds.dims()), (4, 8));
        assert!(matches!(
            load_raw(&path, 8, 16).unwrap_err(),
            Error::LimitExceeded(_)
        ));
    }
}
