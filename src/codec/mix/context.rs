//! The contexts of `pcmix` (format-spec/FORMAT.md section 6.1): values the record has
//! already coded, chosen two ways. Tree contexts (the variable's parent and grandparent
//! in the circuit's tree, the previously coded variable) need no geometry; spatial
//! contexts (the variables v - 1, v - 2, v - W, v - 2W, v - W - 1, v - W + 1 for
//! variable v and row stride W) add what the tree leaves out, each only when that variable
//! precedes v in the coding order (else its value is taken as 0). Record contexts read
//! the previous record of the chunk, whose values at positions up to the current one are
//! already coded (variable-major order): when records are image rows, that is the row
//! above. The mode-first scheme adds coarse contexts (neighbours' top bits, a
//! gradient, the circuit's mode and confidence), which generalise where exact values are
//! too sparse to learn from.

use super::{PcMixCodec, Scheme};
use crate::mix::COUNT_MAX;

/// Counter tables of the most counters a scheme uses (one mixer input each).
pub const TABLES: usize = 20;

/// Contexts of the MSB-first scheme (the first 12 of the mode-first one).
const MSB_TABLES: usize = 12;

/// Contexts 0 to N - 1.
const fn first<const N: usize>() -> [usize; N] {
    let mut t = [0; N];
    let mut i = 0;
    while i < N {
        t[i] = i;
        i += 1;
    }
    t
}

/// The contexts of [`Scheme::Msb`], [`Scheme::ModeFirst`] and [`Scheme::Lean`].
const MSB: [usize; MSB_TABLES] = first();
const ALL: [usize; TABLES] = first();
/// The ten whose removal from the mode-first set cost most (measured one by one on
/// MNIST, digits, WAVs, images, DNA and audio: the other ten each cost under 0.03%, and
/// 0.24% together before the mixer's rate was raised).
const LEAN: [usize; 10] = [0, 1, 3, 4, 8, 10, 11, 13, 17, 19];

/// The contexts H[t] a scheme's tables use, in mixer input order (format-spec 6.1), which
/// is ascending.
fn used(scheme: Scheme) -> &'static [usize] {
    match scheme {
        Scheme::Msb => &MSB,
        Scheme::ModeFirst => &ALL,
        Scheme::Lean => &LEAN,
    }
}

/// Tables indexed directly by their context (the others hash theirs).
const DIRECT: usize = 3;

/// Bits of a hashed table's index: room for about eight decisions per value of the chunk
/// (`values` of them), from 2^16 to 2^22 slots. A small chunk gets small tables, which
/// are quick to set up and stay in cache.
fn hash_bits(values: usize) -> u32 {
    (values.max(1).next_power_of_two().trailing_zeros() + 3).clamp(16, 22)
}

/// Where each counter table of a chunk lies in the chunk's one [`crate::mix::Counters`] allocation.
pub struct Layout {
    /// Tables in use (one per context of the scheme).
    pub count: usize,
    /// Tables indexed directly: the first ones, since a scheme lists its contexts in
    /// ascending order.
    pub direct: usize,
    /// The context H[t] each table reads.
    pub contexts: [usize; TABLES],
    /// First slot of each table.
    pub offsets: [usize; TABLES],
    /// Index mask of each table (its size minus one: sizes are powers of two).
    pub masks: [usize; TABLES],
    /// Updates after which each table's counters stop slowing.
    pub limits: [u32; TABLES],
    /// Slots in all.
    pub len: usize,
}

impl Layout {
    /// The tables of a chunk of `values` values of `dims` per record under `scheme`.
    /// A hashed table's counters stop slowing after 1023 updates (MSB-first) or 127
    /// (mode-first: its coarse contexts mix more kinds of pixels, and keep adapting).
    pub fn new(dims: usize, values: usize, scheme: Scheme) -> Self {
        let pos_bits = (dims * 256).next_power_of_two().trailing_zeros();
        let limit = match scheme {
            Scheme::Msb => COUNT_MAX,
            Scheme::ModeFirst | Scheme::Lean => 127,
        };
        let used = used(scheme);
        let mut layout = Layout {
            count: used.len(),
            direct: used.partition_point(|&c| c < DIRECT),
            contexts: [0; TABLES],
            offsets: [0; TABLES],
            masks: [0; TABLES],
            limits: [0; TABLES],
            len: 0,
        };
        for (t, &c) in used.iter().enumerate() {
            let (bits, limit) = match c {
                0 => (pos_bits, 255),
                1 | 2 => (16, COUNT_MAX),
                _ => (hash_bits(values), limit),
            };
            layout.contexts[t] = c;
            layout.offsets[t] = layout.len;
            layout.masks[t] = (1 << bits) - 1;
            layout.limits[t] = limit;
            layout.len += 1 << bits;
        }
        layout
    }
}

