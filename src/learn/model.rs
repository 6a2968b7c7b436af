//! The parameters as training works on them: `f32`, hidden size padded with zero states to a
//! whole number of vector lanes, laid out for the E-step's block products.
//!
//! During training the emissions live here (they are most of the parameters, and the
//! mini-batch M-step updates them in place); prior and transitions live in the `f64`
//! [`Params`] and are copied in after each M-step. [`Model::store_emission`] copies the
//! emissions back whenever the `f64` view is needed (validation, the final circuit).

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
    pub(super) emission: Vec<Vec<f32>>,
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

    /// Writes the emissions into `p` (same structure).
    pub(super) fn store_emission(&self, p: &mut Params) {
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

    /// The emission column of `pos` for the value `x` holds there (mp entries).
    pub(super) fn column(&self, pos: usize, x: &[u8]) -> &[f32] {
        &self.emission[pos][x[self.vars[pos] as usize] as usize * self.mp..][..self.mp]
    }
}
