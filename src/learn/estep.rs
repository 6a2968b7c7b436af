//! The E-step of EM in `f32`, on blocks of records.
//!
//! Records go through the tree [`BLOCK`] at a time, so that every message is a small
//! matrix product, (block x M) times (M x M), instead of M vector-matrix products. Hidden
//! sizes are padded with zero states to a whole number of vector lanes; a zero state stays
//! zero in every pass and adds nothing to any count.
//!
//! Two phases, both deterministic whatever the number of threads:
//! 1. **per block, in parallel**: an upward (inside) and a downward (outside) pass write, for
//!    every latent node, the posterior of its hidden state (`gamma`), and for every latent
//!    non-root node the block's sum of the posteriors of (parent state, own state),
//!    `a_j W_jk b_k`, as the one product `a^T b` (multiplied by W in the M-step), into a
//!    stash. The messages and inside vectors stay in per-thread scratch buffers.
//! 2. **per node, in parallel**: each node adds its blocks' stash entries into its `f64`
//!    counts, in block order.
//!
//! No value is summed across threads. Learning needs no cross-machine bit-exactness (only
//! the coding path does), so `f32` is fine here; every vector is rescaled by its sum after
//! each multiplication, and parameters are floored at [`FLOOR`], so nothing underflows.

use super::kernel::{self, Left};
use super::model::Model;
use rayon::prelude::*;
use std::sync::{Mutex, PoisonError};

/// Records per block: enough rows to amortise loading each M x M matrix.
pub(super) const BLOCK: usize = 32;

/// Upper bound of the stash in bytes; larger batches are processed in rounds.
const STASH_BYTES: usize = 64 << 20;

/// Expected counts of one tree position, in `f64`, padded like [`Model`]. The M-step
/// consumes them and leaves them zero.
#[derive(Debug, Clone)]
pub(super) struct NodeCounts {
    /// Value-major K x mp posterior sums of the conditioning state.
    pub(super) emission: Vec<f64>,
    /// Which values occurred since the last M-step (the other emission rows are zero).
    pub(super) seen: Vec<bool>,
    /// mp x mp sums of `a^T b` for a latent non-root node (multiply by W for counts).
    pub(super) transition: Vec<f64>,
}

/// Expected counts of every position and of the root's prior.
#[derive(Debug, Clone)]
pub(super) struct Counts {
    pub(super) prior: Vec<f64>,
    pub(super) nodes: Vec<NodeCounts>,
}

impl Counts {
    /// Zero counts for `model`.
    pub(super) fn new(model: &Model) -> Self {
        let mp = model.mp;
        let nodes = (0..model.dims())
            .map(|pos| NodeCounts {
                emission: vec![0.0; model.emission[pos].len()],
                seen: vec![false; model.emission[pos].len() / mp],
                transition: match model.latent[pos] {
                    Some(l) if l > 0 => vec![0.0; mp * mp],
                    _ => Vec::new(),
                },
            })
            .collect();
        Counts {
            prior: vec![0.0; mp],
            nodes,
        }
    }
}

/// Length of one region of per-record vectors: one vector per latent node and block row.
fn region_len(model: &Model) -> usize {
    model.latents * BLOCK * model.mp
}

/// Length of one block's stash slot: the posteriors `gamma`, then one mp x mp transition
/// factor `a^T b` per latent node (unused for the root).
fn slot_len(model: &Model) -> usize {
    region_len(model) + model.latents * model.mp * model.mp
}

/// Per-record scale factors of the upward pass: a running product, folded into a log
/// before it can leave the `f64` range.
struct Scales {
    product: [f64; BLOCK],
    log: [f64; BLOCK],
}

impl Scales {
    fn new() -> Self {
        Scales {
            product: [1.0; BLOCK],
            log: [0.0; BLOCK],
        }
    }

    fn add(&mut self, r: usize, s: f32) {
        let p = &mut self.product[r];
        *p *= f64::from(s);
        if !(1e-200..=1e200).contains(p) {
            self.log[r] += p.ln();
            *p = 1.0;
        }
    }

    fn ln(&self, r: usize) -> f64 {
        self.log[r] + self.product[r].ln()
    }
}

