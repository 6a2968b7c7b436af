//! The seeded synthetic sampler, following KT's `get_program` distribution with its released
//! defaults (1-5 base lists of length 5-25 over 0..=255; list-update, math, scan, filter and
//! two-list passes; fold by concatenate (0.8) or interleave; reuse 0.2), then re-execution,
//! 1.2x oversampling, and de-duplication by sequence keeping the shortest program.
//! Python's RNG stream is not reproduced; the distribution is.

use super::dsl::{Arg, Line, Op, Pred, Program};
use super::interp::{run, Limits};
use super::tasks::Task;
use crate::rng::Rng;
use std::collections::HashMap;

fn randint(r: &mut Rng, a: i64, b: i64) -> i64 {
    a + r.below((b - a + 1) as u64) as i64
}

fn p(r: &mut Rng, prob: f64) -> bool {
    r.next_f64() < prob
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Repeat,
    SetList,
}

struct Builder {
    lines: Vec<Line>,
    seqs: Vec<(usize, Vec<i64>, Kind)>, // (line, value, kind)
}

impl Builder {
    fn add(&mut self, op: Op, args: Vec<Arg>, value: Vec<i64>, kind: Kind) -> usize {
        self.lines.push(Line { op, args });
        self.seqs.push((self.lines.len() - 1, value, kind));
        self.seqs.len() - 1
    }
    fn var(&self, s: usize) -> Arg {
        Arg::Var(self.seqs[s].0)
    }
}

