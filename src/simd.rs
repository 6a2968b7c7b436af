//! The coding path's two hot loops, and the only module of pcz with `unsafe` code: each is
//! compiled for the widest vector unit the CPU has, chosen at run time.
//!
//! - [`mix`]: `out = w^T rows`, the M x K (and M x M) products of the circuit conditionals,
//!   and [`mix_many`], the same for several weight vectors sharing `rows`;
//! - [`divide`]: `v /= s`, the renormalisation after every update of a context vector;
//! - [`frequencies`]: the scaling and truncation step of the quantizer.
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
    /// The widest instruction set the running CPU supports. The only place (outside tests
    /// of the portable kernel) that names a vector `Isa`: the `unsafe` calls below rely on it.
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
    mix_with(Isa::detect(), w, rows, out)
}

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
pub(crate) fn mix_many<'a>(
    weights: impl Fn(usize) -> &'a [f64],
    rows: &[f64],
    out: &mut [f64],
    stride: usize,
    width: usize,
    sums: &mut [f64],
) {
    let isa = Isa::detect();
    let whole = sums.len() / 4 * 4;
    for g in (0..whole).step_by(4) {
        let w = [weights(g), weights(g + 1), weights(g + 2), weights(g + 3)];
        let group = Group {
            out: &mut out[g * stride..],
            stride,
            width,
        };
        mix4_with(isa, w, rows, group, &mut sums[g..g + 4]);
    }
    for (i, sum) in sums.iter_mut().enumerate().skip(whole) {
        *sum = mix_with(isa, weights(i), rows, &mut out[i * stride..][..width]);
    }
}

/// Where four outputs of [`mix_many`] go: output g is `out[g * stride..][..width]`.
struct Group<'o> {
    out: &'o mut [f64],
    stride: usize,
    width: usize,
}

fn mix4_with(isa: Isa, w: [&[f64]; 4], rows: &[f64], group: Group, sums: &mut [f64]) {
    match isa {
        Isa::Portable => mix4::<4>(w, rows, group, sums),
        // SAFETY: a vector `Isa` only comes from `Isa::detect`, which checked the feature
        // on the running CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { x86::mix4_avx2(w, rows, group, sums) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::mix4_avx512(w, rows, group, sums) },
    }
}

/// The body of [`mix_many`] for four vectors: blocks of `L` outputs of all four (4 x `L`
/// accumulators: half the target's vector registers), then the tail one output at a time.
#[inline(always)]
fn mix4<const L: usize>(w: [&[f64]; 4], rows: &[f64], mut group: Group, sums: &mut [f64]) {
    let m = w[0].len();
    let w: [&[f64]; 4] = [&w[0][..m], &w[1][..m], &w[2][..m], &w[3][..m]];
    sums[..4].fill(0.0);
    let start = blocks4::<L>(&w, rows, 0, &mut group, sums);
    blocks4::<1>(&w, rows, start, &mut group, sums);
}

/// Fills the four outputs of `group` from `start` on in whole blocks of `L`; returns where
/// it stopped.
#[inline(always)]
fn blocks4<const L: usize>(
    w: &[&[f64]; 4],
    rows: &[f64],
    start: usize,
    group: &mut Group,
    sums: &mut [f64],
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
        for (g, (sum, acc_g)) in sums.iter_mut().zip(&acc).enumerate() {
            group.out[g * stride + from..][..L].copy_from_slice(acc_g);
            for &x in acc_g {
                *sum += x;
            }
        }
    }
    end
}

/// `v[i] /= s` for every i (a true IEEE division each, never a multiply by 1/s).
pub(crate) fn divide(v: &mut [f64], s: f64) {
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

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{divide_body, mix4, mix_blocked, scale_truncate, Group, Tally};

    #[target_feature(enable = "avx2")]
    pub(super) fn mix_avx2(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
        mix_blocked::<32>(w, rows, out)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn mix_avx512(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
        mix_blocked::<64>(w, rows, out)
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn mix4_avx2(w: [&[f64]; 4], rows: &[f64], group: Group, sums: &mut [f64]) {
        mix4::<8>(w, rows, group, sums)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn mix4_avx512(w: [&[f64]; 4], rows: &[f64], group: Group, sums: &mut [f64]) {
        mix4::<32>(w, rows, group, sums)
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn divide_avx2(v: &mut [f64], s: f64) {
        divide_body(v, s)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn divide_avx512(v: &mut [f64], s: f64) {
        divide_body(v, s)
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn frequencies_avx2(
        q: &[f64],
        scale: f64,
        cap: u32,
        f: &mut [u32],
    ) -> Option<Tally> {
        scale_truncate(q, scale, cap, f)
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

    /// The portable kernel and the one this CPU runs.
    fn isas() -> [Isa; 2] {
        [Isa::Portable, Isa::detect()]
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
            let width = 1 + rng.below(if trial % 2 == 0 { 300 } else { 70 }) as usize;
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
        }
    }

    #[test]
    fn mixing_many_equals_mixing_each() {
        let mut rng = Rng::new(13);
        for trial in 0..100 {
            let (m, width, n) = (
                1 + rng.below(40) as usize,
                1 + rng.below(if trial % 2 == 0 { 300 } else { 70 }) as usize,
                1 + rng.below(11) as usize,
            );
            let ws: Vec<Vec<f64>> = (0..n)
                .map(|_| (0..m).map(|_| rng.next_f64()).collect())
                .collect();
            let rows: Vec<f64> = (0..m * width).map(|_| rng.next_f64()).collect();
            let mut want = vec![0.0; n * width];
            let want_sums: Vec<f64> = ws
                .iter()
                .zip(want.chunks_mut(width))
                .map(|(w, o)| plain_mix(w, &rows, o))
                .collect();
            let mut got = vec![f64::NAN; n * width];
            let mut sums = vec![f64::NAN; n];
            mix_many(|i| &ws[i], &rows, &mut got, width, width, &mut sums);
            assert_eq!(bits(&got), bits(&want), "m={m} width={width} n={n}");
            assert_eq!(bits(&sums), bits(&want_sums));
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
}
