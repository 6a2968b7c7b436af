//! Brute-force checks of the circuit semantics on tiny random circuits.

use super::*;
use crate::rng::Rng;

/// A random rooted tree over `d` variables: variable 0 is the root and every other
/// variable's parent is drawn uniformly among the lower-numbered ones.
pub(crate) fn random_parents(rng: &mut Rng, d: usize) -> Vec<u32> {
    (0..d)
        .map(|v| {
            if v == 0 {
                NO_PARENT
            } else {
                rng.below(v as u64) as u32
            }
        })
        .collect()
}

/// A random HCLT: random tree (each node's parent uniformly among earlier ones, then listed
/// in pre-order), random alphabets in 1..=k_max, random positive weights.
pub(crate) fn random_circuit(rng: &mut Rng, d: usize, k_max: usize, m: usize) -> Circuit {
    let parent_of_var = random_parents(rng, d);
    let tree = crate::learn::chow_liu::preorder(&parent_of_var).unwrap();
    let alphabet: Vec<u16> = (0..d).map(|_| 1 + rng.below(k_max as u64) as u16).collect();
    let mut weights =
        |n: usize| -> Vec<f32> { (0..n).map(|_| (0.05 + rng.next_f64()) as f32).collect() };
    let prior = weights(m);
    let transition = weights((tree.latent_count() - 1) * m * m);
    let emission = weights(
        tree.vars()
            .iter()
            .map(|&v| alphabet[v as usize] as usize * m)
            .sum(),
    );
    Circuit::new(m, alphabet, tree, prior, transition, emission).unwrap()
}

/// Every complete assignment of the alphabet, in lexicographic order of variables.
pub(crate) fn assignments(alphabet: &[u16]) -> Vec<Vec<u8>> {
    let mut all = vec![Vec::new()];
    for &k in alphabet {
        all = all
            .into_iter()
            .flat_map(|prefix: Vec<u8>| {
                (0..k as u8).map(move |a| {
                    let mut x = prefix.clone();
                    x.push(a);
                    x
                })
            })
            .collect();
    }
    all
}

fn probability(p: &Params, x: &[u8], ws: &mut Workspace) -> f64 {
    p.log_likelihood(x, ws).exp()
}

#[test]
fn assignments_sum_to_one() {
    let mut rng = Rng::new(1);
    let mut ws = Workspace::default();
    for trial in 0..40 {
        let d = 1 + trial % 8;
        let c = random_circuit(&mut rng, d, 4, 1 + trial % 3);
        let p = c.params();
        let total: f64 = assignments(c.alphabet())
            .iter()
            .map(|x| probability(&p, x, &mut ws))
            .sum();
        assert!((total - 1.0).abs() < 1e-9, "trial {trial}: sum {total}");
    }
}

#[test]
fn marginals_equal_brute_force_sums() {
    let mut rng = Rng::new(2);
    let mut ws = Workspace::default();
    for trial in 0..30 {
        let d = 2 + trial % 6;
        let c = random_circuit(&mut rng, d, 3, 1 + trial % 3);
        let p = c.params();
        let all = assignments(c.alphabet());
        let target = &all[rng.below(all.len() as u64) as usize];
        let observed: Vec<bool> = (0..d).map(|_| rng.below(2) == 0).collect();
        let brute: f64 = all
            .iter()
            .filter(|x| (0..d).all(|v| !observed[v] || x[v] == target[v]))
            .map(|x| probability(&p, x, &mut ws))
            .sum();
        let fast = p.log_marginal(target, &observed, &mut ws).exp();
        assert!(
            (fast - brute).abs() < 1e-9 * brute.max(1e-300) + 1e-15,
            "trial {trial}: {fast} vs {brute}"
        );
    }
}

