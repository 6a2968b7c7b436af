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

/// De-interleave candidates scored by exact code bits.
const IL_KEEP: usize = 3;

/// `interleave(A, B)` from the segmentation emitted first (`first`) and the one after it.
fn interleaved(first: &[(usize, Piece)], second: &[(usize, Piece)], a_first: bool) -> Program {
    let mut lines = Vec::new();
    let mut line_at = HashMap::new();
    let x = emit(&mut lines, first, &mut line_at);
    let y = emit(&mut lines, second, &mut line_at);
    let (a, b) = if a_first { (x, y) } else { (y, x) };
    lines.push(Line {
        op: Op::Interleave,
        args: vec![Arg::Var(a), Arg::Var(b)],
    });
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
    let mut lines = Vec::new();
    emit(&mut lines, &whole, &mut HashMap::new());
    cands.push(Program::from_lines(lines));
    // De-interleave: interleave(A, B) with m pairs and the tail on one side; either half may
    // be segmented first and reused by the other. The few best estimates are scored exactly.
    let mut il: Vec<(f64, Program)> = Vec::new();
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
                for a_first in [true, false] {
                    let (x, y) = if a_first { (&a, &b) } else { (&b, &a) };
                    let (cx, px) = segment(x);
                    if cx > cost0 {
                        continue;
                    }
                    let xy = [x.as_slice(), y.as_slice()].concat();
                    let (cy, py) = segment_after(&xy, &px, x.len());
                    let c = cx + cy + OPB + 2.0 * VAR;
                    if il.len() < IL_KEEP || c < il[IL_KEEP - 1].0 {
                        il.push((c, interleaved(&px, &py, a_first)));
                        il.sort_by(|p, q| p.0.total_cmp(&q.0));
                        il.truncate(IL_KEEP);
                    }
                }
            }
        }
    }
    cands.extend(il.into_iter().map(|(_, p)| p));
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
