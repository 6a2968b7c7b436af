//! Parameter learning by expectation-maximisation ("circuit flows").
//!
//! The E-step has two phases, both deterministic whatever the number of threads:
//! 1. **per record, in parallel**: an upward (inside) pass and a downward (outside) pass
//!    give, for every latent node, the posterior of its hidden state (`gamma`), and for
//!    every latent non-root node the two vectors whose outer product, times the transition
//!    matrix, is the posterior of (parent state, own state): `a` (the outside message,
//!    normalised) and `b` (the inside vector). They go into a stash.
//! 2. **per node, in parallel**: each node adds its records' stash entries into its own
//!    expected counts, in record order.
//!
//! No value is ever summed across threads, so the same seed gives the same model bits on any
//! thread count. The M-step is the smoothed maximum-likelihood estimate, blended with the
//! old parameters by a step size (mini-batch EM), or replacing them (full-batch EM).

use crate::circuit::{Circuit, Params, Workspace};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::rng::Rng;
use rayon::prelude::*;
use std::time::Instant;

/// Options of parameter learning.
#[derive(Debug, Clone)]
pub struct EmOptions {
    /// Mini-batch EM epochs.
    pub epochs: usize,
    /// Full-batch EM epochs after the mini-batch ones.
    pub full_epochs: usize,
    /// Records per mini-batch.
    pub batch_size: usize,
    /// Laplace pseudocount spread over each distribution's entries.
    pub pseudocount: f64,
    /// Mini-batch step size at the first epoch; it moves linearly to `step_end`.
    pub step_start: f64,
    /// Mini-batch step size at the last epoch.
    pub step_end: f64,
    /// Seed of the batch shuffles.
    pub seed: u64,
    /// Stop after this many epochs without a better validation NLL (when validating).
    pub patience: usize,
}

impl Default for EmOptions {
    fn default() -> Self {
        EmOptions {
            epochs: 20,
            full_epochs: 3,
            batch_size: 512,
            pseudocount: 0.1,
            step_start: 0.5,
            step_end: 0.05,
            seed: 0,
            patience: 4,
        }
    }
}

/// Which kind of EM an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Phase {
    /// Mini-batch EM with a step size.
    MiniBatch,
    /// Full-batch EM.
    FullBatch,
}

/// What the learner reports while it runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Epoch {
    /// Phase of this epoch.
    pub phase: Phase,
    /// Epoch number within the whole run, from 1.
    pub epoch: usize,
    /// Epochs planned in the whole run.
    pub of: usize,
    /// Average training NLL (bits per dimension) seen by the E-steps of this epoch.
    pub train_bpd: f64,
    /// Validation NLL after the epoch, when validating.
    pub valid_bpd: Option<f64>,
    /// Wall-clock seconds of the epoch (excluding validation).
    pub seconds: f64,
}

/// Progress events: after each batch (running NLL) and after each epoch.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A batch finished: (epoch, batches done in this epoch, batches in this epoch, running
    /// bits per dimension).
    Batch(usize, usize, usize, f64),
    /// An epoch finished.
    Epoch(Epoch),
}

/// Expected counts of one tree position.
#[derive(Debug, Clone)]
struct NodeCounts {
    /// Value-major K x M counts of the emission.
    emission: Vec<f64>,
    /// M x M outer-product sums for a latent non-root node (multiply by W for counts).
    transition: Vec<f64>,
}

#[derive(Debug, Clone)]
struct Counts {
    prior: Vec<f64>,
    nodes: Vec<NodeCounts>,
}

impl Counts {
    fn new(p: &Params) -> Self {
        let nodes = (0..p.dims())
            .map(|pos| NodeCounts {
                emission: vec![0.0; p.k[pos] * p.m],
                transition: match p.latent[pos] {
                    Some(l) if l > 0 => vec![0.0; p.m * p.m],
                    _ => Vec::new(),
                },
            })
            .collect();
        Counts {
            prior: vec![0.0; p.m],
            nodes,
        }
    }

    fn clear(&mut self) {
        self.prior.fill(0.0);
        for n in &mut self.nodes {
            n.emission.fill(0.0);
            n.transition.fill(0.0);
        }
    }
}

