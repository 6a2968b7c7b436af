//! Optimal segmentation of a sequence by dynamic programming under (an estimate of) the
//! program code's bit cost. A piece is a primitive (literal, run, progression, periodic
//! repeat) or *reuses an earlier piece*: the same line again (one more `concatenate`
//! argument), or that line through a slice, a reverse, a reversed slice, `substitute`, a
//! constant added/subtracted/taken modulo, `get_subsequence_with_jumps`, `filter` or
//! `max_n`/`min_n`. The sampler builds its sequences exactly so (lists reused, reversed,
//! substituted...), and a reuse costs a few bits where a literal costs 8 per element.
//!
//! The earlier pieces a position can reuse are those of the best segmentation of the prefix
//! (its back-pointer chain), so the DP is a greedy-in-the-prefix heuristic, not exact; the
//! caller scores every candidate by the exact code length anyway.

use crate::kt::dsl::{Arg, Line, Op, Pred};
use std::collections::HashMap;

/// log2(22): an op (21 primitives + END).
pub const OPB: f64 = 4.46;
/// log2(257): an integer 0..=255.
pub const INT: f64 = 8.006;
/// log2(9): a small parameter 0..=7.
pub const SMALL: f64 = 3.17;
/// A reference to an earlier line (log2 of the line count, typically ~8 lines).
pub const VAR: f64 = 3.0;

/// Bits of an integer argument.
pub fn int_cost(x: i64) -> f64 {
    if (0..256).contains(&x) {
        INT
    } else {
        INT + 64.0
    }
}

/// Bits of a small argument.
pub fn small_cost(x: i64) -> f64 {
    if (0..8).contains(&x) {
        SMALL
    } else {
        SMALL + int_cost(x)
    }
}

/// One piece of a segmentation. Earlier pieces are named by their start position.
#[derive(Debug, Clone)]
pub enum Piece {
    /// `set_list`.
    Lit(Vec<i64>),
    /// `repeat_num(k, v)`.
    Run(i64, i64),
    /// `range_func_up(a, b)`.
    Up(i64, i64),
    /// `range_func_interval(a, b, d)`.
    Interval(i64, i64, i64),
    /// `repeat_list(k, set_list(base))`.
    Repeat(i64, Vec<i64>),
    /// The earlier piece again (no new line).
    Ref(usize),
    /// `op` on the earlier piece, with the other arguments in slot order.
    Derived(usize, Op, Vec<Arg>),
    /// `get_subsequence_between_indices(reverse_list(earlier), a, b)`.
    RevSlice(usize, i64, i64),
}

/// Cost of a literal piece's line.
pub fn lit_cost(xs: &[i64]) -> f64 {
    OPB + int_cost(xs.len() as i64) + xs.iter().map(|&x| int_cost(x)).sum::<f64>()
}

fn derived_cost(args: &[Arg]) -> f64 {
    OPB + VAR
        + args
            .iter()
            .map(|a| match a {
                Arg::Int(x) => int_cost(*x),
                Arg::Pred(_) => 1.58,
                _ => 0.0,
            })
            .sum::<f64>()
}

fn lcp(a: &[i64], b: &[i64]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

struct Dp<'a> {
    s: &'a [i64],
    best: Vec<f64>,
    back: Vec<Option<(usize, Piece)>>,
}

