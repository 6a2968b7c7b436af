//! Logistic mixing: the output logit is a weighted sum of input logits, with one weight
//! vector per selector context, trained online by gradient descent on coding cost.

use super::{squash, LOGIT_LIMIT};

/// Fixed-point one: weights are in units of 2^-16.
pub const WEIGHT_ONE: i32 = 1 << 16;

/// Weights are clamped to +-this (64.0) so no sum can overflow.
const WEIGHT_LIMIT: i32 = 64 << 16;

/// A mixer of `n` inputs with `sets` weight vectors.
#[derive(Debug, Clone)]
pub struct Mixer {
    n: usize,
    weights: Vec<i32>,
    inputs: Vec<i32>,
    set: usize,
    p: i32,
    rate: i64,
}

impl Mixer {
    /// `sets` weight vectors of `n` inputs, each starting as `init`; `rate` is the learning
    /// rate in units of 2^-10 (per unit of logit times unit of probability error).
    pub fn new(n: usize, sets: usize, init: &[i32], rate: i64) -> Self {
        debug_assert_eq!(init.len(), n);
        Mixer {
            n,
            weights: init.iter().copied().cycle().take(n * sets).collect(),
            inputs: vec![0; n],
            set: 0,
            p: 1 << 15,
            rate,
        }
    }

    /// The inputs (logits in units of 1/256), to set before [`Mixer::mix`].
    #[inline]
    pub fn inputs_mut(&mut self) -> &mut [i32] {
        &mut self.inputs
    }

    /// The mixed probability of a one (units of 2^-16) under weight vector `set`.
    pub fn mix(&mut self, set: usize) -> i32 {
        self.set = set;
        let w = &self.weights[set * self.n..(set + 1) * self.n];
        let dot: i64 = w
            .iter()
            .zip(&self.inputs)
            .map(|(&w, &x)| i64::from(w) * i64::from(x))
            .sum();
        let d = (dot >> 16).clamp(-i64::from(LOGIT_LIMIT), i64::from(LOGIT_LIMIT));
        self.p = squash(d as i32);
        self.p
    }

    /// Trains the last used weight vector on the coded `bit`.
    pub fn update(&mut self, bit: bool) {
        let err = (i64::from(bit) << 16) - i64::from(self.p);
        let w = &mut self.weights[self.set * self.n..(self.set + 1) * self.n];
        for (w, &x) in w.iter_mut().zip(&self.inputs) {
            let dw = (i64::from(x) * err * self.rate) >> 22;
            *w = (i64::from(*w) + dw).clamp(-i64::from(WEIGHT_LIMIT), i64::from(WEIGHT_LIMIT))
                as i32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_as_its_initial_weights() {
        let mut m = Mixer::new(2, 1, &[WEIGHT_ONE, 0], 4);
        m.inputs_mut().copy_from_slice(&[512, -3000]);
        assert_eq!(m.mix(0), squash(512));
    }

    #[test]
    fn learns_to_trust_the_informative_input() {
        let mut m = Mixer::new(2, 1, &[0, 0], 512);
        for i in 0..3000 {
            let bit = i % 3 != 0;
            m.inputs_mut()
                .copy_from_slice(&[if bit { 600 } else { -600 }, 300]);
            m.mix(0);
            m.update(bit);
        }
        m.inputs_mut().copy_from_slice(&[600, 300]);
        assert!(m.mix(0) > 60000);
    }
}
