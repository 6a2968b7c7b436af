//! The M-step: smoothed maximum-likelihood estimates from expected counts, blended with the
//! old parameters by a step size (1 replaces them: full-batch EM).
//!
//! Prior and transitions are updated in `f64` in [`Params`]; emissions in place in the `f32`
//! [`Model`], reading only the count rows of values that occurred (the others are zero),
//! and every count is left zero for the next E-step. Positions are independent, so they run
//! in parallel.

use super::estep::{Counts, NodeCounts};
use super::model::{Model, FLOOR};
use crate::circuit::Params;
use rayon::prelude::*;

/// Blends the estimates from `counts` into `p` and `model` with weight `step`.
pub(super) fn mstep(p: &mut Params, model: &mut Model, counts: &mut Counts, pc: f64, step: f64) {
    let (m, mp) = (model.m, model.mp);
    blend_rows(&mut p.prior, &counts.prior[..m], m, pc, step);
    counts.prior.fill(0.0);
    let mut transitions: Vec<&mut Vec<f64>> = counts
        .nodes
        .iter_mut()
        .map(|n| &mut n.transition)
        .filter(|t| !t.is_empty())
        .collect();
    p.transition[1..]
        .par_iter_mut()
        .zip(transitions.par_iter_mut())
        .for_each(|(w, t)| {
            let expected: Vec<f64> = (0..m * m).map(|i| w[i] * t[i / m * mp + i % m]).collect();
            blend_rows(w, &expected, m, pc, step);
            t.fill(0.0);
        });
    p.refresh_transposes();
    model.refresh_transitions(p);
    model
        .emission
        .par_iter_mut()
        .zip(counts.nodes.par_iter_mut())
        .for_each(|(e, node)| blend_emission(e, node, m, mp, pc, step));
}

/// Blends one value-major K x mp emission towards the smoothed normalisation of its counts,
/// per hidden state; zeroes the counts it read.
fn blend_emission(e: &mut [f32], node: &mut NodeCounts, m: usize, mp: usize, pc: f64, step: f64) {
    let k = node.seen.len();
    let mut total = vec![0.0; mp];
    for (row, _) in node
        .emission
        .chunks_exact(mp)
        .zip(&node.seen)
        .filter(|(_, &s)| s)
    {
        total.iter_mut().zip(row).for_each(|(t, c)| *t += c);
    }
    // Per state: the new estimate is (count + pc / K) * scale; padded states stay zero.
    let scale: Vec<f64> = (0..mp)
        .map(|s| if s < m { step / (total[s] + pc) } else { 0.0 })
        .collect();
    let add = pc / k as f64;
    let base: Vec<f32> = scale.iter().map(|s| (add * s) as f32).collect();
    let floor: Vec<f32> = (0..mp).map(|s| if s < m { FLOOR } else { 0.0 }).collect();
    let keep = 1.0 - step;
    let rows = e
        .chunks_exact_mut(mp)
        .zip(node.emission.chunks_exact_mut(mp));
    for ((row, counts), seen) in rows.zip(&mut node.seen) {
        if std::mem::take(seen) {
            for (((w, c), s), f) in row
                .iter_mut()
                .zip(counts.iter_mut())
                .zip(&scale)
                .zip(&floor)
            {
                *w = ((keep * f64::from(*w) + (*c + add) * s) as f32).max(*f);
                *c = 0.0;
            }
        } else {
            let keep = keep as f32;
            for ((w, b), f) in row.iter_mut().zip(&base).zip(&floor) {
                *w = (keep * *w + b).max(*f);
            }
        }
    }
}

/// Blends each length-`n` row of `param` towards the smoothed normalisation of `counts`.
fn blend_rows(param: &mut [f64], counts: &[f64], n: usize, pc: f64, step: f64) {
    for (row, c) in param.chunks_mut(n).zip(counts.chunks(n)) {
        let scale = step / (c.iter().sum::<f64>() + pc);
        let add = pc / n as f64;
        for (w, &x) in row.iter_mut().zip(c) {
            *w = (1.0 - step) * *w + (x + add) * scale;
        }
    }
}
