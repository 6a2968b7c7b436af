//! The interpreter: Python semantics of KT's primitives (floor modulo, slice clamping,
//! `heapq.nlargest` order, zip truncation, interleave tail), with checked i64 arithmetic and
//! deterministic limits. Untrusted programs end in an [`ExecError`], never a hang or an OOM.

use super::dsl::{Arg, Line, Op, Pred, Program};

/// Resource limits, counted in steps and elements (never wall-clock time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Steps: each line costs 1 plus the elements it reads and writes.
    pub fuel: u64,
    /// Longest list any line may produce.
    pub max_list_len: usize,
    /// Total elements all lines together may allocate.
    pub max_total_elems: usize,
    /// Longest output (KT: 256).
    pub max_output_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 1_000_000,
            max_list_len: 4096,
            max_total_elems: 1 << 18,
            max_output_len: 256,
        }
    }
}

/// Why a program did not produce an output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecError {
    /// Out of fuel.
    Fuel,
    /// A list or the total allocation would exceed its limit.
    Size(String),
    /// Integer overflow.
    Overflow,
    /// Division by zero, zero step, bad argument.
    Value(String),
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecError::Fuel => write!(f, "out of fuel"),
            ExecError::Size(s) => write!(f, "size limit: {s}"),
            ExecError::Overflow => write!(f, "integer overflow"),
            ExecError::Value(s) => write!(f, "{s}"),
        }
    }
}

/// Python's `x % y` (sign of the divisor); `None` on division by zero or overflow.
pub fn py_mod(x: i64, y: i64) -> Option<i64> {
    let r = x.checked_rem(y)?;
    Some(if r != 0 && ((r < 0) != (y < 0)) {
        r + y
    } else {
        r
    })
}

/// Python's `len(range(a, b, step))`, `None` for step 0.
pub fn range_len(a: i64, b: i64, step: i64) -> Option<u128> {
    if step == 0 {
        return None;
    }
    let (a, b, s) = (a as i128, b as i128, step as i128);
    let n = if s > 0 {
        if b > a {
            (b - a + s - 1) / s
        } else {
            0
        }
    } else if a > b {
        (a - b + (-s) - 1) / (-s)
    } else {
        0
    };
    Some(n as u128)
}

/// Python's slice bound normalisation for step 1.
fn norm(i: i64, len: usize) -> usize {
    let l = len as i64;
    let j = if i < 0 { i.saturating_add(l) } else { i };
    j.clamp(0, l) as usize
}

struct Machine {
    limits: Limits,
    fuel: u64,
    total: usize,
}

impl Machine {
    fn spend(&mut self, steps: usize) -> Result<(), ExecError> {
        let s = steps as u64 + 1;
        if s > self.fuel {
            self.fuel = 0;
            return Err(ExecError::Fuel);
        }
        self.fuel -= s;
        Ok(())
    }
    /// Checks that a list of `n` elements may be allocated, and books it.
    fn alloc(&mut self, n: u128) -> Result<usize, ExecError> {
        if n > self.limits.max_list_len as u128 {
            return Err(ExecError::Size(format!(
                "list of {n} elements > {}",
                self.limits.max_list_len
            )));
        }
        let n = n as usize;
        if self.total + n > self.limits.max_total_elems {
            return Err(ExecError::Size(format!(
                "more than {} elements in all",
                self.limits.max_total_elems
            )));
        }
        self.total += n;
        self.spend(n)?;
        Ok(n)
    }
}

fn int(a: &Arg) -> Result<i64, ExecError> {
    match a {
        Arg::Int(x) => Ok(*x),
        _ => Err(ExecError::Value("expected an integer argument".into())),
    }
}

fn var<'a>(a: &Arg, vals: &'a [Vec<i64>]) -> Result<&'a [i64], ExecError> {
    match a {
        Arg::Var(i) if *i < vals.len() => Ok(&vals[*i]),
        _ => Err(ExecError::Value(
            "expected a reference to an earlier line".into(),
        )),
    }
}

