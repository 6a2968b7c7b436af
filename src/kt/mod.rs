//! # The KoLMogorov-Test harness (`pcz kt`)
//!
//! Scores compression by program generation (Yoran et al., ICLR 2025): a generator writes a
//! program that prints a sequence, and a correct program's length is a compressed size.
//!
//! - [`dsl`], [`parse`], [`interp`]: the KT DSL, its parser/printer, and a fuel-limited
//!   interpreter with Python's semantics;
//! - [`cost`]: program-length measures (KT uniform prior, real prefix-free code, exact
//!   interval arithmetic on [`bignum`]);
//! - [`python`]: a safe evaluator for the small Python subset LLM answers use;
//! - [`sample`], [`tasks`]: synthetic sampler and file loaders;
//! - [`compress`], [`baselines`]: classical compressors and an order-k context model;
//! - [`score`]: accuracy, precision, overall rate (corrected and `--kt-compat`);
//! - [`generate`]: literal, search and external-command generators.

pub mod baselines;
pub mod bignum;
pub mod compress;
pub mod cost;
pub mod dsl;
pub mod generate;
pub mod interp;
pub mod parse;
pub mod python;
pub mod sample;
pub mod score;
pub mod sha256;
pub mod tasks;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_code;
#[cfg(test)]
mod tests_search;
