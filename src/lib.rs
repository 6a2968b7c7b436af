//! # pcz: lossless compression with probabilistic circuits
//!
//! pcz learns a [`circuit::Circuit`] (a Hidden Chow-Liu Tree) from a [`data::Dataset`] and
//! uses its exact conditionals to drive arithmetic coding.
//!
//! Modules mirror the architecture, with one-way dependencies:
//! - [`data`]: datasets and their loaders;
//! - [`circuit`]: the model as data, exact likelihoods, coding conditionals, the model file;
//! - [`learn`]: structure (mutual information, Chow-Liu tree, HCLT) and parameter (EM)
//!   learning. Encoder-side only; nothing on the decoding path uses it.
//! - [`bench`]: pcz against other compressors on the same bytes, every result verified.
//! - [`error`]: the one error type.
// One module may use `unsafe`: `simd`, the hot loops of coding (measured 1.7x faster
// decoding) and the f32 products of training's E-step, compiled for the CPU's widest vector
// unit; see its SAFETY comments.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod atomic;
pub mod auto;
pub mod bench;
pub mod bytes;
pub mod circuit;
pub mod cli;
pub mod codec;
pub mod coder;
pub mod container;
pub mod data;
pub mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod kt;
pub mod learn;
pub mod mix;
pub mod rng;
mod simd;

pub use circuit::Circuit;
pub use data::Dataset;
pub use error::{Error, Result};
