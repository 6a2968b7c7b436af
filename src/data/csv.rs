//! CSV of small integers: one record per line, values 0..=255 separated by commas.
//!
//! - An optional header is skipped: the first non-blank line is taken as a header when it
//!   holds a character that cannot be part of a number (e.g. `pixel0,pixel1,...`); a first
//!   line of bad numbers (`-1`, `1.5`, `300`) is data, and an error.
//! - Blank lines are ignored; `\r\n` line ends and spaces around values are accepted.
//! - Every row must have the same number of fields (else an error names the line).
//! - [`CsvOptions::drop_last_column`] drops a trailing label column, as in scikit-learn's
//!   `digits.csv.gz` (64 pixels, then the digit).
//! - gzip content is detected by magic and decompressed by the loader.

use std::path::Path;

use super::source::read_file;
use super::Dataset;
use crate::error::{Error, Result};

const CONTEXT: &str = "CSV file";

/// How to read a CSV file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// Drop the last column of every row (a label, not data).
    pub drop_last_column: bool,
}

/// Parses CSV text (already decompressed).
pub fn parse_csv(text: &[u8], options: &CsvOptions) -> Result<Dataset> {
    let mut values = Vec::new();
    let mut width: Option<(usize, usize)> = None; // (fields per row, line number of the first)
    let mut seen_line = false;
    for (index, raw_line) in text.split(|&b| b == b'\n').enumerate() {
        let line_no = index + 1;
        let line = trim(raw_line);
        if line.is_empty() {
            continue;
        }
        let first = !seen_line;
        seen_line = true;
        if first && is_header(line) {
            continue;
        }
        let fields: Vec<&[u8]> = line.split(|&b| b == b',').map(trim).collect();
        match width {
            None => {
                if options.drop_last_column && fields.len() < 2 {
                    return Err(Error::format(
                        CONTEXT,
                        format!(
                            "line {line_no} has a single column, nothing is left after \
                             dropping the last one"
                        ),
                    ));
                }
                width = Some((fields.len(), line_no));
            }
            Some((n, first_line)) if n != fields.len() => {
                return Err(Error::format(
                    CONTEXT,
                    format!(
                        "ragged rows: line {line_no} has {} fields but line {first_line} has {n}",
                        fields.len()
                    ),
                ));
            }
            Some(_) => {}
        }
        let keep = if options.drop_last_column {
            fields.len() - 1
        } else {
            fields.len()
        };
        for (column, field) in fields.iter().enumerate() {
            let value = parse_value(field).ok_or_else(|| {
                Error::format(
                    CONTEXT,
                    format!(
                        "line {line_no}, column {}: {:?} is not an integer in 0..=255",
                        column + 1,
                        String::from_utf8_lossy(field)
                    ),
                )
            })?;
            if column < keep {
                values.push(value);
            }
        }
    }
    let Some((n, _)) = width else {
        return Err(Error::format(CONTEXT, "empty: it holds 0 records"));
    };
    let dims = if options.drop_last_column { n - 1 } else { n };
    Dataset::new(dims, values)
}

/// Loads a CSV file (plain or gzip), capped at `limit` bytes of text.
pub fn load_csv(path: &Path, options: &CsvOptions, limit: u64) -> Result<Dataset> {
    parse_csv(&read_file(path, limit)?, options)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    &bytes[start..end]
}

fn is_unsigned_integer(field: &[u8]) -> bool {
    !field.is_empty() && field.iter().all(u8::is_ascii_digit)
}

/// A header has a field that does not even look like a number (`pixel0`, `"label"`); a line
/// whose numbers are merely invalid here (`-1`, `1.5`, `1e3`, `300`, an empty field) is data,
/// and gets an error.
fn is_header(line: &[u8]) -> bool {
    line.split(|&b| b == b',')
        .map(trim)
        .any(|f| !f.is_empty() && !looks_numeric(f))
}

/// Matches `[+-]?[0-9]*(\.[0-9]*)?([eE][+-]?[0-9]+)?` with at least one mantissa digit.
fn looks_numeric(field: &[u8]) -> bool {
    let mut rest = field
        .strip_prefix(b"+")
        .or_else(|| field.strip_prefix(b"-"))
        .unwrap_or(field);
    let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut mantissa = digits(rest);
    rest = &rest[mantissa..];
    if let Some(r) = rest.strip_prefix(b".") {
        let n = digits(r);
        mantissa += n;
        rest = &r[n..];
    }
    if let Some(r) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let r = r
            .strip_prefix(b"+")
            .or_else(|| r.strip_prefix(b"-"))
            .unwrap_or(r);
        let n = digits(r);
        if n == 0 {
            return false;
        }
        rest = &r[n..];
    }
    mantissa > 0 && rest.is_empty()
}

