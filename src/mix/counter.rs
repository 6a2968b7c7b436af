//! Adaptive bit counters: one probability per context slot, learnt at a rate that starts
//! fast and slows as the slot sees more bits (1/(n + 1.5) after n bits, down to a floor).
//! A fresh table knows nothing, so the first bits of a chunk move its estimates quickly.

/// Bits of probability kept in a slot.
const P_BITS: u32 = 22;

/// A table of counters. A slot packs a 22-bit probability of a one (high bits) and the
/// number of updates it has seen, saturating at `limit` (low 10 bits).
#[derive(Debug, Clone)]
pub struct Counters {
    slots: Vec<u32>,
    limit: u32,
}

/// A fresh slot (probability 1/2, count 0). Slots are stored xor this value, so a fresh
/// table is all zeros: the allocator hands out zeroed pages that cost nothing until they
/// are touched, and a chunk pays only for the slots it uses.
const FRESH: u32 = 1 << (P_BITS + 10 - 1);

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
    /// `2^bits` slots at probability 1/2; the update rate stops slowing after `limit`
    /// (< 1024) updates.
    pub fn new(bits: u32, limit: u32) -> Self {
        Counters {
            slots: vec![0; 1 << bits],
            limit: limit.min(1023),
        }
    }

    /// Index mask: a slot index is any value masked with this.
    #[inline]
    pub fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The probability of a one in slot `i`, in units of 2^-16.
    #[inline]
    pub fn p(&self, i: usize) -> i32 {
        ((self.slots[i] ^ FRESH) >> (P_BITS + 10 - 16)) as i32
    }

    /// Moves slot `i` toward `bit`.
    #[inline]
    pub fn update(&mut self, i: usize, bit: bool) {
        let s = self.slots[i] ^ FRESH;
        let n = s & 1023;
        let p = i64::from(s >> 10);
        let target = i64::from(bit) << P_BITS;
        let p = p + (((target - p) * rate(n)) >> 16);
        let n = if n < self.limit { n + 1 } else { n };
        self.slots[i] = (((p.clamp(0, (1 << P_BITS) - 1) as u32) << 10) | n) ^ FRESH;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_biased_source() {
        let mut c = Counters::new(4, 255);
        assert_eq!(c.p(3), 32768);
        for i in 0..400 {
            c.update(3, i % 10 != 0);
        }
        let p = c.p(3);
        assert!((55000..62000).contains(&p), "p {p}");
        c.update(3, true);
        assert_eq!(c.p(4), 32768, "other slots untouched");
    }

    #[test]
    fn first_update_moves_two_thirds_of_the_way() {
        let mut c = Counters::new(1, 255);
        c.update(0, true);
        assert!((54600..54700).contains(&c.p(0)), "{}", c.p(0));
    }
}
