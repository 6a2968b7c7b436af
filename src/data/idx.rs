//! IDX files (the MNIST format), plain or gzip-compressed.
//!
//! Layout: bytes 0-1 are zero, byte 2 is the element type (only `0x08`, unsigned byte, is
//! accepted), byte 3 is the number of dimensions d >= 1, then d big-endian `u32` sizes, then
//! the elements row-major. The first dimension is the number of records; a record holds the
//! product of the other sizes (1 when d = 1). The data must fill the file exactly.
//!
//! The header is fully determined by the dimension sizes, so [`IdxHeader::to_bytes`]
//! rebuilds it byte-exactly; the codec relies on this to restore IDX files verbatim.

use std::path::Path;

use super::source::{limit_error, Source};
use super::Dataset;
use crate::error::{Error, Result};

/// IDX element type code of unsigned bytes, the only one accepted.
pub const IDX_U8: u8 = 0x08;

const CONTEXT: &str = "IDX file";

/// The parsed header of an IDX file of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxHeader {
    /// The size of each dimension; `dims[0]` is the number of records.
    pub dims: Vec<u32>,
    /// Length of the header in bytes: `4 + 4 * dims.len()`.
    pub header_len: usize,
}

impl IdxHeader {
    /// A header for the given sizes (element type u8).
    pub fn new(dims: Vec<u32>) -> Result<IdxHeader> {
        if dims.is_empty() || dims.len() > 255 {
            return Err(Error::parameter("an IDX file has 1..=255 dimensions"));
        }
        let header_len = 4 + 4 * dims.len();
        Ok(IdxHeader { dims, header_len })
    }

    /// Parses a header from the start of `bytes` (the rest of `bytes` is ignored).
    pub fn parse(bytes: &[u8]) -> Result<IdxHeader> {
        let prefix = bytes
            .get(..4)
            .ok_or_else(|| Error::format(CONTEXT, "truncated: shorter than its 4-byte magic"))?;
        let d = check_magic(prefix.try_into().expect("4 bytes"))?;
        let sizes = bytes.get(4..4 + 4 * d).ok_or_else(|| {
            Error::format(
                CONTEXT,
                format!("truncated: header of {d} dimensions ends early"),
            )
        })?;
        Ok(Self::from_sizes(sizes))
    }

    fn from_sizes(sizes: &[u8]) -> IdxHeader {
        let dims: Vec<u32> = sizes
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes(c.try_into().expect("4 bytes")))
            .collect();
        IdxHeader {
            header_len: 4 + sizes.len(),
            dims,
        }
    }

    /// Number of records (the first dimension).
    pub fn records(&self) -> u64 {
        u64::from(self.dims[0])
    }

    /// Values per record: the product of all but the first dimension (1 when d = 1).
    /// `None` on overflow.
    pub fn record_len(&self) -> Option<u64> {
        self.dims[1..]
            .iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(u64::from(n)))
    }

    /// Number of data bytes after the header; `None` on overflow.
    pub fn data_len(&self) -> Option<u64> {
        self.record_len()?.checked_mul(self.records())
    }

    /// The header bytes exactly as they appear in the file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.header_len);
        out.extend_from_slice(&[0, 0, IDX_U8, self.dims.len() as u8]);
        for &n in &self.dims {
            out.extend_from_slice(&n.to_be_bytes());
        }
        out
    }
}

/// Checks the 4-byte magic and returns the number of dimensions.
fn check_magic(magic: [u8; 4]) -> Result<usize> {
    if magic[0] != 0 || magic[1] != 0 {
        return Err(Error::format(
            CONTEXT,
            format!(
                "wrong magic {:02x} {:02x} {:02x} {:02x}: the first two bytes must be zero",
                magic[0], magic[1], magic[2], magic[3]
            ),
        ));
    }
    if magic[2] != IDX_U8 {
        let name = match magic[2] {
            0x09 => " (signed byte)",
            0x0B => " (16-bit integer)",
            0x0C => " (32-bit integer)",
            0x0D => " (32-bit float)",
            0x0E => " (64-bit float)",
            _ => "",
        };
        return Err(Error::Unsupported {
            what: format!(
                "IDX element type 0x{:02x}{name}: only 0x08 (unsigned byte) is supported",
                magic[2]
            ),
        });
    }
    if magic[3] == 0 {
        return Err(Error::format(CONTEXT, "zero dimensions"));
    }
    Ok(usize::from(magic[3]))
}

/// Validates the sizes of a parsed header against `limit` and returns (records, record length,
/// data length) as `usize`.
fn checked_shape(header: &IdxHeader, limit: u64) -> Result<(usize, usize, u64)> {
    let overflow = || {
        Error::format(
            CONTEXT,
            format!("dimensions {:?} overflow a 64-bit size", header.dims),
        )
    };
    let record_len = header.record_len().ok_or_else(overflow)?;
    let data_len = header.data_len().ok_or_else(overflow)?;
    if header.records() == 0 {
        return Err(Error::format(CONTEXT, "empty: it holds 0 records"));
    }
    if record_len == 0 {
        return Err(Error::format(
            CONTEXT,
            format!("dimensions {:?} give records of 0 values", header.dims),
        ));
    }
    if data_len > limit {
        return Err(limit_error("IDX data", data_len, limit));
    }
    let to_usize = |n: u64| usize::try_from(n).map_err(|_| overflow());
    Ok((to_usize(header.records())?, to_usize(record_len)?, data_len))
}

