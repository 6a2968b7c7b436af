//! Bench tests on tiny synthetic data: every in-process peer round-trips, absent programs
//! become "not installed" rows, corrupted output becomes a FAILED row, and the JSON and CSV
//! read back to the same rows.

use std::path::Path;

use super::external::{self, Mosaic, ToolFinder};
use super::machine::Machine;
use super::report::Report;
use super::*;
use crate::rng::Rng;

/// 200 "images" of 8x8: a smooth gradient plus a little noise, so every compressor finds
/// structure and a dictionary has something to learn.
fn corpus() -> Corpus {
    let mut rng = Rng::new(7);
    let mut bytes = Vec::new();
    for n in 0..200u32 {
        for p in 0..64u32 {
            let noise = (rng.next_u64() % 4) as u32;
            bytes.push(((p * 3 + n % 5) * 2 + noise) as u8);
        }
    }
    Corpus::fixed(bytes, 64, Some(Shape { rows: 8, cols: 8 })).unwrap()
}

fn bench(peers: Vec<Peer>, corpus: &Corpus) -> Vec<Measurement> {
    run::run(peers, corpus, None, 2, |_| {}).unwrap()
}

fn report(rows: Vec<Measurement>) -> Report {
    Report {
        input: "synthetic: 200 records of 8x8".into(),
        unit: "bits/dim".into(),
        repeat: 2,
        machine: Machine::detect(),
        images: Vec::new(),
        rows,
    }
}

/// Wraps a codec and damages its work, to prove that the runner catches it.
struct Tamper {
    inner: Box<dyn Codec>,
    /// Damage the compressed string (true) or the decoded bytes (false).
    compressed: bool,
}

/// Flips bits of `out`, the output of the compressed (or decoded) stage, when `target` is
/// that stage.
fn damage(mut out: Vec<u8>, compressed: bool, target: bool) -> Vec<u8> {
    let at = if compressed {
        out.len() / 2
    } else {
        out.len() / 3
    };
    if compressed == target {
        out[at] ^= if compressed { 0x55 } else { 1 };
    }
    out
}

/// The peer with its codec wrapped in a [`Tamper`].
pub(super) fn tampered(mut peer: Peer, compressed: bool) -> Peer {
    if let Availability::Ready(inner) = peer.availability {
        peer.availability = Availability::Ready(Box::new(Tamper { inner, compressed }));
    }
    peer
}

impl Codec for Tamper {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        let out = self.inner.compress(data)?;
        Ok(damage(out, true, self.compressed))
    }

    fn decompress(&mut self, data: &[u8], original_len: usize) -> Result<Vec<u8>> {
        let out = self.inner.decompress(data, original_len)?;
        Ok(damage(out, false, self.compressed))
    }

    fn compress_image(&mut self, pixels: &[u8], shape: ImageShape) -> Result<Vec<u8>> {
        let out = self.inner.compress_image(pixels, shape)?;
        Ok(damage(out, true, self.compressed))
    }

    fn decompress_image(&mut self, data: &[u8], shape: ImageShape) -> Result<Vec<u8>> {
        let out = self.inner.decompress_image(data, shape)?;
        Ok(damage(out, false, self.compressed))
    }
}

pub(super) fn in_process(keys: &[&str]) -> Vec<Peer> {
    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    select(peers::catalogue(Some(2048)).unwrap(), &keys).unwrap()
}

/// The given in-process peers, then every external peer with nothing on PATH.
fn with_absent_externals(keys: &[&str], corpus: &Corpus) -> Vec<Peer> {
    let mut peers = in_process(keys);
    peers.extend(external::catalogue(
        &ToolFinder::from_path(""),
        corpus.shape().into(),
    ));
    peers
}

