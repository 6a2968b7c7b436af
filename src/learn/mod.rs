//! Learning a circuit from data: structure (mutual information, Chow-Liu tree, HCLT) and
//! parameters (EM). Encoder-side only: nothing on the decoding path depends on this module.

pub mod chow_liu;
pub mod em;
mod estep;
pub mod hclt;
mod kernel;
pub mod mi;
mod model;
mod mstep;

pub use em::{train, EmOptions, Epoch, Event, Phase};
pub use hclt::{initial_circuit, learn_tree, Shape, StructureOptions};

#[cfg(test)]
mod tests;
