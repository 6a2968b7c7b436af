//! Tasks: sequences to reproduce, as jsonl (`{"id", "modality", "sequence", "program"?}`),
//! and loaders that cut files into tasks: raw bytes (text, KT's `.bin`), jsonl with a
//! `sequence` field, FASTA bases, WAV as int16 byte pairs or int8.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// One sequence to reproduce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Stable identifier.
    pub id: String,
    /// "text", "dna", "audio", "synthetic", ...
    #[serde(default)]
    pub modality: String,
    /// The sequence (bytes, 0..=255).
    pub sequence: Vec<u8>,
    /// A known program (synthetic tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
}

/// Reads tasks from jsonl.
pub fn read_tasks(text: &str) -> Result<Vec<Task>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| Error::format("tasks jsonl", format!("line {}: {e}", i + 1)))?;
        let seq = v
            .get("sequence")
            .and_then(|s| s.as_array())
            .ok_or_else(|| {
                Error::format(
                    "tasks jsonl",
                    format!("line {}: no `sequence` array", i + 1),
                )
            })?;
        let mut bytes = Vec::with_capacity(seq.len());
        for x in seq {
            match x.as_u64() {
                Some(b) if b <= 255 => bytes.push(b as u8),
                _ => {
                    return Err(Error::format(
                        "tasks jsonl",
                        format!("line {}: element {x} is not a byte", i + 1),
                    ))
                }
            }
        }
        out.push(Task {
            id: json_id(&v, i),
            modality: json_modality(&v),
            sequence: bytes,
            program: v.get("program").and_then(|s| s.as_str()).map(String::from),
        });
    }
    Ok(out)
}

/// Writes tasks as jsonl.
pub fn write_tasks(tasks: &[Task]) -> String {
    let mut s = String::new();
    for t in tasks {
        s.push_str(&serde_json::to_string(t).expect("serialisable"));
        s.push('\n');
    }
    s
}

/// FASTA to symbols: A C G T -> 0 1 2 3, soft-masked a c g t -> 4 5 6 7 (KT's DNA
/// alphabet); header lines and whitespace skipped; other letters (N, IUPAC codes) dropped.
/// Returns the symbols and how many letters were dropped.
pub fn fasta_symbols(text: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(text.len());
    let mut dropped = 0;
    for line in text.split(|&b| b == b'\n') {
        if line.first() == Some(&b'>') || line.first() == Some(&b';') {
            continue;
        }
        for &b in line {
            match b {
                b'A' => out.push(0),
                b'C' => out.push(1),
                b'G' => out.push(2),
                b'T' => out.push(3),
                b'a' => out.push(4),
                b'c' => out.push(5),
                b'g' => out.push(6),
                b't' => out.push(7),
                b if b.is_ascii_whitespace() => {}
                _ => dropped += 1,
            }
        }
    }
    (out, dropped)
}

/// How to view WAV samples as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioView {
    /// Little-endian int16 byte pairs (KT's 16-bit audio).
    Int16,
    /// The high byte as signed int8, two's complement (KT's 8-bit audio, no bias).
    Int8,
}

/// Reads a PCM 16-bit mono or multi-channel WAV and returns its samples as bytes.
pub fn wav_bytes(data: &[u8], view: AudioView) -> Result<Vec<u8>> {
    let bad = |m: &str| Error::format("WAV file", m.to_string());
    if data.len() < 12 || &data[0..4] != b"RIFF" || &data[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file"));
    }
    let mut at = 12;
    let mut bits = None;
    while at + 8 <= data.len() {
        let id = &data[at..at + 4];
        let len = u32::from_le_bytes(data[at + 4..at + 8].try_into().expect("4")) as usize;
        let body = at + 8;
        let end = body
            .checked_add(len)
            .ok_or_else(|| bad("chunk length overflows"))?;
        if id == b"fmt " {
            if len < 16 || end > data.len() {
                return Err(bad("short fmt chunk"));
            }
            let format = u16::from_le_bytes([data[body], data[body + 1]]);
            if format != 1 {
                return Err(bad("not PCM"));
            }
            bits = Some(u16::from_le_bytes([data[body + 14], data[body + 15]]));
        } else if id == b"data" {
            if bits != Some(16) {
                return Err(bad("only 16-bit PCM is supported"));
            }
            let samples = &data[body..end.min(data.len())];
            let samples = &samples[..samples.len() / 2 * 2];
            return Ok(match view {
                AudioView::Int16 => samples.to_vec(),
                AudioView::Int8 => samples.chunks_exact(2).map(|p| p[1]).collect(),
            });
        }
        at = end + (len & 1);
    }
    Err(bad("no data chunk"))
}

/// Cuts `data` into tasks of `length` bytes (the last, shorter piece is dropped), skipping
/// the first `offset` chunks and keeping at most `limit`.
pub fn chunk(
    data: &[u8],
    length: usize,
    modality: &str,
    offset: usize,
    limit: Option<usize>,
) -> Vec<Task> {
    data.chunks_exact(length.max(1))
        .enumerate()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .map(|(i, c)| Task {
            id: format!("{modality}-{i:06}"),
            modality: modality.to_string(),
            sequence: c.to_vec(),
            program: None,
        })
        .collect()
}

/// The `id` field of a JSON line, or its line number.
pub(crate) fn json_id(v: &serde_json::Value, line: usize) -> String {
    v.get("id")
        .and_then(|s| s.as_str())
        .map(String::from)
        .unwrap_or_else(|| format!("{line}"))
}

/// The `modality` field of a JSON line, or "".
pub(crate) fn json_modality(v: &serde_json::Value) -> String {
    v.get("modality")
        .and_then(|s| s.as_str())
        .unwrap_or("")
        .to_string()
}