/// Reads an IDX file from `source`, which may be plain or gzip content.
///
/// The sizes in the header are checked (overflow, zero records, `limit`, and for plain files
/// the actual length) before any buffer of that size is allocated.
pub fn read_idx(source: &mut Source<'_>, limit: u64) -> Result<(IdxHeader, Dataset)> {
    let mut magic = [0u8; 4];
    source.read_exact(&mut magic, CONTEXT)?;
    let d = check_magic(magic)?;
    let mut sizes = vec![0u8; 4 * d];
    source.read_exact(&mut sizes, CONTEXT)?;
    let header = IdxHeader::from_sizes(&sizes);
    let (_, record_len, data_len) = checked_shape(&header, limit)?;
    if let Some(file_len) = source.known_len() {
        let expected = data_len + header.header_len as u64;
        if file_len < expected {
            return Err(truncated(
                &header,
                data_len,
                file_len - header.header_len as u64,
            ));
        }
        if file_len > expected {
            return Err(trailing(file_len - expected));
        }
    }
    let values = source.read_up_to(data_len)?;
    if (values.len() as u64) < data_len {
        return Err(truncated(&header, data_len, values.len() as u64));
    }
    if !source.at_end()? {
        // Count without storing, and without inflating more than `limit` bytes of them.
        let rest = source.count_rest(limit.saturating_add(1))?;
        return Err(if rest > limit {
            Error::format(
                CONTEXT,
                format!("more than {limit} trailing bytes after the data"),
            )
        } else {
            trailing(rest)
        });
    }
    let dataset = Dataset::new(record_len, values)?;
    Ok((header, dataset))
}

/// Parses an in-memory IDX file (plain or gzip).
pub fn parse_idx(bytes: &[u8], limit: u64) -> Result<(IdxHeader, Dataset)> {
    read_idx(&mut Source::from_bytes(bytes), limit)
}

/// Loads an IDX file (plain or gzip) from disk.
pub fn load_idx(path: &Path, limit: u64) -> Result<(IdxHeader, Dataset)> {
    read_idx(&mut Source::open(path)?, limit)
}

fn truncated(header: &IdxHeader, expected: u64, got: u64) -> Error {
    Error::format(
        CONTEXT,
        format!(
            "truncated: dimensions {:?} need {expected} data bytes but only {got} follow the header",
            header.dims
        ),
    )
}

