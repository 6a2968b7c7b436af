//! The hot loops of coding and of training, and the only module of pcz with `unsafe` code:
//! each is compiled for the widest vector unit the CPU has, chosen at run time.
//!
//! - [`mix`]: `out = w^T rows`, the M x K (and M x M) products of the circuit conditionals,
//!   and [`mix_many`], the same for several weight vectors sharing `rows`;
//! - [`divide`]: `v /= s`, the renormalisation after every update of a context vector;
//! - [`frequencies`]: the scaling and truncation step of the quantizer;
//! - [`IntKernels`]: the training of `pcmix`'s integer mixer, once per coded bit;
//! - [`prefetch`]: a cache hint (no result depends on it) for memory the circuit's
//!   context updates read a few records later;
//! - [`product`]: the `f32` matrix products of the training E-step (encoder side only),
//!   written with AVX2 / AVX-512 intrinsics because LLVM vectorises the register tiles of
//!   the plain code across the wrong dimension (with gathers and scatters) on AVX-512.
//!
//! Why: decoding spends ~75% of its time in these loops. The portable build may only
//! assume SSE2 (2 `f64` lanes, no packed `f64` -> integer conversion that vectorises);
//! compiling the same loops for AVX2 / AVX-512 made MNIST decoding 1.7x faster (M = 32).
//! Rust can only call a `#[target_feature]` function from `unsafe` code, hence this module.
//!
//! Why this is still bit-exact on every machine: every output is the same sequence of IEEE
//! operations whatever the vector width, because lanes hold *different outputs*, never
//! partial sums of one output; the serial sums stay serial. No feature enabled here allows
//! fused multiply-add (`fma` is not enabled, and Rust never contracts `a * b + c` on its
//! own), so products are rounded exactly as in scalar code. The tests compare every kernel
//! bit for bit with the plain definitions.

#![allow(unsafe_code)]

/// The instruction sets a kernel is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    /// The widest instruction set the running CPU supports. The only place (outside the
    /// tests, which check the features the same way) that names a vector `Isa`: the
    /// `unsafe` calls below rely on it.
    fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }
}

/// `out[a] = sum_k w[k] * rows[k][a]` for rows of width `out.len()` stored contiguously,
/// each sum in ascending k from 0.0 (the order the format fixes). Returns the sum of `out`
/// in ascending index order.
pub(crate) fn mix(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
    if out.len() <= SHORT {
        return mix_short(w, rows, out);
    }
    mix_with(Isa::detect(), w, rows, out)
}

/// [`mix`] of at most [`SHORT`] outputs, at a length known when compiled: each row adds
/// its products to all accumulators at once, and nothing is copied through `memcpy` (a
/// copy of a length known only at run time was a library call that showed in profiles).
#[inline(always)]
fn mix_short(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
    match out.len() {
        1 => mix_fixed::<1>(w, rows, out.try_into().expect("1 output")),
        2 => mix_fixed::<2>(w, rows, out.try_into().expect("2 outputs")),
        3 => mix_fixed::<3>(w, rows, out.try_into().expect("3 outputs")),
        _ => match <&mut [f64; SHORT]>::try_from(out) {
            Ok(out) => mix_fixed(w, rows, out),
            Err(_) => 0.0, // no outputs
        },
    }
}

/// [`mix`] of exactly `N` outputs.
#[inline(always)]
fn mix_fixed<const N: usize>(w: &[f64], rows: &[f64], out: &mut [f64; N]) -> f64 {
    let mut acc = [0.0f64; N];
    for (&wk, row) in w.iter().zip(rows.chunks_exact(N)) {
        for (x, &y) in acc.iter_mut().zip(row) {
            *x += wk * y;
        }
    }
    *out = acc;
    acc.iter().fold(0.0, |sum, &x| sum + x)
}

/// Vectors this short (the M of small self-trained models) are handled inline: calling a
/// kernel compiled for another instruction set cannot be inlined and costs more than the
/// few operations it would save.
const SHORT: usize = 4;

fn mix_with(isa: Isa, w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
    match isa {
        Isa::Portable => mix_blocked::<16>(w, rows, out),
        // SAFETY: a vector `Isa` only comes from `Isa::detect`, which checked the feature
        // on the running CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { x86::mix_avx2(w, rows, out) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::mix_avx512(w, rows, out) },
    }
}

/// [`mix`] for several weight vectors over the same `rows` (M rows of `width`): for each
/// i < `sums.len()`, `out[i * stride..][..width] = weights(i)^T rows` and `sums[i]` = the
/// ascending sum of that output. Bit-identical to calling [`mix`] for each, but four at a
/// time share every row block loaded from memory (the M x K emission table of a variable is
/// larger than L1, so one vector at a time is bound by its loads).
///
/// The sums are taken afterwards from `out`, eight outputs side by side ([`row_sums`]):
/// each is a serial chain of K additions, and summing inside the product kernel (four
/// chains, each lane moved out of its vector register by a shuffle) was most of its time
/// for small M.
pub(crate) fn mix_many<'a>(
    weights: impl Fn(usize) -> &'a [f64],
    rows: &[f64],
    out: &mut [f64],
    stride: usize,
    width: usize,
    sums: &mut [f64],
) {
    let isa = Isa::detect();
    let outputs = Group { out, stride, width };
    mix_many_with(isa, weights, rows, outputs, sums.len());
    sum_many_with(isa, out, stride, width, sums);
}

/// The products of [`mix_many`] alone (no sums): `out[i * stride..][..width] =
/// weights(i)^T rows` for i < `n`, bit-identical to [`mix`] of each.
pub(crate) fn mix_many_unsummed<'a>(
    weights: impl Fn(usize) -> &'a [f64],
    rows: &[f64],
    out: &mut [f64],
    stride: usize,
    width: usize,
    n: usize,
) {
    let outputs = Group { out, stride, width };
    mix_many_with(Isa::detect(), weights, rows, outputs, n)
}

/// The products of [`mix_many`] for `n` weight vectors, their outputs as a [`Group`].
fn mix_many_with<'a>(
    isa: Isa,
    weights: impl Fn(usize) -> &'a [f64],
    rows: &[f64],
    outputs: Group,
    n: usize,
) {
    let Group { out, stride, width } = outputs;
    let whole = n / 4 * 4;
    for g in (0..whole).step_by(4) {
        let w = [weights(g), weights(g + 1), weights(g + 2), weights(g + 3)];
        let group = Group {
            out: &mut out[g * stride..],
            stride,
            width,
        };
        mix4_with(isa, w, rows, group);
    }
    for i in whole..n {
        mix_with(isa, weights(i), rows, &mut out[i * stride..][..width]);
    }
}

