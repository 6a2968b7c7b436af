//! The search generator: detectors for runs (`repeat_num`), progressions (`range_func_up`,
//! `range_func_interval`) and periodic repeats (`repeat_list`), an optimal segmentation of
//! the sequence by dynamic programming under the prefix-free code's bit cost (pieces joined
//! by one `concatenate`), and inverse-operation analysis: de-interleaving into two
//! segmented halves (every split point, tail on either side) and differences (`scan_add`).
//! The cheapest correct candidate by exact code bits wins; the literal is always a candidate.

use crate::kt::cost::code_bits;
use crate::kt::dsl::{Arg, Line, Op, Program};
use crate::kt::interp::{run, Limits};

const OPB: f64 = 4.46; // log2(22)
const INT: f64 = 8.006; // log2(257)
const SMALL: f64 = 3.17; // log2(9)
const VAR: f64 = 3.0;

fn int_cost(x: i64) -> f64 {
    if (0..256).contains(&x) {
        INT
    } else {
        INT + 64.0
    }
}

fn small_cost(x: i64) -> f64 {
    if (0..8).contains(&x) {
        SMALL
    } else {
        SMALL + int_cost(x)
    }
}

#[derive(Debug, Clone)]
enum Piece {
    Lit(Vec<i64>),
    Run(i64, i64),
    Up(i64, i64),
    Interval(i64, i64, i64),
    Repeat(i64, Vec<i64>),
}

fn lit_cost(xs: &[i64]) -> f64 {
    OPB + int_cost(xs.len() as i64) + xs.iter().map(|&x| int_cost(x)).sum::<f64>()
}

/// Optimal segmentation; returns (estimated bits, pieces).
fn segment(s: &[i64]) -> (f64, Vec<Piece>) {
    let n = s.len();
    let mut best = vec![f64::INFINITY; n + 1];
    let mut back: Vec<Option<(usize, Piece)>> = vec![None; n + 1];
    best[0] = 0.0;
    // Literal prefix sums of element costs.
    let mut pre = vec![0.0; n + 1];
    for i in 0..n {
        pre[i + 1] = pre[i] + int_cost(s[i]);
    }
    for i in 0..n {
        if !best[i].is_finite() {
            continue;
        }
        let base = best[i] + VAR;
        let relax = |j: usize,
                     c: f64,
                     p: &dyn Fn() -> Piece,
                     best: &mut Vec<f64>,
                     back: &mut Vec<Option<(usize, Piece)>>| {
            if base + c < best[j] {
                best[j] = base + c;
                back[j] = Some((i, p()));
            }
        };
        for j in i + 1..=n {
            let c = OPB + int_cost((j - i) as i64) + pre[j] - pre[i];
            relax(j, c, &|| Piece::Lit(s[i..j].to_vec()), &mut best, &mut back);
        }
        // Runs.
        let mut j = i + 1;
        while j < n && s[j] == s[i] {
            j += 1;
            let c = OPB + int_cost((j - i) as i64) + int_cost(s[i]);
            let (v, k) = (s[i], (j - i) as i64);
            relax(j, c, &|| Piece::Run(k, v), &mut best, &mut back);
        }
        // Progressions.
        if i + 1 < n {
            let d = s[i + 1] - s[i];
            if d != 0 {
                let mut j = i + 2;
                loop {
                    let last = s[j - 1];
                    let (a, c) = if d == 1 {
                        (Piece::Up(s[i], last), OPB + int_cost(s[i]) + int_cost(last))
                    } else {
                        let end = last + d.signum();
                        (
                            Piece::Interval(s[i], end, d),
                            OPB + int_cost(s[i]) + int_cost(end) + small_cost(d),
                        )
                    };
                    relax(j, c, &|| a.clone(), &mut best, &mut back);
                    if j < n && s[j] - s[j - 1] == d {
                        j += 1;
                    } else {
                        break;
                    }
                }
            }
        }
        // Periodic repeats of a literal base.
        for p in 2..=16.min((n - i) / 2) {
            let mut l = p;
            while i + l < n && s[i + l] == s[i + l - p] {
                l += 1;
            }
            let kmax = l / p;
            for k in 2..=kmax {
                let c = lit_cost(&s[i..i + p]) + OPB + small_cost(k as i64) + VAR;
                let base = s[i..i + p].to_vec();
                relax(
                    i + k * p,
                    c,
                    &|| Piece::Repeat(k as i64, base.clone()),
                    &mut best,
                    &mut back,
                );
            }
        }
    }
    let mut pieces = Vec::new();
    let mut j = n;
    while j > 0 {
        let (i, p) = back[j].clone().expect("reachable");
        pieces.push(p);
        j = i;
    }
    pieces.reverse();
    let join = if pieces.len() > 1 { OPB + SMALL } else { 0.0 };
    (best[n] + join, pieces)
}

/// Appends the lines of a segmentation; returns the line holding its value.
fn emit(lines: &mut Vec<Line>, pieces: &[Piece]) -> usize {
    let mut vars = Vec::new();
    for p in pieces {
        let line = match p {
            Piece::Lit(xs) => Line {
                op: Op::SetList,
                args: vec![Arg::List(xs.clone())],
            },
            Piece::Run(k, v) => Line {
                op: Op::RepeatNum,
                args: vec![Arg::Int(*k), Arg::Int(*v)],
            },
            Piece::Up(a, b) => Line {
                op: Op::RangeUp,
                args: vec![Arg::Int(*a), Arg::Int(*b)],
            },
            Piece::Interval(a, b, d) => Line {
                op: Op::RangeInterval,
                args: vec![Arg::Int(*a), Arg::Int(*b), Arg::Int(*d)],
            },
            Piece::Repeat(k, base) => {
                lines.push(Line {
                    op: Op::SetList,
                    args: vec![Arg::List(base.clone())],
                });
                Line {
                    op: Op::RepeatList,
                    args: vec![Arg::Int(*k), Arg::Var(lines.len() - 1)],
                }
            }
        };
        lines.push(line);
        vars.push(lines.len() - 1);
    }
    if vars.len() == 1 {
        return vars[0];
    }
    lines.push(Line {
        op: Op::Concat,
        args: vars.into_iter().map(Arg::Var).collect(),
    });
    lines.len() - 1
}

fn program_of(parts: &[&[Piece]], combine: Option<Op>) -> Program {
    let mut lines = Vec::new();
    let vars: Vec<usize> = parts.iter().map(|p| emit(&mut lines, p)).collect();
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
    let mut best_il: Option<(f64, Vec<Piece>, Vec<Piece>)> = None;
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
                let (cb, pb) = segment(&b);
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
    let v = emit(&mut lines, &pd);
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
