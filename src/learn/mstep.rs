//! The M-step: smoothed maximum-likelihood estimates from expected counts, blended with the
//! old parameters by a step size (1 replaces them: full-batch EM).
//!
//! Prior and transitions are updated in `f64` in [`Params`]; emissions in place in the `f32`
//! [`Model`], reading only the count rows of values that occurred (the others are zero;
//! their rows' update is deferred, see [`super::model`]), and every count is left zero for
//! the next E-step. Positions are independent, so they run in parallel.

use super::estep::{Counts, NodeCounts};
use super::model::{Lag, Model};
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
    model.refresh_transitions(p);
    let now = model.keeps.len() as u32;
    let floor = &model.floor[..];
    let rows = model.emission.par_iter_mut().zip(&mut model.lag);
    rows.zip(counts.nodes.par_iter_mut())
        .for_each(|((e, lag), node)| {
            let blend = Blend {
                m,
                mp,
                pc,
                step,
                now,
                floor,
            };
            blend.emission(e, lag, node)
        });
    model.keeps.push((1.0 - step) as f32);
}

/// The parameters of one M-step's emission update.
struct Blend<'a> {
    m: usize,
    mp: usize,
    pc: f64,
    step: f64,
    /// Deferred steps so far: the row of a seen value has had all of them.
    now: u32,
    floor: &'a [f32],
}

impl Blend<'_> {
    /// Blends the rows of one value-major K x mp emission whose values were seen towards
    /// the smoothed normalisation of their counts, per hidden state; zeroes the counts it
    /// read, and records the update of the other rows in `lag`.
    fn emission(&self, e: &mut [f32], lag: &mut Lag, node: &mut NodeCounts) {
        let (m, mp, step) = (self.m, self.mp, self.step);
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
            .map(|s| {
                if s < m {
                    step / (total[s] + self.pc)
                } else {
                    0.0
                }
            })
            .collect();
        let add = self.pc / k as f64;
        lag.bases.extend(scale.iter().map(|s| (add * s) as f32));
        let keep = 1.0 - step;
        let rows = e
            .chunks_exact_mut(mp)
            .zip(node.emission.chunks_exact_mut(mp));
        for (a, ((row, counts), seen)) in rows.zip(&mut node.seen).enumerate() {
            if std::mem::take(seen) {
                debug_assert_eq!(lag.applied[a], self.now, "a seen row is current");
                let terms = row.iter_mut().zip(counts.iter_mut());
                for (((w, c), s), f) in terms.zip(&scale).zip(self.floor) {
                    *w = ((keep * f64::from(*w) + (*c + add) * s) as f32).max(*f);
                    *c = 0.0;
                }
                lag.applied[a] = self.now + 1;
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