/// Per-thread buffers of the block pass: every latent node's upward message and inside
/// vector for the block's records (one region each). Only the stash outlives a block.
#[derive(Debug, Default)]
struct Scratch {
    msg: Vec<f32>,
    beta: Vec<f32>,
}

/// Reusable buffers of the E-step.
#[derive(Debug, Default)]
pub(super) struct Estep {
    stash: Vec<f32>,
    lls: Vec<f64>,
    /// One [`Scratch`] per worker thread, by rayon's thread index, kept across calls so that
    /// blocks allocate nothing (a block's results never depend on which one it gets).
    scratch: Vec<Mutex<Scratch>>,
}

impl Estep {
    /// Adds the expected counts of `records` to `counts`; returns their total
    /// log-likelihood (nats), summed in record order. First brings the emission rows the
    /// records read up to date.
    pub(super) fn run(&mut self, model: &mut Model, records: &[&[u8]], counts: &mut Counts) -> f64 {
        model.catch_up(records);
        let model = &*model;
        let slot = slot_len(model);
        let blocks = records.len().div_ceil(BLOCK);
        let rounds = blocks.div_ceil((STASH_BYTES / (4 * slot)).max(1));
        let per_round = blocks.div_ceil(rounds.max(1)).max(1);
        let len = per_round.min(blocks) * slot;
        if self.stash.len() < len {
            self.stash.resize(len, 0.0);
        }
        let threads = rayon::current_num_threads().max(1);
        if self.scratch.len() < threads {
            self.scratch.resize_with(threads, Default::default);
        }
        let mut total = 0.0;
        for chunk in records.chunks(per_round * BLOCK) {
            self.lls.resize(chunk.len(), 0.0);
            let scratch = &self.scratch;
            self.stash
                .par_chunks_mut(slot)
                .zip(chunk.par_chunks(BLOCK))
                .zip(self.lls.par_chunks_mut(BLOCK))
                .for_each(|((slot, xs), ll)| {
                    let i = rayon::current_thread_index().unwrap_or(0) % scratch.len();
                    let mut scratch = scratch[i].lock().unwrap_or_else(PoisonError::into_inner);
                    block_posteriors(model, xs, slot, ll, &mut scratch)
                });
            total += self.lls.iter().sum::<f64>();
            let stash = &self.stash;
            counts
                .nodes
                .par_iter_mut()
                .enumerate()
                .for_each(|(pos, node)| accumulate(model, pos, chunk, stash, node));
            for (s, xs) in stash.chunks_exact(slot).zip(chunk.chunks(BLOCK)) {
                for g in s[..xs.len() * model.mp].chunks_exact(model.mp) {
                    counts
                        .prior
                        .iter_mut()
                        .zip(g)
                        .for_each(|(c, &g)| *c += f64::from(g));
                }
            }
        }
        total
    }
}

/// Both passes over one block of records: writes `gamma` and the transition factors into
/// `slot` and each record's log P(x) into `ll`.
fn block_posteriors(
    model: &Model,
    xs: &[&[u8]],
    slot: &mut [f32],
    ll: &mut [f64],
    scratch: &mut Scratch,
) {
    let region = region_len(model);
    scratch.msg.resize(region, 0.0);
    scratch.beta.resize(region, 0.0);
    let (msg, beta) = (&mut scratch.msg[..], &mut scratch.beta[..]);
    let mut scales = Scales::new();
    upward(model, xs, msg, beta, &mut scales);
    let mp = model.mp;
    for (r, (l, beta)) in ll.iter_mut().zip(beta.chunks_exact(mp)).enumerate() {
        let p: f64 = model
            .prior
            .iter()
            .zip(beta)
            .map(|(&w, &v)| f64::from(w) * f64::from(v))
            .sum();
        *l = scales.ln(r) + p.ln();
    }
    downward(model, xs.len(), slot, msg, beta);
}

