//! The bit predictor: counters in seven contexts, the match model and two stride
//! models, mixed by a logistic mixer whose weight set is chosen by the match state and
//! the partial byte, then refined by two APMs. Every step is integer arithmetic (format-spec/FORMAT.md section 6.2).

use super::matcher::Matcher;
use crate::mix::{stretch, stretch_u16, Apm, Counter, Counters, Mixer, WEIGHT_ONE};

/// Contexts with a counter table: orders 0 and 1 (direct), then the hashed ones.
const CONTEXTS: usize = 7;

/// Hashed contexts (orders 2, 3, 4, 6 and the word), tables 2.. of [`CONTEXTS`].
const HASHED: usize = 5;

/// Stride models (strides 1 and 2).
const STRIDES: usize = 2;

/// Inputs from counters: one per context, the match model's and the stride models'.
const COUNTED: usize = CONTEXTS + 1 + STRIDES;

/// Mixer inputs: the counted ones and a constant bias.
const INPUTS: usize = COUNTED + 1;

/// The bias input's logit (1.0).
const BIAS: i32 = 256;

/// Match length buckets ([`length_bucket`]) that select the match counter.
const LENGTH_BUCKETS: usize = 16;

/// Slots of a predicted byte's counter table: 0 when the byte is already contradicted
/// (or there is none), else 1 + a length bucket and the expected bit.
const GUESS_SLOTS: usize = 1 + 2 * LENGTH_BUCKETS;

/// Slots of the match and stride tables together.
const MATCH_SLOTS: usize = (1 + STRIDES) * GUESS_SLOTS;

/// Mixer weight sets: 4 match states times 256 partial bytes.
const MIXER_SETS: usize = 4 * 256;

/// Mixer learning rate (units of 2^-22).
const MIXER_RATE: i32 = 96;

/// APM update rate (1/2^7 of the error).
const APM_RATE: u32 = 7;

/// Counter update limit of each context table, then of the match table.
const LIMITS: [u32; COUNTED] = [127, 127, 127, 127, 127, 127, 127, 1023, 1023, 1023];

/// The multiplicative hash of FORMAT.md 6.1: y xor (y >> 15), y = x * 0x9E3779B1.
#[inline]
pub(super) fn hash(x: u32) -> u32 {
    let y = x.wrapping_mul(0x9E37_79B1);
    y ^ (y >> 15)
}

/// The least `b` with 2^`b` >= `len` (0 for `len` <= 1).
fn log2_ceil(len: usize) -> u32 {
    usize::BITS - (len.max(1) - 1).leading_zeros()
}

/// Bits of each hashed counter table for a chunk of `len` bytes: four slots per byte,
/// 2^16 to 2^22.
fn hashed_bits(len: usize) -> u32 {
    (log2_ceil(len) + 2).clamp(16, 22)
}

/// Bits of the match model's position table: one entry per byte, 2^12 to 2^22.
fn match_bits(len: usize) -> u32 {
    log2_ceil(len).clamp(12, 22)
}

/// Bytes of model state (tables, mixer, APMs) for a chunk of `len` bytes, an upper
/// bound on what [`Model::new`] allocates; a decoder holds this plus the `len` output
/// bytes. At most about 108 MB (len > 2^21; 95 MB for 2^20), 8.2 MB for a chunk of 1 byte (most of
/// it zeroed pages that cost nothing until touched).
pub fn memory_bound(len: usize) -> usize {
    let counters = (256 + 65536 + HASHED * (1 << hashed_bits(len)) + MATCH_SLOTS) * 4;
    let matcher = (1 << match_bits(len)) * 4;
    // Mixer inputs are padded to blocks of at most 16 lanes.
    let mixer = (MIXER_SETS + 1) * INPUTS.next_multiple_of(16) * 4;
    let apms = (256 + 65536) * 25 * 4;
    counters + matcher + mixer + apms
}

