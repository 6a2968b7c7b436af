//! From data to an initial HCLT: mutual information, Chow-Liu tree, hidden states, and
//! seeded random parameters.

use super::chow_liu::{preorder, SpanningTree};
use super::mi::mutual_information;
use crate::circuit::{Circuit, Tree};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// How the Chow-Liu tree is shaped before hidden states are attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// The maximum spanning tree rooted at its centre.
    #[default]
    ChowLiu,
    /// Recursively re-rooted at component centres: depth about log2 D.
    Balanced,
}

/// Options of structure learning.
#[derive(Debug, Clone)]
pub struct StructureOptions {
    /// Hidden states per latent node (M).
    pub hidden: usize,
    /// Levels values are binned to for mutual information.
    pub mi_bins: usize,
    /// Records subsampled (seeded) for mutual information.
    pub mi_samples: usize,
    /// Tree shape.
    pub shape: Shape,
    /// Seed for the subsample and the initial parameters.
    pub seed: u64,
}

impl Default for StructureOptions {
    fn default() -> Self {
        StructureOptions {
            hidden: 16,
            mi_bins: 16,
            mi_samples: 5000,
            shape: Shape::ChowLiu,
            seed: 0,
        }
    }
}

/// Learns the tree of an HCLT from `data`.
pub fn learn_tree(data: &Dataset, options: &StructureOptions) -> Result<Tree> {
    if data.is_empty() {
        return Err(Error::parameter(
            "cannot learn a structure from an empty dataset",
        ));
    }
    let mut rng = Rng::new(options.seed);
    let sample = data.select(&rng.sample_indices(data.len(), options.mi_samples));
    let d = data.dims();
    let mi = mutual_information(&sample, options.mi_bins);
    let mst = SpanningTree::maximum(&mi, d);
    let parent = match options.shape {
        Shape::ChowLiu => mst.rooted_at_centre(),
        Shape::Balanced => mst.balanced(),
    };
    preorder(&parent)
}

/// An HCLT over `tree` with seeded random parameters: transitions and the prior near
/// uniform (each weight 0.6 + 0.8 U(0,1)), emissions the variable's smoothed marginal in
/// `data` times the same perturbation, so EM starts from sensible single-pixel statistics.
pub fn initial_circuit(tree: Tree, data: &Dataset, hidden: usize, seed: u64) -> Result<Circuit> {
    let mut rng = Rng::new(seed ^ 0x005E_ED0F_1417);
    let mut jitter = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| (0.6 + 0.8 * rng.next_f64()) as f32)
            .collect()
    };
    let prior = jitter(hidden);
    let transitions = (tree.latent_count() - 1) * hidden * hidden;
    let transition = jitter(transitions);
    let marginals = marginals(data);
    let mut emission = Vec::new();
    for &v in tree.vars() {
        let m = &marginals[v as usize];
        for _ in 0..hidden {
            let noise = jitter(m.len());
            emission.extend(m.iter().zip(noise).map(|(p, e)| p * e));
        }
    }
    Circuit::new(
        hidden,
        data.alphabet().to_vec(),
        tree,
        prior,
        transition,
        emission,
    )
}

/// Per-variable value frequencies with add-one smoothing.
fn marginals(data: &Dataset) -> Vec<Vec<f32>> {
    let mut counts: Vec<Vec<f64>> = data
        .alphabet()
        .iter()
        .map(|&k| vec![1.0; k as usize])
        .collect();
    for record in data.records() {
        for (c, &x) in counts.iter_mut().zip(record) {
            c[x as usize] += 1.0;
        }
    }
    counts
        .into_iter()
        .map(|c| {
            let s: f64 = c.iter().sum();
            c.into_iter().map(|x| (x / s) as f32).collect()
        })
        .collect()
}
