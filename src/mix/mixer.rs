//! Logistic mixing: the output logit is a weighted sum of input logits, with one weight
//! vector per selector context, trained online by gradient descent on coding cost.

use super::{squash, LOGIT_LIMIT};
use crate::simd::{Block, IntKernels, BLOCK};

/// Fixed-point one: weights are in units of 2^-16.
pub const WEIGHT_ONE: i32 = 1 << 16;

/// Weights are clamped to +-this (64.0) so no sum can overflow.
const WEIGHT_LIMIT: i32 = 64 << 16;

/// A mixer of `n` inputs with `sets` weight vectors.
///
/// Inputs and weight vectors are padded with zeros to whole [`Block`]s: a zero input adds
/// nothing to a sum and moves no weight, and the vector kernels then run without a
/// scalar tail.
#[derive(Debug, Clone)]
pub struct Mixer {
    n: usize,
    /// Blocks per weight vector (and of the inputs).
    blocks: usize,
    weights: Vec<Block>,
    inputs: Vec<Block>,
    /// The first block of the last used weight vector.
    at: usize,
    p: i32,
    rate: i32,
    /// The vector kernels for this CPU, chosen once here rather than on every call.
    kernels: IntKernels,
}

/// Largest learning rate: error (< 2^16) times rate stays below 2^31.
const RATE_MAX: i32 = 1 << 14;

impl Mixer {
    /// `sets` weight vectors of `n` inputs, each starting as `init`; `rate` (at most
    /// 2^14) is the learning rate in units of 2^-22 (per unit of logit times unit of
    /// probability error).
    pub fn new(n: usize, sets: usize, init: &[i32], rate: i32) -> Self {
        debug_assert_eq!(init.len(), n);
        assert!((0..=RATE_MAX).contains(&rate), "mixer rate {rate}");
        assert!(
            init.iter().all(|w| w.abs() <= WEIGHT_LIMIT),
            "mixer weights {init:?}"
        );
        let blocks = n.div_ceil(BLOCK);
        let mut first = vec![[0; BLOCK]; blocks];
        first.as_flattened_mut()[..n].copy_from_slice(init);
        Mixer {
            n,
            blocks,
            weights: first.iter().copied().cycle().take(blocks * sets).collect(),
            inputs: vec![[0; BLOCK]; blocks],
            at: 0,
            p: 1 << 15,
            rate,
            kernels: IntKernels::detect(),
        }
    }

    /// Selects weight vector `set` for the next [`Mixer::mix`] and [`Mixer::update`], and
    /// gives its weights with the inputs to set: logits (units of 1/256, at most
    /// [`LOGIT_LIMIT`] in size, which the training kernels rely on).
    #[inline]
    pub fn select(&mut self, set: usize) -> (&[i32], &mut [i32]) {
        self.at = set * self.blocks;
        let w = &self.weights[self.at..self.at + self.blocks];
        (
            &w.as_flattened()[..self.n],
            &mut self.inputs.as_flattened_mut()[..self.n],
        )
    }

    /// The mixed probability of a one (units of 2^-16), given `dot`, the sum of the
    /// selected weights times the inputs: the caller adds it up as it makes the inputs.
    #[inline]
    pub fn mix(&mut self, dot: i64) -> i32 {
        debug_assert!(self
            .inputs
            .as_flattened()
            .iter()
            .all(|x| x.abs() <= LOGIT_LIMIT));
        debug_assert_eq!(dot, {
            let w = &self.weights[self.at..self.at + self.blocks];
            let x = self.inputs.as_flattened();
            w.as_flattened()
                .iter()
                .zip(x)
                .map(|(&w, &x)| i64::from(w) * i64::from(x))
                .sum::<i64>()
        });
        let d = (dot >> 16).clamp(-i64::from(LOGIT_LIMIT), i64::from(LOGIT_LIMIT));
        self.p = squash(d as i32);
        self.p
    }

    /// Trains the last used weight vector on the coded `bit`.
    #[inline]
    pub fn update(&mut self, bit: bool) {
        let err = (i32::from(bit) << 16) - self.p;
        let w = &mut self.weights[self.at..self.at + self.blocks];
        // (x * err * rate) >> 22 for each input x, as x * (err * rate): the same integer
        // (|err * rate| < 2^16 * RATE_MAX fits an i32).
        self.kernels
            .train_i32::<WEIGHT_LIMIT>(w, &self.inputs, err * self.rate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mixes `x` under weight vector 0.
    fn mix(m: &mut Mixer, x: &[i32]) -> i32 {
        let (w, inputs) = m.select(0);
        inputs.copy_from_slice(x);
        let dot = w.iter().zip(x).map(|(&w, &x)| i64::from(w) * i64::from(x));
        let dot = dot.sum();
        m.mix(dot)
    }

    #[test]
    fn starts_as_its_initial_weights() {
        let mut m = Mixer::new(2, 1, &[WEIGHT_ONE, 0], 4);
        assert_eq!(mix(&mut m, &[512, -3000]), squash(512));
    }

    #[test]
    fn learns_to_trust_the_informative_input() {
        let mut m = Mixer::new(2, 1, &[0, 0], 512);
        for i in 0..3000 {
            let bit = i % 3 != 0;
            mix(&mut m, &[if bit { 600 } else { -600 }, 300]);
            m.update(bit);
        }
        assert!(mix(&mut m, &[600, 300]) > 60000);
    }
}
