//! Program-length measures, reported side by side:
//! - [`kt_uniform_bits`]: KT's uniform-prior estimate, quirks included;
//! - [`code_bits`] / [`encode`] / [`decode`]: a real prefix-free binary code of DSL programs
//!   (exact arithmetic coding of the program's choices under a uniform prior, at most 2 bits
//!   above the ideal length), decoded back before it is counted;
//! - raw bytes and joint gzip of program texts (see [`super::compress`]).

use super::bignum::Nat;
use super::dsl::{Arg, Line, Op, Pred, Program, Slot};

/// KT's uniform-prior bit count of a program as its evaluator computes it, from the canonical
/// text's lines: log2(F+1) per line (the `output` line too), 8 bits per integer value,
/// log2(i+1) per variable reference on line i (0-based), 3 bits (log2 8) per small argument,
/// log2 20 for a `repeat_num` count, 8 bits per `set_list` element.
///
/// Quirks kept on purpose: `filter` pays for its list but not its predicate;
/// `concatenate` with more than two arguments pays for two references; `range_func_up`
/// and `get_subsequence_between_indices` follow KT's table even where it double-counts.
pub fn kt_uniform_bits(p: &Program, num_functions: usize) -> f64 {
    let fbits = ((num_functions + 1) as f64).log2();
    let b = 8.0; // log2(256)
    let range = 3.0; // log2(8)
    let repeat = 20f64.log2();
    let mut total = 0.0;
    let mut last = 0;
    for (i, line) in p.lines.iter().enumerate() {
        let seq = ((i + 1) as f64).log2();
        total += fbits;
        total += match line.op {
            Op::SetList => match &line.args[0] {
                Arg::List(xs) => xs.len() as f64 * b,
                _ => 0.0,
            },
            Op::RangeUp => 2.0 * b,
            Op::Between => seq + 2.0 * b,
            Op::AddTwo | Op::SubTwo | Op::ModTwo => 2.0 * seq,
            Op::Substitute => seq + 2.0 * b,
            Op::RangeInterval => 2.0 * b + range,
            Op::ModItem | Op::AddItem | Op::SubItem => b + seq,
            Op::RepeatNum => b + repeat,
            Op::Jumps | Op::RepeatList => seq + range,
            Op::Filter | Op::Reverse | Op::ScanAdd => seq,
            Op::Interleave | Op::Concat => 2.0 * seq,
            Op::MinN | Op::MaxN => b + seq,
        };
        last = i + 1;
    }
    // The `output = name` line (absent from the text when the last line is named `output`).
    let named_output = p.names.get(p.output).map(String::as_str) == Some("output")
        && p.output + 1 == p.lines.len();
    if !named_output {
        let _ = last;
        total += fbits;
    }
    total
}

// ---- the prefix-free program code ----------------------------------------------------------
//
// A program is a sequence of uniform choices (digit d from radix r): the op of each line, its
// arguments, END, the output line. The choices define the interval [N/R, (N+1)/R) of [0, 1)
// (N the digits as a mixed-radix number, first choice most significant; R the product of the
// radices), and the codeword is the shortest dyadic interval [y/2^k, (y+1)/2^k) inside it:
// k is ceil(log2 R) or one more. Any extension of the codeword lies in the program's interval,
// so a decoder reading ahead into the next program still decodes the same choices, and the
// code is prefix-free with no length header (exact arithmetic coding under the uniform prior).

/// Symbols of the code: (digit, radix) pairs, most significant meaning first.
struct Digits(Vec<(u64, u64)>);

const INT_DIRECT: u64 = 256; // values 0..=255 cost one radix-257 digit
const SMALL_DIRECT: u64 = 8; // values 0..=7 cost one radix-9 digit

impl Digits {
    fn push(&mut self, d: u64, r: u64) {
        debug_assert!(d < r);
        if r > 1 {
            self.0.push((d, r));
        }
    }
    fn escape_i64(&mut self, x: i64) {
        let u = x as u64;
        for k in (0..64).rev() {
            self.push((u >> k) & 1, 2);
        }
    }
    fn int(&mut self, x: i64) {
        if (0..INT_DIRECT as i64).contains(&x) {
            self.push(x as u64, INT_DIRECT + 1);
        } else {
            self.push(INT_DIRECT, INT_DIRECT + 1);
            self.escape_i64(x);
        }
    }
    fn small(&mut self, x: i64) {
        if (0..SMALL_DIRECT as i64).contains(&x) {
            self.push(x as u64, SMALL_DIRECT + 1);
        } else {
            self.push(SMALL_DIRECT, SMALL_DIRECT + 1);
            self.int(x);
        }
    }
}

