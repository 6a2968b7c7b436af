//! The search generator: an optimal segmentation of the sequence by dynamic programming
//! under the prefix-free code's bit cost (pieces joined by one `concatenate`; primitives and
//! reuses of earlier pieces, see [`super::segment`]), and inverse-operation analysis:
//! de-interleaving into two segmented halves (every split point, tail on either side; the
//! second half may reuse the first's pieces) and differences (`scan_add`).
//! The cheapest correct candidate by exact code bits wins; the literal is always a candidate.

use super::segment::{emit, segment, segment_after, Piece, OPB, VAR};
use crate::kt::cost::code_bits;
use crate::kt::dsl::{Arg, Line, Op, Program};
use crate::kt::interp::{run, Limits};
use std::collections::HashMap;

fn program_of(parts: &[&[(usize, Piece)]], combine: Option<Op>) -> Program {
    let mut lines = Vec::new();
    let mut line_at = HashMap::new();
    let vars: Vec<usize> = parts
        .iter()
        .map(|p| emit(&mut lines, p, &mut line_at))
        .collect();
    if let Some(op) = combine {
        lines.push(Line {
            op,
            args: vars.into_iter().map(Arg::Var).collect(),
        });
    }
    Program::from_lines(lines)
}

/// The cheapest program found for `seq` (by exact code bits), always correct.
pub fn search(seq: &[u8]) -> Program {
    let s: Vec<i64> = seq.iter().map(|&b| b as i64).collect();
    let n = s.len();
    let mut cands: Vec<Program> = vec![super::literal::literal(seq)];
    if n == 0 {
        return cands.pop().expect("one");
    }
    let (cost0, whole) = segment(&s);
    cands.push(program_of(&[&whole], None));
    // De-interleave: interleave(A, B) with m pairs and the tail on one side.
    type Seg = Vec<(usize, Piece)>;
    let mut best_il: Option<(f64, Seg, Seg)> = None;
    for m in 2..=n / 2 {
        let evens: Vec<i64> = (0..m).map(|k| s[2 * k]).collect();
        let odds: Vec<i64> = (0..m).map(|k| s[2 * k + 1]).collect();
        let tail = &s[2 * m..];
        for tail_to_a in [true, false] {
            if tail.is_empty() && !tail_to_a {
                continue;
            }
            let (mut a, mut b) = (evens.clone(), odds.clone());
            if tail_to_a {
                a.extend_from_slice(tail)
            } else {
                b.extend_from_slice(tail)
            }
            // Python's interleave appends the tail of the *strictly* longer list, else of B.
            if tail.is_empty()
                || (tail_to_a && a.len() > b.len())
                || (!tail_to_a && b.len() >= a.len())
            {
                let (ca, pa) = segment(&a);
                if ca > cost0 {
                    continue;
                }
                let ab = [a.as_slice(), b.as_slice()].concat();
                let (cb, pb) = segment_after(&ab, &pa, a.len());
                let c = ca + cb + OPB + 2.0 * VAR;
                if best_il.as_ref().is_none_or(|x| c < x.0) {
                    best_il = Some((c, pa, pb));
                }
            }
        }
    }
    if let Some((_, pa, pb)) = best_il {
        cands.push(program_of(&[&pa, &pb], Some(Op::Interleave)));
    }
    // Differences: scan_add(d).
    let mut d = Vec::with_capacity(n);
    let mut prev = 0;
    for &x in &s {
        d.push(x - prev);
        prev = x;
    }
    let (_, pd) = segment(&d);
    let mut lines = Vec::new();
    let v = emit(&mut lines, &pd, &mut HashMap::new());
    lines.push(Line {
        op: Op::ScanAdd,
        args: vec![Arg::Var(v)],
    });
    cands.push(Program::from_lines(lines));
    let lim = Limits::default();
    cands
        .into_iter()
        .filter(|p| matches!(run(p, &lim), Ok(out) if out == s))
        .min_by_key(code_bits)
        .expect("the literal is always correct")
}
