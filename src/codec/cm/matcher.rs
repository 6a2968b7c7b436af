//! The match model's state: the most recent earlier occurrence of the last [`MIN_LEN`]
//! bytes, found through a hash table of positions, predicts that the byte which followed
//! it comes next. Long repeats (in text: repeated phrases; in DNA: repeated segments) are
//! where the fixed-order contexts are weakest and a match is nearly always right.

use super::model::hash;

/// Bytes hashed to find a match.
const MIN_LEN: usize = 6;

/// Longest match length kept (longer matches predict no better).
const MAX_LEN: u32 = 65535;

/// Below this length a match is replaced by a longer one the hash table offers.
const RECHECK: u32 = 16;

/// Bytes compared backwards to measure a new match's length.
const VERIFY: usize = 32;

#[derive(Debug)]
pub(super) struct Matcher {
    /// Hash of the last [`MIN_LEN`] bytes -> the position after them (0: none).
    table: Vec<u32>,
    /// Position of the predicted byte in the history (0: no match yet).
    ptr: usize,
    /// Bytes the match has predicted right since it was found or last wrong.
    len: u32,
}

impl Matcher {
    /// A matcher with a table of 2^`bits` positions.
    pub(super) fn new(bits: u32) -> Self {
        Matcher {
            table: vec![0; 1 << bits],
            ptr: 0,
            len: 0,
        }
    }

    /// Bytes of memory held.
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        self.table.capacity() * 4
    }

    /// The predicted next byte and the match length (0 after a mismatch, while the
    /// match is followed on in case the difference was a single changed byte).
    #[inline]
    pub(super) fn predicted(&self, history: &[u8]) -> Option<(u8, u32)> {
        (self.ptr > 0).then(|| (history[self.ptr], self.len))
    }

    /// Follows `history`, whose last byte was just coded.
    pub(super) fn update(&mut self, history: &[u8]) {
        let pos = history.len();
        let last = history[pos - 1];
        if self.ptr > 0 {
            self.len = match history[self.ptr] == last {
                true => (self.len + 1).min(MAX_LEN),
                false => 0,
            };
            self.ptr += 1;
        }
        if pos < MIN_LEN {
            return;
        }
        let key = key(&history[pos - MIN_LEN..]);
        let slot = (key as usize) & (self.table.len() - 1);
        if self.len < RECHECK {
            let candidate = self.table[slot] as usize;
            if candidate > 0 {
                let len = common_suffix(history, candidate, pos);
                if len > self.len {
                    (self.len, self.ptr) = (len, candidate);
                }
            }
        }
        // Positions past u32 are not remembered (a chunk is far smaller).
        self.table[slot] = u32::try_from(pos).unwrap_or(0);
    }
}

/// The hash of the [`MIN_LEN`] bytes of `b`.
fn key(b: &[u8]) -> u32 {
    let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let hi = u32::from(b[4]) | u32::from(b[5]) << 8;
    hash(hash(lo) ^ hi)
}

/// How many bytes (up to [`VERIFY`]) before `candidate` equal those before `pos`
/// (`candidate` < `pos`).
fn common_suffix(history: &[u8], candidate: usize, pos: usize) -> u32 {
    let n = (1..=VERIFY.min(candidate))
        .take_while(|&k| history[candidate - k] == history[pos - k])
        .count();
    n as u32
}
