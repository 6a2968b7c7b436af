//! The model as data: a Hidden Chow-Liu Tree (HCLT) probabilistic circuit.
//!
//! An HCLT is a tree over the D variables (a Chow-Liu tree) in which every *inner* tree node,
//! and the root, carries a hidden variable Z with M states. As a circuit it is:
//! - an **Input** unit per (variable, state): the categorical P(x_v | Z = k);
//! - per latent node v, M **Product** units (one per state k of Z_v) multiplying v's input for
//!   k with the sub-circuits of v's children for k, and M **Sum** units (one per state j of the
//!   parent's Z) mixing those products with the transition weights P(Z_v = k | Z_parent = j);
//! - at the root one Sum unit with the prior P(Z_root).
//!
//! Tree leaves have no hidden variable: their input is indexed by the parent's state directly.
//! The circuit is smooth and decomposable; its scope structure is the tree itself.
//!
//! Rather than a generic pointer DAG we store the tree flat, in **pre-order** (every node
//! after its parent), which is also the coding order. Position 0 is the root. Nothing here
//! recurses, so trees thousands of nodes deep are fine.
//!
//! Parameters are stored as raw non-negative `f32` weights, exactly as in the model file; the
//! distribution a row denotes is that row divided by its sum (computed in `f64`, in index
//! order). [`Params`] is the normalised `f64` view used for evaluation and learning.
//!
//! This module knows nothing of learning or coding.

mod columns;
mod conditional;
mod file;
mod params;
mod quantized;
#[cfg(test)]
pub(crate) mod tests;

pub use conditional::{Conditionals, Context};
pub use file::{MODEL_MAGIC, MODEL_VERSION};
pub use params::{Params, Workspace};
pub use quantized::{quantize_row, Quantization, MAX_ROW_BITS, MAX_SCALE_BITS, MIN_ROW_BITS};

use crate::error::{Error, Result};

/// Marks "no parent" in [`Circuit::parent`].
pub const NO_PARENT: u32 = u32::MAX;

/// Largest hidden size a model may have; bounds allocation when reading a model file.
pub const MAX_HIDDEN: usize = 1024;

/// Largest number of variables a model may have.
pub const MAX_DIMS: usize = 1 << 20;

/// The tree shape of an HCLT: variables in pre-order and each node's parent position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    vars: Vec<u32>,
    parent: Vec<u32>,
    latent: Vec<u32>,
    children: Vec<Vec<u32>>,
}

impl Tree {
    /// Builds a tree from a pre-order listing: `vars[pos]` is the variable at position `pos`
    /// and `parent[pos]` the position of its parent (`NO_PARENT` for the root at position 0).
    /// `vars` must be a permutation of 0..D and every parent must come before its child.
    pub fn new(vars: Vec<u32>, parent: Vec<u32>) -> Result<Self> {
        let d = vars.len();
        if d == 0 || parent.len() != d {
            return Err(Error::format(
                "tree",
                "needs one parent entry per variable, D >= 1",
            ));
        }
        let mut seen = vec![false; d];
        for &v in &vars {
            let v = v as usize;
            if v >= d || std::mem::replace(&mut seen[v], true) {
                return Err(Error::format(
                    "tree",
                    "variables are not a permutation of 0..D",
                ));
            }
        }
        if parent[0] != NO_PARENT {
            return Err(Error::format("tree", "position 0 must be the root"));
        }
        let mut children = vec![Vec::new(); d];
        for (pos, &p) in parent.iter().enumerate().skip(1) {
            if p as usize >= pos {
                return Err(Error::format(
                    "tree",
                    format!("node {pos} has parent {p}, which is not an earlier position"),
                ));
            }
            children[p as usize].push(pos as u32);
        }
        if !is_preorder(&children) {
            return Err(Error::format(
                "tree",
                "positions are not a depth-first pre-order",
            ));
        }
        let mut latent = vec![NO_PARENT; d];
        let mut count = 0u32;
        for pos in 0..d {
            if pos == 0 || !children[pos].is_empty() {
                latent[pos] = count;
                count += 1;
            }
        }
        Ok(Tree {
            vars,
            parent,
            latent,
            children,
        })
    }

    /// Number of nodes (= variables, D).
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// Always false: a tree has a root.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Variable at each pre-order position.
    pub fn vars(&self) -> &[u32] {
        &self.vars
    }

    /// Parent position of each position (`NO_PARENT` for the root).
    pub fn parents(&self) -> &[u32] {
        &self.parent
    }

    /// Parent position of `pos`, if any.
    pub fn parent(&self, pos: usize) -> Option<usize> {
        let p = self.parent[pos];
        (p != NO_PARENT).then_some(p as usize)
    }

    /// Child positions of `pos`, in pre-order.
    pub fn children(&self, pos: usize) -> &[u32] {
        &self.children[pos]
    }

    /// Index of the hidden variable of `pos` among latent nodes, if `pos` is latent (the root
    /// and every node with children).
    pub fn latent_index(&self, pos: usize) -> Option<usize> {
        let l = self.latent[pos];
        (l != NO_PARENT).then_some(l as usize)
    }

    /// Number of latent nodes.
    pub fn latent_count(&self) -> usize {
        self.latent.iter().filter(|&&l| l != NO_PARENT).count()
    }

