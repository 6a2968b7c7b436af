//! All K conditionals P(x_v = a | x_<v) of the coding order at once, by the pre-order
//! "context stack" recurrence (research brief §2.5).
//!
//! Variables are visited in pre-order. Each open latent node u keeps two vectors over Z_u:
//! `alpha_u` (the outside message, fixed while u's subtree is coded) and `beta_u` (u's own
//! emission times the upward messages of its finished children). Their product is the
//! unnormalised posterior of Z_u given everything coded so far, so:
//! - entering a latent child c of u: `alpha_c = (alpha_u * beta_u)^T W_c` (M x M);
//! - the distribution of x_c: `q(a) = sum_k alpha_c(k) E_c[k][a]` (M x K);
//! - a tree leaf uses its parent's context directly (its emission is indexed by Z_u);
//! - after coding x_c: `beta_c = E_c[.][x_c]`; when c's subtree is finished,
//!   `beta_u *= W_c beta_c`.
//!
//! Cost per record is O(D (M^2 + M K)) = O(|p|), independent of the tree's depth.
//!
//! **This is the coding path**: results must be bit-identical on every machine. Only `+`,
//! `*`, `/` on `f64` appear, every sum runs in ascending index order, nothing is reduced
//! across threads, and no `exp`/`ln`/`mul_add` is used. Every vector is renormalised to sum
//! 1 after each update (only ratios matter), which keeps values far from underflow.

use super::columns::SharedColumns;
use super::{Circuit, NO_PARENT};
use crate::coder::Classes;
use crate::simd::{divide, mix, mix_many, mix_many_unsummed, prefetch};

/// The circuit's parameters laid out for coding: emission rows state-major (`[k][a]`), so
/// that `q += alpha[k] * row_k` runs over contiguous memory.
#[derive(Debug, Clone)]
pub struct Conditionals {
    m: usize,
    parent: Vec<u32>,
    latent: Vec<u32>,
    k: Vec<usize>,
    prior: Vec<f64>,
    transition: Vec<Vec<f64>>,
    transition_t: Vec<Vec<f64>>,
    emission: Vec<Vec<f64>>,
    /// Per position, its emission's distinct columns when values share one (mixed instead
    /// of the whole table: the same bits for less work).
    shared: Vec<Option<SharedColumns>>,
    /// The most latent nodes open at once (the deepest chain of latent ancestors): a
    /// record's vectors are allocated at that size when it begins, never grown while coding.
    depth: usize,
}

/// Per-record coding state. Reuse one per thread; [`Conditionals::begin`] resets it.
///
/// `alpha` and `beta` hold M values per *open* latent node, by its depth on `stack`: a
/// node's vectors are needed only while its subtree is being coded, so the state is
/// O(depth x M) per record rather than O(D x M), and chunks of thousands of records fit in
/// memory even for large models. They live in one vector with `scratch` (M values), as
/// [`Context::parts`] splits it: a chunk begins thousands of records, and allocating three
/// vectors for each showed in profiles.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// `scratch`, then `alpha`, then `beta` (as many values as `alpha`).
    state: Vec<f64>,
    m: usize,
    /// Open latent positions, root at the bottom.
    stack: Vec<u32>,
    /// Where in `state` the weights of the prepared position start: `scratch`, or the
    /// `alpha` slot of the position's own latent node (not copied to `scratch`).
    weights: usize,
    next: usize,
    /// Multiply-adds performed since the last `begin`; the work-bound test reads it.
    pub ops: u64,
}

