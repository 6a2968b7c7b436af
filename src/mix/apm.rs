//! Adaptive probability maps (secondary estimation): a probability is refined by what
//! was actually coded when a similar probability was predicted in the same context. The
//! input logit picks a point between two of 25 buckets (1.0 logit apart: every other
//! squash knot); the output interpolates their learnt probabilities, and the nearer bucket
//! moves toward the coded bit.

use super::{squash, LOGIT_LIMIT};

/// Buckets per context.
const BUCKETS: usize = 25;

/// Logit units between buckets (1.0).
const STEP: i32 = 2 * LOGIT_LIMIT / (BUCKETS as i32 - 1);

/// `STEP` is a power of two, so the divisions by it of the (never negative) interpolation
/// terms are shifts and masks: a signed division costs its sign fix-ups on every decision.
const STEP_BITS: u32 = STEP.trailing_zeros();
const _: () = assert!(STEP == 1 << STEP_BITS);

/// A table of `contexts` maps.
#[derive(Debug, Clone)]
pub struct Apm {
    /// Each entry minus its initial value ([`Apm::initial`]), so a fresh map is all zeros
    /// (zeroed pages, free until touched: the 65,536-map APM costs a chunk nothing up front).
    p: Vec<[i32; BUCKETS]>,
    initial: [i32; BUCKETS],
    /// The entry of `p` (counted across its maps) the last refined logit updates, and its
    /// initial value.
    at: usize,
    at_initial: i32,
    rate: u32,
}

impl Apm {
    /// `contexts` maps, each starting as the identity; each update moves a bucket by
    /// 1/2^`rate` of its error.
    pub fn new(contexts: usize, rate: u32) -> Self {
        let initial: [i32; BUCKETS] =
            std::array::from_fn(|i| squash(i as i32 * STEP - LOGIT_LIMIT) * 16);
        Apm {
            p: vec![[0; BUCKETS]; contexts],
            initial,
            at: 0,
            at_initial: initial[0],
            rate,
        }
    }

    /// Makes every map the identity again, as [`Apm::new`] left it.
    pub fn reset(&mut self) {
        self.p.fill([0; BUCKETS]);
        (self.at, self.at_initial) = (0, self.initial[0]);
    }

    /// The refined probability (units of 2^-16) of logit `d` in context `ctx`.
    #[inline]
    pub fn refine(&mut self, d: i32, ctx: usize) -> i32 {
        // x lies in 0..2 * LOGIT_LIMIT, so i < BUCKETS - 1.
        let x = d.clamp(-LOGIT_LIMIT, LOGIT_LIMIT - 1) + LOGIT_LIMIT;
        let (i, f) = ((x >> STEP_BITS) as usize, x & (STEP - 1));
        let map = &self.p[ctx];
        let (lo, hi) = (map[i] + self.initial[i], map[i + 1] + self.initial[i + 1]);
        let bucket = i + usize::from(f * 2 >= STEP);
        (self.at, self.at_initial) = (ctx * BUCKETS + bucket, self.initial[bucket]);
        // Entries stay in 0..=2^20 (an update moves one toward 0 or 2^20, never past), so
        // the sum is not negative and the shift divides it exactly.
        let sum = lo * (STEP - f) + hi * f;
        debug_assert!(sum >= 0, "APM interpolation {sum}");
        let p = sum >> STEP_BITS;
        (p >> 4).clamp(1, 65535)
    }

    /// Moves the bucket nearest to the last refined logit toward `bit`.
    #[inline]
    pub fn update(&mut self, bit: bool) {
        let target = i32::from(bit) << 20;
        let stored = &mut self.p.as_flattened_mut()[self.at];
        // The entry is its stored offset plus its initial value.
        *stored += (target - (*stored + self.at_initial)) >> self.rate;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The definition of [`Apm`] with divisions (format-spec "pcmix"): entries in full,
    /// no offsets.
    struct Plain {
        p: Vec<i32>,
        last: usize,
    }

    impl Plain {
        fn refine(&mut self, d: i32, ctx: usize) -> i32 {
            let x = d.clamp(-LOGIT_LIMIT, LOGIT_LIMIT - 1) + LOGIT_LIMIT;
            let (i, f) = ((x / STEP) as usize, x % STEP);
            let map = &self.p[ctx * BUCKETS..];
            self.last = ctx * BUCKETS + i + usize::from(f * 2 >= STEP);
            (((map[i] * (STEP - f) + map[i + 1] * f) / STEP) >> 4).clamp(1, 65535)
        }

        fn update(&mut self, bit: bool, rate: u32) {
            let p = &mut self.p[self.last];
            *p += ((i32::from(bit) << 20) - *p) >> rate;
        }
    }

    #[test]
    fn matches_the_plain_definition() {
        let mut rng = Rng::new(5);
        for rate in [0, 1, 6] {
            let mut apm = Apm::new(3, rate);
            let identity = (0..BUCKETS).map(|i| squash(i as i32 * STEP - LOGIT_LIMIT) * 16);
            let mut plain = Plain {
                p: identity.cycle().take(3 * BUCKETS).collect(),
                last: 0,
            };
            for step in 0..20_000 {
                let d = rng.below(2 * LOGIT_LIMIT as u64 + 401) as i32 - LOGIT_LIMIT - 200;
                let ctx = rng.below(3) as usize;
                // Long runs of one bit drive buckets to both ends of their range.
                let bit = (step / 500) % 2 == 0 || rng.below(8) == 0;
                assert_eq!(apm.refine(d, ctx), plain.refine(d, ctx), "step {step}");
                apm.update(bit);
                plain.update(bit, rate);
            }
        }
    }
}
