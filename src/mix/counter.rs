//! Adaptive bit counters: one probability per context slot, learnt at a rate that starts
//! fast and slows as the slot sees more bits (1/(n + 1.5) after n bits, down to a floor).
//! A fresh table knows nothing, so the first bits of a chunk move its estimates quickly.

use super::stretch_u16;

/// Bits of probability kept in a slot.
const P_BITS: u32 = 22;

/// Counters, in one allocation for all the tables of a model (a table is a range of
/// slots). A slot packs a 22-bit probability of a one (high bits) and the number of
/// updates it has seen, saturating at the table's limit (low 10 bits).
#[derive(Debug, Clone)]
pub struct Counters {
    slots: Vec<u32>,
}

/// A fresh slot (probability 1/2, count 0). Slots are stored xor this value, so a fresh
/// table is all zeros: the allocator hands out zeroed pages that cost nothing until they
/// are touched, and a chunk pays only for the slots it uses.
const FRESH: u32 = 1 << (P_BITS + 10 - 1);

/// The largest update count a slot keeps.
pub const COUNT_MAX: u32 = 1023;

/// 65536 / (n + 1.5), as (2 * 65536) / (2n + 3) in integer division, for n < 1024.
fn rate(n: u32) -> i64 {
    RATES[n as usize]
}

/// `rate` for every count, computed once: a division per update was a tenth of decoding.
const RATES: [i64; 1024] = {
    let mut t = [0; 1024];
    let mut n = 0;
    while n < 1024 {
        t[n] = 131_072 / (2 * n as i64 + 3);
        n += 1;
    }
    t
};

impl Counters {
    /// `len` slots at probability 1/2.
    pub fn new(len: usize) -> Self {
        Counters {
            slots: vec![0; len],
        }
    }

    /// Makes this `len` fresh slots, in the memory it already has if that is enough.
    pub fn reset(&mut self, len: usize) {
        self.slots.clear();
        self.slots.resize(len, 0);
    }

    /// The counter in slot `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Counter {
        Counter(self.slots[i] ^ FRESH)
    }

    /// Stores `counter` in slot `i`.
    #[inline]
    pub fn set(&mut self, i: usize, counter: Counter) {
        self.slots[i] = counter.0 ^ FRESH;
    }

    /// Reads the counter of each of `slots` into `read`, and its probability as a logit
    /// (units of 1/256) into `logits`: one decision's predictions, one per table. Returns
    /// the sum of the logits times `weights` (a mixer's), added up here as each is made:
    /// a vector kernel reading the logits back at once must wait for the separate stores
    /// to reach the cache, since the CPU cannot forward several stores to one load.
    #[inline]
    pub fn predict(
        &self,
        slots: &[usize],
        read: &mut [Counter],
        logits: &mut [i32],
        weights: &[i32],
    ) -> i64 {
        let mut dot = 0;
        for (((&i, counter), logit), &w) in slots.iter().zip(read).zip(logits).zip(weights) {
            *counter = self.get(i);
            *logit = stretch_u16(counter.p());
            dot += i64::from(*logit) * i64::from(w);
        }
        dot
    }

    /// Stores each counter of `read` (as [`Counters::predict`] read it from `slots`) moved
    /// toward `bit`, with the update limits `limits` of the tables.
    #[inline]
    pub fn learn(&mut self, slots: &[usize], read: &[Counter], bit: bool, limits: &[u32]) {
        for ((&i, &counter), &limit) in slots.iter().zip(read).zip(limits) {
            self.set(i, counter.updated(bit, limit));
        }
    }
}

/// One slot's state (probability and count, as [`Counters`] packs them), taken out of its
/// table: a decision reads each of its slots once, for the prediction, and writes the
/// update back after the bit is coded without reading the slot (a cache miss, often) again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter(u32);

impl Counter {
    /// The probability of a one, in units of 2^-16.
    #[inline]
    pub fn p(self) -> u16 {
        (self.0 >> (P_BITS + 10 - 16)) as u16
    }

    /// This counter moved toward `bit`; the update rate stops slowing after `limit`
    /// (<= [`COUNT_MAX`]) updates.
    #[inline]
    pub fn updated(self, bit: bool, limit: u32) -> Counter {
        let s = self.0;
        let n = s & 1023;
        let p = i64::from(s >> 10);
        let target = i64::from(bit) << P_BITS;
        // The step is less than |target - p| (rate < 65536) and floors toward target's
        // side, so p stays in 0..2^22 without a clamp.
        let p = p + (((target - p) * rate(n)) >> 16);
        let n = if n < limit { n + 1 } else { n };
        Counter((p as u32) << 10 | n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moves slot `i` of `c` toward `bit`.
    fn update(c: &mut Counters, i: usize, bit: bool, limit: u32) {
        c.set(i, c.get(i).updated(bit, limit));
    }

    #[test]
    fn learns_a_biased_source() {
        let mut c = Counters::new(16);
        assert_eq!(c.get(3).p(), 32768);
        for i in 0..400 {
            update(&mut c, 3, i % 10 != 0, 255);
        }
        let p = c.get(3).p();
        assert!((55000..62000).contains(&p), "p {p}");
        update(&mut c, 3, true, 255);
        assert_eq!(c.get(4).p(), 32768, "other slots untouched");
    }

    #[test]
    fn first_update_moves_two_thirds_of_the_way() {
        let mut c = Counters::new(2);
        update(&mut c, 0, true, 255);
        assert!((54600..54700).contains(&c.get(0).p()), "{}", c.get(0).p());
    }

    #[test]
    fn predicts_logits_and_their_weighted_sum() {
        let mut c = Counters::new(8);
        update(&mut c, 2, true, 255);
        update(&mut c, 5, false, 255);
        let slots = [2, 5, 7];
        let (mut read, mut logits) = ([Counter::default(); 3], [0; 3]);
        let dot = c.predict(&slots, &mut read, &mut logits, &[3 << 16, -(1 << 16), 7]);
        assert_eq!(read, [c.get(2), c.get(5), c.get(7)]);
        let want = [c.get(2), c.get(5), c.get(7)].map(|r| stretch_u16(r.p()));
        assert_eq!(logits, want);
        assert!(
            logits[0] > 0 && logits[1] < 0 && logits[2] == 0,
            "{logits:?}"
        );
        let want = i64::from(logits[0]) * (3 << 16) - i64::from(logits[1]) * (1 << 16);
        assert_eq!(dot, want);
    }

    #[test]
    fn saturates_without_leaving_its_range() {
        // Without a clamp in `update`, a probability stepping past 0 or 2^22 would wrap
        // into the count bits or the other end.
        let mut c = Counters::new(1);
        for _ in 0..5000 {
            update(&mut c, 0, true, COUNT_MAX);
        }
        assert!(c.get(0).p() > 65500, "{}", c.get(0).p());
        for _ in 0..20_000 {
            update(&mut c, 0, false, COUNT_MAX);
        }
        assert_eq!(c.get(0).p(), 0);
        // From 0, one step of 63/65536 (the rate at the count limit) toward 1.
        update(&mut c, 0, true, COUNT_MAX);
        assert_eq!(c.get(0).p(), 63);
    }
}
