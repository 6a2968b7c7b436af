//! Reading input files that may be gzip-compressed, with a cap on how many bytes are read.
//!
//! Compression is detected by the gzip magic bytes `1f 8b`, never by the file name. Every
//! read goes through [`std::io::Read::take`] with the caller's limit, so a small file that
//! inflates to gigabytes (a "gzip bomb") stops with [`Error::LimitExceeded`] instead of
//! exhausting memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use crate::error::{Error, Result};

/// Default cap on the (decompressed) size of one input: 4 GiB.
pub const DEFAULT_LIMIT: u64 = 4 << 30;

/// The two magic bytes that open every gzip member.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// True when `bytes` starts with the gzip magic.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// An open input: a plain file or the decompressed content of a gzip file.
pub struct Source<'a> {
    reader: Box<dyn BufRead + 'a>,
    gzip: bool,
    /// Size of a plain file on disk; unknown for gzip content.
    known_len: Option<u64>,
}

impl<'a> Source<'a> {
    /// Opens `path`, transparently decompressing it when it starts with the gzip magic.
    pub fn open(path: &Path) -> Result<Source<'static>> {
        let file = File::open(path).map_err(|e| with_path(e, path))?;
        let known_len = file.metadata().ok().map(|m| m.len());
        let mut buffered = BufReader::new(file);
        let gzip = peek_gzip(&mut buffered)?;
        if gzip {
            Ok(Source {
                reader: Box::new(BufReader::new(MultiGzDecoder::new(buffered))),
                gzip: true,
                known_len: None,
            })
        } else {
            Ok(Source {
                reader: Box::new(buffered),
                gzip: false,
                known_len,
            })
        }
    }

    /// Wraps an in-memory buffer (gzip-detected like a file).
    pub fn from_bytes(bytes: &'a [u8]) -> Source<'a> {
        if is_gzip(bytes) {
            Source {
                reader: Box::new(BufReader::new(MultiGzDecoder::new(bytes))),
                gzip: true,
                known_len: None,
            }
        } else {
            Source {
                reader: Box::new(bytes),
                gzip: false,
                known_len: Some(bytes.len() as u64),
            }
        }
    }

    /// Whether the input was gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Size of the content if known in advance (plain files only).
    pub fn known_len(&self) -> Option<u64> {
        self.known_len
    }

    /// Up to `n` bytes at the start of the (decompressed) content, without consuming them.
    ///
    /// Returns fewer bytes only when the content is shorter.
    pub fn peek(&mut self, n: usize) -> Result<Vec<u8>> {
        // BufRead only guarantees one buffer's worth; callers peek a handful of bytes.
        let buf = self.reader.fill_buf().map_err(decode_error)?;
        Ok(buf[..buf.len().min(n)].to_vec())
    }

    /// Reads exactly `buf.len()` bytes, or fails with a "truncated" format error naming
    /// `context`.
    pub fn read_exact(&mut self, buf: &mut [u8], context: &'static str) -> Result<()> {
        match self.reader.read_exact(buf) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(Error::format(
                context,
                format!("truncated: ended before {} bytes could be read", buf.len()),
            )),
            Err(e) => Err(decode_error(e)),
        }
    }

    /// Reads up to `n` bytes (fewer only at the end of the content) without allocating more
    /// than what was actually read plus one buffer.
    pub fn read_up_to(&mut self, n: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        if let Some(len) = self.known_len {
            // A plain file: reserve what can really be there, never what a header claims.
            out.reserve(usize::try_from(len.min(n)).unwrap_or(0));
        }
        (&mut self.reader)
            .take(n)
            .read_to_end(&mut out)
            .map_err(decode_error)?;
        Ok(out)
    }

    /// Reads the rest of the content, failing with [`Error::LimitExceeded`] past `limit`
    /// bytes.
    pub fn read_to_end(&mut self, limit: u64, what: &str) -> Result<Vec<u8>> {
        if let Some(len) = self.known_len {
            if len > limit {
                return Err(limit_error(what, len, limit));
            }
        }
        let out = self.read_up_to(limit.saturating_add(1))?;
        if out.len() as u64 > limit {
            return Err(Error::LimitExceeded(format!(
                "{what} is larger than the limit of {limit} bytes"
            )));
        }
        Ok(out)
    }

    /// Counts (and discards) the remaining bytes, stopping after `max`.
    pub fn count_rest(&mut self, max: u64) -> Result<u64> {
        io::copy(&mut (&mut self.reader).take(max), &mut io::sink()).map_err(decode_error)
    }

    /// True when no byte is left.
    pub fn at_end(&mut self) -> Result<bool> {
        Ok(self.reader.fill_buf().map_err(decode_error)?.is_empty())
    }
}

/// Reads a whole file, decompressing gzip, capped at `limit` bytes of content.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>> {
    Source::open(path)?.read_to_end(limit, &path.display().to_string())
}

fn peek_gzip(reader: &mut BufReader<File>) -> Result<bool> {
    // A file's first fill holds a whole buffer (or the whole file when shorter).
    Ok(is_gzip(reader.fill_buf()?))
}

pub(crate) fn limit_error(what: &str, len: u64, limit: u64) -> Error {
    Error::LimitExceeded(format!(
        "{what} holds {len} bytes, more than the limit of {limit}"
    ))
}

/// Errors from the gzip decoder are malformed input, not I/O failures.
fn decode_error(e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof => {
            Error::format("gzip stream", e.to_string())
        }
        _ => Error::Io(e),
    }
}

fn with_path(e: io::Error, path: &Path) -> Error {
    Error::Io(io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}