/// Trains the parameters of `circuit` on `train`, validating on `valid` when given (the
/// best validation epoch is kept). Returns the trained circuit and the epoch log.
pub fn train(
    circuit: &Circuit,
    train: &Dataset,
    valid: Option<&Dataset>,
    options: &EmOptions,
    progress: &mut dyn FnMut(&Event),
) -> Result<(Circuit, Vec<Epoch>)> {
    if train.is_empty() || train.dims() != circuit.dims() {
        return Err(Error::parameter(
            "training data is empty or has the wrong record size",
        ));
    }
    let mut params = circuit.params();
    let mut counts = Counts::new(&params);
    let mut rng = Rng::new(options.seed);
    let records: Vec<&[u8]> = train.records().collect();
    let total = options.epochs + options.full_epochs;
    let mut log = Vec::new();
    let mut best: Option<(f64, Params)> = None;
    let mut stale = 0;
    for epoch in 1..=total {
        let start = Instant::now();
        let (phase, train_bpd) = if epoch <= options.epochs {
            let t = if options.epochs > 1 {
                (epoch - 1) as f64 / (options.epochs - 1) as f64
            } else {
                0.0
            };
            let step = options.step_start + (options.step_end - options.step_start) * t;
            let mut order: Vec<usize> = (0..records.len()).collect();
            rng.shuffle(&mut order);
            let bpd = minibatch_epoch(
                &mut params,
                &mut counts,
                &records,
                &order,
                step,
                options,
                epoch,
                progress,
            );
            (Phase::MiniBatch, bpd)
        } else {
            counts.clear();
            let ll = estep(&params, &records, &mut counts);
            mstep(&mut params, &counts, options.pseudocount, 1.0);
            (Phase::FullBatch, bits(ll, records.len(), params.dims()))
        };
        let seconds = start.elapsed().as_secs_f64();
        let valid_bpd = valid.map(|v| params.bits_per_dim(v));
        let report = Epoch {
            phase,
            epoch,
            of: total,
            train_bpd,
            valid_bpd,
            seconds,
        };
        progress(&Event::Epoch(report.clone()));
        log.push(report);
        if let Some(v) = valid_bpd {
            if best.as_ref().is_none_or(|(b, _)| v < *b) {
                best = Some((v, params.clone()));
                stale = 0;
            } else {
                stale += 1;
                if stale >= options.patience {
                    break;
                }
            }
        }
    }
    let params = best.map_or(params, |(_, p)| p);
    Ok((to_circuit(circuit, &params)?, log))
}

#[allow(clippy::too_many_arguments)]
fn minibatch_epoch(
    params: &mut Params,
    counts: &mut Counts,
    records: &[&[u8]],
    order: &[usize],
    step: f64,
    options: &EmOptions,
    epoch: usize,
    progress: &mut dyn FnMut(&Event),
) -> f64 {
    let batches = order.len().div_ceil(options.batch_size.max(1));
    let mut ll_total = 0.0;
    let mut seen = 0;
    for (b, batch) in order.chunks(options.batch_size.max(1)).enumerate() {
        let batch: Vec<&[u8]> = batch.iter().map(|&i| records[i]).collect();
        counts.clear();
        ll_total += estep(params, &batch, counts);
        seen += batch.len();
        mstep(params, counts, options.pseudocount, step);
        progress(&Event::Batch(
            epoch,
            b + 1,
            batches,
            bits(ll_total, seen, params.dims()),
        ));
    }
    bits(ll_total, seen, params.dims())
}

fn bits(ll: f64, records: usize, dims: usize) -> f64 {
    -ll / std::f64::consts::LN_2 / (records * dims) as f64
}

/// Adds the expected counts of `records` to `counts`; returns their total log-likelihood
/// (nats), summed in record order.
fn estep(params: &Params, records: &[&[u8]], counts: &mut Counts) -> f64 {
    let m = params.m;
    let latent = params.transition.len();
    let per = 3 * latent * m;
    // Bound the stash to about 64 MiB whatever M and D are.
    let sub = ((64 << 20) / (8 * per)).clamp(8, 4096);
    let mut stash = Vec::new();
    let mut lls = Vec::new();
    let mut total = 0.0;
    for chunk in records.chunks(sub) {
        stash.clear();
        stash.resize(chunk.len() * per, 0.0);
        stash
            .par_chunks_mut(per)
            .zip(chunk.par_iter())
            .map_init(Workspace::default, |ws, (slot, x)| {
                posteriors(params, x, ws, slot)
            })
            .collect_into_vec(&mut lls);
        total += lls.iter().sum::<f64>();
        counts
            .nodes
            .par_iter_mut()
            .enumerate()
            .for_each(|(pos, node)| accumulate(params, pos, chunk, &stash, node));
        for slot in stash.chunks(per) {
            counts
                .prior
                .iter_mut()
                .zip(&slot[..m])
                .for_each(|(c, g)| *c += g);
        }
    }
    total
}