/// Samples one program (KT's `get_program` with the released defaults).
pub fn sample_program(r: &mut Rng) -> Program {
    const MAXV: i64 = 255;
    let mut b = Builder {
        lines: Vec::new(),
        seqs: Vec::new(),
    };
    let n = randint(r, 1, 5);
    for _ in 0..n {
        let length = randint(r, 5, 25);
        let start = randint(r, 0, MAXV - length);
        match r.below(4) {
            0 => {
                let interval = randint(r, 2, 5);
                let end = (start + (length - 1) * interval).min(MAXV);
                let v: Vec<i64> = (start..end + 1).step_by(interval as usize).collect();
                b.add(
                    Op::RangeInterval,
                    vec![Arg::Int(start), Arg::Int(end + 1), Arg::Int(interval)],
                    v,
                    Kind::Plain,
                );
            }
            1 => {
                let value = randint(r, 0, MAXV);
                b.add(
                    Op::RepeatNum,
                    vec![Arg::Int(length), Arg::Int(value)],
                    vec![value; length as usize],
                    Kind::Repeat,
                );
            }
            2 => {
                let v: Vec<i64> = (0..length).map(|_| randint(r, 0, MAXV)).collect();
                b.add(Op::SetList, vec![Arg::List(v.clone())], v, Kind::SetList);
            }
            _ => {
                let v: Vec<i64> = (start..start + length).collect();
                b.add(
                    Op::RangeUp,
                    vec![Arg::Int(start), Arg::Int(start + length - 1)],
                    v,
                    Kind::Plain,
                );
            }
        }
    }
    let mut reversed = std::collections::HashSet::new();
    let mut excluded = std::collections::HashSet::new();
    if p(r, 0.4) {
        let mut i = 0;
        while i < b.seqs.len() {
            if p(r, 0.1) && !reversed.contains(&i) && b.seqs[i].2 != Kind::Repeat {
                let v: Vec<i64> = b.seqs[i].1.iter().rev().copied().collect();
                let a = b.var(i);
                let k = b.add(Op::Reverse, vec![a], v, Kind::Plain);
                reversed.insert(i);
                reversed.insert(k);
            }
            i += 1;
        }
        let mut i = 0;
        while i < b.seqs.len() {
            if p(r, 0.1) {
                let k = randint(r, 2, 4);
                let v: Vec<i64> = b.seqs[i].1.repeat(k as usize);
                let a = b.var(i);
                b.add(Op::RepeatList, vec![Arg::Int(k), a], v, Kind::Plain);
            }
            if !reversed.contains(&i) && !excluded.contains(&i) {
                if p(r, 0.05) {
                    let j = randint(r, 2, 5);
                    let v: Vec<i64> = b.seqs[i].1.iter().step_by(j as usize).copied().collect();
                    let a = b.var(i);
                    b.add(Op::Jumps, vec![a, Arg::Int(j)], v, Kind::Plain);
                }
                if p(r, 0.05) && b.seqs[i].1.len() > 1 {
                    let len = b.seqs[i].1.len() as i64;
                    let s = randint(r, 0, len - 2);
                    let e = randint(r, s + 2, len);
                    let v = b.seqs[i].1[s as usize..e as usize].to_vec();
                    let a = b.var(i);
                    b.add(
                        Op::Between,
                        vec![a, Arg::Int(s), Arg::Int(e)],
                        v,
                        Kind::Plain,
                    );
                }
            }
            i += 1;
        }
        let mut i = 0;
        while i < b.seqs.len() {
            if p(r, 0.1) {
                let mut uniq: Vec<i64> = b.seqs[i].1.clone();
                uniq.sort_unstable();
                uniq.dedup();
                if !uniq.is_empty() {
                    let pat = uniq[r.below(uniq.len() as u64) as usize];
                    let rep = randint(r, 0, MAXV);
                    if pat != rep {
                        let v: Vec<i64> = b.seqs[i]
                            .1
                            .iter()
                            .map(|&x| if x == pat { rep } else { x })
                            .collect();
                        let a = b.var(i);
                        b.add(
                            Op::Substitute,
                            vec![a, Arg::Int(pat), Arg::Int(rep)],
                            v,
                            Kind::Plain,
                        );
                        if p(r, 0.25) {
                            excluded.insert(i);
                        }
                    }
                }
            }
            i += 1;
        }
    }
    if p(r, 0.4) {
        let orig = b.seqs.len();
        for i in 0..orig {
            let roll = r.next_f64();
            let seq = b.seqs[i].1.clone();
            if b.seqs[i].2 == Kind::SetList && p(r, 0.1) {
                let max = r.below(2) == 0;
                let n = randint(r, 3, seq.len() as i64 - 2);
                let mut v = seq.clone();
                if max {
                    v.sort_unstable_by(|a, b| b.cmp(a));
                } else {
                    v.sort_unstable();
                }
                v.truncate(n as usize);
                let a = b.var(i);
                b.add(
                    if max { Op::MaxN } else { Op::MinN },
                    vec![a, Arg::Int(n)],
                    v,
                    Kind::Plain,
                );
            } else if roll < 0.1 {
                if r.below(2) == 0 {
                    let max_add = seq.iter().map(|x| MAXV - x).min().unwrap_or(0);
                    if max_add > 1 {
                        let c = randint(r, 1, max_add);
                        let a = b.var(i);
                        b.add(
                            Op::AddItem,
                            vec![a, Arg::Int(c)],
                            seq.iter().map(|x| x + c).collect(),
                            Kind::Plain,
                        );
                    }
                } else {
                    let min_sub = seq.iter().copied().min().unwrap_or(0);
                    if min_sub > 1 {
                        let c = randint(r, 1, min_sub);
                        let a = b.var(i);
                        b.add(
                            Op::SubItem,
                            vec![a, Arg::Int(c)],
                            seq.iter().map(|x| x - c).collect(),
                            Kind::Plain,
                        );
                    }
                }
            } else if roll < 0.2 {
                let mut s = seq.clone();
                s.sort_unstable_by(|a, b| b.cmp(a));
                let third = s
                    .get(2.min(s.len().saturating_sub(1)))
                    .copied()
                    .unwrap_or(0);
                if third > 2 {
                    let c = randint(r, 2, third);
                    let a = b.var(i);
                    b.add(
                        Op::ModItem,
                        vec![a, Arg::Int(c)],
                        seq.iter().map(|x| x % c).collect(),
                        Kind::Plain,
                    );
                }
            }
        }
    }
    let mut i = 0;
    while i < b.seqs.len() {
        if p(r, 0.1) {
            let seq = &b.seqs[i].1;
            let mut u = seq.clone();
            u.sort_unstable();
            u.dedup();
            if u.len() > 2 {
                let mut acc = 0;
                let v: Vec<i64> = seq
                    .iter()
                    .map(|x| {
                        acc += x;
                        acc
                    })
                    .collect();
                if v.iter().copied().max().unwrap_or(0) <= MAXV {
                    let a = b.var(i);
                    b.add(Op::ScanAdd, vec![a], v, Kind::Plain);
                }
            }
        }
        i += 1;
    }
    if p(r, 0.4) {
        // KT quirk: acts on the last list left by the previous loop.
        let last = b.seqs.len() - 1;
        let pred = Pred::ALL[r.below(3) as usize];
        let seq = &b.seqs[last].1;
        let v: Vec<i64> = seq
            .iter()
            .copied()
            .filter(|&x| match pred {
                Pred::IsEven => x % 2 == 0,
                Pred::IsOdd => x % 2 != 0,
                Pred::IsNotZero => x != 0,
            })
            .collect();
        if &v != seq && v.len() > 2 && p(r, 0.3) {
            let a = b.var(last);
            b.add(Op::Filter, vec![Arg::Pred(pred), a], v, Kind::Plain);
        }
    }
    if p(r, 0.4) {
        let orig = b.seqs.len();
        for i in 0..orig {
            for j in i + 1..orig {
                let roll = r.next_f64();
                let op = if roll < 0.1 {
                    if r.below(2) == 0 {
                        Some(Op::AddTwo)
                    } else {
                        Some(Op::SubTwo)
                    }
                } else if roll < 0.2 {
                    Some(Op::ModTwo)
                } else {
                    None
                };
                let (x, y) = (&b.seqs[i].1, &b.seqs[j].1);
                if let (Some(op), true) = (op, x.len() == y.len()) {
                    let v: Vec<i64> = match op {
                        Op::AddTwo => x.iter().zip(y).map(|(a, c)| a + c).collect(),
                        Op::SubTwo => x.iter().zip(y).map(|(a, c)| a - c).collect(),
                        _ => x
                            .iter()
                            .zip(y)
                            .filter(|(_, c)| **c != 0)
                            .map(|(a, c)| a.rem_euclid(*c))
                            .collect(),
                    };
                    let mut u = v.clone();
                    u.sort_unstable();
                    u.dedup();
                    if v.iter().all(|&z| (0..=MAXV).contains(&z)) && u.len() > 2 {
                        let (a, c) = (b.var(i), b.var(j));
                        b.add(op, vec![a, c], v, Kind::Plain);
                    }
                }
            }
        }
    }
    // Fold into the output.
    let count = b.seqs.len();
    let mut usage = vec![0u32; count];
    let mut out: Option<usize> = None; // line index
    let fold = |b: &mut Builder, r: &mut Rng, out: &mut Option<usize>, s: usize| {
        let line = b.seqs[s].0;
        match *out {
            None => *out = Some(line),
            Some(o) => {
                let op = if p(r, 0.8) {
                    Op::Concat
                } else {
                    Op::Interleave
                };
                b.lines.push(Line {
                    op,
                    args: vec![Arg::Var(o), Arg::Var(line)],
                });
                *out = Some(b.lines.len() - 1);
            }
        }
    };
    for (s, used) in usage.iter_mut().enumerate().take(count) {
        if excluded.contains(&s) {
            continue;
        }
        *used += 1;
        fold(&mut b, r, &mut out, s);
    }
    for _ in 0..count {
        if p(r, 0.2) {
            let cands: Vec<usize> = (0..count).filter(|&k| usage[k] < 2).collect();
            if cands.is_empty() {
                continue;
            }
            let s = cands[r.below(cands.len() as u64) as usize];
            usage[s] += 1;
            fold(&mut b, r, &mut out, s);
        }
    }
    let out = out.unwrap_or(0);
    Program::with_output(b.lines, out)
}