fn trailing(extra: u64) -> Error {
    Error::format(CONTEXT, format!("{extra} trailing bytes after the data"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::source::DEFAULT_LIMIT;
    use std::io::Write;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = IdxHeader::new(dims.to_vec()).unwrap().to_bytes();
        out.extend_from_slice(data);
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn message(e: Error) -> String {
        e.to_string()
    }

    #[test]
    fn reads_three_dimensional_file() {
        let data: Vec<u8> = (0..12).collect();
        let file = idx(&[3, 2, 2], &data);
        let (header, ds) = parse_idx(&file, DEFAULT_LIMIT).unwrap();
        assert_eq!(header.dims, vec![3, 2, 2]);
        assert_eq!(header.header_len, 16);
        assert_eq!(header.to_bytes(), file[..16]);
        assert_eq!(ds.len(), 3);
        assert_eq!(ds.dims(), 4);
        assert_eq!(ds.record(2), &[8, 9, 10, 11]);
        assert_eq!(IdxHeader::parse(&file).unwrap(), header);
    }

    #[test]
    fn one_dimension_gives_one_variable() {
        let (header, ds) = parse_idx(&idx(&[5], &[1, 0, 4, 1, 2]), DEFAULT_LIMIT).unwrap();
        assert_eq!(header.dims, vec![5]);
        assert_eq!(ds.dims(), 1);
        assert_eq!(ds.len(), 5);
        assert_eq!(ds.alphabet(), &[5]);
    }

    #[test]
    fn reads_gzip_by_magic() {
        let data: Vec<u8> = (0..24).collect();
        let plain = idx(&[2, 3, 4], &data);
        let (h1, d1) = parse_idx(&plain, DEFAULT_LIMIT).unwrap();
        let (h2, d2) = parse_idx(&gzip(&plain), DEFAULT_LIMIT).unwrap();
        assert_eq!(h1, h2);
        assert_eq!(d1, d2);
    }

    #[test]
    fn reads_gzip_file_without_gz_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("images.idx");
        std::fs::write(&path, gzip(&idx(&[2, 2], &[1, 2, 3, 4]))).unwrap();
        let (_, ds) = load_idx(&path, DEFAULT_LIMIT).unwrap();
        assert_eq!(ds.values(), &[1, 2, 3, 4]);
    }

    #[test]
    fn rejects_wrong_magic() {
        let mut file = idx(&[1, 1], &[0]);
        file[1] = 1;
        let e = parse_idx(&file, DEFAULT_LIMIT).unwrap_err();
        assert!(matches!(e, Error::Format(_)));
        assert!(message(e).contains("wrong magic"));
    }

    #[test]
    fn rejects_other_element_types() {
        for t in [0x09u8, 0x0B, 0x0C, 0x0D, 0x0E, 0x42] {
            let mut file = idx(&[1, 1], &[0, 0, 0, 0, 0, 0, 0, 0]);
            file[2] = t;
            let e = parse_idx(&file, DEFAULT_LIMIT).unwrap_err();
            assert!(matches!(e, Error::Unsupported { .. }), "{e}");
            assert!(message(e).contains("unsupported IDX element type"));
        }
    }

    #[test]
    fn rejects_zero_dimensions() {
        let e = parse_idx(&[0, 0, 8, 0], DEFAULT_LIMIT).unwrap_err();
        assert!(message(e).contains("zero dimensions"));
    }

    #[test]
    fn rejects_truncated_header_and_data() {
        for cut in [0, 3, 4, 11] {
            let file = idx(&[2, 2], &[1, 2, 3, 4]);
            let e = parse_idx(&file[..cut], DEFAULT_LIMIT).unwrap_err();
            assert!(message(e).contains("truncated"), "cut at {cut}");
        }
        let file = idx(&[2, 2], &[1, 2, 3]);
        let e = parse_idx(&file, DEFAULT_LIMIT).unwrap_err();
        assert!(message(e).contains("need 4 data bytes but only 3"));
        // The same through gzip, where the length is not known in advance.
        let e = parse_idx(&gzip(&file), DEFAULT_LIMIT).unwrap_err();
        assert!(message(e).contains("need 4 data bytes but only 3"));
    }

    #[test]
    fn rejects_trailing_bytes() {
        let file = idx(&[2, 2], &[1, 2, 3, 4, 5, 6]);
        let e = parse_idx(&file, DEFAULT_LIMIT).unwrap_err();
        assert!(message(e).contains("2 trailing bytes"));
        let e = parse_idx(&gzip(&file), DEFAULT_LIMIT).unwrap_err();
        assert!(message(e).contains("2 trailing bytes"));
    }

    #[test]
    fn rejects_empty() {
        let e = parse_idx(&idx(&[0, 28, 28], &[]), DEFAULT_LIMIT).unwrap_err();
        assert!(message(e).contains("0 records"));
        let e = parse_idx(&idx(&[3, 0], &[]), DEFAULT_LIMIT).unwrap_err();
        assert!(message(e).contains("0 values"));
    }

    #[test]
    fn huge_header_fails_before_allocating() {
        // 2^32-1 cubed overflows u64: must be a format error, not a panic or an allocation.
        let file = idx(&[u32::MAX, u32::MAX, u32::MAX, u32::MAX], &[1, 2, 3]);
        let e = parse_idx(&file, u64::MAX).unwrap_err();
        assert!(message(e).contains("overflow"));
        // Fits in u64 but not the limit.
        let file = idx(&[u32::MAX, 1 << 16], &[1, 2, 3]);
        let e = parse_idx(&file, DEFAULT_LIMIT).unwrap_err();
        assert!(matches!(e, Error::LimitExceeded(_)));
        // Fits the limit but not the file: truncated, found from the plain file's length.
        let file = idx(&[1 << 20, 1 << 10], &[1, 2, 3]);
        let e = parse_idx(&file, u64::MAX).unwrap_err();
        assert!(message(e).contains("truncated"));
    }

    #[test]
    fn gzip_bomb_stops_at_limit() {
        // 1 MiB of zeros declared honestly, but the limit is 64 KiB.
        let file = idx(&[1024, 1024], &vec![0u8; 1 << 20]);
        let packed = gzip(&file);
        assert!(packed.len() < 8 << 10);
        let e = parse_idx(&packed, 64 << 10).unwrap_err();
        assert!(matches!(e, Error::LimitExceeded(_)));
        // A header claiming little, followed by a flood: trailing bytes, read in bounded
        // chunks.
        let mut file = idx(&[1, 1], &[7]);
        file.extend(std::iter::repeat_n(0u8, 1 << 20));
        let e = parse_idx(&gzip(&file), 64 << 10).unwrap_err();
        assert!(message(e).contains("trailing"));
    }

    #[test]
    fn corrupt_gzip_is_a_format_error() {
        let mut packed = gzip(&idx(&[4, 4], &[3; 16]));
        let n = packed.len();
        packed[n - 6] ^= 0xff; // CRC
        let e = parse_idx(&packed, DEFAULT_LIMIT).unwrap_err();
        assert!(matches!(e, Error::Format(_)), "{e}");
        let e = parse_idx(&packed[..n / 2], DEFAULT_LIMIT).unwrap_err();
        assert!(matches!(e, Error::Format(_)), "{e}");
    }
}