impl Conditionals {
    /// Prepares the coding layout of `circuit` (normalising every row in `f64`).
    pub fn new(circuit: &Circuit) -> Self {
        let tree = circuit.tree();
        let m = circuit.hidden();
        let d = tree.len();
        let mut transition: Vec<Vec<f64>> = Vec::new();
        let mut emission: Vec<Vec<f64>> = Vec::with_capacity(d);
        let mut latent = vec![NO_PARENT; d];
        let mut k = Vec::with_capacity(d);
        for (pos, slot) in latent.iter_mut().enumerate() {
            if let Some(l) = tree.latent_index(pos) {
                *slot = l as u32;
                let block = circuit.transition_block(pos).unwrap_or(&[]);
                transition.push(
                    block
                        .chunks(m)
                        .flat_map(super::params::normalized)
                        .collect(),
                );
            }
            let kv = circuit.node_alphabet(pos);
            k.push(kv);
            emission.push(
                circuit
                    .emission_block(pos)
                    .chunks(kv)
                    .flat_map(super::params::normalized)
                    .collect(),
            );
        }
        let transition_t = transition
            .iter()
            .map(|w| super::params::transpose(w, m))
            .collect();
        let depth = open_latents(tree.parents(), &latent);
        let shared = emission
            .iter()
            .zip(&k)
            .map(|(e, &kv)| SharedColumns::find(e, m, kv))
            .collect();
        Conditionals {
            shared,
            depth,
            m,
            transition_t,
            parent: tree.parents().to_vec(),
            latent,
            k,
            prior: super::params::normalized(circuit.prior()),
            transition,
            emission,
        }
    }

    /// Number of variables (positions).
    pub fn len(&self) -> usize {
        self.k.len()
    }

    /// Always false.
    pub fn is_empty(&self) -> bool {
        self.k.is_empty()
    }

    /// Alphabet size at coding position `pos`.
    pub fn alphabet(&self, pos: usize) -> usize {
        self.k[pos]
    }

    /// Starts a new record.
    pub fn begin(&self, ctx: &mut Context) {
        ctx.stack.clear();
        ctx.state.clear();
        // Scratch, then for alpha and beta one slot per open latent node and one for a
        // leaf child's parent context.
        let slots = (self.depth + 1) * self.m;
        ctx.state.resize(self.m + 2 * slots, 0.0);
        ctx.m = self.m;
        ctx.stack.reserve_exact(self.depth);
        ctx.weights = 0;
        ctx.next = 0;
        ctx.ops = 0;
    }

    /// Writes the unnormalised distribution of the next variable in coding order into
    /// `q[..K]`, and returns its position and the sum of `q[..K]` taken in ascending index
    /// order (what the quantizer needs; computing it here overlaps it with the products).
    /// Call [`Conditionals::observe`] with its value before asking for the next one.
    pub fn distribution(&self, ctx: &mut Context, q: &mut [f64]) -> (usize, f64) {
        let mut sum = [0.0];
        let pos = self.distributions(std::slice::from_mut(ctx), q, &mut sum);
        (pos, sum[0])
    }

    /// [`Conditionals::distribution`] for several records at the same position (all
    /// contexts must be at the same position): record i's distribution goes to
    /// `q[i * 256..][..K]` and its sum to `sums[i]`. Records share each emission row while
    /// it is in registers, which is faster than one record at a time and gives the same
    /// bits. Returns the position.
    pub fn distributions(&self, ctxs: &mut [Context], q: &mut [f64], sums: &mut [f64]) -> usize {
        let pos = self.class_distributions(ctxs, q, sums);
        if let Some(shared) = &self.shared[pos] {
            for out in q.chunks_mut(256).take(ctxs.len()) {
                shared.expand(&mut out[..self.k[pos]]);
            }
        }
        pos
    }

    /// The classes of values of position `pos` that share one emission column, hence one
    /// probability. `None` when they are (nearly) all distinct.
    pub fn classes(&self, pos: usize) -> Option<&Classes> {
        self.shared[pos].as_ref().map(|s| &s.classes)
    }

    /// [`Conditionals::distributions`], except that when [`Conditionals::classes`] of the
    /// position is `Some(class)`, record i's row holds one weight per class (value a's is
    /// `q[i * 256 + class[a]]`): the same bits, without repeating the work per value.
    /// `sums[i]` is the sum over all K values either way. Returns the position.
    pub fn class_distributions(
        &self,
        ctxs: &mut [Context],
        q: &mut [f64],
        sums: &mut [f64],
    ) -> usize {
        let pos = ctxs.first().map_or(0, |c| c.next);
        for ctx in ctxs.iter_mut() {
            debug_assert_eq!(ctx.next, pos, "contexts at one position");
            self.prepare_next(ctx);
        }
        let ctxs = &*ctxs;
        self.prepared_class_distributions(pos, |i| &ctxs[i], q, &mut sums[..ctxs.len()]);
        pos
    }

