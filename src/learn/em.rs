//! Parameter learning by expectation-maximisation ("circuit flows").
//!
//! The E-step ([`super::estep`]) works in `f32` on blocks of records and is deterministic
//! whatever the number of threads: no value is ever summed across threads, so the same seed
//! gives the same model bits on any thread count. The M-step is the smoothed
//! maximum-likelihood estimate in `f64`, blended with the
//! old parameters by a step size (mini-batch EM), or replacing them (full-batch EM).

use super::estep::{Counts, Estep};
use super::model::Model;
use super::mstep::mstep;
use crate::circuit::{Circuit, Params};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::rng::Rng;
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
    let mut model = Model::new(&params);
    let mut counts = Counts::new(&model);
    let mut estep = Estep::default();
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
            let learner = Learner {
                params: &mut params,
                model: &mut model,
                counts: &mut counts,
                estep: &mut estep,
            };
            let bpd = learner.minibatch_epoch(&records, &order, step, options, epoch, progress);
            (Phase::MiniBatch, bpd)
        } else {
            let ll = estep.run(&mut model, &records, &mut counts);
            mstep(
                &mut params,
                &mut model,
                &mut counts,
                options.pseudocount,
                1.0,
            );
            (Phase::FullBatch, bits(ll, records.len(), params.dims()))
        };
        model.store(&mut params);
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

/// The state one mini-batch epoch updates.
struct Learner<'a> {
    params: &'a mut Params,
    model: &'a mut Model,
    counts: &'a mut Counts,
    estep: &'a mut Estep,
}

impl Learner<'_> {
    /// One pass over `order` in mini-batches, each followed by a blended M-step; returns the
    /// epoch's average training bits per dimension.
    fn minibatch_epoch(
        self,
        records: &[&[u8]],
        order: &[usize],
        step: f64,
        options: &EmOptions,
        epoch: usize,
        progress: &mut dyn FnMut(&Event),
    ) -> f64 {
        let size = options.batch_size.max(1);
        let batches = order.len().div_ceil(size);
        let dims = self.params.dims();
        let mut ll_total = 0.0;
        let mut seen = 0;
        for (b, batch) in order.chunks(size).enumerate() {
            let batch: Vec<&[u8]> = batch.iter().map(|&i| records[i]).collect();
            ll_total += self.estep.run(self.model, &batch, self.counts);
            seen += batch.len();
            mstep(
                self.params,
                self.model,
                self.counts,
                options.pseudocount,
                step,
            );
            let bpd = bits(ll_total, seen, dims);
            progress(&Event::Batch(epoch, b + 1, batches, bpd));
        }
        bits(ll_total, seen, dims)
    }
}

fn bits(ll: f64, records: usize, dims: usize) -> f64 {
    -ll / std::f64::consts::LN_2 / (records * dims) as f64
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
