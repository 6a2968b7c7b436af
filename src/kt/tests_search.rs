//! Tests of the search generator's reuse of earlier pieces (fast: short sequences).

use super::cost::code_bits;
use super::generate::literal::literal;
use super::generate::search::search;
use super::interp::{run, Limits};

/// 20 fixed "random" bytes, no structure a primitive could catch.
const X: [u8; 20] = [
    171, 8, 138, 108, 31, 230, 126, 161, 19, 80, 7, 85, 131, 18, 135, 207, 12, 193, 9, 86,
];

/// Searches `seq`, checks the program reproduces it, uses `op`, and costs at most the
/// literal of `X` plus `extra` bits.
fn reuses(seq: &[u8], op: &str, extra: u64) {
    let p = search(seq);
    let want: Vec<i64> = seq.iter().map(|&b| b as i64).collect();
    assert_eq!(run(&p, &Limits::default()).expect("runs"), want);
    let text = p.to_text();
    assert!(text.contains(op), "expected {op}:\n{text}");
    let bound = code_bits(&literal(&X)) + extra;
    assert!(
        code_bits(&p) <= bound,
        "{} > {bound} bits:\n{text}",
        code_bits(&p)
    );
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn search_reuses_copies_reverses_and_slices() {
    let rev: Vec<u8> = X.iter().rev().copied().collect();
    reuses(&cat(&[&X, &rev]), "reverse_list", 20);
    reuses(
        &cat(&[&X, &[1, 2, 3, 4, 5, 6, 7, 8], &X]),
        "concatenate",
        40,
    );
    reuses(
        &cat(&[&X, &X[4..15]]),
        "get_subsequence_between_indices",
        35,
    );
    reuses(
        &cat(&[&X, &rev[2..12]]),
        "get_subsequence_between_indices",
        45,
    );
}

#[test]
fn search_reuses_elementwise_transforms() {
    let sub: Vec<u8> = X.iter().map(|&x| if x == 8 { 250 } else { x }).collect();
    reuses(&cat(&[&X, &sub]), "substitute", 35);
    let add: Vec<u8> = X.iter().map(|&x| x + 17).collect();
    reuses(&cat(&[&X, &add]), "add_item_list", 30);
    let m: Vec<u8> = X.iter().map(|&x| x % 50).collect();
    reuses(&cat(&[&X, &m]), "modulo_item_list", 30);
    let even: Vec<u8> = X.iter().copied().filter(|x| x % 2 == 0).collect();
    reuses(&cat(&[&X, &even]), "filter", 25);
    let mut top = X.to_vec();
    top.sort_unstable_by(|a, b| b.cmp(a));
    reuses(&cat(&[&X, &top[..6]]), "max_n", 30);
}

#[test]
fn search_interleave_halves_reuse_each_other() {
    let rev: Vec<u8> = X.iter().rev().copied().collect();
    let il: Vec<u8> = X.iter().zip(&rev).flat_map(|(&a, &b)| [a, b]).collect();
    reuses(&il, "interleave", 30);
    reuses(&il, "reverse_list", 30);
}