/// Upward then downward pass for one record; writes `gamma | a | b` (each latent x M) into
/// `slot` and returns log P(x).
fn posteriors(p: &Params, x: &[u8], ws: &mut Workspace, slot: &mut [f64]) -> f64 {
    let ll = p.upward(x, None, ws);
    let m = p.m;
    let lm = p.transition.len() * m;
    let (gamma, rest) = slot.split_at_mut(lm);
    let (a_all, b_all) = rest.split_at_mut(lm);
    for pos in 0..p.dims() {
        let Some(l) = p.latent[pos] else { continue };
        let (beta, out) = (&ws.beta[pos * m..(pos + 1) * m], &mut ws.out);
        if pos == 0 {
            out[..m].copy_from_slice(&p.prior);
        } else {
            let q = p.parent[pos] as usize;
            let msg = &ws.msg[pos * m..(pos + 1) * m];
            let a = &mut a_all[l * m..(l + 1) * m];
            let mut z = 0.0;
            for j in 0..m {
                a[j] = out[q * m + j] * ws.beta[q * m + j] / msg[j];
                z += a[j] * msg[j];
            }
            a.iter_mut().for_each(|v| *v /= z);
            b_all[l * m..(l + 1) * m].copy_from_slice(beta);
            let w = &p.transition[l];
            let o = &mut out[pos * m..(pos + 1) * m];
            o.fill(0.0);
            for (j, &aj) in a.iter().enumerate() {
                o.iter_mut()
                    .zip(&w[j * m..(j + 1) * m])
                    .for_each(|(ok, wk)| *ok += aj * wk);
            }
        }
        let g = &mut gamma[l * m..(l + 1) * m];
        let mut z = 0.0;
        for k in 0..m {
            g[k] = ws.out[pos * m + k] * beta[k];
            z += g[k];
        }
        g.iter_mut().for_each(|v| *v /= z);
    }
    ll
}

/// Adds the stash entries of one position, in record order.
fn accumulate(p: &Params, pos: usize, chunk: &[&[u8]], stash: &[f64], node: &mut NodeCounts) {
    let m = p.m;
    let lm = p.transition.len() * m;
    let per = 3 * lm;
    let source = p.latent[pos]
        .unwrap_or_else(|| p.latent[p.parent[pos] as usize].expect("parent is latent"));
    let var = p.vars[pos] as usize;
    for (r, x) in chunk.iter().enumerate() {
        let slot = &stash[r * per..(r + 1) * per];
        let g = &slot[source * m..(source + 1) * m];
        let e = &mut node.emission[x[var] as usize * m..][..m];
        e.iter_mut().zip(g).for_each(|(c, v)| *c += v);
        if !node.transition.is_empty() {
            let a = &slot[lm + source * m..lm + (source + 1) * m];
            let b = &slot[2 * lm + source * m..2 * lm + (source + 1) * m];
            for (j, &aj) in a.iter().enumerate() {
                node.transition[j * m..(j + 1) * m]
                    .iter_mut()
                    .zip(b)
                    .for_each(|(t, bk)| *t += aj * bk);
            }
        }
    }
}

/// Smoothed estimates from `counts`, blended in with weight `step`.
fn mstep(p: &mut Params, counts: &Counts, pc: f64, step: f64) {
    let m = p.m;
    blend_rows(&mut p.prior, &counts.prior, m, pc, step);
    for (pos, node) in counts.nodes.iter().enumerate() {
        let k = p.k[pos];
        let e = &mut p.emission[pos];
        for state in 0..m {
            let total: f64 = (0..k).map(|a| node.emission[a * m + state]).sum();
            for a in 0..k {
                let new = (node.emission[a * m + state] + pc / k as f64) / (total + pc);
                let old = &mut e[a * m + state];
                *old = (1.0 - step) * *old + step * new;
            }
        }
        if let Some(l) = p.latent[pos].filter(|&l| l > 0) {
            let w = &mut p.transition[l];
            let expected: Vec<f64> = w.iter().zip(&node.transition).map(|(a, b)| a * b).collect();
            blend_rows(w, &expected, m, pc, step);
        }
    }
    p.refresh_transposes();
}

/// Blends each length-`n` row of `param` towards the smoothed normalisation of `counts`.
fn blend_rows(param: &mut [f64], counts: &[f64], n: usize, pc: f64, step: f64) {
    for (row, c) in param.chunks_mut(n).zip(counts.chunks(n)) {
        let total: f64 = c.iter().sum();
        for (w, &x) in row.iter_mut().zip(c) {
            *w = (1.0 - step) * *w + step * (x + pc / n as f64) / (total + pc);
        }
    }
}

/// Writes normalised parameters back into a circuit of the same structure (as `f32`).
pub fn to_circuit(template: &Circuit, p: &Params) -> Result<Circuit> {
    let m = p.m;
    let prior: Vec<f32> = p.prior.iter().map(|&x| x as f32).collect();
    let transition: Vec<f32> = p
        .transition
        .iter()
        .skip(1)
        .flatten()
        .map(|&x| x as f32)
        .collect();
    let mut emission = Vec::with_capacity(template.emissions().len());
    for pos in 0..p.dims() {
        let k = p.k[pos];
        for state in 0..m {
            emission.extend((0..k).map(|a| p.emission[pos][a * m + state] as f32));
        }
    }
    Circuit::new(
        m,
        template.alphabet().to_vec(),
        template.tree().clone(),
        prior,
        transition,
        emission,
    )
}
