//! Classical compressors as byte counters (gzip as KT uses it, xz, bzip2, zstd, brotli).

use std::io::Write;

/// A classical compressor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// gzip -9 (10-byte header, 8-byte trailer), like Python's `gzip.compress`.
    Gzip,
    /// xz -9e.
    Xz,
    /// bzip2 -9.
    Bzip2,
    /// zstd -19.
    Zstd,
    /// brotli quality 11, window 22.
    Brotli,
}

impl Codec {
    /// All codecs, in report order.
    pub const ALL: [Codec; 5] = [
        Codec::Gzip,
        Codec::Xz,
        Codec::Bzip2,
        Codec::Zstd,
        Codec::Brotli,
    ];
    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Xz => "xz",
            Codec::Bzip2 => "bzip2",
            Codec::Zstd => "zstd",
            Codec::Brotli => "brotli",
        }
    }

    /// Compressed size in bytes.
    pub fn size(self, data: &[u8]) -> usize {
        match self {
            Codec::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                e.write_all(data).expect("in-memory");
                e.finish().expect("in-memory").len()
            }
            Codec::Xz => {
                let mut e =
                    liblzma::write::XzEncoder::new(Vec::new(), 9 | liblzma::stream::PRESET_EXTREME);
                e.write_all(data).expect("in-memory");
                e.finish().expect("in-memory").len()
            }
            Codec::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
                e.write_all(data).expect("in-memory");
                e.finish().expect("in-memory").len()
            }
            Codec::Zstd => zstd::bulk::compress(data, 19).expect("in-memory").len(),
            Codec::Brotli => {
                let mut out = Vec::new();
                {
                    let mut w = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
                    w.write_all(data).expect("in-memory");
                }
                out.len()
            }
        }
    }
}

/// Bytes as Python's `bytes(seq).decode("latin1").encode()` gives them: every byte >= 128
/// becomes two UTF-8 bytes (KT's fallback quirk).
pub fn latin1_to_utf8(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 4);
    for &b in bytes {
        if b < 0x80 {
            out.push(b);
        } else {
            out.push(0xC0 | (b >> 6));
            out.push(0x80 | (b & 0x3F));
        }
    }
    out
}

/// The separator KT's natural-data evaluator joins programs and sequences with.
pub const KT_SEP: &str = "#_#_#_#_#_#_#";

/// Joins byte strings with a separator.
pub fn join(parts: &[&[u8]], sep: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep);
        }
        out.extend_from_slice(p);
    }
    out
}
