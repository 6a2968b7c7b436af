//! A bounds-checked little-endian reader: every read returns `Result`, so truncated or
//! hostile input becomes a [`Error::Format`] instead of a panic.

use crate::error::{Error, Result};

/// Reads little-endian integers from a byte slice, failing cleanly at the end.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    context: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`; `context` names the structure in error messages.
    pub fn new(bytes: &'a [u8], context: &'static str) -> Self {
        Reader {
            bytes,
            at: 0,
            context,
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.at
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// Fails unless at least `n` bytes remain.
    pub fn require(&self, n: usize) -> Result<()> {
        if self.remaining() < n {
            return Err(Error::format(
                self.context,
                format!(
                    "truncated at byte {} (need {n} more, have {})",
                    self.at,
                    self.remaining()
                ),
            ));
        }
        Ok(())
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        self.require(n)?;
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.take(n).map(|_| ())
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// A little-endian u128.
    pub fn u128(&mut self) -> Result<u128> {
        Ok(u128::from_le_bytes(
            self.take(16)?.try_into().expect("16 bytes"),
        ))
    }
}