/// The inside pass, children before parents: leaves each latent node's normalised inside
/// vector in `beta` and its upward message `W beta` in `msg`.
fn upward(model: &Model, xs: &[&[u8]], msg: &mut [f32], beta: &mut [f32], scales: &mut Scales) {
    let (mp, n) = (model.mp, xs.len());
    let stride = BLOCK * mp;
    for (pos, l) in model.latent.iter().enumerate() {
        let Some(l) = *l else { continue };
        let rows = beta[l * stride..][..n * mp].chunks_exact_mut(mp);
        for (r, (row, x)) in rows.zip(xs).enumerate() {
            scales.add(r, kernel::normalised_copy(row, model.column(pos, x)));
        }
    }
    for pos in (1..model.dims()).rev() {
        let q = model.source(model.parent[pos] as usize);
        let (before, after) = beta.split_at_mut((q + 1) * stride);
        let beta_q = before[q * stride..][..n * mp].chunks_exact_mut(mp);
        match model.latent[pos] {
            None => {
                for (r, (row, x)) in beta_q.zip(xs).enumerate() {
                    scales.add(r, kernel::multiply_normalise(row, model.column(pos, x)));
                }
            }
            Some(l) => {
                let own = &after[(l - q - 1) * stride..][..n * mp];
                let up = &mut msg[l * stride..][..n * mp];
                kernel::product(own, Left::AsIs, mp, &model.wt[l], mp, up);
                for (r, (row, m)) in beta_q.zip(up.chunks_exact(mp)).enumerate() {
                    scales.add(r, kernel::multiply_normalise(row, m));
                }
            }
        }
    }
}

/// The outside pass, parents before children. Writes each node's posterior into `gamma`
/// (the slot's first region) and, for a non-root node, turns its upward message into the
/// posterior factor `a = gamma_parent / msg` and writes `a^T beta` (the node's transition
/// counts over W, summed over the block's records) after the region.
fn downward(model: &Model, n: usize, slot: &mut [f32], msg: &mut [f32], beta: &[f32]) {
    let mp = model.mp;
    let stride = BLOCK * mp;
    let (gamma, transition) = slot.split_at_mut(region_len(model));
    let rows = gamma[..n * mp]
        .chunks_exact_mut(mp)
        .zip(beta.chunks_exact(mp));
    for (g, b) in rows {
        g.copy_from_slice(&model.prior);
        kernel::multiply_normalise(g, b);
    }
    for (pos, &parent) in model.parent.iter().enumerate().skip(1) {
        let Some(l) = model.latent[pos] else { continue };
        let q = model.source(parent as usize);
        let (before, after) = gamma.split_at_mut(l * stride);
        let gamma_q = &before[q * stride..][..n * mp];
        let factor = &mut msg[l * stride..][..n * mp];
        for (f, &g) in factor.iter_mut().zip(gamma_q) {
            // Divides unconditionally and selects, so that the loop vectorises.
            let ratio = g / *f;
            *f = if *f > 0.0 { ratio } else { 0.0 };
        }
        let beta_l = &beta[l * stride..][..n * mp];
        let block = &mut transition[l * mp * mp..][..mp * mp];
        kernel::product(factor, Left::Transposed, n, beta_l, mp, block);
        let own = &mut after[..n * mp];
        kernel::product(factor, Left::AsIs, mp, &model.w[l], mp, own);
        for (g, b) in own.chunks_exact_mut(mp).zip(beta_l.chunks_exact(mp)) {
            kernel::multiply_normalise(g, b);
        }
    }
}

/// Adds the stash entries of one position to its counts, block by block in order.
fn accumulate(model: &Model, pos: usize, records: &[&[u8]], stash: &[f32], node: &mut NodeCounts) {
    let (mp, region) = (model.mp, region_len(model));
    let stride = BLOCK * mp;
    let source = model.source(pos);
    let var = model.vars[pos] as usize;
    for (slot, xs) in stash
        .chunks_exact(slot_len(model))
        .zip(records.chunks(BLOCK))
    {
        let gamma = &slot[source * stride..][..xs.len() * mp];
        for (g, x) in gamma.chunks_exact(mp).zip(xs) {
            let a = x[var] as usize;
            node.seen[a] = true;
            let e = &mut node.emission[a * mp..][..mp];
            e.iter_mut().zip(g).for_each(|(c, &v)| *c += f64::from(v));
        }
        if !node.transition.is_empty() {
            let block = &slot[region + source * mp * mp..][..mp * mp];
            let t = node.transition.iter_mut().zip(block);
            t.for_each(|(c, &v)| *c += f64::from(v));
        }
    }
}