    /// Readies `ctx` for the next variable of its record and returns that variable's
    /// position: the variable's distribution is then a function of the position and of the
    /// weights left in the context alone ([`Conditionals::same_weights`] compares them).
    /// Ask for it with [`Conditionals::prepared_class_distributions`], then call
    /// [`Conditionals::observe`] with its value.
    pub fn prepare_next(&self, ctx: &mut Context) -> usize {
        let pos = ctx.next;
        self.prepare(ctx, pos);
        ctx.ops += (self.m * self.k[pos]) as u64;
        pos
    }

    /// True when two contexts readied at one position mix the same weights, bit for bit:
    /// their distributions, and all that is quantized from them, are then the same. Records
    /// that agree on the values coded so far have equal weights (the blank rows of a scanned
    /// digit, the flat runs of a photograph's residuals), so a coder that meets the
    /// weights of the record before may reuse its table instead of mixing again.
    pub fn same_weights(a: &Context, b: &Context) -> bool {
        a.weights()
            .iter()
            .zip(b.weights())
            .all(|(x, y)| x.to_bits() == y.to_bits())
    }

    /// [`Conditionals::class_distributions`] of contexts already readied at position `pos`
    /// by [`Conditionals::prepare_next`]: row j of `q` (`q[j * 256..]`) and `sums[j]`, for
    /// j < `sums.len()`, are those of context `ctx(j)`.
    pub fn prepared_class_distributions<'c>(
        &self,
        pos: usize,
        ctx: impl Fn(usize) -> &'c Context,
        q: &mut [f64],
        sums: &mut [f64],
    ) {
        let kv = self.k[pos];
        let weights = |j: usize| ctx(j).weights();
        match &self.shared[pos] {
            None => mix_many(weights, &self.emission[pos], q, 256, kv, sums),
            Some(shared) => {
                mix_many_unsummed(weights, &shared.rows, q, 256, shared.width, sums.len());
                shared.sums(q, 256, sums);
            }
        }
    }

    /// Leaves in `ctx` (see [`Context::weights`]) the normalised weights of Z over which the
    /// distribution of position `pos` mixes its emission rows: the prior, the parent's
    /// context, or its transform through the transition into `pos`'s own latent.
    fn prepare(&self, ctx: &mut Context, pos: usize) {
        let m = self.m;
        self.close_finished(ctx, pos);
        // The slot `pos` takes if it is latent: one above its parent, the stack's top.
        let own = ctx.stack.len() * m;
        let (scratch, alpha, beta) = ctx.parts();
        if self.parent[pos] == NO_PARENT {
            alpha[..m].copy_from_slice(&self.prior);
            ctx.weights = m;
            return;
        }
        let parent = own - m..own;
        let mut s = 0.0;
        for ((c, &a), &b) in scratch
            .iter_mut()
            .zip(&alpha[parent.clone()])
            .zip(&beta[parent])
        {
            *c = a * b;
            s += *c;
        }
        scale(scratch, s);
        ctx.weights = match self.latent_of(pos) {
            Some(l) => {
                let a = &mut alpha[own..own + m];
                let sum = mix(scratch, &self.transition[l], a);
                scale(a, sum);
                ctx.ops += (m * m) as u64;
                m + own
            }
            None => 0,
        };
    }

    /// Records the value of the variable last returned by [`Conditionals::distribution`].
    pub fn observe(&self, ctx: &mut Context, value: u8) {
        let pos = ctx.next;
        let m = self.m;
        let kv = self.k[pos];
        let e = &self.emission[pos];
        let a = usize::from(value).min(kv - 1);
        // E[state][a] for each state, and normalize's sum taken as the values are made.
        let column = e[a..].iter().step_by(kv);
        let own = ctx.stack.len() * m;
        let (_, _, beta) = ctx.parts();
        let mut s = 0.0;
        match self.latent_of(pos) {
            Some(_) => {
                let b = &mut beta[own..own + m];
                for (bs, &x) in b.iter_mut().zip(column) {
                    *bs = x;
                    s += x;
                }
                scale(b, s);
                ctx.stack.push(pos as u32);
            }
            None => {
                let b = &mut beta[own - m..own];
                for (bs, &x) in b.iter_mut().zip(column) {
                    *bs *= x;
                    s += *bs;
                }
                scale(b, s);
            }
        }
        ctx.ops += m as u64;
        ctx.next += 1;
    }

    fn latent_of(&self, pos: usize) -> Option<usize> {
        let l = self.latent[pos];
        (l != NO_PARENT).then_some(l as usize)
    }

    /// Pops every open latent node whose subtree ends before `pos`, sending its upward
    /// message `W beta` into its parent's `beta`.
    fn close_finished(&self, ctx: &mut Context, pos: usize) {
        let m = self.m;
        let parent = self.parent[pos];
        while let Some(&top) = ctx.stack.last() {
            if top == parent || parent == NO_PARENT {
                break;
            }
            ctx.stack.pop();
            let l = self.latent[top as usize] as usize;
            // The popped node's slot, and its parent's just below.
            let own = ctx.stack.len() * m;
            let (scratch, _, beta) = ctx.parts();
            // scratch[j] = sum_k W[j][k] beta[k], k ascending, as scaled rows of W^T.
            mix(&beta[own..own + m], &self.transition_t[l], scratch);
            let b = &mut beta[own - m..own];
            let mut s = 0.0;
            for (bj, sj) in b.iter_mut().zip(&*scratch) {
                *bj *= sj;
                s += *bj;
            }
            scale(b, s);
            ctx.ops += (m * m) as u64;
        }
    }
}