/// Where a decision at one tree node (0: the mode decision) puts each table's context `h`.
///
/// A direct table's slot is `h << 8 | node`. With [`Scheme::Msb`] a hashed table
/// hashes every node apart. With [`Scheme::ModeFirst`] it groups them in runs of 16
/// slots (one 64-byte cache line), so a value touches at most two lines per table instead
/// of up to nine: the mode decision and tree depths 0 to 3 share the line of `h`; depths 4
/// to 7 share the line of `h` and their depth-4 ancestor (16..=31), at their node number
/// within that subtree.
///
/// A slot is thus a run's first slot, which depends on `h` and `add` only, plus a low part
/// that depends on the node only (`node` in a direct table, `low` in a hashed one): see
/// [`Runs`].
#[derive(Clone, Copy)]
pub struct NodeKey {
    node: u32,
    /// A hashed table's slot is `(h + add) << shift | low`, with `low < 1 << shift`.
    add: u32,
    shift: u32,
    low: u32,
}

impl NodeKey {
    pub fn new(scheme: Scheme, node: usize) -> Self {
        let node = node as u32;
        let (add, shift, low) = if scheme == Scheme::Msb {
            (node.wrapping_mul(0x9E37_79B1), 0, 0)
        } else if node < 16 {
            (0, 4, node)
        } else {
            let below = 31 - node.leading_zeros() - 4;
            let top = node >> below;
            let within = node - (top << below) + (1 << below);
            (top.wrapping_mul(0x9E37_79B1), 4, within)
        };
        NodeKey {
            node,
            add,
            shift,
            low,
        }
    }

    /// The first slot of direct table context `h`'s run (of a table with index mask
    /// `mask`, at least 255): `node` is below 256, so `(h << 8 | node) & mask` is this
    /// plus `node`.
    #[inline]
    fn direct_run(h: u32, mask: usize) -> usize {
        (h << 8) as usize & mask
    }

    /// The first slot of hashed table context `h`'s run (of a table with index mask
    /// `mask`, at least `(1 << shift) - 1`): `low` is below `1 << shift`, so the slot is
    /// this plus `low`.
    #[inline]
    fn hashed_run(self, h: u32, mask: usize) -> usize {
        (h.wrapping_add(self.add) << self.shift) as usize & mask
    }
}

/// The first slot of each table's run for the value being coded, so that a decision only
/// adds its node's low part to each (about a tenth of the work of hashing every table's
/// slot anew). Direct runs are fixed for the value; hashed runs change with the node key's
/// `add` only: at every node with [`Scheme::Msb`], once (at tree depth 4) otherwise.
pub struct Runs {
    first: [usize; TABLES],
    /// The `add` of the hashed runs in `first` (`None`: not computed for this value).
    add: Option<u32>,
}

impl Runs {
    pub fn new() -> Self {
        Runs {
            first: [0; TABLES],
            add: None,
        }
    }

    /// Starts a value of context hashes `hashes`: sets the direct runs.
    pub fn start(&mut self, layout: &Layout, hashes: &Hashes) {
        for t in 0..layout.direct.min(TABLES) {
            let h = hashes.tables[layout.contexts[t]];
            self.first[t] = layout.offsets[t] + NodeKey::direct_run(h, layout.masks[t]);
        }
        self.add = None;
    }

