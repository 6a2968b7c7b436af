//! The parameters as training works on them: `f32`, hidden size padded with zero states to a
//! whole number of vector lanes, laid out for the E-step's block products.
//!
//! During training the emissions live here (they are most of the parameters, and the
//! mini-batch M-step updates them in place); prior and transitions live in the `f64`
//! [`Params`] and are copied in after each M-step. [`Model::store`] copies the emissions
//! back whenever the `f64` view is needed (validation, the final circuit).
//!
//! The M-step moves the emission row of a value that did not occur in the batch towards the
//! same per-state constant for every such row, `w = max(keep w + base, floor)`. Rather than
//! sweep the whole table (tens of MB) after every batch, it records `keep` and `base` as a
//! [`Lag`], and a row replays the steps it missed, in order, before it is read again
//! ([`Model::catch_up`]): the same operations on the same values, so the same bits, but
//! only for the rows a batch uses.

use super::kernel;
use crate::circuit::Params;
use rayon::prelude::*;

/// Smallest parameter training uses: rescaled vectors (largest entry at least 1/M) times any
/// parameter stay far above the `f32` underflow threshold.
pub(super) const FLOOR: f32 = 1e-30;

/// Training parameters in `f32`.
#[derive(Debug, Clone)]
pub(super) struct Model {
    pub(super) m: usize,
    /// Padded hidden size: states `m..mp` are zero everywhere.
    pub(super) mp: usize,
    pub(super) vars: Vec<u32>,
    pub(super) parent: Vec<u32>,
    pub(super) latent: Vec<Option<usize>>,
    pub(super) latents: usize,
    pub(super) prior: Vec<f32>,
    /// Per latent node, mp x mp, row = parent state (empty for the root).
    pub(super) w: Vec<Vec<f32>>,
    /// Transposes of `w` (row = own state).
    pub(super) wt: Vec<Vec<f32>>,
    /// Per position, K x mp, value-major: `emission[pos][a * mp + k] = P(x = a | Z = k)`.
    /// A row is current only once [`Model::catch_up`] has replayed its lag.
    pub(super) emission: Vec<Vec<f32>>,
    /// Per position, the emission updates its rows may still owe.
    pub(super) lag: Vec<Lag>,
    /// `keep` of each deferred M-step, oldest first (shared by all positions).
    pub(super) keeps: Vec<f32>,
    /// Per state: [`FLOOR`], or 0 for padded states.
    pub(super) floor: Vec<f32>,
}

/// Deferred M-step updates of one position's emission rows.
#[derive(Debug, Clone)]
pub(super) struct Lag {
    /// `base` of each deferred step (steps x mp).
    pub(super) bases: Vec<f32>,
    /// Per value: how many deferred steps its row has had (a seen row skips its step).
    pub(super) applied: Vec<u32>,
}

/// Deferred steps after which every row catches up, bounding the lag's memory.
const MAX_LAG: usize = 64;

/// One M-step update of a row whose value did not occur in the batch.
fn decay(row: &mut [f32], keep: f32, base: &[f32], floor: &[f32]) {
    for ((w, b), f) in row.iter_mut().zip(base).zip(floor) {
        *w = (keep * *w + b).max(*f);
    }
}

/// Converts a parameter, keeping it above [`FLOOR`].
fn narrow(x: f64) -> f32 {
    (x as f32).max(FLOOR)
}

impl Model {
    /// The training view of `p`.
    pub(super) fn new(p: &Params) -> Self {
        let (m, mp) = (p.m, kernel::padded(p.m));
        let square = |l: usize| {
            if l == 0 {
                Vec::new()
            } else {
                vec![0.0; mp * mp]
            }
        };
        let latents = p.transition.len();
        let mut model = Model {
            m,
            mp,
            vars: p.vars.clone(),
            parent: p.parent.clone(),
            latent: p.latent.clone(),
            latents,
            prior: vec![0.0; mp],
            w: (0..latents).map(square).collect(),
            wt: (0..latents).map(square).collect(),
            emission: p.k.iter().map(|&k| vec![0.0; k * mp]).collect(),
            lag: p
                .k
                .iter()
                .map(|&k| Lag {
                    bases: Vec::new(),
                    applied: vec![0; k],
                })
                .collect(),
            keeps: Vec::new(),
            floor: (0..mp).map(|s| if s < m { FLOOR } else { 0.0 }).collect(),
        };
        model
            .emission
            .par_iter_mut()
            .zip(&p.emission)
            .for_each(|(d, s)| {
                for (dr, sr) in d.chunks_exact_mut(mp).zip(s.chunks_exact(m)) {
                    dr.iter_mut().zip(sr).for_each(|(d, &s)| *d = narrow(s));
                }
            });
        model.refresh_transitions(p);
        model
    }

    /// Copies prior and transitions of `p` (same structure) in.
    pub(super) fn refresh_transitions(&mut self, p: &Params) {
        let (m, mp) = (self.m, self.mp);
        for (d, &s) in self.prior.iter_mut().zip(&p.prior) {
            *d = narrow(s);
        }
        let w = self.w.par_iter_mut().zip(self.wt.par_iter_mut());
        w.zip(&p.transition).for_each(|((w, wt), s)| {
            for j in 0..m.min(s.len()) {
                for k in 0..m {
                    let v = narrow(s[j * m + k]);
                    w[j * mp + k] = v;
                    wt[k * mp + j] = v;
                }
            }
        });
    }