/// For each i < `sums.len()`, `sums[i]` = the ascending sum of `out[i * stride..][..width]`
/// from 0.0 (rows at least `width` apart).
fn sum_many_with(isa: Isa, out: &[f64], stride: usize, width: usize, sums: &mut [f64]) {
    match isa {
        Isa::Portable => sum_many(out, stride, width, sums),
        // SAFETY: a vector `Isa` only comes from `Isa::detect`, which checked the feature
        // on the running CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { x86::sum_many_avx2(out, stride, width, sums) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::sum_many_avx512(out, stride, width, sums) },
    }
}

/// The portable [`sum_many_with`]: eight (then four, then one) rows side by side.
fn sum_many(out: &[f64], stride: usize, width: usize, sums: &mut [f64]) {
    let n = sums.len();
    let eights = n / 8 * 8;
    for g in (0..eights).step_by(8) {
        row_sums::<8>(&out[g * stride..], stride, width, &mut sums[g..g + 8]);
    }
    let fours = n / 4 * 4;
    if eights < fours {
        row_sums::<4>(
            &out[eights * stride..],
            stride,
            width,
            &mut sums[eights..fours],
        );
    }
    for i in fours..n {
        row_sums::<1>(&out[i * stride..], stride, width, &mut sums[i..i + 1]);
    }
}

/// Where the outputs of [`mix_many`] go: output g is `out[g * stride..][..width]`.
struct Group<'o> {
    out: &'o mut [f64],
    stride: usize,
    width: usize,
}

fn mix4_with(isa: Isa, w: [&[f64]; 4], rows: &[f64], group: Group) {
    match isa {
        Isa::Portable => mix4::<4>(w, rows, group),
        // SAFETY: a vector `Isa` only comes from `Isa::detect`, which checked the feature
        // on the running CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { x86::mix4_avx2(w, rows, group) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::mix4_avx512(w, rows, group) },
    }
}

/// The products of [`mix_many`] for four vectors: blocks of `L` outputs of all four (4 x `L`
/// accumulators: half the target's vector registers), then blocks of 8, then the tail one
/// output at a time.
#[inline(always)]
fn mix4<const L: usize>(w: [&[f64]; 4], rows: &[f64], mut group: Group) {
    let m = w[0].len();
    let w: [&[f64]; 4] = [&w[0][..m], &w[1][..m], &w[2][..m], &w[3][..m]];
    let mut start = blocks4::<L>(&w, rows, 0, &mut group);
    if L > 8 {
        start = blocks4::<8>(&w, rows, start, &mut group);
    }
    blocks4::<1>(&w, rows, start, &mut group);
}

/// `sums[i]` = the sum of `out[i * stride..][..width]` in ascending index order from 0.0,
/// for i < `N`: the `N` serial chains advance side by side, so the adder overlaps them
/// instead of waiting on one.
#[inline(always)]
fn row_sums<const N: usize>(out: &[f64], stride: usize, width: usize, sums: &mut [f64]) {
    let rows: [&[f64]; N] = std::array::from_fn(|i| &out[i * stride..][..width]);
    let mut s = [0.0f64; N];
    for a in 0..width {
        for (si, row) in s.iter_mut().zip(&rows) {
            *si += row[a];
        }
    }
    sums[..N].copy_from_slice(&s);
}

/// Fills the four outputs of `group` from `start` on in whole blocks of `L`; returns where
/// it stopped.
#[inline(always)]
fn blocks4<const L: usize>(
    w: &[&[f64]; 4],
    rows: &[f64],
    start: usize,
    group: &mut Group,
) -> usize {
    let (m, width, stride) = (w[0].len(), group.width, group.stride);
    let end = start + (width - start) / L * L;
    for from in (start..end).step_by(L) {
        let mut acc = [[0.0f64; L]; 4];
        for k in 0..m {
            let r: &[f64; L] = rows[k * width + from..][..L].try_into().expect("block");
            for (g, acc_g) in acc.iter_mut().enumerate() {
                let wk = w[g][k];
                for (x, &y) in acc_g.iter_mut().zip(r) {
                    *x += wk * y;
                }
            }
        }
        for (g, acc_g) in acc.iter().enumerate() {
            group.out[g * stride + from..][..L].copy_from_slice(acc_g);
        }
    }
    end
}

/// Asks the CPU to start loading the cache line that holds `x` for a read soon: a hint,
/// with no effect on any result. The codec readies thousands of records' contexts per
/// variable, each its own allocation out of cache by then, and waiting on those loads was
/// half the time of readying them.
#[inline(always)]
pub(crate) fn prefetch<T>(x: &T) {
    // SAFETY: a prefetch neither faults nor changes memory, and `x` is a valid reference.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast())
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// `v[i] /= s` for every i (a true IEEE division each, never a multiply by 1/s). Inline,
/// so that short vectors divide in place of the call ([`divide_wide`] the others).
#[inline(always)]
pub(crate) fn divide(v: &mut [f64], s: f64) {
    if v.len() <= SHORT {
        return divide_body(v, s);
    }
    divide_wide(v, s)
}

/// [`divide`] of more than [`SHORT`] values, by the widest vector unit.
fn divide_wide(v: &mut [f64], s: f64) {
    match Isa::detect() {
        Isa::Portable => divide_body(v, s),
        // SAFETY: a vector `Isa` only comes from `Isa::detect`, which checked the feature
        // on the running CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { x86::divide_avx2(v, s) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::divide_avx512(v, s) },
    }
}

#[inline(always)]
fn divide_body(v: &mut [f64], s: f64) {
    for x in v {
        *x /= s;
    }
}

/// The sum (modulo 2^32) and the largest of the frequencies [`frequencies`] wrote, which the
/// quantizer needs next: taken in the same vectorised pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub sum: u32,
    pub max: u32,
}

/// `f[a] = 1 + min(floor(q[a] * scale), cap)` (format-spec §5, step 3), where the floor of
/// NaN is 0 as Rust's saturating casts define it, and their [`Tally`]. Returns `None` when
/// some `q[a]` is negative or NaN (the weights are then invalid and `f` unspecified).
pub(crate) fn frequencies(q: &[f64], scale: f64, cap: u32, f: &mut [u32]) -> Option<Tally> {
    frequencies_with(Isa::detect(), q, scale, cap, f)
}

fn frequencies_with(isa: Isa, q: &[f64], scale: f64, cap: u32, f: &mut [u32]) -> Option<Tally> {
    match isa {
        Isa::Portable => scale_truncate(q, scale, cap, f),
        // SAFETY: a vector `Isa` only comes from `Isa::detect`, which checked the feature
        // on the running CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { x86::frequencies_avx2(q, scale, cap, f) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::frequencies_avx512(q, scale, cap, f) },
    }
}

