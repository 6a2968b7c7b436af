//! The contexts of `pcmix` (format-spec/FORMAT.md section 6.3.3): values the record has
//! already coded, chosen two ways. Tree contexts (the variable's parent and grandparent
//! in the circuit's tree, the previously coded variable) need no geometry; spatial
//! contexts (the variables v - 1, v - 2, v - W, v - 2W, v - W - 1, v - W + 1 for
//! variable v and row stride W) add what the tree leaves out, each only when that variable
//! precedes v in the coding order (else its value is taken as 0). Record contexts read
//! the previous record of the chunk, whose values at positions up to the current one are
//! already coded (variable-major order): when records are image rows, that is the row
//! above.

use super::PcMixCodec;
use crate::mix::Counters;

/// Counter tables (one mixer input each).
pub const TABLES: usize = 12;

/// Tables indexed directly by their context (the others hash theirs).
pub const DIRECT: usize = 3;

/// Bits of a hashed table's index: room for about eight decisions per value of the chunk
/// (`values` of them), from 2^16 to 2^22 slots. A small chunk gets small tables, which
/// are quick to set up and stay in cache.
fn hash_bits(values: usize) -> u32 {
    (values.max(1).next_power_of_two().trailing_zeros() + 3).clamp(16, 22)
}

/// The tables of a chunk of `values` values of `dims` per record. A direct table is
/// indexed by `context << 8 | node`; a hashed one by `context + node * 0x9E3779B1`.
pub fn tables(dims: usize, values: usize) -> Vec<Counters> {
    let pos_bits = (dims * 256).next_power_of_two().trailing_zeros();
    let mut t = vec![
        Counters::new(pos_bits, 255),
        Counters::new(16, 1023),
        Counters::new(16, 1023),
    ];
    // One by one, not cloned: a clone would copy (touch) every page of the fresh table.
    t.extend((3..TABLES).map(|_| Counters::new(hash_bits(values), 1023)));
    t
}

/// The slot of table `t` for context `h` at tree node `node`.
pub fn slot(t: usize, h: u32, node: usize, mask: usize) -> usize {
    let i = if t < DIRECT {
        h << 8 | node as u32
    } else {
        h.wrapping_add((node as u32).wrapping_mul(0x9E37_79B1))
    };
    i as usize & mask
}

/// The multiplicative hash of the format (Fibonacci hashing, then a xor-shift).
fn hash(x: u32) -> u32 {
    let h = x.wrapping_mul(0x9E37_79B1);
    h ^ (h >> 15)
}

/// Hash of two values and a table tag.
fn hash2(a: u32, b: u32, tag: u32) -> u32 {
    hash(a << 8 | b | tag << 16)
}

/// The per-value context hashes: one per table, and the spatial APM's 8-bit context.
pub struct Hashes {
    pub tables: [u32; TABLES],
    pub apm: u32,
}

/// The values coded so far in a chunk, and the geometry to read contexts from them.
pub struct Contexts<'a> {
    codec: &'a PcMixCodec,
    /// Coded values, `values[r * D + pos]` (by position in the coding order).
    values: Vec<u8>,
    row: usize,
}

impl<'a> Contexts<'a> {
    pub fn new(codec: &'a PcMixCodec, n: usize, row: usize) -> Self {
        Contexts {
            codec,
            values: vec![0; n * codec.dims()],
            row,
        }
    }

    /// Records that position `pos` of record `r` has value `x`.
    pub fn set(&mut self, pos: usize, r: usize, x: u8) {
        self.values[r * self.codec.dims() + pos] = x;
    }

    /// The contexts of position `pos` in record `r`.
    pub fn hashes(&self, pos: usize, r: usize) -> Hashes {
        let d = self.codec.dims();
        let rec = &self.values[r * d..(r + 1) * d];
        let parent_pos = self.codec.parent[pos] as usize;
        let parent = u32::from(rec[parent_pos]);
        let grand = u32::from(rec[self.codec.parent[parent_pos] as usize]);
        let prev = u32::from(rec[pos.saturating_sub(1)]);
        let var = self.codec.pc.vars[pos] as usize;
        // The value of variable var - off, if it is coded before var (0 otherwise).
        let back = |off: usize| {
            (off > 0 && off <= var)
                .then(|| self.codec.pos_of[var - off] as usize)
                .filter(|&p| p < pos)
                .map_or(0, |p| u32::from(rec[p]))
        };
        let w = self.row;
        let (left, up) = (back(1), if w > 0 { back(w) } else { 0 });
        let (up_left, up_right) = if w > 0 {
            (back(w + 1), back(w - 1))
        } else {
            (0, 0)
        };
        let (left2, up2) = (back(2), if w > 0 { back(2 * w) } else { 0 });
        let spatial = hash2(left, up, 2);
        // The previous record's value at this position (0 in a chunk's first record).
        let above = r
            .checked_sub(1)
            .map_or(0, |q| u32::from(self.values[q * d + pos]));
        let p = pos as u32;
        Hashes {
            tables: [
                p,
                parent,
                prev,
                hash2(parent, grand, 1),
                hash(p << 8 | parent | 1 << 30),
                spatial,
                hash((p << 16 | left << 8 | up) ^ 0x5555_5555),
                hash(spatial ^ (up_left << 8 | up_right) ^ 0x1234_5678),
                hash(spatial ^ (left2 << 8 | up2) ^ 0x2345_6789),
                hash(spatial ^ parent ^ 0x3456_789A),
                hash2(above, left, 3),
                hash((p << 16 | above << 8 | parent) ^ 0x4567_89AB),
            ],
            apm: spatial & 0xFF,
        }
    }
}
