//! Runs every peer on a corpus: train once, then per variant compress and decompress
//! `repeat` times, check every decoded byte, and keep the median times. A result exists only
//! if every round trip was exact; anything else becomes a [`Status::Failed`] row.

use std::time::{Duration, Instant};

use crate::data::ImageShape;
use crate::error::{Error, Result};

use super::{memory, one_by_one, Availability, Codec, Corpus, Measurement, Peer, Status, Variant};

/// Measures `peers` on `test`. Trained codecs learn from `train`, or from `test` itself when
/// there is no training split (their rows then say so). Times are medians of `repeat` runs.
/// `on_row` sees every row as soon as it is measured (runs can take minutes).
pub fn run(
    peers: Vec<Peer>,
    test: &Corpus,
    train: Option<&Corpus>,
    repeat: usize,
    mut on_row: impl FnMut(&Measurement),
) -> Result<Vec<Measurement>> {
    if repeat == 0 {
        return Err(Error::parameter("--repeat must be at least 1"));
    }
    // Images of different shapes make no whole set: each is coded alone.
    let variants: &[Variant] = if !test.images().is_empty() {
        &[Variant::PerRecord]
    } else if test.len() > 1 {
        &[Variant::WholeSet, Variant::PerRecord]
    } else {
        &[Variant::WholeSet]
    };
    let split = TrainingSplit {
        records: train.unwrap_or(test).records().collect(),
        is_test: train.is_none(),
    };
    let mut rows = Vec::new();
    for peer in peers {
        for row in run_peer(peer, test, &split, variants, repeat) {
            on_row(&row);
            rows.push(row);
        }
    }
    Ok(rows)
}

struct TrainingSplit<'a> {
    records: Vec<&'a [u8]>,
    /// True when the codecs train on the very records they then compress.
    is_test: bool,
}

fn run_peer(
    peer: Peer,
    test: &Corpus,
    split: &TrainingSplit<'_>,
    variants: &[Variant],
    repeat: usize,
) -> Vec<Measurement> {
    let input = test.bytes().len() as u64;
    let mut codec = match peer.availability {
        Availability::Ready(codec) => codec,
        Availability::Unavailable {
            name,
            status,
            detail,
        } => {
            return variants
                .iter()
                .map(|&v| Measurement::unmeasured(name.clone(), v, status, detail.clone(), input))
                .collect();
        }
    };
    let name = codec.name();
    let failed =
        |v, detail: String| Measurement::unmeasured(name.clone(), v, Status::Failed, detail, input);
    let started = Instant::now();
    let extra = match codec.train(&split.records) {
        Ok(extra) => extra,
        Err(e) => {
            return variants
                .iter()
                .map(|&v| failed(v, format!("training: {e}")))
                .collect();
        }
    };
    let pretrained = codec.pretrained();
    let train_seconds = extra
        .filter(|_| !pretrained)
        .map(|_| started.elapsed().as_secs_f64());
    let note = match extra {
        Some(_) if pretrained => "given model",
        Some(_) if split.is_test => "trained on the input itself",
        _ => "",
    };
    // Image files are run per record only, so unit i is image i.
    let images = test.images();
    let mut rows = Vec::new();
    for &variant in variants {
        let skip = peer
            .per_record_skip
            .filter(|_| variant == Variant::PerRecord);
        let row = match skip {
            Some(reason) => Measurement::unmeasured(
                name.clone(),
                variant,
                Status::Skipped,
                reason.to_string(),
                input,
            ),
            None => match measure(codec.as_mut(), &test.units(variant), images, repeat) {
                Ok(t) if variant == Variant::WholeSet => Measurement {
                    ideal_bits: codec.ideal_bits(&test.units(variant)),
                    ..verified(&name, variant, note, input, extra, train_seconds, t)
                },
                Ok(t) => verified(&name, variant, note, input, extra, train_seconds, t),
                Err(e) => failed(variant, e.to_string()),
            },
        };
        rows.push(row);
    }
    rows
}

#[allow(clippy::too_many_arguments)]
fn verified(
    name: &str,
    variant: Variant,
    note: &str,
    input: u64,
    extra: Option<u64>,
    train_seconds: Option<f64>,
    t: Timing,
) -> Measurement {
    Measurement {
        compressor: name.to_string(),
        variant,
        status: Status::Verified,
        detail: note.to_string(),
        input_bytes: input,
        output_bytes: Some(t.output_bytes),
        extra_bytes: extra,
        train_seconds,
        compress_mb_s: mb_per_s(input, t.compress),
        decompress_mb_s: mb_per_s(input, t.decompress),
        peak_mb: t.peak_bytes.map(|b| b as f64 / 1e6),
        ideal_bits: None,
        image_bytes: t.image_bytes,
    }
}