#[test]
fn every_in_process_peer_round_trips_both_variants() {
    let corpus = corpus();
    let rows = bench(peers::catalogue(Some(2048)).unwrap(), &corpus);
    assert_eq!(rows.len(), 16, "8 peers x 2 variants");
    for row in &rows {
        assert_eq!(row.status, Status::Verified, "{row:?}");
        assert_eq!(row.input_bytes, 200 * 64);
        let out = row.output_bytes.unwrap();
        assert!(out > 0);
        if row.variant == Variant::WholeSet {
            assert!(out < 200 * 64, "{row:?} did not compress");
        }
        assert!(row.compress_mb_s.is_some() && row.decompress_mb_s.is_some());
        // Where Linux lets the high-water mark be reset, in-process rows report it.
        if memory::reset_peak() {
            assert!(row.peak_mb.is_some_and(|mb| mb > 0.0), "{row:?}");
        }
    }
    let whole = rows
        .iter()
        .filter(|r| r.variant == Variant::WholeSet)
        .count();
    assert_eq!(whole, 8);
    let dict: Vec<&Measurement> = rows
        .iter()
        .filter(|r| r.compressor.contains("dict"))
        .collect();
    assert_eq!(dict.len(), 2);
    for row in dict {
        let extra = row.extra_bytes.unwrap();
        assert!(extra > 0 && extra <= 2048);
        assert!(row.train_seconds.is_some());
        assert_eq!(row.detail, "trained on the input itself");
        assert!(row.bits_per_byte_with_extra() > row.bits_per_byte());
    }
    let plain = rows.iter().find(|r| r.compressor == "zstd -19").unwrap();
    assert_eq!((plain.extra_bytes, plain.train_seconds), (None, None));
}

#[test]
fn a_separate_training_split_is_used_and_not_flagged() {
    let test = corpus();
    let train = Corpus::fixed(test.bytes()[..64 * 150].to_vec(), 64, None).unwrap();
    let rows = run::run(in_process(&["zstd-dict"]), &test, Some(&train), 1, |_| {}).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r.status == Status::Verified && r.detail.is_empty()));
}

#[test]
fn absent_programs_yield_not_installed_rows() {
    let empty = tempfile::tempdir().unwrap();
    let finder = ToolFinder::from_path(empty.path());
    let shape = Some(Shape { rows: 8, cols: 8 });
    let rows = bench(external::catalogue(&finder, shape.into()), &corpus());
    assert_eq!(rows.len(), 10, "5 external peers x 2 variants");
    for row in &rows {
        assert_eq!(row.status, Status::NotInstalled, "{row:?}");
        assert!(row.detail.contains("not on PATH"), "{row:?}");
        assert_eq!(row.output_bytes, None);
    }
    let table = report(rows).table();
    assert!(table.contains("not installed: cjxl, djxl not on PATH (Debian package libjxl-tools)"));
}