fn elementwise(
    m: &mut Machine,
    l: &[i64],
    f: impl Fn(i64) -> Option<i64>,
    zero_div_is_error: bool,
) -> Result<Vec<i64>, ExecError> {
    m.alloc(l.len() as u128)?;
    l.iter()
        .map(|&x| {
            f(x).ok_or(if zero_div_is_error {
                ExecError::Value("integer modulo by zero".into())
            } else {
                ExecError::Overflow
            })
        })
        .collect()
}

fn eval_line(m: &mut Machine, line: &Line, vals: &[Vec<i64>]) -> Result<Vec<i64>, ExecError> {
    let a = &line.args;
    // Arity and slot kinds were checked by the parser or the constructor; re-check cheaply.
    let arg = |k: usize| {
        a.get(k)
            .ok_or_else(|| ExecError::Value("missing argument".into()))
    };
    Ok(match line.op {
        Op::RangeUp => {
            let (s, e) = (int(arg(0)?)?, int(arg(1)?)?);
            let e1 = e.checked_add(1).ok_or(ExecError::Overflow)?;
            let n = m.alloc(range_len(s, e1, 1).expect("step 1"))?;
            (0..n as i64).map(|i| s + i).collect()
        }
        Op::RangeInterval => {
            let (s, e, st) = (int(arg(0)?)?, int(arg(1)?)?, int(arg(2)?)?);
            let n = range_len(s, e, st)
                .ok_or_else(|| ExecError::Value("range() arg 3 must not be zero".into()))?;
            let n = m.alloc(n)?;
            (0..n as i64).map(|i| s + i * st).collect()
        }
        Op::RepeatNum => {
            let (n, v) = (int(arg(0)?)?, int(arg(1)?)?);
            let n = m.alloc(n.max(0) as u128)?;
            vec![v; n]
        }
        Op::SetList => match arg(0)? {
            Arg::List(xs) => {
                m.alloc(xs.len() as u128)?;
                xs.clone()
            }
            _ => return Err(ExecError::Value("set_list expects a list".into())),
        },
        Op::RepeatList => {
            let (k, l) = (int(arg(0)?)?, var(arg(1)?, vals)?);
            let n = m.alloc((k.max(0) as u128) * l.len() as u128)?;
            l.iter().copied().cycle().take(n).collect()
        }
        Op::Reverse => {
            let l = var(arg(0)?, vals)?;
            m.alloc(l.len() as u128)?;
            l.iter().rev().copied().collect()
        }
        Op::Substitute => {
            let (l, old, new) = (var(arg(0)?, vals)?, int(arg(1)?)?, int(arg(2)?)?);
            m.alloc(l.len() as u128)?;
            l.iter().map(|&x| if x == old { new } else { x }).collect()
        }
        Op::Jumps => {
            let (l, j) = (var(arg(0)?, vals)?, int(arg(1)?)?);
            if j == 0 {
                return Err(ExecError::Value("slice step cannot be zero".into()));
            }
            let len = l.len();
            let step = j.unsigned_abs() as usize;
            m.alloc(len.div_ceil(step) as u128)?;
            if j > 0 {
                l.iter().step_by(step).copied().collect()
            } else {
                l.iter().rev().step_by(step).copied().collect()
            }
        }
        Op::Between => {
            let (l, s, e) = (var(arg(0)?, vals)?, int(arg(1)?)?, int(arg(2)?)?);
            let (s, e) = (norm(s, l.len()), norm(e, l.len()));
            let sl = if e > s { &l[s..e] } else { &l[0..0] };
            m.alloc(sl.len() as u128)?;
            sl.to_vec()
        }
        Op::MaxN | Op::MinN => {
            let (l, n) = (var(arg(0)?, vals)?, int(arg(1)?)?);
            let n = (n.max(0) as u128).min(l.len() as u128);
            m.alloc(n)?;
            m.spend(l.len() * 8)?;
            let mut v = l.to_vec();
            if line.op == Op::MaxN {
                v.sort_unstable_by(|a, b| b.cmp(a));
            } else {
                v.sort_unstable();
            }
            v.truncate(n as usize);
            v
        }
        Op::AddItem => {
            let (l, c) = (var(arg(0)?, vals)?, int(arg(1)?)?);
            elementwise(m, l, |x| x.checked_add(c), false)?
        }
        Op::SubItem => {
            let (l, c) = (var(arg(0)?, vals)?, int(arg(1)?)?);
            elementwise(m, l, |x| x.checked_sub(c), false)?
        }
        Op::ModItem => {
            let (l, c) = (var(arg(0)?, vals)?, int(arg(1)?)?);
            if c == 0 && !l.is_empty() {
                return Err(ExecError::Value("integer modulo by zero".into()));
            }
            elementwise(m, l, |x| py_mod(x, c), false)?
        }
        Op::Filter => {
            let p = match arg(0)? {
                Arg::Pred(p) => *p,
                _ => return Err(ExecError::Value("filter expects a predicate".into())),
            };
            let l = var(arg(1)?, vals)?;
            m.spend(l.len())?;
            let v: Vec<i64> = l
                .iter()
                .copied()
                .filter(|&x| match p {
                    Pred::IsEven => x % 2 == 0,
                    Pred::IsOdd => x % 2 != 0,
                    Pred::IsNotZero => x != 0,
                })
                .collect();
            m.alloc(v.len() as u128)?;
            v
        }
        Op::AddTwo | Op::SubTwo | Op::ModTwo => {
            let (x, y) = (var(arg(0)?, vals)?, var(arg(1)?, vals)?);
            m.alloc(x.len().min(y.len()) as u128)?;
            let mut v = Vec::with_capacity(x.len().min(y.len()));
            for (&a, &b) in x.iter().zip(y) {
                match line.op {
                    Op::AddTwo => v.push(a.checked_add(b).ok_or(ExecError::Overflow)?),
                    Op::SubTwo => v.push(a.checked_sub(b).ok_or(ExecError::Overflow)?),
                    _ => {
                        if b != 0 {
                            v.push(py_mod(a, b).ok_or(ExecError::Overflow)?)
                        }
                    }
                }
            }
            v
        }
        Op::ScanAdd => {
            let l = var(arg(0)?, vals)?;
            m.alloc(l.len() as u128)?;
            let mut acc = 0i64;
            let mut v = Vec::with_capacity(l.len());
            for &x in l {
                acc = acc.checked_add(x).ok_or(ExecError::Overflow)?;
                v.push(acc);
            }
            v
        }
        Op::Concat => {
            if a.is_empty() {
                return Err(ExecError::Value("concatenate needs an argument".into()));
            }
            let mut n = 0u128;
            for x in a {
                n += var(x, vals)?.len() as u128;
            }
            m.alloc(n)?;
            let mut v = Vec::with_capacity(n as usize);
            for x in a {
                v.extend_from_slice(var(x, vals)?);
            }
            v
        }
        Op::Interleave => {
            let (x, y) = (var(arg(0)?, vals)?, var(arg(1)?, vals)?);
            m.alloc(x.len() as u128 + y.len() as u128)?;
            let k = x.len().min(y.len());
            let mut v = Vec::with_capacity(x.len() + y.len());
            for i in 0..k {
                v.push(x[i]);
                v.push(y[i]);
            }
            let longer = if x.len() > y.len() { x } else { y };
            v.extend_from_slice(&longer[k..]);
            v
        }
    })
}

/// Runs a program; returns `output` or the first error.
pub fn run(p: &Program, limits: &Limits) -> Result<Vec<i64>, ExecError> {
    let mut m = Machine {
        limits: *limits,
        fuel: limits.fuel,
        total: 0,
    };
    let mut vals: Vec<Vec<i64>> = Vec::with_capacity(p.lines.len());
    for line in &p.lines {
        m.spend(line.args.len())?;
        let v = eval_line(&mut m, line, &vals)?;
        vals.push(v);
    }
    let out = vals
        .get(p.output)
        .ok_or_else(|| ExecError::Value("output refers to no line".into()))?;
    if out.len() > limits.max_output_len {
        return Err(ExecError::Size(format!(
            "output of {} elements > {}",
            out.len(),
            limits.max_output_len
        )));
    }
    Ok(vals.swap_remove(p.output))
}
