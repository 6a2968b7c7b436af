//! Adaptive bit counters: one probability per context slot, learnt at a rate that starts
//! fast and slows as the slot sees more bits (1/(n + 1.5) after n bits, down to a floor).
//! A fresh table knows nothing, so the first bits of a chunk move its estimates quickly.

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

    /// The probability of a one in slot `i`, in units of 2^-16.
    #[inline]
    pub fn p(&self, i: usize) -> i32 {
        ((self.slots[i] ^ FRESH) >> (P_BITS + 10 - 16)) as i32
    }

    /// Moves slot `i` toward `bit`; the update rate stops slowing after `limit`
    /// (<= [`COUNT_MAX`]) updates.
    #[inline]
    pub fn update(&mut self, i: usize, bit: bool, limit: u32) {
        let s = self.slots[i] ^ FRESH;
        let n = s & 1023;
        let p = i64::from(s >> 10);
        let target = i64::from(bit) << P_BITS;
        // The step is less than |target - p| (rate < 65536) and floors toward target's
        // side, so p stays in 0..2^22 without a clamp.
        let p = p + (((target - p) * rate(n)) >> 16);
        let n = if n < limit { n + 1 } else { n };
        self.slots[i] = ((p as u32) << 10 | n) ^ FRESH;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_biased_source() {
        let mut c = Counters::new(16);
        assert_eq!(c.p(3), 32768);
        for i in 0..400 {
            c.update(3, i % 10 != 0, 255);
        }
        let p = c.p(3);
        assert!((55000..62000).contains(&p), "p {p}");
        c.update(3, true, 255);
        assert_eq!(c.p(4), 32768, "other slots untouched");
    }

    #[test]
    fn first_update_moves_two_thirds_of_the_way() {
        let mut c = Counters::new(2);
        c.update(0, true, 255);
        assert!((54600..54700).contains(&c.p(0)), "{}", c.p(0));
    }

    #[test]
    fn saturates_without_leaving_its_range() {
        // Without a clamp in `update`, a probability stepping past 0 or 2^22 would wrap
        // into the count bits or the other end.
        let mut c = Counters::new(1);
        for _ in 0..5000 {
            c.update(0, true, COUNT_MAX);
        }
        assert!(c.p(0) > 65500, "{}", c.p(0));
        for _ in 0..20_000 {
            c.update(0, false, COUNT_MAX);
        }
        assert_eq!(c.p(0), 0);
        // From 0, one step of 63/65536 (the rate at the count limit) toward 1.
        c.update(0, true, COUNT_MAX);
        assert_eq!(c.p(0), 63);
    }
}