fn digits_of(p: &Program) -> Digits {
    let nops = Op::ALL.len() as u64 + 1; // + END
    let mut d = Digits(Vec::new());
    for (i, line) in p.lines.iter().enumerate() {
        d.push(line.op.index() as u64, nops);
        if line.op.variadic() {
            d.small(line.args.len() as i64 - 1);
        }
        for (k, a) in line.args.iter().enumerate() {
            let slot = if line.op.variadic() {
                Slot::Var
            } else {
                line.op.slots()[k]
            };
            match (slot, a) {
                (Slot::Var, Arg::Var(v)) => d.push(*v as u64, i as u64),
                (Slot::Int, Arg::Int(x)) => d.int(*x),
                (Slot::Small, Arg::Int(x)) => d.small(*x),
                (Slot::Pred, Arg::Pred(pr)) => d.push(
                    Pred::ALL.iter().position(|q| q == pr).expect("listed") as u64,
                    3,
                ),
                (Slot::List, Arg::List(xs)) => {
                    d.int(xs.len() as i64);
                    for &x in xs {
                        d.int(x);
                    }
                }
                _ => unreachable!("program violates its slots"),
            }
        }
    }
    d.push(nops - 1, nops);
    d.push(p.output as u64, p.lines.len() as u64);
    d
}

/// The codeword bits (MSB first) of the interval a digit string defines.
fn codeword(digits: &Digits) -> Vec<bool> {
    let (mut n, mut r) = (Nat::default(), Nat::from_u64(1));
    for &(d, rad) in &digits.0 {
        n.mul_add(rad, d);
        r.mul_add(rad, 0);
    }
    let k0 = if r.is_pow2() {
        r.bit_len() - 1
    } else {
        r.bit_len()
    };
    let two_r = {
        let mut t = r.clone();
        t.add(&r);
        t
    };
    for k in [k0, k0 + 1] {
        // y = ceil(N 2^k / R) by long division; accept if (y+1) R <= (N+1) 2^k.
        let mut rem = n.clone();
        let mut bits = Vec::with_capacity(k as usize);
        for _ in 0..k {
            let twice = rem.clone();
            rem.add(&twice);
            let b = rem >= r;
            if b {
                rem.sub(&r);
            }
            bits.push(b);
        }
        if rem == Nat::default() {
            return bits; // y R = N 2^k, and R <= 2^k
        }
        let mut lhs = Nat::pow2(k);
        lhs.add(&rem);
        if two_r <= lhs {
            // y = floor + 1 (no overflow: y < 2^k when the interval test passes)
            for b in bits.iter_mut().rev() {
                *b = !*b;
                if *b {
                    break;
                }
            }
            return bits;
        }
    }
    unreachable!("a dyadic interval of length 2^-(k0+1) always fits")
}

/// Exact length in bits of [`encode`]'s output (before byte padding).
pub fn code_bits(p: &Program) -> u64 {
    codeword(&digits_of(p)).len() as u64
}

/// Ideal length (sum of log2 radix) of the code's symbols, for reference.
pub fn code_ideal_bits(p: &Program) -> f64 {
    digits_of(p).0.iter().map(|&(_, r)| (r as f64).log2()).sum()
}

/// Encodes a program as a self-delimiting bit string, packed MSB-first into bytes.
/// Returns the bytes and the exact bit count.
pub fn encode(p: &Program) -> (Vec<u8>, u64) {
    let bits = codeword(&digits_of(p));
    let mut out = vec![0u8; bits.len().div_ceil(8)];
    for (i, &b) in bits.iter().enumerate() {
        if b {
            out[i / 8] |= 0x80 >> (i % 8);
        }
    }
    (out, bits.len() as u64)
}

/// Decoding failure (corrupt or truncated code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

fn err<T>(s: &str) -> Result<T, DecodeError> {
    Err(DecodeError(s.into()))
}

/// The first `t` bits of the stream as a fraction X / 2^t, consumed one choice at a time.
struct Source {
    x: Nat,
    t: u64,
    r: Nat,
}