/// Writes an executable shell script `name` into `dir`.
pub(super) fn fake_tool(dir: &Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn external_rows(tools: &Path, key: &str, shape: Option<Shape>) -> Vec<Measurement> {
    let finder = ToolFinder::from_path(tools);
    let peers = select(
        external::catalogue(&finder, shape.into()),
        &[key.to_string()],
    )
    .unwrap();
    bench(peers, &corpus())
}

#[test]
fn external_pipeline_round_trips_images_and_raw_files() {
    // Stand-ins that store their input as is: the mosaic, PGM and archive plumbing must
    // still give back the exact records.
    let tools = tempfile::tempdir().unwrap();
    fake_tool(tools.path(), "cjxl", r#"cp "$1" "$2""#);
    fake_tool(tools.path(), "djxl", r#"cp "$1" "$2""#);
    fake_tool(
        tools.path(),
        "zpaq",
        r#"if [ "$1" = a ]; then cp in out.zpaq; else cp out.zpaq back; fi"#,
    );
    let shape = Some(Shape { rows: 8, cols: 8 });
    let jxl = external_rows(tools.path(), "cjxl-7", shape);
    assert_eq!(jxl.len(), 2);
    for row in &jxl {
        assert_eq!(row.status, Status::Verified, "{row:?}");
        assert_eq!(
            row.peak_mb, None,
            "this process's memory is not the program's"
        );
    }
    // Whole set: a 15x14 grid of 8x8 tiles as a PGM with a 15-byte header.
    assert_eq!(jxl[0].output_bytes, Some(15 + 15 * 8 * 14 * 8));
    let zpaq = external_rows(tools.path(), "zpaq", None);
    assert_eq!(zpaq[0].status, Status::Verified, "{:?}", zpaq[0]);
    assert_eq!(zpaq[0].output_bytes, Some(200 * 64));
    assert_eq!(zpaq[1].status, Status::Skipped);
}

#[test]
fn failing_or_lying_programs_yield_failed_rows() {
    let tools = tempfile::tempdir().unwrap();
    fake_tool(tools.path(), "cjxl", r#"cp "$1" "$2""#);
    fake_tool(
        tools.path(),
        "djxl",
        r#"printf 'P5\n1 1\n255\n\000' > "$2""#,
    );
    fake_tool(
        tools.path(),
        "zpaq",
        "echo 'zpaq: out of cheese' >&2; exit 2",
    );
    let jxl = external_rows(tools.path(), "cjxl-9", Some(Shape { rows: 8, cols: 8 }));
    assert!(jxl
        .iter()
        .all(|r| r.status == Status::Failed && r.output_bytes.is_none()));
    assert!(
        jxl[0].detail.contains("1x1 where 120x112 was encoded"),
        "{}",
        jxl[0].detail
    );
    assert!(jxl[1].detail.starts_with("record 0: "), "{}", jxl[1].detail);
    let zpaq = external_rows(tools.path(), "zpaq", None);
    assert_failed(&zpaq[0], "out of cheese");
}

/// Asserts that `row` failed and that its detail says `because`.
pub(super) fn assert_failed(row: &Measurement, because: &str) {
    assert_eq!(row.status, Status::Failed, "{row:?}");
    assert!(row.detail.contains(because), "{}", row.detail);
}

#[test]
fn image_codecs_without_a_shape_are_skipped_with_a_reason() {
    let tools = tempfile::tempdir().unwrap();
    fake_tool(tools.path(), "cjxl", "exit 1");
    fake_tool(tools.path(), "djxl", "exit 1");
    let rows = external_rows(tools.path(), "cjxl-7", None);
    assert!(rows
        .iter()
        .all(|r| r.status == Status::Skipped && r.detail.contains("--shape")));
}

#[test]
fn corrupted_peer_output_is_a_failed_round_trip() {
    let corpus = corpus();
    let mut peers = Vec::new();
    for (key, compressed) in [("zstd-19", true), ("deflate", false), ("xz", true)] {
        for peer in in_process(&[key]) {
            peers.push(tampered(peer, compressed));
        }
    }
    let rows = bench(peers, &corpus);
    assert_eq!(rows.len(), 6);
    for row in &rows {
        assert_eq!(row.status, Status::Failed, "{row:?}");
        assert_eq!((row.output_bytes, row.compress_mb_s), (None, None));
    }
    let deflate = rows.iter().find(|r| r.compressor == "deflate -9").unwrap();
    assert!(
        deflate.detail.contains("differs from the input at byte"),
        "{}",
        deflate.detail
    );
    let report = report(rows);
    assert_eq!(report.failures().count(), 6);
    let table = report.table();
    assert!(table.contains("!! 6 round trip(s) FAILED"), "{table}");
    assert!(table.contains("FAILED: whole set: "), "{table}");
}

#[test]
fn json_and_csv_read_back_to_the_same_rows() {
    let corpus = corpus();
    let peers = with_absent_externals(&["zstd-3", "zstd-dict"], &corpus);
    let report = report(bench(peers, &corpus));
    let statuses: Vec<Status> = report.rows.iter().map(|r| r.status).collect();
    assert!(statuses.contains(&Status::Verified) && statuses.contains(&Status::NotInstalled));

    let json = report.to_json().unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);

    let csv = report.to_csv().unwrap();
    let mut reader = csv::Reader::from_reader(&csv[..]);
    let rows: Vec<Measurement> = reader.deserialize().map(|r| r.unwrap()).collect();
    assert_eq!(rows, report.rows);
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "compressor");
    assert_eq!(header.len(), 12);
}

#[test]
fn plot_has_one_labelled_point_per_verified_row() {
    let corpus = corpus();
    let peers = with_absent_externals(&["zstd-3", "bzip2"], &corpus);
    let svg = plot::svg(&report(bench(peers, &corpus)));
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(
        svg.matches("<circle").count(),
        2 + 1,
        "2 whole-set points + legend"
    );
    assert_eq!(
        svg.matches(r#"width="9""#).count(),
        2 + 1,
        "2 per-record points + legend"
    );
    assert_eq!(svg.matches(">zstd -3<").count(), 2);
    assert!(!svg.contains("cjxl"), "unmeasured rows are not plotted");
}

#[test]
fn selects_peers_by_key_and_rejects_unknown_keys() {
    let chosen = in_process(&["xz", "zstd-3"]);
    let keys: Vec<&str> = chosen.iter().map(|p| p.key).collect();
    assert_eq!(keys, ["zstd-3", "xz"], "catalogue order");
    let err = select(peers::catalogue(Some(2048)).unwrap(), &["lz4".to_string()])
        .err()
        .unwrap();
    assert!(err.to_string().contains("unknown peer \"lz4\""), "{err}");
}

#[test]
fn mosaic_tiles_and_untiles_records() {
    let shape = Shape { rows: 2, cols: 3 };
    for count in [1, 4, 5, 10] {
        let records: Vec<u8> = (1..=(count * 6) as u8).collect();
        let mosaic = Mosaic::new(records.len(), shape).unwrap();
        let pixels = mosaic.pack(&records);
        assert_eq!(pixels.len(), mosaic.width() * mosaic.height());
        assert_eq!(mosaic.unpack(&pixels).unwrap(), records);
    }
    let one = Mosaic::new(6, shape).unwrap();
    assert_eq!((one.width(), one.height()), (3, 2));
    let five = Mosaic::new(30, shape).unwrap();
    assert_eq!((five.width(), five.height()), (9, 4), "3 across, 2 down");
    // Record 1 sits to the right of record 0: its first row follows record 0's first row.
    assert_eq!(
        &five.pack(&(1..=30).collect::<Vec<u8>>())[..6],
        &[1, 2, 3, 7, 8, 9]
    );
    assert!(Mosaic::new(7, shape).is_err());
    assert!(five.unpack(&[0; 5]).is_err());
}

#[test]
fn corpus_and_shape_validate_their_input() {
    assert_eq!(
        "28x28".parse::<Shape>().unwrap(),
        Shape { rows: 28, cols: 28 }
    );
    for bad in ["28", "0x5", "ax3", "3x"] {
        assert!(bad.parse::<Shape>().is_err(), "{bad}");
    }
    assert!(Corpus::fixed(vec![0; 10], 3, None).is_err());
    assert!(Corpus::fixed(vec![0; 12], 0, None).is_err());
    assert!(Corpus::fixed(vec![0; 12], 4, Some(Shape { rows: 2, cols: 3 })).is_err());
    let parts = Corpus::from_parts(vec![vec![1, 2, 3], vec![], vec![4]]).unwrap();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts.record_size(), None);
    assert_eq!(parts.units(Variant::PerRecord), [&[1, 2, 3][..], &[], &[4]]);
    assert_eq!(parts.units(Variant::WholeSet), [&[1, 2, 3, 4][..]]);
    assert!(Corpus::from_parts(Vec::new()).is_err());
    assert_eq!(corpus().record_size(), Some(64));
}

#[test]
fn a_single_record_is_measured_as_a_whole_set_only() {
    let one = Corpus::from_parts(vec![b"abcabcabcabc".to_vec()]).unwrap();
    let rows = bench(in_process(&["bzip2"]), &one);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].variant, rows[0].status),
        (Variant::WholeSet, Status::Verified)
    );
}