/// The model's whole state.
#[derive(Debug)]
pub(super) struct Model {
    counters: Counters,
    /// First slot of each hashed table; all have 2^`bits` slots.
    offsets: [usize; HASHED],
    mask: usize,
    match_offset: usize,
    matcher: Matcher,
    mixer: Mixer,
    apm_order0: Apm,
    apm_order1: Apm,
    /// The slots of this decision, per context then the match slot, and their counters.
    slots: [usize; COUNTED],
    read: [Counter; COUNTED],
    /// Per-byte hashes of the hashed contexts.
    hashes: [u32; HASHED],
    /// The bits of the current byte so far, after a leading 1 (1..=255).
    c0: u32,
    /// Bits of the current byte coded (0..8).
    bit: u32,
    /// The last four bytes (the latest lowest), and the four before them.
    c4: u32,
    c8: u32,
    /// Hash of the letters of the current word (0 outside a word).
    word: u32,
    /// The match model's predicted byte and its length, if there is a match.
    matched: Option<(u8, u32)>,
    /// The stride models' predicted bytes and how many bytes in a row each has been
    /// right: for stride s (1, 2), the byte s back plus its difference from the byte 2s
    /// back (arithmetic sequences, and two of them interleaved).
    strides: [(u8, u32); STRIDES],
    /// The mixer's output, kept for the APMs' weighting.
    pm: i32,
}

impl Model {
    /// A fresh model for a chunk of `len` bytes.
    pub(super) fn new(len: usize) -> Self {
        let bits = hashed_bits(len);
        let first = 256 + 65536;
        let offsets = std::array::from_fn(|t| first + (t << bits));
        let match_offset = first + (HASHED << bits);
        let init = [WEIGHT_ONE / 4; INPUTS];
        let mut model = Model {
            counters: Counters::new(match_offset + MATCH_SLOTS),
            offsets,
            mask: (1 << bits) - 1,
            match_offset,
            matcher: Matcher::new(match_bits(len)),
            mixer: Mixer::new(INPUTS, MIXER_SETS, &init, MIXER_RATE),
            apm_order0: Apm::new(256, APM_RATE),
            apm_order1: Apm::new(65536, APM_RATE),
            slots: [0; COUNTED],
            read: [Counter::default(); COUNTED],
            hashes: [0; HASHED],
            c0: 1,
            bit: 0,
            c4: 0,
            c8: 0,
            word: 0,
            matched: None,
            strides: [(0, 0); STRIDES],
            pm: 1 << 15,
        };
        model.byte_contexts();
        model.bit_slots();
        model
    }

    /// The probability (units of 2^-16, 1..=65535) that the next bit is a one.
    #[inline]
    pub(super) fn p(&mut self) -> u16 {
        let (w, x) = self.mixer.select(self.mixer_set());
        let mut dot = 0i64;
        for t in 0..COUNTED {
            let c = self.counters.get(self.slots[t]);
            self.read[t] = c;
            x[t] = stretch_u16(c.p());
            dot += i64::from(x[t]) * i64::from(w[t]);
        }
        x[COUNTED] = BIAS;
        dot += i64::from(BIAS) * i64::from(w[COUNTED]);
        self.pm = self.mixer.mix(dot);
        let d = stretch(self.pm);
        let a0 = self.apm_order0.refine(d, self.c0 as usize);
        let a1 = self
            .apm_order1
            .refine(d, (self.c0 | (self.c4 & 0xFF) << 8) as usize);
        ((self.pm + a0 + 2 * a1) / 4) as u16
    }

    /// The mixer's weight set: the match state (none, short, medium, long, or the
    /// partial byte already disagreeing: none) and the partial byte.
    fn mixer_set(&self) -> usize {
        let state = match self.matched {
            Some((e, len)) if self.agrees(e) => 1 + usize::from(len >= 16) + usize::from(len >= 32),
            _ => 0,
        };
        state * 256 + self.c0 as usize
    }

    /// Whether the bits of the current byte coded so far agree with byte `e`.
    #[inline]
    fn agrees(&self, e: u8) -> bool {
        (u32::from(e) | 256) >> (8 - self.bit) == self.c0
    }

    /// The slot (of a table of [`GUESS_SLOTS`]) of a predicted next byte `e` whose
    /// strength (match or run length) is `len`: its length bucket and next bit while the
    /// bits so far agree with it, else 0.
    #[inline]
    fn guess_slot(&self, e: u8, len: u32) -> usize {
        match self.agrees(e) {
            true => 1 + (length_bucket(len) << 1 | (usize::from(e) >> (7 - self.bit)) & 1),
            false => 0,
        }
    }

