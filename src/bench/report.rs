//! The results of a bench as a person reads them (an aligned table with the machine line)
//! and as programs read them (JSON with everything, CSV with one line per row).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

use super::images::ImageFile;
use super::machine::Machine;
use super::{Measurement, Status};

/// Everything a bench run produced, as written to JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// What was compressed, in words ("t10k: 10000 records of 784 bytes").
    pub input: String,
    /// "bits/dim" when records are fixed-size vectors of byte dimensions, "bits/subpixel"
    /// for image files, else "bits/byte".
    pub unit: String,
    /// How many runs each time is the median of.
    pub repeat: usize,
    /// Where it ran.
    pub machine: Machine,
    /// The image files, in the order of every row's `image_bytes`; empty unless the input
    /// was image files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageFile>,
    /// One row per compressor and variant, in run order.
    pub rows: Vec<Measurement>,
}

impl Report {
    /// Rows whose round trip failed: the bench must say so loudly.
    pub fn failures(&self) -> impl Iterator<Item = &Measurement> {
        self.rows.iter().filter(|r| r.status == Status::Failed)
    }

    /// The whole report as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::Io(std::io::Error::other(format!("JSON: {e}"))))
    }

    /// The rows as CSV with a header line; the report's other fields, and the sizes per
    /// image, are in the JSON.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let failed = |e: csv::Error| Error::Io(std::io::Error::other(format!("CSV: {e}")));
        let mut writer = csv::Writer::from_writer(Vec::new());
        for row in &self.rows {
            let flat = Measurement {
                image_bytes: Vec::new(),
                ..row.clone()
            };
            writer.serialize(flat).map_err(failed)?;
        }
        writer
            .into_inner()
            .map_err(|e| Error::Io(std::io::Error::other(format!("CSV: {e}"))))
    }

    /// The terminal table: header lines, aligned rows, and a loud line per failure.
    pub fn table(&self) -> String {
        let mut out = format!(
            "pcz bench: {}; times are medians of {} run(s)\nmachine: {} cores, {}\n\n",
            self.input, self.repeat, self.machine.cores, self.machine.cpu
        );
        let headers = [
            "compressor",
            "variant",
            "bytes",
            "extra B",
            "ratio",
            self.unit.as_str(),
            "w/ extra",
            "ideal",
            "comp MB/s",
            "dec MB/s",
            "peak MB",
            "train s",
            "status",
        ];
        let cells: Vec<Vec<String>> = self.rows.iter().map(cells).collect();
        out.push_str(&align(&headers, &cells));
        let failures: Vec<&Measurement> = self.failures().collect();
        if !failures.is_empty() {
            out.push_str(&format!(
                "\n!! {} round trip(s) FAILED; these rows are errors, not results:\n",
                failures.len()
            ));
            for row in failures {
                out.push_str(&format!(
                    "!!   {} ({}): {}\n",
                    row.compressor, row.variant, row.detail
                ));
            }
        }
        out
    }
}

/// The table cells of one row; "-" where there is nothing to show.
fn cells(row: &Measurement) -> Vec<String> {
    let dash = || "-".to_string();
    let num = |v: Option<f64>, decimals: usize| v.map_or_else(dash, |v| format!("{v:.decimals$}"));
    let status = match (row.status, row.detail.is_empty()) {
        (Status::Verified, true) => "verified".to_string(),
        (Status::Verified, false) => format!("verified ({})", row.detail),
        (status, _) => format!("{status}: {}", row.detail),
    };
    vec![
        row.compressor.clone(),
        row.variant.to_string(),
        row.output_bytes.map_or_else(dash, thousands),
        row.extra_bytes.map_or_else(dash, thousands),
        num(row.ratio(), 3),
        num(row.bits_per_byte(), 4),
        num(row.extra_bytes.and(row.bits_per_byte_with_extra()), 4),
        num(row.ideal_bits.map(|b| b / row.input_bytes as f64), 4),
        row.compress_mb_s.map_or_else(dash, speed),
        row.decompress_mb_s.map_or_else(dash, speed),
        num(row.peak_mb, 0),
        num(row.train_seconds, 2),
        status,
    ]
}

/// Pads columns to a common width: text columns (the first two and the last) to the
/// left, numbers to the right; the last column is not padded.
fn align(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let last = headers.len() - 1;
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, (cell, &w)) in cells.iter().zip(&widths).enumerate() {
            let padded = match i {
                0 | 1 => format!("{cell:<w$}  "),
                _ if i == last => cell.to_string(),
                _ => format!("{cell:>w$}  "),
            };
            text.push_str(&padded);
        }
        text.trim_end().to_string() + "\n"
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// 1234567 -> "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Speeds span five orders of magnitude: three significant digits, at least two decimals
/// below 1 MB/s.
fn speed(mb_s: f64) -> String {
    if mb_s >= 100.0 {
        format!("{mb_s:.0}")
    } else if mb_s >= 10.0 {
        format!("{mb_s:.1}")
    } else if mb_s >= 0.1 {
        format!("{mb_s:.2}")
    } else {
        format!("{mb_s:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(7_840_000), "7,840,000");
        assert_eq!(speed(283.4), "283");
        assert_eq!(speed(16.25), "16.2");
        assert_eq!(speed(1.7), "1.70");
        assert_eq!(speed(0.0123), "0.0123");
    }

    #[test]
    fn aligns_columns() {
        let rows = vec![
            vec![
                "a".to_string(),
                "x".to_string(),
                "1".to_string(),
                "ok".to_string(),
            ],
            vec![
                "bbb".to_string(),
                "y".to_string(),
                "100".to_string(),
                "ok".to_string(),
            ],
        ];
        let text = align(&["name", "v", "n", "status"], &rows);
        assert_eq!(
            text,
            "name  v    n  status\na     x    1  ok\nbbb   y  100  ok\n"
        );
    }
}
