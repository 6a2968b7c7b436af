//! Learning tests: tree recovery, EM monotonicity, determinism across thread counts.

use super::chow_liu::SpanningTree;
use super::*;
use crate::circuit::NO_PARENT;
use crate::data::Dataset;
use crate::rng::Rng;

/// Samples `n` records from a tree-shaped Markov model over 4-valued variables: each child
/// copies its parent's value with probability 0.85, else draws uniformly.
fn sample_tree_model(rng: &mut Rng, parent: &[u32], n: usize) -> Dataset {
    let d = parent.len();
    let tree = chow_liu::preorder(parent).unwrap();
    let mut values = Vec::with_capacity(n * d);
    let mut x = vec![0u8; d];
    for _ in 0..n {
        for &v in tree.vars() {
            let p = parent[v as usize];
            x[v as usize] = if p != NO_PARENT && rng.next_f64() < 0.85 {
                x[p as usize]
            } else {
                rng.below(4) as u8
            };
        }
        values.extend_from_slice(&x);
    }
    Dataset::with_alphabet(d, values, vec![4; d]).unwrap()
}

#[test]
fn chow_liu_recovers_the_generating_tree() {
    let mut rng = Rng::new(11);
    for _ in 0..3 {
        let d = 9;
        let parent = crate::circuit::tests::random_parents(&mut rng, d);
        let data = sample_tree_model(&mut rng, &parent, 4000);
        let mi = mi::mutual_information(&data, 16);
        let learned = SpanningTree::maximum(&mi, d);
        let edges: Vec<(u32, u32)> = (1..d as u32).map(|v| (parent[v as usize], v)).collect();
        assert_eq!(learned.edges(), SpanningTree::from_edges(d, &edges).edges());
    }
}

#[test]
fn balanced_tree_is_logarithmic() {
    // A path of 1023 variables: its centre-rooted depth is 511, balanced about 10.
    let d = 1023u32;
    let path: Vec<(u32, u32)> = (1..d).map(|v| (v - 1, v)).collect();
    let tree = SpanningTree::from_edges(d as usize, &path);
    let centred = chow_liu::preorder(&tree.rooted_at_centre()).unwrap();
    assert_eq!(centred.depth(), 511);
    let balanced = chow_liu::preorder(&tree.balanced()).unwrap();
    assert!(balanced.depth() <= 10, "depth {}", balanced.depth());
}

fn small_problem(seed: u64) -> (crate::Circuit, Dataset) {
    let mut rng = Rng::new(seed);
    let values: Vec<u8> = (0..300 * 6)
        .map(|i| ((i % 6) as u64 * rng.below(3) % 3) as u8)
        .collect();
    let data = Dataset::with_alphabet(6, values, vec![3; 6]).unwrap();
    let options = StructureOptions {
        hidden: 3,
        ..Default::default()
    };
    let tree = learn_tree(&data, &options).unwrap();
    (initial_circuit(tree, &data, 3, seed).unwrap(), data)
}

#[test]
fn full_batch_em_never_decreases_likelihood() {
    let (circuit, data) = small_problem(12);
    let options = EmOptions {
        epochs: 0,
        full_epochs: 15,
        pseudocount: 1e-9,
        ..Default::default()
    };
    let (trained, log) = train(&circuit, &data, None, &options, &mut |_| {}).unwrap();
    for w in log.windows(2) {
        assert!(
            w[1].train_bpd <= w[0].train_bpd + 1e-12,
            "{} then {}",
            w[0].train_bpd,
            w[1].train_bpd
        );
    }
    assert!(
        log.last().unwrap().train_bpd < log[0].train_bpd - 0.01,
        "EM should learn something"
    );
    let final_bpd = trained.params().bits_per_dim(&data);
    assert!(final_bpd <= log.last().unwrap().train_bpd + 1e-6);
}

#[test]
fn same_seed_gives_same_model_on_any_thread_count() {
    let (circuit, data) = small_problem(13);
    let options = EmOptions {
        epochs: 2,
        full_epochs: 1,
        batch_size: 64,
        ..Default::default()
    };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            train(&circuit, &data, None, &options, &mut |_| {})
                .unwrap()
                .0
                .to_bytes()
        })
    };
    assert_eq!(run(1), run(2));
    assert_eq!(run(1), run(3));
}