    /// Learns the coded `bit` and moves to the next decision.
    #[inline]
    pub(super) fn update(&mut self, bit: bool) {
        for ((&slot, counter), &limit) in self.slots.iter().zip(&self.read).zip(&LIMITS) {
            self.counters.set(slot, counter.updated(bit, limit));
        }
        self.mixer.update(bit);
        self.apm_order0.update(bit);
        self.apm_order1.update(bit);
        self.c0 = self.c0 << 1 | u32::from(bit);
        self.bit += 1;
        if self.bit < 8 {
            self.bit_slots();
        }
    }

    /// Ends a byte: `history` is every byte coded, the one just completed last.
    pub(super) fn end_byte(&mut self, history: &[u8]) {
        let byte = self.c0 & 0xFF;
        self.c8 = self.c8 << 8 | self.c4 >> 24;
        self.c4 = self.c4 << 8 | byte;
        self.word = match byte as u8 {
            b @ (b'a'..=b'z' | b'A'..=b'Z' | 128..=255) => {
                (self.word ^ u32::from(b.to_ascii_lowercase())).wrapping_mul(0x2F0B_3C4D)
            }
            _ => 0,
        };
        self.matcher.update(history);
        self.matched = self.matcher.predicted(history);
        let c1 = self.c4 as u8;
        for (k, (e, run)) in self.strides.iter_mut().enumerate() {
            *run = if c1 == *e { run.saturating_add(1) } else { 0 };
            let back = |i: usize| (self.c4 >> (8 * (i - 1))) as u8;
            let last = back(k + 1);
            *e = last.wrapping_add(last.wrapping_sub(back(2 * k + 2)));
        }
        self.c0 = 1;
        self.bit = 0;
        self.byte_contexts();
        self.bit_slots();
    }

    /// The hashed contexts' per-byte hashes.
    fn byte_contexts(&mut self) {
        let (c4, c8) = (self.c4, self.c8);
        self.hashes = [
            hash(c4 & 0xFFFF | 2 << 24),
            hash(c4 & 0xFF_FFFF | 3 << 24),
            hash(hash(c4) ^ 4),
            hash(hash(c4) ^ (c8 & 0xFFFF) << 8 ^ 6),
            hash(self.word ^ hash(c4 & 0xFF | 0x5700)),
        ];
    }

    /// The slots of the next decision.
    #[inline]
    fn bit_slots(&mut self) {
        let c0 = self.c0 as usize;
        self.slots[0] = c0;
        self.slots[1] = 256 + ((self.c4 as usize & 0xFF) << 8 | c0);
        // A byte's decisions in one context share two runs of 16 slots (one per
        // nibble): the first four bits index the first run, the last four the second.
        let (top, within) = if self.bit < 4 {
            (0, c0)
        } else {
            let e = self.bit - 4;
            let top = self.c0 >> e;
            (top, (c0 & ((1 << e) - 1)) | 1 << e)
        };
        for t in 0..HASHED {
            let h = self.hashes[t].wrapping_add(top.wrapping_mul(0x9E37_79B1));
            self.slots[2 + t] = self.offsets[t] + (((h as usize) << 4 | within) & self.mask);
        }
        let m = match self.matched {
            Some((e, len)) => self.guess_slot(e, len),
            None => 0,
        };
        self.slots[CONTEXTS] = self.match_offset + m;
        for (k, &(e, run)) in self.strides.iter().enumerate() {
            let at = self.match_offset + (1 + k) * GUESS_SLOTS;
            self.slots[CONTEXTS + 1 + k] = at + self.guess_slot(e, run);
        }
    }

    /// Bytes of memory held.
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        // Counters, mixer and APMs do not expose their capacity: their sizes follow
        // from the constructor arguments.
        let counters = (self.match_offset + MATCH_SLOTS) * 4;
        let mixer = (MIXER_SETS + 1) * INPUTS.next_multiple_of(16) * 4;
        counters + self.matcher.heap_bytes() + mixer + (256 + 65536) * 25 * 4
    }
}

/// Which of [`LENGTH_BUCKETS`] match lengths `len` falls in: 0..=11 one each, then
/// 12-15, 16-23, 24-31, 32 and longer.
fn length_bucket(len: u32) -> usize {
    match len {
        0..=11 => len as usize,
        12..=15 => 12,
        16..=23 => 13,
        24..=31 => 14,
        _ => 15,
    }
}