fn parse_value(field: &[u8]) -> Option<u8> {
    if !is_unsigned_integer(field) {
        return None;
    }
    // Leading zeros are allowed; anything past 3 significant digits is out of range.
    let digits = &field[field.iter().position(|&b| b != b'0').unwrap_or(field.len())..];
    if digits.len() > 3 {
        return None;
    }
    let v = digits
        .iter()
        .fold(0u16, |acc, &b| acc * 10 + u16::from(b - b'0'));
    u8::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::source::DEFAULT_LIMIT;
    use std::io::Write;

    fn parse(text: &str) -> Result<Dataset> {
        parse_csv(text.as_bytes(), &CsvOptions::default())
    }

    #[test]
    fn reads_rows() {
        let ds = parse("0,1,2\n3,4,255\n").unwrap();
        assert_eq!((ds.len(), ds.dims()), (2, 3));
        assert_eq!(ds.values(), &[0, 1, 2, 3, 4, 255]);
        assert_eq!(ds.alphabet(), &[4, 5, 256]);
    }

    #[test]
    fn skips_header_blank_lines_and_crlf() {
        let ds = parse("a,b\r\n\r\n1, 2\r\n 3 ,004\r\n\n").unwrap();
        assert_eq!(ds.values(), &[1, 2, 3, 4]);
        // No trailing newline.
        assert_eq!(parse("5,6").unwrap().values(), &[5, 6]);
    }

    #[test]
    fn bad_numbers_on_the_first_line_are_not_a_header() {
        for text in ["-1,2\n3,4\n", "1.5,2\n", "1,\n3,4\n", "1e3,2\n"] {
            assert!(parse(text).is_err(), "{text:?}");
        }
        assert_eq!(parse("E,e\n1,2\n").unwrap().values(), &[1, 2]);
    }

    #[test]
    fn only_the_first_line_may_be_a_header() {
        let e = parse("1,2\nx,y\n").unwrap_err();
        assert!(e.to_string().contains("line 2, column 1"), "{e}");
    }

    #[test]
    fn ragged_rows_name_the_line() {
        let e = parse("h1,h2\n1,2\n3,4\n5\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("line 4 has 1 fields but line 2 has 2"),
            "{e}"
        );
    }

    #[test]
    fn rejects_out_of_range_and_non_integers() {
        for (text, bad) in [
            ("1,256\n", "\"256\""),
            ("1,1000000000000000000000\n", "\"1000000000000000000000\""),
            ("1,2\n-1,2\n", "\"-1\""),
            ("1,2\n1.5,2\n", "\"1.5\""),
            ("1,2\n1,\n", "\"\""),
        ] {
            let e = parse(text).unwrap_err();
            assert!(matches!(e, Error::Format(_)));
            assert!(e.to_string().contains(bad), "{text:?}: {e}");
            assert!(e.to_string().contains("0..=255"), "{e}");
        }
        assert_eq!(parse("0000255\n").unwrap().values(), &[255]);
    }

    #[test]
    fn empty_is_an_error() {
        for text in ["", "\n\n", "only,a,header\n"] {
            assert!(parse(text).unwrap_err().to_string().contains("0 records"));
        }
    }

    #[test]
    fn drops_label_column() {
        let options = CsvOptions {
            drop_last_column: true,
        };
        let ds = parse_csv(b"1,2,9\n3,4,8\n", &options).unwrap();
        assert_eq!((ds.len(), ds.dims()), (2, 2));
        assert_eq!(ds.values(), &[1, 2, 3, 4]);
        // The dropped label must still be a valid integer.
        assert!(parse_csv(b"1,2,x9\n", &options).is_err());
        assert!(parse_csv(b"1\n2\n", &options).is_err());
    }

    #[test]
    fn loads_gzip_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("table.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"7,8\n9,10\n").unwrap();
        std::fs::write(&path, enc.finish().unwrap()).unwrap();
        let ds = load_csv(&path, &CsvOptions::default(), DEFAULT_LIMIT).unwrap();
        assert_eq!(ds.values(), &[7, 8, 9, 10]);
        assert!(matches!(
            load_csv(&path, &CsvOptions::default(), 4).unwrap_err(),
            Error::LimitExceeded(_)
        ));
    }
}
