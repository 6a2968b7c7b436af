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
//!    non-root node the two factors `a` and `b` of the posterior of (parent state, own state),
//!    `a_j W_jk b_k`, into a stash.
//! 2. **per node, in parallel**: each node adds its blocks' stash entries into its `f64`
//!    counts, in block order; the transition factors of a block are summed as one product
//!    `a^T b`.
//!
//! No value is summed across threads. Learning needs no cross-machine bit-exactness (only
//! the coding path does), so `f32` is fine here; every vector is rescaled by its sum after
//! each multiplication, and parameters are floored at [`FLOOR`], so nothing underflows.

use super::kernel::{self, Left, Panel};
use super::model::Model;
use rayon::prelude::*;

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

/// Length of one stash region: one vector per latent node and block row.
fn region_len(model: &Model) -> usize {
    model.latents * BLOCK * model.mp
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

/// Reusable buffers of the E-step.
#[derive(Debug, Default)]
pub(super) struct Estep {
    stash: Vec<f32>,
    lls: Vec<f64>,
}

impl Estep {
    /// Adds the expected counts of `records` to `counts`; returns their total
    /// log-likelihood (nats), summed in record order.
    pub(super) fn run(&mut self, model: &Model, records: &[&[u8]], counts: &mut Counts) -> f64 {
        let slot = 3 * region_len(model);
        let blocks = records.len().div_ceil(BLOCK);
        let rounds = blocks.div_ceil((STASH_BYTES / (4 * slot)).max(1));
        let per_round = blocks.div_ceil(rounds.max(1)).max(1);
        let len = per_round.min(blocks) * slot;
        if self.stash.len() < len {
            self.stash.resize(len, 0.0);
        }
        let mut total = 0.0;
        for chunk in records.chunks(per_round * BLOCK) {
            self.lls.resize(chunk.len(), 0.0);
            self.stash
                .par_chunks_mut(slot)
                .zip(chunk.par_chunks(BLOCK))
                .zip(self.lls.par_chunks_mut(BLOCK))
                .for_each_init(Panel::default, |panel, ((s, xs), ll)| {
                    block_posteriors(model, xs, s, ll, panel)
                });
            total += self.lls.iter().sum::<f64>();
            let stash = &self.stash;
            counts
                .nodes
                .par_iter_mut()
                .enumerate()
                .for_each_init(Scratch::default, |scratch, (pos, node)| {
                    accumulate(model, pos, chunk, stash, node, scratch)
                });
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

/// Both passes over one block of records; writes `gamma | a | b` into `slot` and each
/// record's log P(x) into `ll`.
fn block_posteriors(
    model: &Model,
    xs: &[&[u8]],
    slot: &mut [f32],
    ll: &mut [f64],
    panel: &mut Panel,
) {
    let region = region_len(model);
    let (gamma, rest) = slot.split_at_mut(region);
    let (a, b) = rest.split_at_mut(region);
    let mut scales = Scales::new();
    upward(model, xs, a, b, &mut scales, panel);
    let mp = model.mp;
    for (r, (l, beta)) in ll.iter_mut().zip(b.chunks_exact(mp)).enumerate() {
        let p: f64 = model
            .prior
            .iter()
            .zip(beta)
            .map(|(&w, &v)| f64::from(w) * f64::from(v))
            .sum();
        *l = scales.ln(r) + p.ln();
    }
    downward(model, xs.len(), gamma, a, b, panel);
}

/// The inside pass, children before parents: leaves each latent node's normalised inside
/// vector in `beta` and its upward message `W beta` in `msg`.
fn upward(
    model: &Model,
    xs: &[&[u8]],
    msg: &mut [f32],
    beta: &mut [f32],
    scales: &mut Scales,
    panel: &mut Panel,
) {
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
                kernel::product(own, Left::AsIs, mp, &model.wt[l], mp, up, panel);
                for (r, (row, m)) in beta_q.zip(up.chunks_exact(mp)).enumerate() {
                    scales.add(r, kernel::multiply_normalise(row, m));
                }
            }
        }
    }
}

/// The outside pass, parents before children. Turns each stashed message into the
/// posterior factor `a = gamma_parent / msg` and writes each node's posterior `gamma`.
fn downward(
    model: &Model,
    n: usize,
    gamma: &mut [f32],
    a: &mut [f32],
    beta: &[f32],
    panel: &mut Panel,
) {
    let mp = model.mp;
    let stride = BLOCK * mp;
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
        let factor = &mut a[l * stride..][..n * mp];
        for (f, &g) in factor.iter_mut().zip(gamma_q) {
            *f = if *f > 0.0 { g / *f } else { 0.0 };
        }
        let own = &mut after[..n * mp];
        kernel::product(factor, Left::AsIs, mp, &model.w[l], mp, own, panel);
        let rows = own
            .chunks_exact_mut(mp)
            .zip(beta[l * stride..].chunks_exact(mp));
        for (g, b) in rows {
            kernel::multiply_normalise(g, b);
        }
    }
}

/// Per-thread buffers of [`accumulate`].
#[derive(Debug, Default)]
struct Scratch {
    panel: Panel,
    block: Vec<f32>,
}

/// Adds the stash entries of one position to its counts, block by block in order.
fn accumulate(
    model: &Model,
    pos: usize,
    records: &[&[u8]],
    stash: &[f32],
    node: &mut NodeCounts,
    scratch: &mut Scratch,
) {
    let (mp, region) = (model.mp, region_len(model));
    let stride = BLOCK * mp;
    let source = model.source(pos);
    let var = model.vars[pos] as usize;
    scratch.block.resize(mp * mp, 0.0);
    for (slot, xs) in stash.chunks_exact(3 * region).zip(records.chunks(BLOCK)) {
        let n = xs.len();
        let gamma = &slot[source * stride..][..n * mp];
        for (g, x) in gamma.chunks_exact(mp).zip(xs) {
            let a = x[var] as usize;
            node.seen[a] = true;
            let e = &mut node.emission[a * mp..][..mp];
            e.iter_mut().zip(g).for_each(|(c, &v)| *c += f64::from(v));
        }
        if !node.transition.is_empty() {
            let a = &slot[region + source * stride..][..n * mp];
            let b = &slot[2 * region + source * stride..][..n * mp];
            kernel::product(
                a,
                Left::Transposed,
                n,
                b,
                mp,
                &mut scratch.block,
                &mut scratch.panel,
            );
            let t = node.transition.iter_mut().zip(&scratch.block);
            t.for_each(|(c, &v)| *c += f64::from(v));
        }
    }
}