/// The first index of `x` in `v` (0 if absent): where the quantizer finds its largest
/// frequency, the lowest index among equals, to correct the total there. An audio model's
/// mode lies anywhere in the table, so the search reads half of it on average.
pub(crate) fn first_index_of(v: &[u32], x: u32) -> usize {
    first_index_of_with(Isa::detect(), v, x)
}

fn first_index_of_with(isa: Isa, v: &[u32], x: u32) -> usize {
    match isa {
        Isa::Portable => first_index_in_blocks(v, x),
        // SAFETY: a vector `Isa` only comes from `Isa::detect`, which checked the feature
        // on the running CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { x86::first_index_of_avx2(v, x) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::first_index_of_avx512(v, x) },
    }
}

/// The portable [`first_index_of`], block by block: a whole block is tested without early
/// exits, which compiles to vector compares, and only the block that holds `x` is walked.
fn first_index_in_blocks(v: &[u32], x: u32) -> usize {
    let mut start = 0;
    for block in v.chunks(16) {
        if block.iter().fold(false, |hit, &y| hit | (y == x)) {
            return start + block.iter().position(|&y| y == x).unwrap_or(0);
        }
        start += block.len();
    }
    0
}

/// The integer kernel of the `pcmix` mixer, for the instruction set detected when the
/// mixer was built. Why: the mixer calls it on every coded bit, on a few dozen inputs,
/// and detecting the CPU's features on each call cost as much as the kernel's arithmetic.
/// (Its dot product is scalar, in [`crate::mix::Counters::predict`], which makes the
/// inputs: a vector load of them would wait for their separate stores to reach the cache.)
#[derive(Debug, Clone, Copy)]
pub(crate) struct IntKernels(Isa);

/// Eight `i32` lanes: one AVX2 vector. The mixer keeps its inputs and weights in whole
/// blocks (padded with zeros) so its kernels never run a scalar tail.
pub(crate) type Block = [i32; BLOCK];

/// Lanes of a [`Block`].
pub(crate) const BLOCK: usize = 8;

impl IntKernels {
    /// The kernels for the widest instruction set the running CPU supports.
    pub(crate) fn detect() -> Self {
        IntKernels(Isa::detect())
    }

    /// `w[i] = clamp(w[i] + (x[i] * scale >> 22), -LIMIT, LIMIT)` for every i, in `i64`
    /// (the `pcmix` mixer's training step, `scale` its error times its rate), over blocks
    /// of equal count. Each output depends on its own inputs only, so every width computes
    /// the same integers. `LIMIT` is a constant so the kernels are compiled for it: as an
    /// argument, its checks and broadcasts cost a tenth of the kernel on every call.
    ///
    /// The vector kernels compute in `i32` but for the products, so they need the step of
    /// every weight to fit: |x * scale| < 2^52 and |w| <= LIMIT <= 2^30 (the mixer's
    /// logits are below 2^12, its scales below 2^30, its limit 2^22).
    #[inline]
    pub(crate) fn train_i32<const LIMIT: i32>(self, w: &mut [Block], x: &[Block], scale: i32) {
        debug_assert_eq!(w.len(), x.len());
        train_i32_with::<LIMIT>(self.0, w, x, scale)
    }
}

/// Widest weight limit the vector training kernels take: a weight plus a step (each at
/// most 2^30 in size) stays inside an `i32`.
const TRAIN_LIMIT_MAX: i32 = 1 << 30;

fn train_i32_with<const LIMIT: i32>(isa: Isa, w: &mut [Block], x: &[Block], scale: i32) {
    const { assert!(LIMIT >= 0 && LIMIT <= TRAIN_LIMIT_MAX) };
    match isa {
        Isa::Portable => train_i32_body::<LIMIT>(w.as_flattened_mut(), x.as_flattened(), scale),
        // SAFETY: a vector `Isa` only comes from `Isa::detect` (here through the
        // `IntKernels` it built), which checked the feature on the running CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { x86::train_i32_avx2::<LIMIT>(w, x, scale) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::train_i32_avx512::<LIMIT>(w, x, scale) },
    }
}

fn train_i32_body<const LIMIT: i32>(w: &mut [i32], x: &[i32], scale: i32) {
    let limit = i64::from(LIMIT);
    for (w, &x) in w.iter_mut().zip(x) {
        let dw = (i64::from(x) * i64::from(scale)) >> 22;
        *w = (i64::from(*w) + dw).clamp(-limit, limit) as i32;
    }
}

/// How the left operand of [`product`] is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Left {
    /// Row-major rows x depth: `c = a x`.
    AsIs,
    /// Row-major depth x rows: `c = a^T x`, a sum of outer products of the rows of `a` and
    /// `x`, in row order.
    Transposed,
}

/// The operands of a [`product`]: `a` (rows x depth, or depth x rows if transposed) times
/// `x` (row-major depth x width).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Operands<'a> {
    pub(crate) a: &'a [f32],
    pub(crate) left: Left,
    pub(crate) depth: usize,
    pub(crate) x: &'a [f32],
    pub(crate) width: usize,
}

impl Operands<'_> {
    fn rows(&self) -> usize {
        self.a.len() / self.depth
    }

    /// Entries `i0..i0 + R` of column t of the left matrix (rows of `c`).
    #[inline(always)]
    fn left<const R: usize>(&self, i0: usize, t: usize) -> [f32; R] {
        match self.left {
            Left::AsIs => std::array::from_fn(|i| self.a[(i0 + i) * self.depth + t]),
            Left::Transposed => self.a[t * self.rows() + i0..][..R]
                .try_into()
                .expect("R entries"),
        }
    }
}

/// `c = a x` (row-major rows x width) for [`Operands`]: each entry the sum over t of
/// `a[i][t] * x[t][l]` in ascending t from 0.0, one rounding per product and per addition
/// (no fused multiply-add), so every instruction set gives the same bits. The vector
/// kernels keep tiles of `c` (8 x 32 for AVX-512, 4 x 16 for AVX2) in registers; widths
/// that are not a multiple of 8 (small hidden sizes) take the portable loop.
pub(crate) fn product(ops: Operands, c: &mut [f32]) {
    product_with(Isa::detect(), ops, c)
}