    /// Brings every emission row that `records` read up to date (all rows when the lag has
    /// grown long).
    pub(super) fn catch_up(&mut self, records: &[&[u8]]) {
        if self.keeps.len() >= MAX_LAG {
            return self.catch_up_all();
        }
        let (mp, keeps, floor) = (self.mp, &self.keeps[..], &self.floor[..]);
        let rows = self.emission.par_iter_mut().zip(&mut self.lag);
        rows.zip(&self.vars).for_each(|((e, lag), &var)| {
            for x in records {
                let a = x[var as usize] as usize;
                lag.replay(a, &mut e[a * mp..][..mp], keeps, floor);
            }
        });
    }

    /// Brings every emission row up to date and forgets the lag.
    fn catch_up_all(&mut self) {
        let (mp, keeps, floor) = (self.mp, &self.keeps[..], &self.floor[..]);
        let rows = self.emission.par_iter_mut().zip(&mut self.lag);
        rows.for_each(|(e, lag)| {
            for (a, row) in e.chunks_exact_mut(mp).enumerate() {
                lag.replay(a, row, keeps, floor);
            }
            lag.bases.clear();
            lag.applied.fill(0);
        });
        self.keeps.clear();
    }

    /// Makes `p` (same structure) current: catches every emission row up, writes the
    /// emissions into `p` and refreshes its transposed transitions.
    pub(super) fn store(&mut self, p: &mut Params) {
        self.catch_up_all();
        p.refresh_transposes();
        let (m, mp) = (self.m, self.mp);
        p.emission
            .par_iter_mut()
            .zip(&self.emission)
            .for_each(|(d, s)| {
                for (dr, sr) in d.chunks_exact_mut(m).zip(s.chunks_exact(mp)) {
                    dr.iter_mut().zip(sr).for_each(|(d, &s)| *d = f64::from(s));
                }
            });
    }

    /// Number of positions D.
    pub(super) fn dims(&self) -> usize {
        self.vars.len()
    }

    /// Latent index of the node whose hidden state the emission at `pos` is conditioned on.
    pub(super) fn source(&self, pos: usize) -> usize {
        self.latent[pos].unwrap_or_else(|| {
            self.latent[self.parent[pos] as usize].expect("a tree leaf's parent is latent")
        })
    }

    /// The emission column of `pos` for the value `x` holds there (mp entries); current
    /// after [`Model::catch_up`] of `x`.
    pub(super) fn column(&self, pos: usize, x: &[u8]) -> &[f32] {
        &self.emission[pos][x[self.vars[pos] as usize] as usize * self.mp..][..self.mp]
    }
}

impl Lag {
    /// Applies to `row`, the row of value `a`, the deferred steps it has not had.
    fn replay(&mut self, a: usize, row: &mut [f32], keeps: &[f32], floor: &[f32]) {
        let mp = row.len();
        let from = self.applied[a] as usize;
        for (j, &keep) in keeps.iter().enumerate().skip(from) {
            decay(row, keep, &self.bases[j * mp..][..mp], floor);
        }
        self.applied[a] = keeps.len() as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Rows that replay their lag before being read hold the bits of rows updated eagerly
    /// after every step, including when a floor binds and after a full catch-up.
    #[test]
    fn deferred_updates_give_the_bits_of_eager_ones() {
        let mut rng = Rng::new(3);
        let (k, mp) = (9, 8);
        let floor: Vec<f32> = (0..mp).map(|s| if s < 6 { 0.01 } else { 0.0 }).collect();
        let mut eager: Vec<f32> = (0..k * mp).map(|_| rng.next_f64() as f32).collect();
        let mut lazy = eager.clone();
        let mut lag = Lag {
            bases: Vec::new(),
            applied: vec![0; k],
        };
        let mut keeps = Vec::new();
        let mut floored = false;
        for step in 0..300 {
            if step % 70 == 69 {
                for (a, row) in lazy.chunks_exact_mut(mp).enumerate() {
                    lag.replay(a, row, &keeps, &floor);
                }
                lag.bases.clear();
                lag.applied.fill(0);
                keeps.clear();
            }
            let read: Vec<bool> = (0..k).map(|_| rng.below(4) == 0).collect();
            let seen: Vec<bool> = read.iter().map(|&r| r && rng.below(2) == 0).collect();
            for (a, row) in lazy
                .chunks_exact_mut(mp)
                .enumerate()
                .filter(|(a, _)| read[*a])
            {
                lag.replay(a, row, &keeps, &floor);
                assert_eq!(
                    bits(row),
                    bits(&eager[a * mp..][..mp]),
                    "step {step} row {a}"
                );
            }
            let keep = rng.next_f64() as f32;
            let base: Vec<f32> = (0..mp).map(|_| (rng.next_f64() * 0.02) as f32).collect();
            let rows = eager.chunks_exact_mut(mp).zip(lazy.chunks_exact_mut(mp));
            for (a, (e, l)) in rows.enumerate() {
                if seen[a] {
                    for v in e.iter_mut().chain(l.iter_mut()) {
                        *v = *v * 0.5 + 0.25;
                    }
                    lag.applied[a] = keeps.len() as u32 + 1;
                } else {
                    decay(e, keep, &base, &floor);
                    floored |= e.iter().zip(&floor).any(|(v, f)| *f > 0.0 && v == f);
                }
            }
            lag.bases.extend(&base);
            keeps.push(keep);
        }
        for (a, row) in lazy.chunks_exact_mut(mp).enumerate() {
            lag.replay(a, row, &keeps, &floor);
        }
        assert_eq!(bits(&lazy), bits(&eager));
        assert!(floored, "the floor bound somewhere");
    }
}