#[test]
fn conditionals_equal_ratios_of_marginals() {
    let mut rng = Rng::new(3);
    let mut ws = Workspace::default();
    let mut ctx = Context::default();
    for trial in 0..30 {
        let d = 1 + trial % 8;
        let c = random_circuit(&mut rng, d, 4, 1 + trial % 3);
        let p = c.params();
        let cond = Conditionals::new(&c);
        let all = assignments(c.alphabet());
        let x = &all[rng.below(all.len() as u64) as usize];
        let vars = c.tree().vars();
        cond.begin(&mut ctx);
        let mut q = vec![0.0; 256];
        let mut observed = vec![false; d];
        for (pos, &var) in vars.iter().enumerate() {
            let (at, s) = cond.distribution(&mut ctx, &mut q);
            assert_eq!(at, pos);
            let v = var as usize;
            let k = c.alphabet()[v] as usize;
            let ascending = q[..k].iter().fold(0.0, |s, &x| s + x);
            assert_eq!(s.to_bits(), ascending.to_bits(), "sum in index order");
            let before = p.log_marginal(x, &observed, &mut ws).exp();
            observed[v] = true;
            let mut y = x.clone();
            for (a, &qa) in q[..k].iter().enumerate() {
                y[v] = a as u8;
                let want = p.log_marginal(&y, &observed, &mut ws).exp() / before;
                let got = qa / s;
                assert!(
                    (got - want).abs() < 1e-9,
                    "trial {trial} pos {pos} a {a}: {got} vs {want}"
                );
            }
            cond.observe(&mut ctx, x[v]);
        }
    }
}

#[test]
fn model_file_round_trip_is_bit_identical() {
    let mut rng = Rng::new(4);
    let c = random_circuit(&mut rng, 7, 5, 3);
    let bytes = c.to_bytes();
    let back = Circuit::from_bytes(&bytes).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.to_bytes(), bytes);
    assert_eq!(back.hash(), c.hash());
}

#[test]
fn corrupt_model_files_are_rejected() {
    let mut rng = Rng::new(5);
    let bytes = random_circuit(&mut rng, 5, 3, 2).to_bytes();
    for len in 0..bytes.len() {
        assert!(
            Circuit::from_bytes(&bytes[..len]).is_err(),
            "truncated to {len}"
        );
    }
    for i in 0..bytes.len() {
        for bit in [0, 3, 7] {
            let mut bad = bytes.clone();
            bad[i] ^= 1 << bit;
            assert!(
                Circuit::from_bytes(&bad).is_err(),
                "flip byte {i} bit {bit}"
            );
        }
    }
}

#[test]
fn tree_rejects_non_preorder() {
    // 0 -> {1, 2}, 1 -> {3}: pre-order is 0 1 3 2, so listing 3 as child of 1 at pos 3
    // after 2 is not a pre-order.
    assert!(Tree::new(vec![0, 1, 2, 3], vec![NO_PARENT, 0, 0, 1]).is_err());
    assert!(Tree::new(vec![0, 1, 2, 3], vec![NO_PARENT, 0, 1, 0]).is_ok());
    assert!(Tree::new(vec![0, 0], vec![NO_PARENT, 0]).is_err());
    assert!(Tree::new(vec![0, 1], vec![NO_PARENT, 1]).is_err());
}

#[test]
fn latent_nodes_are_root_and_inner() {
    let t = Tree::new(vec![2, 0, 1], vec![NO_PARENT, 0, 1]).unwrap();
    assert_eq!(t.latent_index(0), Some(0));
    assert_eq!(t.latent_index(1), Some(1));
    assert_eq!(t.latent_index(2), None);
    assert_eq!(t.depth(), 2);
}

#[test]
fn coding_work_per_record_is_linear_in_circuit_size() {
    // Multiply-adds for all D conditionals of one record, divided by the circuit size |p|,
    // must not grow with D (the bound asked for is O(log D * |p|); this scheme is O(|p|)).
    let mut rng = Rng::new(6);
    let mut ratios = Vec::new();
    for d in [64usize, 256, 1024] {
        let c = random_circuit(&mut rng, d, 4, 4);
        let cond = Conditionals::new(&c);
        let mut ctx = Context::default();
        let mut q = vec![0.0; 256];
        cond.begin(&mut ctx);
        for _ in 0..d {
            cond.distribution(&mut ctx, &mut q);
            cond.observe(&mut ctx, 0);
        }
        ratios.push(ctx.ops as f64 / c.size() as f64);
    }
    assert!(
        ratios.iter().all(|&r| r > 0.3 && r < 2.5),
        "ops / |p| = {ratios:?}"
    );
    assert!(
        ratios[2] < ratios[0] * 1.5,
        "work per |p| grows with D: {ratios:?}"
    );
}