impl Dp<'_> {
    fn relax(&mut self, i: usize, j: usize, c: f64, p: impl FnOnce() -> Piece) {
        let t = self.best[i] + VAR + c;
        if t < self.best[j] {
            self.best[j] = t;
            self.back[j] = Some((i, p()));
        }
    }

    /// Spans (start, end) of the pieces of the best segmentation of `s[..i]`.
    fn chain(&self, i: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut j = i;
        while j > 0 {
            let (a, _) = self.back[j].as_ref().expect("reachable");
            out.push((*a, j));
            j = *a;
        }
        out
    }

    fn primitives(&mut self, i: usize, pre: &[f64]) {
        let (s, n) = (self.s, self.s.len());
        for j in i + 1..=n {
            let c = OPB + int_cost((j - i) as i64) + pre[j] - pre[i];
            self.relax(i, j, c, || Piece::Lit(s[i..j].to_vec()));
        }
        let mut j = i + 1;
        while j < n && s[j] == s[i] {
            j += 1;
            let c = OPB + int_cost((j - i) as i64) + int_cost(s[i]);
            self.relax(i, j, c, || Piece::Run((j - i) as i64, s[i]));
        }
        if i + 1 < n && s[i + 1] != s[i] {
            let d = s[i + 1] - s[i];
            let mut j = i + 2;
            loop {
                let last = s[j - 1];
                if d == 1 {
                    let c = OPB + int_cost(s[i]) + int_cost(last);
                    self.relax(i, j, c, || Piece::Up(s[i], last));
                } else {
                    let end = last + d.signum();
                    let c = OPB + int_cost(s[i]) + int_cost(end) + small_cost(d);
                    self.relax(i, j, c, || Piece::Interval(s[i], end, d));
                }
                if j < n && s[j] - s[j - 1] == d {
                    j += 1;
                } else {
                    break;
                }
            }
        }
        for p in 2..=16.min((n - i) / 2) {
            let mut l = p;
            while i + l < n && s[i + l] == s[i + l - p] {
                l += 1;
            }
            for k in 2..=l / p {
                let c = lit_cost(&s[i..i + p]) + OPB + small_cost(k as i64) + VAR;
                self.relax(i, i + k * p, c, || {
                    Piece::Repeat(k as i64, s[i..i + p].to_vec())
                });
            }
        }
    }

    /// Reuses of the earlier piece `s[a0..b0]` at position `i`.
    fn reuses(&mut self, i: usize, a0: usize, b0: usize) {
        let s = self.s;
        let rest = &s[i..];
        let v = &s[a0..b0];
        let full = |w: &[i64]| w.len() <= rest.len() && rest[..w.len()] == *w;
        if full(v) {
            self.relax(i, i + v.len(), 0.0, || Piece::Ref(a0));
        }
        for a in 0..v.len() {
            let l = lcp(rest, &v[a..]);
            for l in 2..=l {
                if a == 0 && l == v.len() {
                    continue;
                }
                let args = vec![Arg::Int(a as i64), Arg::Int((a + l) as i64)];
                let c = derived_cost(&args);
                self.relax(i, i + l, c, || Piece::Derived(a0, Op::Between, args));
            }
            let l = rest
                .iter()
                .zip(v[..v.len() - a].iter().rev())
                .take_while(|(x, y)| x == y)
                .count();
            for l in 2..=l {
                if a == 0 && l == v.len() {
                    self.relax(i, i + l, OPB + VAR, || {
                        Piece::Derived(a0, Op::Reverse, vec![])
                    });
                    continue;
                }
                let c = 2.0 * OPB + VAR + 2.0 * INT + VAR;
                self.relax(i, i + l, c, || {
                    Piece::RevSlice(a0, a as i64, (a + l) as i64)
                });
            }
        }
        if v.len() >= 3 {
            self.transforms(i, a0, b0);
        }
    }

    /// `op(earlier piece, ...)` for the element-wise and selecting ops, each tried only when
    /// its first output element already matches.
    fn transforms(&mut self, i: usize, a0: usize, b0: usize) {
        let s = self.s;
        let rest = &s[i..];
        let v = &s[a0..b0];
        let full = |w: &[i64]| w.len() <= rest.len() && rest[..w.len()] == *w;
        let mut derived = |op: Op, args: Vec<Arg>, w: &[i64]| {
            if full(w) && w != v {
                let c = derived_cost(&args);
                self.relax(i, i + w.len(), c, || Piece::Derived(a0, op, args));
            }
        };
        if rest.len() >= v.len() {
            let win = &rest[..v.len()];
            if let Some((old, new)) = substitution(v, win) {
                derived(Op::Substitute, vec![Arg::Int(old), Arg::Int(new)], win);
            }
            let d = win[0] - v[0];
            if d != 0 && win.iter().zip(v).all(|(w, x)| w - x == d) {
                let op = if d > 0 { Op::AddItem } else { Op::SubItem };
                derived(op, vec![Arg::Int(d.abs())], win);
            }
            if let Some(c) = modulus(v, win) {
                derived(Op::ModItem, vec![Arg::Int(c)], win);
            }
        }
        for j in 2..=5usize {
            if rest[0] == v[0] && rest.get(1) == v.get(j) {
                let w: Vec<i64> = v.iter().step_by(j).copied().collect();
                derived(Op::Jumps, vec![Arg::Int(j as i64)], &w);
            }
        }
        for pr in Pred::ALL {
            if v.iter().find(|&&x| keeps(pr, x)) == rest.first() {
                let w: Vec<i64> = v.iter().copied().filter(|&x| keeps(pr, x)).collect();
                derived(Op::Filter, vec![Arg::Pred(pr)], &w);
            }
        }
        let (lo, hi) = (v.iter().min(), v.iter().max());
        if rest.len() < 2 || (rest.first() != lo && rest.first() != hi) {
            return;
        }
        let mut up = v.to_vec();
        up.sort_unstable();
        let down: Vec<i64> = up.iter().rev().copied().collect();
        for (op, w) in [(Op::MinN, &up), (Op::MaxN, &down)] {
            for n in 2..=lcp(rest, w) {
                let args = vec![Arg::Int(n as i64)];
                let c = derived_cost(&args);
                self.relax(i, i + n, c, || Piece::Derived(a0, op, args));
            }
        }
    }
}

fn keeps(p: Pred, x: i64) -> bool {
    match p {
        Pred::IsEven => x % 2 == 0,
        Pred::IsOdd => x % 2 != 0,
        Pred::IsNotZero => x != 0,
    }
}