impl Context {
    /// The weights the last prepared position mixes with.
    fn weights(&self) -> &[f64] {
        &self.state[self.weights..][..self.m]
    }

    /// Starts loading what readying this context for its next variable reads first (see
    /// [`crate::simd::prefetch`]): the top of its stack, that node's `alpha` and `beta`, and
    /// the scratch weights.
    pub fn prefetch(&self) {
        let Some(top) = self.stack.last() else {
            return;
        };
        prefetch(top);
        // The top node's slot: alpha at m + (depth - 1) * m, beta one half further.
        let own = self.stack.len() * self.m;
        let half = (self.state.len() - self.m) / 2;
        for i in [0, own, own + half] {
            if let Some(x) = self.state.get(i) {
                prefetch(x);
            }
        }
    }

    /// `(scratch, alpha, beta)`.
    fn parts(&mut self) -> (&mut [f64], &mut [f64], &mut [f64]) {
        let (scratch, slots) = self.state.split_at_mut(self.m);
        let (alpha, beta) = slots.split_at_mut(slots.len() / 2);
        (scratch, alpha, beta)
    }
}

/// The largest number of latent positions on one root-to-node path: the most that are
/// open at once while coding in pre-order (`parent[pos] < pos`).
fn open_latents(parent: &[u32], latent: &[u32]) -> usize {
    let mut chain = vec![0usize; parent.len()];
    for pos in 0..parent.len() {
        let above = match parent[pos] {
            NO_PARENT => 0,
            p => chain[p as usize],
        };
        chain[pos] = above + usize::from(latent[pos] != NO_PARENT);
    }
    chain.into_iter().max().unwrap_or(0)
}