/// What one codec achieved on one variant, when every round trip was exact.
struct Timing {
    output_bytes: u64,
    /// The size of every unit when the units are images, else empty.
    image_bytes: Vec<u64>,
    compress: Duration,
    decompress: Duration,
    /// Peak resident memory of this process during the round trips, when known.
    peak_bytes: Option<u64>,
}

/// Compresses and decompresses every unit `repeat` times. `images` holds the shape of
/// every unit when the units are images (then coded as such), else it is empty.
fn measure(
    codec: &mut dyn Codec,
    units: &[&[u8]],
    images: &[ImageShape],
    repeat: usize,
) -> Result<Timing, UnitFailure> {
    let tracked = codec.in_process() && memory::reset_peak();
    let mut compress_times = Vec::with_capacity(repeat);
    let mut decompress_times = Vec::with_capacity(repeat);
    let mut sizes = Vec::new();
    for _ in 0..repeat {
        let started = Instant::now();
        let compressed = compress_units(codec, units, images)?;
        compress_times.push(started.elapsed());
        let started = Instant::now();
        let decoded = decompress_units(codec, &compressed, units, images)?;
        decompress_times.push(started.elapsed());
        verify(units, &decoded)?;
        sizes = compressed.iter().map(|c| c.len() as u64).collect();
    }
    Ok(Timing {
        output_bytes: sizes.iter().sum(),
        image_bytes: if images.is_empty() { Vec::new() } else { sizes },
        compress: median(compress_times),
        decompress: median(decompress_times),
        peak_bytes: tracked.then(memory::peak_bytes).flatten(),
    })
}

/// Every unit compressed: images one by one at their shapes, records in one call (which a
/// codec may share work across).
fn compress_units(
    codec: &mut dyn Codec,
    units: &[&[u8]],
    images: &[ImageShape],
) -> Result<Vec<Vec<u8>>, UnitFailure> {
    let all = match images {
        [] => codec.compress_records(units),
        _ => one_by_one(&units.iter().zip(images).collect::<Vec<_>>(), |(u, &s)| {
            codec.compress_image(u, s)
        }),
    };
    all.map_err(|(i, e)| UnitFailure::new(units, i, e))
}

/// Inverts [`compress_units`].
fn decompress_units(
    codec: &mut dyn Codec,
    compressed: &[Vec<u8>],
    units: &[&[u8]],
    images: &[ImageShape],
) -> Result<Vec<Vec<u8>>, UnitFailure> {
    let all = match images {
        [] => codec.decompress_records(
            compressed,
            &units.iter().map(|u| u.len()).collect::<Vec<_>>(),
        ),
        _ => one_by_one(
            &compressed.iter().zip(images).collect::<Vec<_>>(),
            |(c, &s)| codec.decompress_image(c, s),
        ),
    };
    all.map_err(|(i, e)| UnitFailure::new(units, i, e))
}

/// Fails on the first decoded unit that is not byte-for-byte its input.
fn verify(units: &[&[u8]], decoded: &[Vec<u8>]) -> Result<(), UnitFailure> {
    for (i, (unit, out)) in units.iter().zip(decoded).enumerate() {
        if unit[..] != out[..] {
            let at = unit.iter().zip(out).position(|(a, b)| a != b);
            let how = match at {
                Some(byte) => format!("differs from the input at byte {byte}"),
                None => format!("has {} bytes instead of {}", out.len(), unit.len()),
            };
            let message = format!("round trip changed the data: decoded output {how}");
            return Err(UnitFailure::new(
                units,
                i,
                Error::format("round trip", message),
            ));
        }
    }
    Ok(())
}

/// An error on one unit of a variant; the failed row names the unit.
struct UnitFailure {
    unit: String,
    error: Error,
}

impl UnitFailure {
    fn new(units: &[&[u8]], i: usize, error: Error) -> Self {
        let unit = if units.len() == 1 {
            "whole set".to_string()
        } else {
            format!("record {i}")
        };
        UnitFailure { unit, error }
    }
}

impl std::fmt::Display for UnitFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.unit, self.error)
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    let mid = times.len() / 2;
    if times.len() % 2 == 1 {
        times[mid]
    } else {
        (times[mid - 1] + times[mid]) / 2
    }
}

fn mb_per_s(bytes: u64, time: Duration) -> Option<f64> {
    let seconds = time.as_secs_f64();
    (seconds > 0.0).then(|| bytes as f64 / seconds / 1e6)
}