/// `(old, new)` with `substitute(v, old, new) == w`, if any (and `w != v`).
fn substitution(v: &[i64], w: &[i64]) -> Option<(i64, i64)> {
    let k = v.iter().zip(w).position(|(a, b)| a != b)?;
    let (old, new) = (v[k], w[k]);
    let ok = v
        .iter()
        .zip(w)
        .all(|(&a, &b)| if a == old { b == new } else { a == b });
    ok.then_some((old, new))
}

/// `c` with `v % c == w` elementwise (Python modulo, `c > max(w)`), if any and `w != v`.
fn modulus(v: &[i64], w: &[i64]) -> Option<i64> {
    let k = v.iter().zip(w).position(|(a, b)| a != b)?;
    let diff = v[k] - w[k];
    let floor = w.iter().copied().max()? + 1;
    (floor.max(2)..=diff)
        .filter(|c| diff % c == 0)
        .find(|&c| v.iter().zip(w).all(|(&a, &b)| a.rem_euclid(c) == b))
}

/// Best segmentation of `s`; returns (estimated bits, pieces with their start positions).
pub fn segment(s: &[i64]) -> (f64, Vec<(usize, Piece)>) {
    segment_after(s, &[], 0)
}

/// Best segmentation of `s[start..]` when `prefix` (pieces of `s[..start]`, start positions
/// ascending) is already defined and can be reused; returns the new pieces and their bits.
pub fn segment_after(
    s: &[i64],
    prefix: &[(usize, Piece)],
    start: usize,
) -> (f64, Vec<(usize, Piece)>) {
    let n = s.len();
    let mut dp = Dp {
        s,
        best: vec![f64::INFINITY; n + 1],
        back: vec![None; n + 1],
    };
    for (k, (a, p)) in prefix.iter().enumerate() {
        let end = prefix.get(k + 1).map_or(start, |q| q.0);
        dp.back[end] = Some((*a, p.clone()));
    }
    dp.best[start] = 0.0;
    let mut pre = vec![0.0; n + 1];
    for i in 0..n {
        pre[i + 1] = pre[i] + int_cost(s[i]);
    }
    for i in start..n {
        if !dp.best[i].is_finite() {
            continue;
        }
        dp.primitives(i, &pre);
        for (a0, b0) in dp.chain(i) {
            dp.reuses(i, a0, b0);
        }
    }
    let mut pieces = Vec::new();
    let mut j = n;
    while j > start {
        let (i, p) = dp.back[j].clone().expect("reachable");
        pieces.push((i, p));
        j = i;
    }
    pieces.reverse();
    let join = if pieces.len() > 1 { OPB + SMALL } else { 0.0 };
    (dp.best[n] + join, pieces)
}

/// Appends the lines of a segmentation; returns the line holding its value. `line_at` maps
/// the start position of every piece emitted so far to its line (reuses look it up).
pub fn emit(
    lines: &mut Vec<Line>,
    pieces: &[(usize, Piece)],
    line_at: &mut HashMap<usize, usize>,
) -> usize {
    let mut vars = Vec::new();
    let push = |lines: &mut Vec<Line>, op: Op, args: Vec<Arg>| {
        lines.push(Line { op, args });
        lines.len() - 1
    };
    for (at, p) in pieces {
        let var = match p {
            Piece::Lit(xs) => push(lines, Op::SetList, vec![Arg::List(xs.clone())]),
            Piece::Run(k, v) => push(lines, Op::RepeatNum, vec![Arg::Int(*k), Arg::Int(*v)]),
            Piece::Up(a, b) => push(lines, Op::RangeUp, vec![Arg::Int(*a), Arg::Int(*b)]),
            Piece::Interval(a, b, d) => push(
                lines,
                Op::RangeInterval,
                vec![Arg::Int(*a), Arg::Int(*b), Arg::Int(*d)],
            ),
            Piece::Repeat(k, base) => {
                let b = push(lines, Op::SetList, vec![Arg::List(base.clone())]);
                push(lines, Op::RepeatList, vec![Arg::Int(*k), Arg::Var(b)])
            }
            Piece::Ref(src) => line_at[src],
            Piece::Derived(src, op, rest) => {
                let src = Arg::Var(line_at[src]);
                let args = if *op == Op::Filter {
                    vec![rest[0].clone(), src]
                } else {
                    std::iter::once(src).chain(rest.iter().cloned()).collect()
                };
                push(lines, *op, args)
            }
            Piece::RevSlice(src, a, b) => {
                let r = push(lines, Op::Reverse, vec![Arg::Var(line_at[src])]);
                push(
                    lines,
                    Op::Between,
                    vec![Arg::Var(r), Arg::Int(*a), Arg::Int(*b)],
                )
            }
        };
        line_at.insert(*at, var);
        vars.push(var);
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
