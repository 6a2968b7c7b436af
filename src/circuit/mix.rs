//! The one hot loop of the coding path, `out = w^T rows`, and the only module of pcz with
//! `unsafe` code: it picks at run time the widest vector unit the CPU has.
//!
//! Why: decoding spends ~60% of its time here (M x K multiply-adds per variable). The
//! portable build may only assume SSE2 (2 `f64` lanes); compiling the same loop for AVX2
//! made whole-file decoding 1.65x faster on MNIST (M = 32; measured with a `+avx2` build of
//! the crate). Rust can only call a `#[target_feature]` function from `unsafe` code, hence
//! this module.
//!
//! Why this is still bit-exact on every machine: every output is the same sequence of IEEE
//! `*` and `+` (ascending k, starting from 0.0) whatever the vector width, because lanes
//! hold *different outputs*, never partial sums of one output. No feature enabled here
//! allows fused multiply-add (`fma` is not enabled, and Rust never contracts `a * b + c`
//! on its own), so the products are rounded exactly as in the scalar code.

#![allow(unsafe_code)]

/// `out[a] = sum_k w[k] * rows[k][a]`, kernel chosen for this CPU.
type Kernel = fn(&[f64], &[f64], &mut [f64]) -> f64;

/// The mixing kernel for this CPU. Construct with [`Mixer::detect`]; the private field
/// guarantees a vector kernel is only ever selected after its CPU feature was detected.
#[derive(Clone, Copy)]
pub(crate) struct Mixer {
    kernel: Kernel,
    name: &'static str,
}

impl std::fmt::Debug for Mixer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Mixer {
    /// The widest kernel the running CPU supports.
    pub(crate) fn detect() -> Mixer {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Mixer {
                    kernel: x86::avx512,
                    name: "avx512",
                };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Mixer {
                    kernel: x86::avx2,
                    name: "avx2",
                };
            }
        }
        Mixer::portable()
    }

    /// The kernel compiled for the build's baseline target.
    pub(crate) fn portable() -> Mixer {
        Mixer {
            kernel: portable,
            name: "portable",
        }
    }

    /// `out[a] = sum_k w[k] * rows[k][a]` for rows of width `out.len()` stored contiguously,
    /// each sum in ascending k from 0.0 (the order the format fixes). Returns the sum of
    /// `out` in ascending index order.
    pub(crate) fn mix(&self, w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
        (self.kernel)(w, rows, out)
    }
}

fn portable(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
    mix_blocked::<16>(w, rows, out)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::mix_blocked;

    pub(super) fn avx2(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
        // SAFETY: `Mixer::detect` is the only place that selects this function, and only
        // after `is_x86_feature_detected!("avx2")` returned true on the running CPU.
        unsafe { avx2_body(w, rows, out) }
    }

    pub(super) fn avx512(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
        // SAFETY: `Mixer::detect` is the only place that selects this function, and only
        // after `is_x86_feature_detected!("avx512f")` returned true on the running CPU.
        unsafe { avx512_body(w, rows, out) }
    }

    #[target_feature(enable = "avx2")]
    fn avx2_body(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
        mix_blocked::<32>(w, rows, out)
    }

    #[target_feature(enable = "avx512f")]
    fn avx512_body(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
        mix_blocked::<64>(w, rows, out)
    }
}

/// The kernel body: outputs in blocks of `L` (then of 8, then one by one) whose accumulators
/// stay in registers across the whole k loop, so the loop is bound by the multiplies and
/// adds rather than by reloading and storing `out`. `L` = 8 vector registers of the target.
/// The running sum of a finished block is a serial chain the CPU overlaps with the next
/// block's products.
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

    /// The format's definition, one output at a time.
    fn plain(w: &[f64], rows: &[f64], out: &mut [f64]) -> f64 {
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
    fn every_kernel_is_bit_identical_to_the_definition() {
        let mut rng = Rng::new(11);
        let kernels = [Mixer::detect(), Mixer::portable()];
        for trial in 0..300 {
            let m = 1 + rng.below(40) as usize;
            let width = 1 + rng.below(if trial % 2 == 0 { 300 } else { 70 }) as usize;
            let w: Vec<f64> = (0..m).map(|_| rng.next_f64()).collect();
            let rows: Vec<f64> = (0..m * width)
                .map(|_| rng.next_f64().powi(rng.below(30) as i32))
                .collect();
            let mut want = vec![0.0; width];
            let want_sum = plain(&w, &rows, &mut want);
            for kernel in &kernels {
                let mut got = vec![f64::NAN; width];
                let sum = kernel.mix(&w, &rows, &mut got);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{kernel:?} m={m} width={width}");
                assert_eq!(sum.to_bits(), want_sum.to_bits(), "{kernel:?} sum");
            }
        }
    }
}