    /// Depth of the deepest node (root = 0).
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.len()];
        for pos in 1..self.len() {
            depth[pos] = depth[self.parent[pos] as usize] + 1;
        }
        depth.into_iter().max().unwrap_or(0)
    }
}

/// True when positions 0..d enumerate the tree depth-first, parents before children and each
/// subtree contiguous, with children visited in increasing position.
fn is_preorder(children: &[Vec<u32>]) -> bool {
    let mut stack = vec![0u32];
    let mut next = 0u32;
    while let Some(pos) = stack.pop() {
        if pos != next {
            return false;
        }
        next += 1;
        stack.extend(children[pos as usize].iter().rev());
    }
    next as usize == children.len()
}

/// A trained HCLT: tree, alphabet sizes and raw `f32` weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Circuit {
    hidden: usize,
    alphabet: Vec<u16>,
    tree: Tree,
    prior: Vec<f32>,
    transition: Vec<f32>,
    emission: Vec<f32>,
    emission_offset: Vec<usize>,
}

impl Circuit {
    /// Assembles a circuit. `alphabet` is indexed by variable; `transition` holds one M x M
    /// block (row = parent state) per latent non-root node in pre-order; `emission` one
    /// M x K block (row = conditioning state) per node in pre-order. Every row must have a
    /// positive finite sum and no negative or non-finite entry.
    pub fn new(
        hidden: usize,
        alphabet: Vec<u16>,
        tree: Tree,
        prior: Vec<f32>,
        transition: Vec<f32>,
        emission: Vec<f32>,
    ) -> Result<Self> {
        let d = tree.len();
        if hidden == 0 || hidden > MAX_HIDDEN {
            return Err(Error::format(
                "model",
                format!("hidden size {hidden} not in 1..={MAX_HIDDEN}"),
            ));
        }
        if alphabet.len() != d || alphabet.iter().any(|&k| k == 0 || k > 256) {
            return Err(Error::format(
                "model",
                "alphabet sizes must be 1..=256, one per variable",
            ));
        }
        let mut emission_offset = Vec::with_capacity(d + 1);
        let mut total = 0usize;
        for &v in tree.vars() {
            emission_offset.push(total);
            total += hidden * alphabet[v as usize] as usize;
        }
        emission_offset.push(total);
        let transitions = (tree.latent_count() - 1) * hidden * hidden;
        if prior.len() != hidden || transition.len() != transitions || emission.len() != total {
            return Err(Error::format(
                "model",
                "parameter counts do not match the structure",
            ));
        }
        let circuit = Circuit {
            hidden,
            alphabet,
            tree,
            prior,
            transition,
            emission,
            emission_offset,
        };
        circuit.check_rows()?;
        Ok(circuit)
    }

    fn check_rows(&self) -> Result<()> {
        let bad = |w: &[f32]| {
            w.iter().any(|x| !x.is_finite() || *x < 0.0)
                || w.iter()
                    .map(|&x| f64::from(x))
                    .sum::<f64>()
                    .partial_cmp(&0.0)
                    != Some(std::cmp::Ordering::Greater)
        };
        let m = self.hidden;
        if bad(&self.prior) || self.transition.chunks(m).any(bad) {
            return Err(Error::format(
                "model",
                "a weight row is negative, non-finite or all zero",
            ));
        }
        for pos in 0..self.tree.len() {
            if self
                .emission_block(pos)
                .chunks(self.node_alphabet(pos))
                .any(bad)
            {
                return Err(Error::format(
                    "model",
                    format!("emission row of node {pos} is invalid"),
                ));
            }
        }
        Ok(())
    }

    /// Hidden size M.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Number of variables D.
    pub fn dims(&self) -> usize {
        self.tree.len()
    }

    /// Alphabet size of each variable (indexed by variable, not position).
    pub fn alphabet(&self) -> &[u16] {
        &self.alphabet
    }

    /// The tree.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Alphabet size of the variable at position `pos`.
    pub fn node_alphabet(&self, pos: usize) -> usize {
        self.alphabet[self.tree.vars[pos] as usize] as usize
    }

    /// Raw prior weights over the root's hidden states.
    pub fn prior(&self) -> &[f32] {
        &self.prior
    }

    /// Raw M x M transition block of latent node `pos` (row = parent state), if it has one.
    pub fn transition_block(&self, pos: usize) -> Option<&[f32]> {
        let l = self.tree.latent_index(pos)?;
        let m2 = self.hidden * self.hidden;
        (l > 0).then(|| &self.transition[(l - 1) * m2..l * m2])
    }

    /// Raw M x K emission block of position `pos` (row = conditioning hidden state).
    pub fn emission_block(&self, pos: usize) -> &[f32] {
        &self.emission[self.emission_offset[pos]..self.emission_offset[pos + 1]]
    }

    /// All transition weights, concatenated as in the model file.
    pub fn transitions(&self) -> &[f32] {
        &self.transition
    }

    /// All emission weights, concatenated as in the model file.
    pub fn emissions(&self) -> &[f32] {
        &self.emission
    }

    /// Circuit size |p|: number of edges of the equivalent sum/product/input circuit.
    /// Counted as M*M per transition (sum edges), M per prior, and M*K per emission (input
    /// units' parameters); product edges add a constant factor and are ignored.
    pub fn size(&self) -> usize {
        self.prior.len() + self.transition.len() + self.emission.len()
    }

    /// The normalised `f64` view used for evaluation.
    pub fn params(&self) -> Params {
        Params::new(self)
    }
}