    /// Sets `slots` to each table's slot for the decision at `key` (the first
    /// `layout.count`).
    #[inline]
    pub fn slots(
        &mut self,
        layout: &Layout,
        hashes: &Hashes,
        key: NodeKey,
        slots: &mut [usize; TABLES],
    ) {
        let (direct, count) = (layout.direct.min(TABLES), layout.count.min(TABLES));
        if self.add != Some(key.add) {
            for t in direct..count {
                let h = hashes.tables[layout.contexts[t]];
                self.first[t] = layout.offsets[t] + key.hashed_run(h, layout.masks[t]);
            }
            self.add = Some(key.add);
        }
        let (direct_runs, hashed_runs) = self.first[..count].split_at(direct);
        let (direct_slots, hashed_slots) = slots[..count].split_at_mut(direct);
        for (slot, &first) in direct_slots.iter_mut().zip(direct_runs) {
            *slot = first + key.node as usize;
        }
        for (slot, &first) in hashed_slots.iter_mut().zip(hashed_runs) {
            *slot = first + key.low as usize;
        }
    }
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

/// What the circuit predicts for the value: its most probable value and that value's
/// probability as a logit bucket, (stretch(p) + 3072) / 256 in 0..=24.
#[derive(Clone, Copy)]
pub struct Circuit {
    pub mode: u32,
    pub confidence: u32,
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
    scheme: Scheme,
}

impl<'a> Contexts<'a> {
    pub fn new(codec: &'a PcMixCodec, n: usize, row: usize, scheme: Scheme) -> Self {
        Contexts {
            codec,
            values: vec![0; n * codec.dims()],
            row,
            scheme,
        }
    }

    /// Records that position `pos` of record `r` has value `x`.
    pub fn set(&mut self, pos: usize, r: usize, x: u8) {
        self.values[r * self.codec.dims() + pos] = x;
    }