impl Source {
    fn new(bytes: &[u8], t: u64) -> Source {
        let mut x = Nat::default();
        for i in 0..t {
            if bytes[(i / 8) as usize] & (0x80 >> (i % 8)) != 0 {
                x.set_bit(t - 1 - i);
            }
        }
        Source {
            x,
            t,
            r: Nat::from_u64(1),
        }
    }
    /// The next choice from `radix` options; fails once the choices need more than `t` bits.
    fn take(&mut self, radix: u64) -> Result<u64, DecodeError> {
        if radix <= 1 {
            return Ok(0);
        }
        self.r.mul_add(radix, 0);
        if self.r.bit_len() > self.t + 1 {
            return err("truncated");
        }
        self.x.mul_add(radix, 0);
        Ok(self.x.split_high(self.t))
    }
    fn int(&mut self) -> Result<i64, DecodeError> {
        let d = self.take(INT_DIRECT + 1)?;
        if d < INT_DIRECT {
            return Ok(d as i64);
        }
        let mut u = 0u64;
        for _ in 0..64 {
            u = (u << 1) | self.take(2)?;
        }
        Ok(u as i64)
    }
    fn small(&mut self) -> Result<i64, DecodeError> {
        let d = self.take(SMALL_DIRECT + 1)?;
        if d < SMALL_DIRECT {
            Ok(d as i64)
        } else {
            self.int()
        }
    }
    fn arg(&mut self, slot: Slot, line: u64) -> Result<Arg, DecodeError> {
        Ok(match slot {
            Slot::Var if line == 0 => return err("reference on the first line"),
            Slot::Var => Arg::Var(self.take(line)? as usize),
            Slot::Int => Arg::Int(self.int()?),
            Slot::Small => Arg::Int(self.small()?),
            Slot::Pred => Arg::Pred(Pred::ALL[self.take(3)? as usize]),
            Slot::List => {
                let len = self.int()?;
                if !(0..=4096).contains(&len) {
                    return err("bad list length");
                }
                Arg::List((0..len).map(|_| self.int()).collect::<Result<_, _>>()?)
            }
        })
    }
    fn program(&mut self) -> Result<Program, DecodeError> {
        let nops = Op::ALL.len() as u64 + 1;
        let mut lines: Vec<Line> = Vec::new();
        loop {
            if lines.len() > super::parse::MAX_LINES {
                return err("too many lines");
            }
            let o = self.take(nops)?;
            if o == nops - 1 {
                break;
            }
            let op = Op::ALL[o as usize];
            let i = lines.len() as u64;
            let args = if op.variadic() {
                let k = self.small()? + 1;
                if !(1..=4096).contains(&k) {
                    return err("bad argument count");
                }
                (0..k)
                    .map(|_| self.arg(Slot::Var, i))
                    .collect::<Result<_, _>>()?
            } else {
                op.slots()
                    .iter()
                    .map(|&s| self.arg(s, i))
                    .collect::<Result<_, _>>()?
            };
            lines.push(Line { op, args });
        }
        if lines.is_empty() {
            return err("empty program");
        }
        let output = self.take(lines.len() as u64)? as usize;
        Ok(Program::with_output(lines, output))
    }
}

/// True if `p`'s codeword is a prefix of `bytes`; returns its length.
fn codeword_prefix(p: &Program, bytes: &[u8]) -> Option<u64> {
    let (code, bits) = encode(p);
    if bits > 8 * bytes.len() as u64 {
        return None;
    }
    let full = (bits / 8) as usize;
    let mask = (0xFF00u16 >> (bits % 8)) as u8;
    let same =
        code[..full] == bytes[..full] && (mask == 0 || (code[full] ^ bytes[full]) & mask == 0);
    same.then_some(bits)
}

/// Decodes one program from the front of `bytes` (anything may follow it); returns it and the
/// bits consumed. Reads with doubling precision and accepts a program only when its codeword
/// is the stream's prefix, so a wrong guess from too few bits is never returned.
pub fn decode(bytes: &[u8]) -> Result<(Program, u64), DecodeError> {
    let avail = 8 * bytes.len() as u64;
    let mut t = avail.min(256);
    loop {
        let got = Source::new(bytes, t).program();
        if let Ok(p) = got.as_ref() {
            if let Some(bits) = codeword_prefix(p, bytes) {
                return Ok((got?, bits));
            }
        }
        if t == avail {
            return Err(got.err().unwrap_or(DecodeError("corrupt code".into())));
        }
        t = (2 * t).min(avail);
    }
}
