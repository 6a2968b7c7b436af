//! The normalised `f64` view of a circuit, and exact likelihoods and marginals with it.
//!
//! Layouts are chosen for evaluation with observed data: emissions are stored value-major
//! (`[a][k]`), so the M values of one observed column are contiguous.

use super::Circuit;
use crate::data::Dataset;
use rayon::prelude::*;

/// Normalised parameters in `f64` plus the tree, ready for evaluation and learning.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub(crate) m: usize,
    pub(crate) vars: Vec<u32>,
    pub(crate) parent: Vec<u32>,
    pub(crate) latent: Vec<Option<usize>>,
    /// K of each position.
    pub(crate) k: Vec<usize>,
    pub(crate) prior: Vec<f64>,
    /// M x M per latent node (index by latent index; entry 0, the root, is empty).
    pub(crate) transition: Vec<Vec<f64>>,
    /// The transposes of `transition` (row = child state), so that the upward message
    /// `W beta` is a sum of scaled rows: vectorisable, same operation order as a dot product.
    pub(crate) transition_t: Vec<Vec<f64>>,
    /// K x M per position, value-major: `emission[pos][a * m + k] = P(x = a | Z = k)`.
    pub(crate) emission: Vec<Vec<f64>>,
}

/// Scratch buffers for one thread of evaluation, reused across records.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub(crate) beta: Vec<f64>,
    pub(crate) msg: Vec<f64>,
    pub(crate) out: Vec<f64>,
}

impl Workspace {
    /// Sizes the buffers for `len` values. Their contents are not reset: every pass writes
    /// each entry before reading it (`beta` is filled, `msg` and `out` are set per node).
    pub(crate) fn fit(&mut self, len: usize) {
        for v in [&mut self.beta, &mut self.msg, &mut self.out] {
            v.resize(len, 0.0);
        }
    }
}

/// Divides a row by its sum (index order); the sum of raw weights is positive by the
/// circuit's invariants.
pub(crate) fn normalized(row: &[f32]) -> Vec<f64> {
    let sum: f64 = row.iter().map(|&x| f64::from(x)).sum();
    row.iter().map(|&x| f64::from(x) / sum).collect()
}

impl Params {
    /// Normalises every row of `circuit` in `f64`.
    pub fn new(circuit: &Circuit) -> Self {
        let tree = circuit.tree();
        let m = circuit.hidden();
        let d = tree.len();
        let mut transition: Vec<Vec<f64>> = Vec::with_capacity(tree.latent_count());
        let mut emission = Vec::with_capacity(d);
        let mut k = Vec::with_capacity(d);
        for pos in 0..d {
            if tree.latent_index(pos).is_some() {
                let block = circuit.transition_block(pos).unwrap_or(&[]);
                transition.push(block.chunks(m).flat_map(normalized).collect());
            }
            let kv = circuit.node_alphabet(pos);
            let rows: Vec<Vec<f64>> = circuit
                .emission_block(pos)
                .chunks(kv)
                .map(normalized)
                .collect();
            let mut by_value = vec![0.0; kv * m];
            for (state, row) in rows.iter().enumerate() {
                for (a, &p) in row.iter().enumerate() {
                    by_value[a * m + state] = p;
                }
            }
            emission.push(by_value);
            k.push(kv);
        }
        let transition_t = transition.iter().map(|w| transpose(w, m)).collect();
        Params {
            m,
            transition_t,
            vars: tree.vars().to_vec(),
            parent: tree.parents().to_vec(),
            latent: (0..d).map(|pos| tree.latent_index(pos)).collect(),
            k,
            prior: normalized(circuit.prior()),
            transition,
            emission,
        }
    }

    /// Recomputes the transposed transitions after `transition` changed.
    pub(crate) fn refresh_transposes(&mut self) {
        let m = self.m;
        self.transition_t = self.transition.iter().map(|w| transpose(w, m)).collect();
    }

    /// Hidden size M.
    pub fn hidden(&self) -> usize {
        self.m
    }

    /// Number of variables D.
    pub fn dims(&self) -> usize {
        self.vars.len()
    }