/// Samples `count` distinct synthetic tasks with output length in 1..=`max_len` (KT: 128).
/// Draws in rounds of 1.2x the number still needed, re-executes every program, and keeps
/// the shortest program text per sequence; the result is a pure function of `seed`.
pub fn sample_tasks(count: usize, seed: u64, max_len: usize) -> Vec<Task> {
    let mut r = Rng::new(seed);
    let mut best: HashMap<Vec<u8>, (String, usize)> = HashMap::new();
    let mut order: Vec<Vec<u8>> = Vec::new();
    let mut rounds = 0;
    while order.len() < count && rounds < 1000 {
        rounds += 1;
        let want = ((count - order.len()) as f64 * 1.2).ceil() as usize;
        for _ in 0..want {
            let prog = sample_program(&mut r);
            let Ok(out) = run(
                &prog,
                &Limits {
                    max_output_len: usize::MAX,
                    ..Limits::default()
                },
            ) else {
                continue;
            };
            if out.is_empty() || out.len() > max_len || out.iter().any(|&x| !(0..=255).contains(&x))
            {
                continue;
            }
            let seq: Vec<u8> = out.iter().map(|&x| x as u8).collect();
            let text = prog.to_text();
            match best.get_mut(&seq) {
                Some(e) => {
                    if text.len() < e.0.len() {
                        e.0 = text;
                    }
                }
                None => {
                    best.insert(seq.clone(), (text, order.len()));
                    order.push(seq);
                }
            }
        }
    }
    order
        .into_iter()
        .take(count)
        .enumerate()
        .map(|(i, seq)| {
            let program = best[&seq].0.clone();
            Task {
                id: format!("synthetic-{i:06}"),
                modality: "synthetic".into(),
                sequence: seq,
                program: Some(program),
            }
        })
        .collect()
}