    /// The contexts of position `pos` in record `r`, where `circuit` predicts.
    pub fn hashes(&self, pos: usize, r: usize, circuit: Circuit) -> Hashes {
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
        // The previous record's value at this position (0 in a chunk's first record).
        let above = r
            .checked_sub(1)
            .map_or(0, |q| u32::from(self.values[q * d + pos]));
        let n = Neighbours {
            pos: pos as u32,
            prev,
            left,
            up,
            up_left,
            up_right,
            left2,
            up2,
            parent,
            grand,
            above,
            spatial: hash2(left, up, 2),
            circuit,
        };
        let tables = n.tables(self.scheme);
        let apm = match self.scheme {
            Scheme::Msb => n.spatial & 0xFF,
            Scheme::ModeFirst => top_bits([left, up, up_left, up_right], 2),
            // No spatial APM reads it.
            Scheme::Lean => 0,
        };
        Hashes { tables, apm }
    }
}

/// The values around a variable that [`Contexts::hashes`] reads, and what the circuit
/// predicts for it.
#[derive(Clone, Copy)]
struct Neighbours {
    pos: u32,
    prev: u32,
    left: u32,
    up: u32,
    up_left: u32,
    up_right: u32,
    left2: u32,
    up2: u32,
    parent: u32,
    grand: u32,
    above: u32,
    /// Context 5, which contexts 7 to 9 build on.
    spatial: u32,
    circuit: Circuit,
}

/// The top `bits` bits of each of `values` (8-bit values), packed with the first lowest.
#[inline(always)]
fn top_bits<const N: usize>(values: [u32; N], bits: u32) -> u32 {
    let mut acc = 0;
    for (i, v) in values.into_iter().enumerate() {
        acc |= (v >> (8 - bits)) << (i as u32 * bits);
    }
    acc
}

impl Neighbours {
    /// The contexts the tables of `scheme` read (those of [`used`]; 0 for the others):
    /// the lean scheme reads half of them. Each is named by a literal, so that the
    /// compiler selects its code at compile time (a loop over `used` costs more than it
    /// saves).
    fn tables(&self, scheme: Scheme) -> [u32; TABLES] {
        let mut tables = [0; TABLES];
        macro_rules! set {
            ($($c:literal),*) => {{
                $(tables[$c] = self.context($c);)*
            }};
        }
        match scheme {
            Scheme::Msb => set!(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
            Scheme::ModeFirst => {
                set!(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)
            }
            Scheme::Lean => set!(0, 1, 3, 4, 8, 10, 11, 13, 17, 19),
        }
        tables
    }

    /// Context H[c] (format-spec 6.1): the first twelve are the MSB-first scheme's, the
    /// other eight (the mode-first scheme's coarse contexts) generalise over neighbours'
    /// top bits, a gradient and the circuit's prediction.
    #[inline(always)]
    fn context(&self, c: usize) -> u32 {
        let Neighbours {
            pos: p, left, up, ..
        } = *self;
        let (up_left, up_right, left2, up2) = (self.up_left, self.up_right, self.left2, self.up2);
        let (parent, above, spatial, circuit) =
            (self.parent, self.above, self.spatial, self.circuit);
        let around = [left, up, up_left, up_right];
        match c {
            0 => p,
            1 => parent,
            2 => self.prev,
            3 => hash2(parent, self.grand, 1),
            4 => hash(p << 8 | parent | 1 << 30),
            5 => spatial,
            6 => hash((p << 16 | left << 8 | up) ^ 0x5555_5555),
            7 => hash(spatial ^ (up_left << 8 | up_right) ^ 0x1234_5678),
            8 => hash(spatial ^ (left2 << 8 | up2) ^ 0x2345_6789),
            9 => hash(spatial ^ parent ^ 0x3456_789A),
            10 => hash2(above, left, 3),
            11 => hash((p << 16 | above << 8 | parent) ^ 0x4567_89AB),
            12 => hash(top_bits(around, 3) ^ 0x789A_BCDE),
            13 => hash(top_bits([left, up, left2, up2], 4) ^ 0xABCD_EF01),
            14 => hash(top_bits(around, 5) ^ 0xDEF0_1234),
            15 => hash(top_bits([left, up, up_left, up_right, left2, up2], 3) ^ 0xEF01_2345),
            16 => {
                let gradient = (left + up).saturating_sub(up_left).min(255);
                hash(
                    (gradient >> 3
                        | (left.abs_diff(up_left) >> 4) << 5
                        | (up.abs_diff(up_left) >> 4) << 9
                        | (circuit.mode >> 6) << 13)
                        ^ 0x1357_9BDF,
                )
            }
            17 => hash(
                top_bits([left, up, up_left, up_right, left2, up2, parent, above], 2) ^ 0x2468_ACE0,
            ),
            18 => hash(
                (top_bits([left, up], 4) | circuit.confidence << 8 | (circuit.mode >> 4) << 13)
                    ^ 0x48C0_37BF,
            ),
            // 19, the last.
            _ => hash(top_bits([left, up, parent, above], 4) ^ 0xF012_3456),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn a_scheme_computes_the_contexts_it_uses() {
        let mut rng = Rng::new(11);
        for _ in 0..100 {
            let mut v = || (rng.next_u64() % 256) as u32;
            let (left, up) = (v(), v());
            let n = Neighbours {
                pos: v() * 100,
                prev: v(),
                left,
                up,
                up_left: v(),
                up_right: v(),
                left2: v(),
                up2: v(),
                parent: v(),
                grand: v(),
                above: v(),
                spatial: hash2(left, up, 2),
                circuit: Circuit {
                    mode: v(),
                    confidence: v() % 25,
                },
            };
            for scheme in [Scheme::Msb, Scheme::ModeFirst, Scheme::Lean] {
                let tables = n.tables(scheme);
                for (c, &h) in tables.iter().enumerate() {
                    let want = match used(scheme).contains(&c) {
                        true => n.context(c),
                        false => 0,
                    };
                    assert_eq!(h, want, "{scheme:?} context {c}");
                }
            }
        }
    }

    #[test]
    fn runs_give_the_slots_of_the_format() {
        // A decision's slot in table t is offsets[t] plus `(h << 8 | node) & mask` in a
        // direct table, `((h + add) << shift | low) & mask` in a hashed one, whatever the
        // order of the nodes (a value restarts the runs at its first).
        let mut rng = Rng::new(7);
        for scheme in [Scheme::Msb, Scheme::ModeFirst, Scheme::Lean] {
            for (dims, values) in [(3, 10), (784, 784 * 1000), (70_000, 70_000)] {
                let layout = Layout::new(dims, values, scheme);
                let hashes = Hashes {
                    tables: std::array::from_fn(|_| rng.next_u64() as u32),
                    apm: 0,
                };
                let mut runs = Runs::new();
                runs.start(&layout, &hashes);
                let mut slots = [0; TABLES];
                for node in (0..256).chain([1, 2, 5, 11, 23, 46, 0, 200, 3]) {
                    let key = NodeKey::new(scheme, node);
                    runs.slots(&layout, &hashes, key, &mut slots);
                    for (t, &slot) in slots[..layout.count].iter().enumerate() {
                        let (c, mask) = (layout.contexts[t], layout.masks[t]);
                        let h = hashes.tables[c];
                        let within = match c < DIRECT {
                            true => (h << 8 | key.node) as usize & mask,
                            false => {
                                (h.wrapping_add(key.add) << key.shift | key.low) as usize & mask
                            }
                        };
                        assert_eq!(
                            slot,
                            layout.offsets[t] + within,
                            "{scheme:?} node {node} t {t}"
                        );
                    }
                }
            }
        }
    }
}
