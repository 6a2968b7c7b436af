//! Adaptive probability maps (secondary estimation): a probability is refined by what
//! was actually coded when a similar probability was predicted in the same context. The
//! input logit picks a point between two of 25 buckets (0.5 logit apart, as the squash
//! knots); the output interpolates their learnt probabilities, and the nearer bucket
//! moves toward the coded bit.

use super::{squash, LOGIT_LIMIT};

/// Buckets per context.
const BUCKETS: usize = 25;

/// Logit units between buckets (1.0).
const STEP: i32 = 2 * LOGIT_LIMIT / (BUCKETS as i32 - 1);

/// A table of `contexts` maps.
#[derive(Debug, Clone)]
pub struct Apm {
    /// Each entry minus its initial value ([`Apm::initial`]), so a fresh map is all zeros
    /// (zeroed pages, free until touched: the 65,536-map APM costs a chunk nothing up front).
    p: Vec<i32>,
    initial: [i32; BUCKETS],
    /// The map and bucket the last refined logit updates.
    base: usize,
    bucket: usize,
    rate: u32,
}

impl Apm {
    /// `contexts` maps, each starting as the identity; each update moves a bucket by
    /// 1/2^`rate` of its error.
    pub fn new(contexts: usize, rate: u32) -> Self {
        Apm {
            p: vec![0; contexts * BUCKETS],
            initial: std::array::from_fn(|i| squash(i as i32 * STEP - LOGIT_LIMIT) * 16),
            base: 0,
            bucket: 0,
            rate,
        }
    }

    /// Makes every map the identity again, as [`Apm::new`] left it.
    pub fn reset(&mut self) {
        self.p.fill(0);
        (self.base, self.bucket) = (0, 0);
    }

    /// The refined probability (units of 2^-16) of logit `d` in context `ctx`.
    #[inline]
    pub fn refine(&mut self, d: i32, ctx: usize) -> i32 {
        let x = d.clamp(-LOGIT_LIMIT, LOGIT_LIMIT - 1) + LOGIT_LIMIT;
        let (i, f) = ((x / STEP) as usize, x % STEP);
        let base = ctx * BUCKETS;
        let (lo, hi) = (self.entry(base, i), self.entry(base, i + 1));
        self.base = base;
        self.bucket = i + usize::from(f * 2 >= STEP);
        let p = (lo * (STEP - f) + hi * f) / STEP;
        (p >> 4).clamp(1, 65535)
    }

    /// Moves the bucket nearest to the last refined logit toward `bit`.
    #[inline]
    pub fn update(&mut self, bit: bool) {
        let target = i32::from(bit) << 20;
        let p = self.entry(self.base, self.bucket);
        self.p[self.base + self.bucket] += (target - p) >> self.rate;
    }

    /// Bucket `bucket` of the map at `base` (its stored offset plus its initial value).
    #[inline]
    fn entry(&self, base: usize, bucket: usize) -> i32 {
        self.p[base + bucket] + self.initial[bucket]
    }
}
