//! `--level 1..9`: how much work self-training may do, traded for output size.
//!
//! Training (EM) costs about D x M^2 per record and epoch; coding costs about D x M x K per
//! record, so M drives both time and the model's size (D x M x K emission weights, stored
//! as quantized counts in the compact model: about 0.5 to 1 bit each). Higher levels try
//! more record widths and hidden sizes, train on larger samples and run more epochs. Every
//! level tries M = 2: the embedded model's bytes count, and on files of a few hundred KiB
//! the smallest model often wins.

use crate::codec::Scheme;
use crate::container::{CmPolicy, MixPolicy};
use crate::error::{Error, Result};

/// Default `--level`.
pub const DEFAULT_LEVEL: u8 = 3;

/// Largest chunk (bytes) the `cm` codec is tried on at levels 3-4: it adds at most about
/// half a second to decoding.
pub const CM_MAX_BYTES_FAST: usize = 512 << 10;

/// The `cm` policy of levels 3-4.
const CM_FAST: CmPolicy = CmPolicy {
    max_bytes: CM_MAX_BYTES_FAST,
    fraction: 0.97,
};

/// The work one level allows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Plan {
    /// Hidden sizes tried (each with every candidate record width).
    pub hidden: Vec<usize>,
    /// Candidate record widths tried, at most.
    pub widths: usize,
    /// Bytes of records sampled for training (another fifth is held out for choosing).
    pub sample_bytes: usize,
    /// Mini-batch EM epochs.
    pub epochs: usize,
    /// Full-batch EM epochs after them.
    pub full_epochs: usize,
    /// When chunks may use the `pcmix` codec: never at levels 1-2 (fastest both ways), at
    /// levels 3-6 with the lean scheme when it saves at least 3% over `pc` (it decodes
    /// 2-6x slower with the small circuits self-training makes: worth it on MNIST-like
    /// data, where it saves ~10%, not for 1% on a photograph), and with the full
    /// mode-first scheme whenever it is smaller at 7-9.
    #[serde(skip)]
    pub mix: MixPolicy,
    /// When a chunk without a circuit may use the byte-stream `cm` codec: when it saves at
    /// least 3% over zstd -19 (12-22% on text), never at levels 1-2, on chunks up to
    /// [`CM_MAX_BYTES_FAST`] at 3-4 (it decodes at 1-2 MB/s, so a larger one would cost the
    /// default level its decompression speed), on any chunk at 5-9.
    #[serde(skip)]
    pub cm: Option<CmPolicy>,
    /// Whether `cm` is tried on detected images, audio and IDX too (levels 5-9), not only
    /// on plain bytes: the circuit models those, and cm rarely gains more than a few
    /// percent there for the time its attempt costs.
    #[serde(skip)]
    pub cm_every_kind: bool,
}

impl Plan {
    /// The plan of `level` (1..=9).
    pub fn for_level(level: u8) -> Result<Plan> {
        let (hidden, widths, sample_kib, epochs, full_epochs): (&[usize], _, _, _, _) = match level
        {
            1 => (&[2], 1, 64, 2, 1),
            2 => (&[2, 4], 1, 128, 2, 1),
            3 => (&[2, 4], 2, 256, 3, 1),
            4 => (&[2, 4, 8], 2, 512, 3, 1),
            5 => (&[2, 4, 8], 3, 1024, 4, 2),
            6 => (&[2, 4, 8], 3, 2048, 5, 2),
            7 => (&[2, 4, 8, 16], 4, 2048, 6, 2),
            8 => (&[2, 4, 8, 16], 4, 4096, 8, 2),
            9 => (&[2, 4, 8, 16, 32], 6, 8192, 10, 3),
            _ => {
                return Err(Error::parameter(format!(
                    "--level {level}: levels are 1 (fastest) to 9 (smallest)"
                )))
            }
        };
        let mix = match level {
            1 | 2 => MixPolicy::Never,
            3..=6 => MixPolicy::AtMost {
                fraction: 0.97,
                scheme: Scheme::Lean,
            },
            _ => MixPolicy::SMALLEST,
        };
        let cm = match level {
            1 | 2 => None,
            3 | 4 => Some(CM_FAST),
            _ => Some(CmPolicy {
                max_bytes: usize::MAX,
                ..CM_FAST
            }),
        };
        Ok(Plan {
            mix,
            cm,
            cm_every_kind: level >= 5,
            hidden: hidden.to_vec(),
            widths,
            sample_bytes: sample_kib << 10,
            epochs,
            full_epochs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_grow_in_work_and_reject_out_of_range() {
        let plans: Vec<Plan> = (1..=9).map(|l| Plan::for_level(l).unwrap()).collect();
        for w in plans.windows(2) {
            assert!(w[1].sample_bytes >= w[0].sample_bytes);
            assert!(w[1].epochs + w[1].full_epochs >= w[0].epochs + w[0].full_epochs);
            assert!(w[1].hidden.iter().max() >= w[0].hidden.iter().max());
        }
        assert!(Plan::for_level(0).is_err());
        assert!(Plan::for_level(10).is_err());
    }
}