fn product_with(isa: Isa, ops: Operands, c: &mut [f32]) {
    assert!(
        ops.depth > 0
            && ops.a.len().is_multiple_of(ops.depth)
            && ops.x.len() >= ops.depth * ops.width
            && c.len() >= ops.rows() * ops.width,
        "product: operand sizes"
    );
    if !ops.width.is_multiple_of(8) {
        return match ops.width {
            2 => product_narrow::<2>(ops, c),
            4 => product_narrow::<4>(ops, c),
            _ => product_portable(ops, c),
        };
    }
    match isa {
        Isa::Portable => product_portable(ops, c),
        // SAFETY: a vector `Isa` only comes from `Isa::detect`, which checked the feature
        // on the running CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { x86::product_avx2(ops, c) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::product_avx512(ops, c) },
    }
}

/// The portable [`product`]: one row of `c` at a time, accumulated in place.
fn product_portable(ops: Operands, c: &mut [f32]) {
    let width = ops.width;
    for (i, row) in c.chunks_exact_mut(width).take(ops.rows()).enumerate() {
        row.fill(0.0);
        for (t, xr) in ops.x.chunks_exact(width).take(ops.depth).enumerate() {
            let [a] = ops.left::<1>(i, t);
            row.iter_mut().zip(xr).for_each(|(s, &x)| *s += a * x);
        }
    }
}

