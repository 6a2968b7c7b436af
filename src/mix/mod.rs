//! Binary context mixing (format-spec/FORMAT.md section "pcmix"), in integers only.
//!
//! A symbol is coded as binary decisions; each decision's probability is the logistic mix
//! of several predictions: adaptive bit counters chosen by contexts, plus whatever outside
//! model the caller supplies (the circuit, in [`crate::codec`]). Every operation here is an
//! integer one, so encoder and decoder compute the same probabilities on every machine.
//! Knows nothing of circuits.

mod apm;
mod counter;
mod logistic;
mod mixer;

pub use apm::Apm;
pub use counter::{Counter, Counters, COUNT_MAX};
pub use logistic::{squash, stretch, stretch_u16, LOGIT_LIMIT};
pub use mixer::{Mixer, WEIGHT_ONE};

/// Probabilities are in units of 2^-16; a coded probability lies in 1..=PROB_MAX.
pub const PROB_BITS: u32 = 16;

/// Largest coded probability (the smallest is 1).
pub const PROB_MAX: i32 = (1 << PROB_BITS) - 1;