#[test]
fn zero_repeats_are_refused() {
    assert!(run::run(in_process(&["deflate"]), &corpus(), None, 0, |_| {}).is_err());
}

#[test]
fn pcz_row_trains_codes_and_reports_its_ideal_size() {
    use super::pcz::{Pcz, PczOptions};
    let mut rng = crate::rng::Rng::new(5);
    let records: Vec<Vec<u8>> = (0..120)
        .map(|_| {
            let base = rng.below(4) as u8;
            (0..16)
                .map(|i| if i % 3 == 0 { base } else { base / 2 })
                .collect()
        })
        .collect();
    let units: Vec<&[u8]> = records.iter().map(|r| r.as_slice()).collect();
    let options = PczOptions {
        hidden: 2,
        epochs: 2,
        full_epochs: 1,
        seed: 0,
    };
    let mut pcz = Pcz::new(options, 16);
    let model_bytes = pcz
        .train(&units)
        .unwrap()
        .expect("pcz reports its model size");
    assert!(model_bytes > 0);
    let whole = units.concat();
    let packed = pcz.compress(&whole).unwrap();
    assert_eq!(pcz.decompress(&packed, whole.len()).unwrap(), whole);
    let one = pcz.compress(units[3]).unwrap();
    assert_eq!(pcz.decompress(&one, 16).unwrap(), units[3]);
    // Records coded side by side are the records coded alone; a broken one is named.
    let each = pcz.compress_records(&units).unwrap();
    assert_eq!(each[3], one);
    let lens = vec![16; units.len()];
    let decoded = pcz.decompress_records(&each, &lens).unwrap();
    assert_eq!(decoded, records);
    let mut broken = each.clone();
    broken[7].pop();
    assert_eq!(pcz.decompress_records(&broken, &lens).unwrap_err().0, 7);
    let ideal = pcz
        .ideal_bits(&[&whole])
        .expect("a model has an ideal size");
    assert!(
        ideal > 0.0 && ideal < 8.0 * whole.len() as f64 / 2.0,
        "ideal {ideal} bits"
    );
}