/// Normalises `v` given `s`, the sum of its values in ascending order (callers take it as
/// they make the values): divides by it. A zero or non-finite sum (possible only with zero
/// weights in a hand-made model) resets to uniform, which the decoder mirrors exactly.
#[inline]
fn scale(v: &mut [f64], s: f64) {
    // 0 < s < inf: positive and finite (NaN fails both), in two compares where
    // `is_finite` compiled to a dozen integer operations.
    if s > 0.0 && s < f64::INFINITY {
        divide(v, s);
    } else {
        let u = 1.0 / v.len() as f64;
        v.fill(u);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::tests::{random_circuit, random_parents};
    use crate::coder::Cdf;
    use crate::rng::Rng;

    /// A random circuit whose values from 3 on never occurred in training: their emission
    /// weight is one smoothing constant in every row, as a self-trained model has them.
    fn circuit_with_unused_values(rng: &mut Rng, d: usize, k: u16, m: usize) -> Circuit {
        let tree = crate::learn::chow_liu::preorder(&random_parents(rng, d)).unwrap();
        let mut weights =
            |n: usize| -> Vec<f32> { (0..n).map(|_| (0.05 + rng.next_f64()) as f32).collect() };
        let prior = weights(m);
        let transition = weights((tree.latent_count() - 1) * m * m);
        let mut emission = weights(d * m * usize::from(k));
        for row in emission.chunks_mut(usize::from(k)) {
            row[3..].fill(1e-3);
        }
        Circuit::new(m, vec![k; d], tree, prior, transition, emission).unwrap()
    }

    #[test]
    fn shared_columns_give_the_bits_of_mixing_every_column() {
        let mut rng = Rng::new(5);
        for (d, k, m) in [(6, 85, 3), (9, 40, 8), (4, 256, 1)] {
            let c = circuit_with_unused_values(&mut rng, d, k, m);
            let cond = Conditionals::new(&c);
            assert!(cond.shared.iter().all(Option::is_some), "k = {k}");
            let plain = Conditionals {
                shared: vec![None; d],
                ..cond.clone()
            };
            // 8 records (a full group) and 3 (the remainder path).
            for n in [8, 3] {
                // The records' values, position by position.
                let values: Vec<Vec<u8>> = (0..d)
                    .map(|_| (0..n).map(|_| rng.below(4) as u8).collect())
                    .collect();
                let mut ctxs = vec![Context::default(); n];
                let mut want_ctxs = ctxs.clone();
                ctxs.iter_mut().for_each(|x| cond.begin(x));
                want_ctxs.iter_mut().for_each(|x| plain.begin(x));
                let (mut q, mut want_q) = (vec![0.0; n * 256], vec![0.0; n * 256]);
                let (mut sums, mut want_sums) = (vec![0.0; n], vec![0.0; n]);
                let mut expanded = vec![0.0; n * 256];
                let (mut cdf, mut want_cdf) = (Cdf::default(), Cdf::default());
                for (pos, value) in values.iter().enumerate() {
                    let kv = usize::from(k);
                    plain.distributions(&mut want_ctxs, &mut want_q, &mut want_sums);
                    let mut expanded_ctxs = ctxs.clone();
                    cond.distributions(&mut expanded_ctxs, &mut expanded, &mut sums);
                    assert_eq!(sums, want_sums, "expanded sums at {pos}");
                    cond.class_distributions(&mut ctxs, &mut q, &mut sums);
                    assert_eq!(sums, want_sums, "sums at {pos}");
                    let classes = cond.classes(pos).expect("shared");
                    for i in 0..n {
                        let want = &want_q[i * 256..][..kv];
                        assert_eq!(&expanded[i * 256..][..kv], want, "expanded at {pos}");
                        want_cdf.quantize_summed(want, want_sums[i]);
                        cdf.quantize_classes(&q[i * 256..][..classes.len()], classes, sums[i]);
                        assert_eq!(cdf, want_cdf, "frequencies at {pos}");
                        cond.observe(&mut ctxs[i], value[i]);
                        plain.observe(&mut want_ctxs[i], value[i]);
                    }
                }
            }
        }
    }

    #[test]
    fn a_record_codes_within_the_memory_it_begins_with() {
        let mut rng = Rng::new(21);
        for d in [1, 2, 7, 40] {
            let c = random_circuit(&mut rng, d, 5, 3);
            let cond = Conditionals::new(&c);
            let mut ctx = Context::default();
            cond.begin(&mut ctx);
            let before = ctx.state.capacity();
            let stack = ctx.stack.capacity();
            let mut q = vec![0.0; 256];
            for _ in 0..d {
                let (pos, _) = cond.distribution(&mut ctx, &mut q);
                cond.observe(&mut ctx, rng.below(cond.alphabet(pos) as u64) as u8);
                assert!(ctx.stack.len() <= cond.depth, "d = {d}");
            }
            assert_eq!(ctx.state.capacity(), before, "d = {d}");
            assert_eq!(ctx.stack.capacity(), stack, "d = {d}");
        }
    }
}
