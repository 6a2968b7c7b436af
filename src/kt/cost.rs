//! Program-length measures, reported side by side:
//! - [`kt_uniform_bits`]: KT's uniform-prior estimate, quirks included;
//! - [`code_bits`] / [`encode`] / [`decode`]: a real prefix-free binary code of DSL programs
//!   (a mixed-radix integer behind an Elias-gamma length), decoded back before it is counted;
//! - raw bytes and joint gzip of program texts (see [`super::compress`]).

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

// ---- a little bignum: little-endian u32 limbs --------------------------------------------

fn mul_add(n: &mut Vec<u32>, r: u64, d: u64) {
    let mut carry = d;
    for limb in n.iter_mut() {
        let v = (*limb as u64) * r + carry;
        *limb = v as u32;
        carry = v >> 32;
    }
    while carry > 0 {
        n.push(carry as u32);
        carry >>= 32;
    }
}

fn div_rem(n: &mut Vec<u32>, r: u64) -> u64 {
    let mut rem = 0u64;
    for limb in n.iter_mut().rev() {
        let v = (rem << 32) | *limb as u64;
        *limb = (v / r) as u32;
        rem = v % r;
    }
    while n.last() == Some(&0) {
        n.pop();
    }
    rem
}

fn bit_len(n: &[u32]) -> u64 {
    match n.last() {
        None => 0,
        Some(&top) => (n.len() as u64 - 1) * 32 + (32 - top.leading_zeros() as u64),
    }
}

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

/// Elias-gamma code length of `n >= 1`.
fn gamma_len(n: u64) -> u64 {
    2 * (63 - n.leading_zeros() as u64) + 1
}

/// Exact length in bits of [`encode`]'s output (before byte padding).
pub fn code_bits(p: &Program) -> u64 {
    let (_, bits) = encode_bits(p);
    bits.len() as u64
}

/// Ideal length (sum of log2 radix) of the code's symbols, for reference.
pub fn code_ideal_bits(p: &Program) -> f64 {
    digits_of(p).0.iter().map(|&(_, r)| (r as f64).log2()).sum()
}

fn encode_bits(p: &Program) -> (u64, Vec<bool>) {
    let digits = digits_of(p);
    let mut n: Vec<u32> = Vec::new();
    for &(d, r) in digits.0.iter().rev() {
        mul_add(&mut n, r, d);
    }
    let len = bit_len(&n);
    let mut bits = Vec::with_capacity((len + 2 * 64) as usize);
    let g = len + 1;
    let glen = 64 - g.leading_zeros() as u64;
    bits.resize(bits.len() + glen.saturating_sub(1) as usize, false);
    for k in (0..glen).rev() {
        bits.push((g >> k) & 1 == 1);
    }
    for k in (0..len).rev() {
        bits.push((n[(k / 32) as usize] >> (k % 32)) & 1 == 1);
    }
    debug_assert_eq!(bits.len() as u64, gamma_len(g) + len);
    (len, bits)
}

/// Encodes a program as a self-delimiting bit string, packed MSB-first into bytes.
/// Returns the bytes and the exact bit count.
pub fn encode(p: &Program) -> (Vec<u8>, u64) {
    let (_, bits) = encode_bits(p);
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

struct BitReader<'a> {
    b: &'a [u8],
    at: u64,
}

impl BitReader<'_> {
    fn bit(&mut self) -> Result<bool, DecodeError> {
        let i = self.at;
        let byte = self
            .b
            .get((i / 8) as usize)
            .ok_or_else(|| DecodeError("truncated".into()))?;
        self.at += 1;
        Ok(byte & (0x80 >> (i % 8)) != 0)
    }
}

/// Decodes one program from the front of `bytes`; returns it and the bits consumed.
pub fn decode(bytes: &[u8]) -> Result<(Program, u64), DecodeError> {
    let mut r = BitReader { b: bytes, at: 0 };
    let mut zeros = 0;
    while !r.bit()? {
        zeros += 1;
        if zeros > 40 {
            return Err(DecodeError("length prefix too long".into()));
        }
    }
    let mut g = 1u64;
    for _ in 0..zeros {
        g = (g << 1) | r.bit()? as u64;
    }
    let len = g - 1;
    if len > 8 * bytes.len() as u64 {
        return Err(DecodeError("truncated".into()));
    }
    let mut n: Vec<u32> = vec![0; len.div_ceil(32) as usize];
    for k in (0..len).rev() {
        if r.bit()? {
            n[(k / 32) as usize] |= 1 << (k % 32);
        }
    }
    while n.last() == Some(&0) {
        n.pop();
    }
    let mut take = |radix: u64| -> u64 {
        if radix <= 1 {
            0
        } else {
            div_rem(&mut n, radix)
        }
    };
    fn int(take: &mut dyn FnMut(u64) -> u64) -> i64 {
        let d = take(INT_DIRECT + 1);
        if d < INT_DIRECT {
            d as i64
        } else {
            let mut u = 0u64;
            for _ in 0..64 {
                u = (u << 1) | take(2);
            }
            u as i64
        }
    }
    fn small(take: &mut dyn FnMut(u64) -> u64) -> i64 {
        let d = take(SMALL_DIRECT + 1);
        if d < SMALL_DIRECT {
            d as i64
        } else {
            int(take)
        }
    }
    let nops = Op::ALL.len() as u64 + 1;
    let mut lines: Vec<Line> = Vec::new();
    loop {
        if lines.len() > super::parse::MAX_LINES {
            return Err(DecodeError("too many lines".into()));
        }
        let o = take(nops);
        if o == nops - 1 {
            break;
        }
        let op = Op::ALL[o as usize];
        let i = lines.len() as u64;
        let nargs = if op.variadic() {
            let k = small(&mut take) + 1;
            if !(1..=4096).contains(&k) {
                return Err(DecodeError("bad argument count".into()));
            }
            k as usize
        } else {
            op.slots().len()
        };
        let mut args = Vec::with_capacity(nargs);
        for k in 0..nargs {
            let slot = if op.variadic() {
                Slot::Var
            } else {
                op.slots()[k]
            };
            args.push(match slot {
                Slot::Var => {
                    if i == 0 {
                        return Err(DecodeError("reference on the first line".into()));
                    }
                    Arg::Var(take(i) as usize)
                }
                Slot::Int => Arg::Int(int(&mut take)),
                Slot::Small => Arg::Int(small(&mut take)),
                Slot::Pred => Arg::Pred(Pred::ALL[take(3) as usize]),
                Slot::List => {
                    let len = int(&mut take);
                    if !(0..=4096).contains(&len) {
                        return Err(DecodeError("bad list length".into()));
                    }
                    Arg::List((0..len).map(|_| int(&mut take)).collect())
                }
            });
        }
        lines.push(Line { op, args });
    }
    if lines.is_empty() {
        return Err(DecodeError("empty program".into()));
    }
    let output = take(lines.len() as u64) as usize;
    Ok((Program::with_output(lines, output), r.at))
}