/// [`product_portable`] for a width known at compile time (the M = 2 or 4 of small
/// models): each row of `c` accumulated in registers, in the same order.
fn product_narrow<const W: usize>(ops: Operands, c: &mut [f32]) {
    for (i, row) in c.chunks_exact_mut(W).take(ops.rows()).enumerate() {
        let mut acc = [0.0f32; W];
        for (t, xr) in ops.x.chunks_exact(W).take(ops.depth).enumerate() {
            let [a] = ops.left::<1>(i, t);
            acc.iter_mut().zip(xr).for_each(|(s, &x)| *s += a * x);
        }
        row.copy_from_slice(&acc);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{blocks4, divide_body, mix4, mix_blocked, row_sums, scale_truncate};
    use super::{Block, Group, Operands, Tally};
    use std::arch::x86_64::*;

    /// [`super::train_i32_body`] a block at a time, in `i32` but for the products: a step fits
    /// an `i32` (see [`super::IntKernels::train_i32`]), so the low 32 bits of an even
    /// lane's product shifted right by 22, logically, are those of the arithmetic shift,
    /// and an odd lane's land in place in the high 32 bits after a left shift by 10.
    #[target_feature(enable = "avx2")]
    pub(super) fn train_i32_avx2<const LIMIT: i32>(w: &mut [Block], x: &[Block], scale: i32) {
        let s = _mm256_set1_epi32(scale);
        for (w, x) in w.iter_mut().zip(x) {
            train8::<LIMIT>(w, x, s);
        }
    }

    /// [`super::train_i32_body`] two blocks at a time, then the odd one, as [`train_i32_avx2`].
    #[target_feature(enable = "avx512f")]
    pub(super) fn train_i32_avx512<const LIMIT: i32>(w: &mut [Block], x: &[Block], scale: i32) {
        let n = w.len().min(x.len());
        let mut w2 = w[..n].chunks_exact_mut(2);
        let mut x2 = x[..n].chunks_exact(2);
        let (s, hi, lo) = (
            _mm512_set1_epi32(scale),
            _mm512_set1_epi32(LIMIT),
            _mm512_set1_epi32(-LIMIT),
        );
        for (w, x) in w2.by_ref().zip(x2.by_ref()) {
            let (wv, xv) = (load16(w), load16(x));
            let even = _mm512_srli_epi64::<22>(_mm512_mul_epi32(xv, s));
            let odd = _mm512_slli_epi64::<10>(_mm512_mul_epi32(_mm512_srli_epi64::<32>(xv), s));
            let dw = _mm512_mask_blend_epi32(0xaaaa, even, odd);
            let wv = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(wv, dw), lo), hi);
            // SAFETY: the store writes the two blocks of the chunk `w`.
            unsafe { _mm512_storeu_si512(w.as_mut_ptr().cast(), wv) }
        }
        let s = _mm256_set1_epi32(scale);
        if let (Some(w), Some(x)) = (w2.into_remainder().first_mut(), x2.remainder().first()) {
            train8::<LIMIT>(w, x, s);
        }
    }

    /// [`train_i32_avx2`]'s step on one block, `s` the scale in every lane.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn train8<const LIMIT: i32>(w: &mut Block, x: &Block, s: __m256i) {
        let (wv, xv) = (load8(w), load8(x));
        let even = _mm256_srli_epi64::<22>(_mm256_mul_epi32(xv, s));
        let odd = _mm256_slli_epi64::<10>(_mm256_mul_epi32(_mm256_srli_epi64::<32>(xv), s));
        let dw = _mm256_blend_epi32::<0xaa>(even, odd);
        let wv = _mm256_min_epi32(
            _mm256_max_epi32(_mm256_add_epi32(wv, dw), _mm256_set1_epi32(-LIMIT)),
            _mm256_set1_epi32(LIMIT),
        );
        // SAFETY: the store writes the 8 lanes of `w`.
        unsafe { _mm256_storeu_si256(w.as_mut_ptr().cast(), wv) }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn load8(v: &Block) -> __m256i {
        // SAFETY: the load reads the 8 lanes of `v`.
        unsafe { _mm256_loadu_si256(v.as_ptr().cast()) }
    }

    /// The 16 lanes of a pair of blocks (`chunks_exact(2)` gives only pairs).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load16(v: &[Block]) -> __m512i {
        assert_eq!(v.len(), 2);
        // SAFETY: the load reads the 16 lanes of the two blocks.
        unsafe { _mm512_loadu_si512(v.as_ptr().cast()) }
    }

    /// [`super::product`] in tiles of 8 rows x 32 columns (two vectors of 16), the last
    /// tile of a row masked down to the width; the remaining rows one at a time.
    #[target_feature(enable = "avx512f")]
    pub(super) fn product_avx512(ops: Operands, c: &mut [f32]) {
        let rows = ops.rows();
        let whole = rows / 8 * 8;
        for col in (0..ops.width).step_by(32) {
            for i0 in (0..whole).step_by(8) {
                tile_avx512::<8>(&ops, i0, col, c);
            }
            for i0 in whole..rows {
                tile_avx512::<1>(&ops, i0, col, c);
            }
        }
    }

    /// The first `n` (at most 16) lanes.
    fn mask16(n: usize) -> __mmask16 {
        ((1u32 << n.min(16)) - 1) as u16
    }

    #[target_feature(enable = "avx512f")]
    fn tile_avx512<const R: usize>(ops: &Operands, i0: usize, col: usize, c: &mut [f32]) {
        let (depth, width) = (ops.depth, ops.width);
        let lanes = (width - col).min(32);
        let mask = [mask16(lanes), mask16(lanes.saturating_sub(16))];
        let mut acc = [[_mm512_setzero_ps(); 2]; R];
        for t in 0..depth {
            let xr = &ops.x[t * width + col..][..lanes];
            let p = xr.as_ptr();
            // SAFETY: each mask selects only lanes inside `xr`; masked-off lanes are never
            // read (an all-zero mask reads nothing, so the offset pointer need not be valid).
            let xv = unsafe {
                [
                    _mm512_maskz_loadu_ps(mask[0], p),
                    _mm512_maskz_loadu_ps(mask[1], p.wrapping_add(16)),
                ]
            };
            let a = ops.left::<R>(i0, t);
            for (acc, &a) in acc.iter_mut().zip(&a) {
                let a = _mm512_set1_ps(a);
                for (s, &x) in acc.iter_mut().zip(&xv) {
                    *s = _mm512_add_ps(*s, _mm512_mul_ps(a, x));
                }
            }
        }
        for (i, acc) in acc.iter().enumerate() {
            let out = &mut c[(i0 + i) * width + col..][..lanes];
            let p = out.as_mut_ptr();
            // SAFETY: as for the loads, the masks select only lanes inside `out`.
            unsafe {
                _mm512_mask_storeu_ps(p, mask[0], acc[0]);
                _mm512_mask_storeu_ps(p.wrapping_add(16), mask[1], acc[1]);
            }
        }
    }

    /// [`super::product`] in tiles of 4 rows x 16 columns (two vectors of 8), then of 4 x 8
    /// when 8 columns remain; the remaining rows one at a time.
    #[target_feature(enable = "avx2")]
    pub(super) fn product_avx2(ops: Operands, c: &mut [f32]) {
        let rows = ops.rows();
        let whole = rows / 4 * 4;
        let pairs = ops.width / 16 * 16;
        for i0 in (0..whole).step_by(4) {
            for col in (0..pairs).step_by(16) {
                tile_avx2::<4, 2>(&ops, i0, col, c);
            }
            if pairs < ops.width {
                tile_avx2::<4, 1>(&ops, i0, pairs, c);
            }
        }
        for i0 in whole..rows {
            for col in (0..ops.width).step_by(8) {
                tile_avx2::<1, 1>(&ops, i0, col, c);
            }
        }
    }

    #[target_feature(enable = "avx2")]
    fn tile_avx2<const R: usize, const C: usize>(
        ops: &Operands,
        i0: usize,
        col: usize,
        c: &mut [f32],
    ) {
        let (depth, width) = (ops.depth, ops.width);
        let mut acc = [[_mm256_setzero_ps(); C]; R];
        for t in 0..depth {
            let xr = &ops.x[t * width + col..][..8 * C];
            // SAFETY: each load reads 8 lanes inside `xr`.
            let xv: [__m256; C] =
                std::array::from_fn(|h| unsafe { _mm256_loadu_ps(xr[8 * h..].as_ptr()) });
            let a = ops.left::<R>(i0, t);
            for (acc, &a) in acc.iter_mut().zip(&a) {
                let a = _mm256_set1_ps(a);
                for (s, &x) in acc.iter_mut().zip(&xv) {
                    *s = _mm256_add_ps(*s, _mm256_mul_ps(a, x));
                }
            }
        }
        for (i, acc) in acc.iter().enumerate() {
            let out = &mut c[(i0 + i) * width + col..][..8 * C];
            for (h, &v) in acc.iter().enumerate() {
                // SAFETY: each store writes 8 lanes inside `out`.
                unsafe { _mm256_storeu_ps(out[8 * h..].as_mut_ptr(), v) }
            }
        }
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn mix_avx2(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
        mix_blocked::<32>(w, rows, out)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn mix_avx512(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
        mix_blocked::<64>(w, rows, out)
    }

    /// [`super::mix4`] in blocks of 8 outputs of all four vectors (8 accumulators, as the
    /// compiled `mix4::<8>`), written out because the compiled loop checks the bounds of
    /// every row block and every store: a third of its instructions when M is small. The
    /// tail of fewer than 8 outputs takes the portable loop.
    #[target_feature(enable = "avx2")]
    pub(super) fn mix4_avx2(w: [&[f64]; 4], rows: &[f64], mut group: Group) {
        let (m, width, stride) = (w[0].len(), group.width, group.stride);
        let w: [&[f64]; 4] = [&w[0][..m], &w[1][..m], &w[2][..m], &w[3][..m]];
        let whole = width / 8 * 8;
        blocks4::<1>(&w, rows, whole, &mut group);
        assert!(stride >= width, "mix4: outputs overlap");
        let (o0, rest) = group.out.split_at_mut(stride);
        let (o1, rest) = rest.split_at_mut(stride);
        let (o2, o3) = rest.split_at_mut(stride);
        let mut outs = [
            &mut o0[..width],
            &mut o1[..width],
            &mut o2[..width],
            &mut o3[..width],
        ];
        let weights = w[0].iter().zip(w[1]).zip(w[2].iter().zip(w[3]));
        let rows = &rows[..m * width];
        for from in (0..whole).step_by(8) {
            let mut acc = [[_mm256_setzero_pd(); 2]; 4];
            for (row, ((&w0, &w1), (&w2, &w3))) in rows.chunks_exact(width).zip(weights.clone()) {
                // SAFETY: from + 8 <= whole <= width = row.len().
                let r = unsafe {
                    let p = row.as_ptr().add(from);
                    [_mm256_loadu_pd(p), _mm256_loadu_pd(p.add(4))]
                };
                for (acc, wk) in acc.iter_mut().zip([w0, w1, w2, w3]) {
                    let wk = _mm256_set1_pd(wk);
                    for (x, &y) in acc.iter_mut().zip(&r) {
                        *x = _mm256_add_pd(*x, _mm256_mul_pd(wk, y));
                    }
                }
            }
            for (out, acc) in outs.iter_mut().zip(&acc) {
                // SAFETY: from + 8 <= whole <= width = out.len().
                unsafe {
                    let p = out.as_mut_ptr().add(from);
                    _mm256_storeu_pd(p, acc[0]);
                    _mm256_storeu_pd(p.add(4), acc[1]);
                }
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn mix4_avx512(w: [&[f64]; 4], rows: &[f64], group: Group) {
        mix4::<32>(w, rows, group)
    }

    /// [`super::sum_many_with`] with four rows' sums in the lanes of one vector: each step
    /// loads two outputs of each row and transposes them (loads into 128-bit halves, then
    /// one unpack per output), so the lanes add their own rows' outputs in ascending order,
    /// as the serial sums do. Sixteen rows at a time keep four such chains in flight (an
    /// addition waits on the previous one of its chain), then eight, then four; the rest
    /// one by one.
    #[target_feature(enable = "avx2")]
    pub(super) fn sum_many_avx2(out: &[f64], stride: usize, width: usize, sums: &mut [f64]) {
        sum_many_transposed(out, stride, width, sums)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn sum_many_avx512(out: &[f64], stride: usize, width: usize, sums: &mut [f64]) {
        sum_many_transposed(out, stride, width, sums)
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn sum_many_transposed(out: &[f64], stride: usize, width: usize, sums: &mut [f64]) {
        let n = sums.len();
        let mut i = 0;
        while i + 16 <= n {
            chains::<4>(&out[i * stride..], stride, width, &mut sums[i..i + 16]);
            i += 16;
        }
        if i + 8 <= n {
            chains::<2>(&out[i * stride..], stride, width, &mut sums[i..i + 8]);
            i += 8;
        }
        if i + 4 <= n {
            chains::<1>(&out[i * stride..], stride, width, &mut sums[i..i + 4]);
            i += 4;
        }
        for i in i..n {
            row_sums::<1>(&out[i * stride..], stride, width, &mut sums[i..i + 1]);
        }
    }

    /// The sums of rows 0..4C of `out` into `sums[..4C]`, rows 4c..4c + 4 in chain c.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn chains<const C: usize>(out: &[f64], stride: usize, width: usize, sums: &mut [f64]) {
        assert!(stride >= width && out.len() >= (4 * C - 1) * stride + width);
        let pairs = width / 2 * 2;
        let mut s = [_mm256_setzero_pd(); C];
        for a in (0..pairs).step_by(2) {
            for (c, s) in s.iter_mut().enumerate() {
                // SAFETY: row 4c + j < 4C starts at (4c + j) * stride, and a + 2 <= width
                // outputs of it lie inside `out` by the assertion.
                let (r02, r13) = unsafe {
                    let row = |j: usize| out.as_ptr().add((4 * c + j) * stride + a);
                    (
                        _mm256_loadu2_m128d(row(2), row(0)),
                        _mm256_loadu2_m128d(row(3), row(1)),
                    )
                };
                // (row 0, 1, 2, 3) at a, then at a + 1.
                *s = _mm256_add_pd(*s, _mm256_unpacklo_pd(r02, r13));
                *s = _mm256_add_pd(*s, _mm256_unpackhi_pd(r02, r13));
            }
        }
        let lanes = &mut sums[..4 * C];
        for (chunk, s) in lanes.chunks_exact_mut(4).zip(s) {
            // SAFETY: the store writes the 4 lanes of `chunk`.
            unsafe { _mm256_storeu_pd(chunk.as_mut_ptr(), s) };
        }
        if pairs < width {
            for (i, sum) in lanes.iter_mut().enumerate() {
                *sum += out[i * stride + pairs];
            }
        }
    }

    /// [`super::first_index_of`] eight entries at a time: one compare and a mask of its
    /// lanes, whose lowest set bit is the first match.
    #[target_feature(enable = "avx2")]
    pub(super) fn first_index_of_avx2(v: &[u32], x: u32) -> usize {
        first_index_in_eights(v, x)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn first_index_of_avx512(v: &[u32], x: u32) -> usize {
        first_index_in_eights(v, x)
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn first_index_in_eights(v: &[u32], x: u32) -> usize {
        let xv = _mm256_set1_epi32(x as i32);
        let mut eights = v.chunks_exact(8);
        for (c, eight) in eights.by_ref().enumerate() {
            // SAFETY: the load reads the 8 lanes of `eight`.
            let y = unsafe { _mm256_loadu_si256(eight.as_ptr().cast()) };
            let hits = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(y, xv)));
            if hits != 0 {
                return c * 8 + hits.trailing_zeros() as usize;
            }
        }
        let rest = eights.remainder();
        let start = v.len() - rest.len();
        rest.iter().position(|&y| y == x).map_or(0, |i| start + i)
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn divide_avx2(v: &mut [f64], s: f64) {
        divide_body(v, s)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn divide_avx512(v: &mut [f64], s: f64) {
        divide_body(v, s)
    }

    /// [`super::frequencies`] eight weights at a time, the tail by the portable loop. Written
    /// out because the compiled loop packs each lane's validity test down to 32 bits (three
    /// extra instructions per four weights) and checks bounds per block: this one keeps the
    /// test a 64-bit mask (`!(x >= 0)`: NaN or negative, one compare) and joins the two
    /// halves' frequencies into one vector before adding them up.
    #[target_feature(enable = "avx2")]
    pub(super) fn frequencies_avx2(
        q: &[f64],
        scale: f64,
        cap: u32,
        f: &mut [u32],
    ) -> Option<Tally> {
        let n = q.len().min(f.len());
        let whole = n / 8 * 8;
        let (scale_v, zero) = (_mm256_set1_pd(scale), _mm256_setzero_pd());
        let cap_v = _mm256_set1_pd(f64::from(cap));
        let one = _mm256_set1_epi32(1);
        let (mut bad, mut sum, mut max) = (zero, _mm256_setzero_si256(), _mm256_setzero_si256());
        // = min(floor(x * scale), cap) for x * scale >= 0, 0 for NaN: `max` returns its
        // second operand (0) when either is NaN, as Rust's `max` returns the non-NaN one.
        let truncated = |x: __m256d| {
            let t = _mm256_min_pd(_mm256_max_pd(_mm256_mul_pd(x, scale_v), zero), cap_v);
            _mm256_cvttpd_epi32(t)
        };
        for (qs, fs) in q[..whole]
            .chunks_exact(8)
            .zip(f[..whole].chunks_exact_mut(8))
        {
            // SAFETY: each load reads 4 lanes inside the 8 of `qs`.
            let (lo, hi) = unsafe {
                (
                    _mm256_loadu_pd(qs.as_ptr()),
                    _mm256_loadu_pd(qs[4..].as_ptr()),
                )
            };
            bad = _mm256_or_pd(bad, _mm256_cmp_pd::<_CMP_NGE_UQ>(lo, zero));
            bad = _mm256_or_pd(bad, _mm256_cmp_pd::<_CMP_NGE_UQ>(hi, zero));
            let v = _mm256_set_m128i(truncated(hi), truncated(lo));
            let v = _mm256_add_epi32(v, one);
            // SAFETY: the store writes the 8 lanes of `fs`.
            unsafe { _mm256_storeu_si256(fs.as_mut_ptr().cast(), v) };
            sum = _mm256_add_epi32(sum, v);
            max = _mm256_max_epu32(max, v);
        }
        let mut lanes = ([0u32; 8], [0u32; 8]);
        // SAFETY: each store writes the 8 lanes of its array.
        unsafe {
            _mm256_storeu_si256(lanes.0.as_mut_ptr().cast(), sum);
            _mm256_storeu_si256(lanes.1.as_mut_ptr().cast(), max);
        }
        let tail = scale_truncate(&q[whole..n], scale, cap, &mut f[whole..n]);
        let invalid = _mm256_movemask_pd(bad) != 0;
        tail.filter(|_| !invalid).map(|t| Tally {
            sum: lanes.0.iter().fold(t.sum, |s, &x| s.wrapping_add(x)),
            max: lanes.1.iter().fold(t.max, |m, &x| m.max(x)),
        })
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn frequencies_avx512(
        q: &[f64],
        scale: f64,
        cap: u32,
        f: &mut [u32],
    ) -> Option<Tally> {
        scale_truncate(q, scale, cap, f)
    }
}

/// The body of [`frequencies`], branch-free so that it vectorises.
#[inline(always)]
fn scale_truncate(q: &[f64], scale: f64, cap: u32, f: &mut [u32]) -> Option<Tally> {
    let cap_f = f64::from(cap);
    let mut invalid = false;
    let mut tally = Tally { sum: 0, max: 0 };
    for (fa, &x) in f.iter_mut().zip(q) {
        invalid |= x.is_nan() | (x < 0.0);
        // = min(floor(t), cap) for t >= 0 and 0 for NaN, as the saturating casts of the
        // definition give (`max` and `min` return the non-NaN operand).
        let t = (x * scale).max(0.0).min(cap_f);
        // SAFETY: t is not NaN and lies in [0, cap] with cap < 2^31, so truncation to
        // `i32` is exact and in range; unchecked, it compiles to one vector conversion.
        *fa = 1 + unsafe { t.to_int_unchecked::<i32>() } as u32;
        tally.sum = tally.sum.wrapping_add(*fa);
        tally.max = tally.max.max(*fa);
    }
    (!invalid).then_some(tally)
}

/// The body of [`mix`]: outputs in blocks of `L` (then of 8, then one by one) whose
/// accumulators stay in registers across the whole k loop, so the loop is bound by the
/// multiplies and adds rather than by reloading and storing `out`. `L` = 8 vector registers
/// of the target. The running sum of a finished block is a serial chain the CPU overlaps
/// with the next block's products.
#[inline(always)]
fn mix_blocked<const L: usize>(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
    let width = out.len();
    let mut sum = 0.0f64;
    let mut start = 0;
    start = blocks::<L>(w, rows, width, start, out, &mut sum);
    start = blocks::<8>(w, rows, width, start, out, &mut sum);
    blocks::<1>(w, rows, width, start, out, &mut sum);
    sum
}

/// Fills `out[start..]` in whole blocks of `L` outputs; returns where it stopped.
#[inline(always)]
fn blocks<const L: usize>(
    w: &[f64],
    rows: &[f64],
    width: usize,
    start: usize,
    out: &mut [f64],
    sum: &mut f64,
) -> usize {
    let end = start + (width - start) / L * L;
    for (b, block) in out[start..end].chunks_exact_mut(L).enumerate() {
        let from = start + b * L;
        let mut acc = [0.0f64; L];
        for (&wk, row) in w.iter().zip(rows.chunks_exact(width)) {
            let r: &[f64; L] = row[from..from + L].try_into().expect("block of L");
            for (x, &y) in acc.iter_mut().zip(r) {
                *x += wk * y;
            }
        }
        block.copy_from_slice(&acc);
        for x in acc {
            *sum += x;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The portable kernel and every vector kernel this CPU can run.
    fn isas() -> Vec<Isa> {
        let mut isas = vec![Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                isas.push(Isa::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                isas.push(Isa::Avx512);
            }
        }
        isas
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// The format's definition, one output at a time.
    fn plain_mix(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
        let width = out.len();
        for (a, o) in out.iter_mut().enumerate() {
            *o = 0.0;
            for (k, &wk) in w.iter().enumerate() {
                *o += wk * rows[k * width + a];
            }
        }
        out.iter().fold(0.0, |s, &x| s + x)
    }

    #[test]
    fn every_mix_kernel_is_bit_identical_to_the_definition() {
        let mut rng = Rng::new(11);
        for trial in 0..300 {
            let m = 1 + rng.below(40) as usize;
            let width = 1 + rng.below([300, 70, SHORT as u64][trial % 3]) as usize;
            let w: Vec<f64> = (0..m).map(|_| rng.next_f64()).collect();
            let rows: Vec<f64> = (0..m * width)
                .map(|_| rng.next_f64().powi(rng.below(30) as i32))
                .collect();
            let mut want = vec![0.0; width];
            let want_sum = plain_mix(&w, &rows, &mut want);
            for isa in isas() {
                let mut got = vec![f64::NAN; width];
                let sum = mix_with(isa, &w, &rows, &mut got);
                assert_eq!(bits(&got), bits(&want), "{isa:?} m={m} width={width}");
                assert_eq!(sum.to_bits(), want_sum.to_bits(), "{isa:?} sum");
            }
            // The dispatching entry point (short outputs take their own loop).
            let mut got = vec![f64::NAN; width];
            let sum = mix(&w, &rows, &mut got);
            assert_eq!(bits(&got), bits(&want), "mix m={m} width={width}");
            assert_eq!(sum.to_bits(), want_sum.to_bits(), "mix sum");
        }
    }

    #[test]
    fn mixing_many_equals_mixing_each() {
        let mut rng = Rng::new(13);
        for trial in 0..100 {
            let (m, width, n) = (
                1 + rng.below(40) as usize,
                1 + rng.below(if trial % 2 == 0 { 300 } else { 70 }) as usize,
                1 + rng.below(21) as usize,
            );
            let ws: Vec<Vec<f64>> = (0..n)
                .map(|_| (0..m).map(|_| rng.next_f64()).collect())
                .collect();
            let rows: Vec<f64> = (0..m * width).map(|_| rng.next_f64()).collect();
            // Outputs spaced wider than their width on odd trials, as the codec does.
            let stride = width + trial % 2 * 5;
            let mut want = vec![0.0; n * stride];
            let want_sums: Vec<f64> = ws
                .iter()
                .zip(want.chunks_mut(stride))
                .map(|(w, o)| plain_mix(w, &rows, &mut o[..width]))
                .collect();
            for isa in isas() {
                let mut got = vec![0.0; n * stride];
                let mut sums = vec![f64::NAN; n];
                let outputs = Group {
                    out: &mut got,
                    stride,
                    width,
                };
                mix_many_with(isa, |i| &ws[i], &rows, outputs, n);
                sum_many_with(isa, &got, stride, width, &mut sums);
                assert_eq!(bits(&got), bits(&want), "{isa:?} m={m} width={width} n={n}");
                assert_eq!(bits(&sums), bits(&want_sums), "{isa:?}");
            }
        }
    }

    /// The definition of [`product`]: each entry summed in ascending t from 0.0.
    fn plain_product(a: &[f32], depth: usize, x: &[f32], width: usize) -> Vec<f32> {
        let rows = a.len() / depth;
        let mut c = vec![0.0; rows * width];
        for r in 0..rows {
            for k in 0..width {
                let terms = (0..depth).map(|t| a[r * depth + t] * x[t * width + k]);
                c[r * width + k] = terms.fold(0.0, |s, v| s + v);
            }
        }
        c
    }

    #[test]
    fn every_product_kernel_is_bit_identical_to_the_definition() {
        let mut rng = Rng::new(14);
        let fixed = [
            (1, 1, 8),
            (3, 5, 8),
            (9, 32, 32),
            (32, 32, 32),
            (13, 7, 24),
            (32, 32, 40),
        ];
        let random = (0..200).map(|_| {
            let rows = 1 + rng.below(40) as usize;
            let depth = 1 + rng.below(40) as usize;
            let width = match rng.below(3) {
                0 => 1 + rng.below(7) as usize,
                _ => 8 * (1 + rng.below(9) as usize),
            };
            (rows, depth, width)
        });
        let shapes: Vec<_> = fixed.into_iter().chain(random).collect();
        for (rows, depth, width) in shapes {
            let a: Vec<f32> = (0..rows * depth)
                .map(|_| rng.next_f64().powi(rng.below(30) as i32) as f32)
                .collect();
            let x: Vec<f32> = (0..depth * width).map(|_| rng.next_f64() as f32).collect();
            let want = plain_product(&a, depth, &x, width);
            let at: Vec<f32> = (0..depth * rows)
                .map(|i| a[(i % rows) * depth + i / rows])
                .collect();
            for (a, left) in [(&a, Left::AsIs), (&at, Left::Transposed)] {
                let ops = Operands {
                    a,
                    left,
                    depth,
                    x: &x,
                    width,
                };
                for isa in isas() {
                    let mut c = vec![f32::NAN; rows * width + 3];
                    product_with(isa, ops, &mut c);
                    let got: Vec<u32> = c[..rows * width].iter().map(|v| v.to_bits()).collect();
                    let want: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
                    assert_eq!(got, want, "{isa:?} {rows}x{depth}x{width} {left:?}");
                    assert!(c[rows * width..].iter().all(|v| v.is_nan()), "wrote past c");
                }
            }
        }
    }

    #[test]
    fn every_frequency_kernel_is_bit_identical_to_the_definition() {
        let mut rng = Rng::new(12);
        let cap = (1u32 << 24) - 256;
        let specials = [0.0, -0.0, f64::INFINITY, f64::NAN, 1e-310, f64::MAX, -1.0];
        for trial in 0..500 {
            let k = 1 + rng.below(256) as usize;
            let mut q: Vec<f64> = (0..k)
                .map(|_| rng.next_f64().powi(rng.below(60) as i32))
                .collect();
            if trial % 5 == 0 {
                q[rng.below(k as u64) as usize] = specials[trial / 5 % specials.len()];
            }
            let scale = [f64::from(cap), 0.0, 1e300, 3.5][trial % 4];
            let want: Vec<u32> = q
                .iter()
                .map(|&x| 1 + ((x * scale) as u32).min(cap))
                .collect();
            let valid = q.iter().all(|&x| x >= 0.0);
            let tally = Tally {
                sum: want.iter().fold(0u32, |s, &x| s.wrapping_add(x)),
                max: want.iter().copied().max().unwrap_or(0),
            };
            for isa in isas() {
                let mut f = vec![0; k];
                let got = frequencies_with(isa, &q, scale, cap, &mut f);
                assert_eq!(got, valid.then_some(tally), "{isa:?} {q:?} scale {scale}");
                if valid {
                    assert_eq!(f, want, "{isa:?} {q:?} scale {scale}");
                }
            }
        }
    }

    #[test]
    fn every_search_kernel_finds_the_first_match() {
        let mut rng = Rng::new(19);
        for _ in 0..500 {
            let k = rng.below(300) as usize;
            let v: Vec<u32> = (0..k).map(|_| rng.below(6) as u32).collect();
            let x = rng.below(7) as u32;
            let want = v.iter().position(|&y| y == x).unwrap_or(0);
            for isa in isas() {
                assert_eq!(first_index_of_with(isa, &v, x), want, "{isa:?} {v:?} {x}");
            }
        }
    }

    #[test]
    fn integer_mixer_kernels_match_the_plain_loops() {
        let mut rng = Rng::new(17);
        const LIMIT: i32 = 64 << 16;
        let limit = i64::from(LIMIT);
        let big = |rng: &mut Rng, m: i64| (rng.below(2 * m as u64 + 1) as i64 - m) as i32;
        let blocks = |v: Vec<i32>| -> Vec<Block> {
            v.chunks_exact(8).map(|b| b.try_into().unwrap()).collect()
        };
        for trial in 0..400 {
            let n = 8 * (1 + rng.below(5) as usize);
            // Every fourth trial at the extremes: the largest logits, scales and weights.
            let edge = trial % 4 == 0;
            let pick = |rng: &mut Rng, m: i64| match edge {
                true => [-m, m][rng.below(2) as usize] as i32,
                false => big(rng, m),
            };
            let w: Vec<i32> = (0..n).map(|_| pick(&mut rng, limit)).collect();
            let x: Vec<i32> = (0..n).map(|_| pick(&mut rng, 3072)).collect();
            let scale = pick(&mut rng, (1 << 30) - 1);
            let trained: Vec<i32> = w
                .iter()
                .zip(&x)
                .map(|(&w, &x)| (w as i64 + ((x as i64 * scale as i64) >> 22)).clamp(-limit, limit))
                .map(|w| w as i32)
                .collect();
            let (w, x) = (blocks(w), blocks(x));
            for isa in isas() {
                let mut got = w.clone();
                train_i32_with::<LIMIT>(isa, &mut got, &x, scale);
                assert_eq!(got.as_flattened(), trained, "{isa:?} trial {trial}");
            }
        }
    }
}