    /// Natural log of P(x) for a complete record `x` (indexed by variable).
    pub fn log_likelihood(&self, x: &[u8], ws: &mut Workspace) -> f64 {
        self.upward(x, None, ws)
    }

    /// Natural log of the marginal probability of the variables with `observed[v]` true;
    /// the others are summed out (their input units set to 1).
    pub fn log_marginal(&self, x: &[u8], observed: &[bool], ws: &mut Workspace) -> f64 {
        self.upward(x, Some(observed), ws)
    }

    /// The upward (inside) pass, children before parents (reverse pre-order), rescaling each
    /// latent node's vector by its sum so nothing underflows. Leaves `beta` (normalised) and
    /// `msg` in `ws` for a following downward pass.
    pub(crate) fn upward(&self, x: &[u8], observed: Option<&[bool]>, ws: &mut Workspace) -> f64 {
        let m = self.m;
        let d = self.dims();
        ws.fit(d * m);
        ws.beta.fill(1.0);
        let mut log_scale = 0.0;
        for pos in (0..d).rev() {
            let var = self.vars[pos] as usize;
            let seen = observed.is_none_or(|o| o[var]);
            let column = &self.emission[pos][x[var] as usize * m..][..m];
            match self.latent[pos] {
                Some(l) => {
                    let beta = &mut ws.beta[pos * m..(pos + 1) * m];
                    if seen {
                        beta.iter_mut().zip(column).for_each(|(b, e)| *b *= e);
                    }
                    let sum: f64 = beta.iter().sum();
                    if sum.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                        return f64::NEG_INFINITY;
                    }
                    beta.iter_mut().for_each(|b| *b /= sum);
                    log_scale += sum.ln();
                    if pos == 0 {
                        let p: f64 = self.prior.iter().zip(beta.iter()).map(|(a, b)| a * b).sum();
                        return log_scale + p.ln();
                    }
                    // msg[j] = sum_k W[j][k] beta[k], as scaled rows of W^T (vectorises).
                    let msg = &mut ws.msg[pos * m..(pos + 1) * m];
                    msg.fill(0.0);
                    for (k, &bk) in beta.iter().enumerate() {
                        let row = &self.transition_t[l][k * m..(k + 1) * m];
                        msg.iter_mut().zip(row).for_each(|(mj, w)| *mj += bk * w);
                    }
                }
                None => {
                    let msg = &mut ws.msg[pos * m..(pos + 1) * m];
                    if seen {
                        msg.copy_from_slice(column);
                    } else {
                        msg.fill(1.0);
                    }
                }
            }
            let p = self.parent[pos] as usize;
            ws.beta[p * m..(p + 1) * m]
                .iter_mut()
                .zip(&ws.msg[pos * m..(pos + 1) * m])
                .for_each(|(b, g)| *b *= g);
        }
        unreachable!("position 0 is the root and returns")
    }

    /// Per-record log-likelihoods (nats), computed in parallel, in record order.
    pub fn log_likelihoods(&self, data: &Dataset) -> Vec<f64> {
        let records: Vec<&[u8]> = data.records().collect();
        records
            .par_iter()
            .map_init(Workspace::default, |ws, x| self.log_likelihood(x, ws))
            .collect()
    }

    /// Average negative log-likelihood in bits per dimension; the sum runs in record order,
    /// so the result does not depend on the number of threads.
    pub fn bits_per_dim(&self, data: &Dataset) -> f64 {
        let total: f64 = self.log_likelihoods(data).iter().sum();
        -total / std::f64::consts::LN_2 / (data.len() * data.dims()) as f64
    }
}

/// Transposes a row-major m x m matrix (an empty one stays empty).
pub(crate) fn transpose(w: &[f64], m: usize) -> Vec<f64> {
    let mut t = vec![0.0; w.len()];
    for j in 0..m.min(w.len()) {
        for k in 0..m {
            if let (Some(&x), Some(y)) = (w.get(j * m + k), t.get_mut(k * m + j)) {
                *y = x;
            }
        }
    }
    t
}
