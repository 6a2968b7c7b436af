//! End-to-end tests of the `pcz` binary on the bundled fixtures: train, eval, compress,
//! decompress, inspect, error handling and exit codes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const DIGITS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/digits/digits-images-idx3-ubyte.gz"
);

fn pcz(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pcz"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run pcz")
}

fn ok(args: &[&str], dir: &Path) -> Output {
    let out = pcz(args, dir);
    assert!(
        out.status.success(),
        "pcz {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn fails(args: &[&str], dir: &Path, code: i32, fragment: &str) {
    let out = pcz(args, dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "pcz {args:?}: {stderr}");
    assert!(
        stderr.contains(fragment),
        "pcz {args:?}: expected {fragment:?} in {stderr:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Trains a small model on the bundled digits and writes the first 300 digits as a plain
/// IDX file; returns (dir, model path, idx path).
fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    ok(
        &[
            "train",
            DIGITS,
            "-o",
            "digits.pcm",
            "--hidden",
            "4",
            "--epochs",
            "3",
            "--full-epochs",
            "1",
        ],
        dir.path(),
    );
    let mut bytes = Vec::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(std::fs::File::open(DIGITS).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    let n = 300u32;
    bytes[4..8].copy_from_slice(&n.to_be_bytes());
    bytes.truncate(16 + 300 * 64);
    let idx = dir.path().join("d300.idx");
    std::fs::write(&idx, &bytes).unwrap();
    (dir, idx)
}

#[test]
fn train_eval_compress_decompress_round_trip() {
    let (dir, idx) = setup();
    let d = dir.path();
    let eval = ok(&["eval", "digits.pcm", "d300.idx", "--json"], d);
    let json: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert_eq!(json["records"], 300);
    assert_eq!(json["dims"], 64);
    let bpd = json["bpd"].as_f64().unwrap();
    assert!(bpd > 0.5 && bpd < 3.0, "digits bpd {bpd}");

    let report = ok(
        &["compress", "--model", "digits.pcm", "d300.idx", "--json"],
        d,
    );
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let circuit_chunks =
        report["pc_chunks"].as_u64().unwrap() + report["pcmix_chunks"].as_u64().unwrap();
    assert!(
        circuit_chunks >= 1,
        "the circuit codes the digits: {report}"
    );
    let actual = report["actual_bpd"].as_f64().unwrap();
    assert!(actual < bpd + 0.05, "actual {actual} vs model {bpd}");

    let original = std::fs::read(&idx).unwrap();
    std::fs::rename(&idx, d.join("orig.idx")).unwrap();
    ok(&["decompress", "--model", "digits.pcm", "d300.idx.pcz"], d);
    assert_eq!(std::fs::read(&idx).unwrap(), original);

    // zstd-style short form, to stdout.
    let out = ok(&["-d", "--model", "digits.pcm", "d300.idx.pcz", "-c"], d);
    assert_eq!(out.stdout, original);
}

#[test]
fn referenced_model_is_required_and_checked() {
    let (dir, _idx) = setup();
    let d = dir.path();
    ok(
        &[
            "compress",
            "--model",
            "digits.pcm",
            "d300.idx",
            "-o",
            "ref.pcz",
        ],
        d,
    );
    fails(
        &["decompress", "ref.pcz", "-o", "x"],
        d,
        1,
        "pass it with --model",
    );
    ok(
        &[
            "train",
            DIGITS,
            "-o",
            "other.pcm",
            "--hidden",
            "3",
            "--epochs",
            "1",
            "--full-epochs",
            "0",
        ],
        d,
    );
    fails(
        &["decompress", "ref.pcz", "-o", "x", "--model", "other.pcm"],
        d,
        1,
        "wrong model",
    );
    assert!(!d.join("x").exists(), "no output on error");
    // A single input's error names it too, in one line, also when the library's message
    // does not (nothing in 3 bytes fits a model of 64-byte records).
    std::fs::write(d.join("abc.txt"), b"abc").unwrap();
    let args = [
        "compress",
        "--model",
        "digits.pcm",
        "--embed-model=compact",
        "abc.txt",
        "-c",
    ];
    fails(&args, d, 1, "pcz: abc.txt: no record fits");
    assert_eq!(pcz(&args, d).stderr.split(|&b| b == b'\n').count(), 2);
}

#[test]
fn embedded_model_decodes_alone_and_inspect_reports_it() {
    let (dir, idx) = setup();
    let d = dir.path();
    ok(
        &[
            "compress",
            "--model",
            "digits.pcm",
            "--embed-model",
            "d300.idx",
            "-o",
            "emb.pcz",
        ],
        d,
    );
    let out = ok(&["decompress", "emb.pcz", "-c"], d);
    assert_eq!(out.stdout, std::fs::read(&idx).unwrap());
    let inspect = ok(&["inspect", "emb.pcz", "--json"], d);
    let json: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(json["model"]["kind"], "embedded");
    assert_eq!(json["record_size"], 64);
    assert_eq!(json["prefix_bytes"], 16, "the IDX header is kept verbatim");

    // The compact form: a much smaller file that also decodes alone.
    let args = ["compress", "--model", "digits.pcm", "--embed-model=compact"];
    ok(&[&args[..], &["d300.idx", "-o", "small.pcz"]].concat(), d);
    let out = ok(&["decompress", "small.pcz", "-c"], d);
    assert_eq!(out.stdout, std::fs::read(&idx).unwrap());
    let inspect = ok(&["inspect", "small.pcz", "--json"], d);
    let json: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(json["model"]["kind"], "compact");
    let size = |f: &str| std::fs::metadata(d.join(f)).unwrap().len();
    assert!(
        2 * size("small.pcz") < size("emb.pcz"),
        "{} vs {}",
        size("small.pcz"),
        size("emb.pcz")
    );
}

#[test]
fn same_seed_same_model_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let args = [
        "train",
        DIGITS,
        "--hidden",
        "3",
        "--epochs",
        "2",
        "--full-epochs",
        "1",
        "--valid",
        "0.1",
    ];
    ok(&[&args[..], &["-T", "1", "-o", "a.pcm"]].concat(), d);
    ok(&[&args[..], &["-T", "2", "-o", "b.pcm"]].concat(), d);
    assert_eq!(
        std::fs::read(d.join("a.pcm")).unwrap(),
        std::fs::read(d.join("b.pcm")).unwrap()
    );
}

#[test]
fn stdin_to_stdout_round_trip_without_model() {
    let dir = tempfile::tempdir().unwrap();
    let input: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pcz"))
        .args(["compress", "-", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let packed = child.wait_with_output().unwrap();
    assert!(packed.status.success());
    std::fs::write(dir.path().join("x.pcz"), &packed.stdout).unwrap();
    let out = ok(&["decompress", "x.pcz", "-c"], dir.path());
    assert_eq!(out.stdout, input);
}

#[test]
fn errors_are_one_line_with_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.bin"), b"hello hello hello").unwrap();
    ok(&["compress", "a.bin"], d);
    fails(&["compress", "a.bin"], d, 1, "already exists");
    ok(&["compress", "a.bin", "-f"], d);
    // An existing output is refused before any work: before reading a corrupt input.
    std::fs::write(d.join("c.pcz"), b"not a pcz file").unwrap();
    std::fs::write(d.join("c"), b"kept").unwrap();
    fails(&["decompress", "c.pcz"], d, 1, "already exists");
    assert_eq!(std::fs::read(d.join("c")).unwrap(), b"kept");
    fails(&["decompress", "a.bin", "-o", "out"], d, 1, "a.bin");
    fails(&["decompress", "missing.pcz"], d, 1, "missing.pcz");
    fails(&["compress", "-"], d, 1, "give -c");
    fails(&["frobnicate"], d, 2, "unrecognized subcommand");
    std::fs::write(d.join("bad.pcm"), b"PCZM garbage").unwrap();
    fails(&["eval", "bad.pcm", DIGITS], d, 1, "bad.pcm");
    fails(&["train", "a.bin", "-o", "m.pcm"], d, 1, "a.bin");
}

#[test]
fn rm_deletes_input_only_after_verified_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.bin"), vec![7u8; 10_000]).unwrap();
    ok(&["compress", "a.bin", "--rm"], d);
    assert!(!d.join("a.bin").exists());
    ok(&["decompress", "a.bin.pcz"], d);
    assert_eq!(std::fs::read(d.join("a.bin")).unwrap(), vec![7u8; 10_000]);
    assert!(
        d.join("a.bin.pcz").exists(),
        "decompress keeps its input by default"
    );
    // Output on stdout or a device is no stored copy: --rm keeps the input.
    let kept = ok(&["compress", "a.bin", "--rm", "-c"], d);
    assert!(String::from_utf8_lossy(&kept.stderr).contains("a.bin: kept"));
    let quiet = ok(
        &["decompress", "a.bin.pcz", "--rm", "-q", "-o", "/dev/null"],
        d,
    );
    assert!(quiet.stderr.is_empty(), "-q silences the note");
    assert!(d.join("a.bin").exists() && d.join("a.bin.pcz").exists());
}

/// The pixels of a PNG file (gray or RGB, 8-bit).
fn png_pixels(path: &Path) -> Vec<u8> {
    image::open(path).expect("a PNG").into_bytes()
}

#[test]
fn pixels_of_a_png_round_trip_to_a_png_with_the_same_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A smooth 96 x 64 RGB photo-like gradient with a little texture, stored without
    // filtering or compression effort, so that coding its pixels pays.
    let pixels: Vec<u8> = (0..96 * 64 * 3)
        .map(|i| {
            let (x, y, c) = (i / 3 % 96, i / 3 / 96, i % 3);
            (x + 2 * y + 40 * c + (x * y) % 3) as u8
        })
        .collect();
    let png = write_png(
        &d.join("photo.png"),
        &pixels,
        (96, 64),
        image::ExtendedColorType::Rgb8,
    );
    ok(&["compress", "--pixels", "photo.png"], d);
    let packed = std::fs::metadata(d.join("photo.png.pcz")).unwrap().len();
    assert!(
        packed < png.len() as u64 / 2,
        "{packed} vs PNG {}",
        png.len()
    );
    let inspect = ok(&["inspect", "--json", "photo.png.pcz"], d);
    let json: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(json["png_pixels"], true);
    ok(&["decompress", "photo.png.pcz", "-o", "back.png"], d);
    assert_eq!(png_pixels(&d.join("back.png")), pixels);

    // Not a PNG, or --pixels with --rm (the PNG's own bytes would be lost): refused.
    std::fs::write(d.join("a.bin"), b"hello").unwrap();
    fails(&["compress", "--pixels", "a.bin"], d, 1, "not a PNG");
    fails(
        &["compress", "--pixels", "--rm", "photo.png", "-f"],
        d,
        2,
        "--rm",
    );
}

#[test]
fn pixels_of_a_gray_png_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gray = gray_png(d, "gray.png");
    ok(&["compress", "--pixels", "gray.png"], d);
    let inspect = ok(&["inspect", "--json", "gray.png.pcz"], d);
    let json: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(json["png_pixels"], true, "the pixels, not the PNG's bytes");
    ok(&["-d", "gray.png.pcz", "-o", "back.png"], d);
    let back = image::open(d.join("back.png")).unwrap();
    assert_eq!(back.color(), image::ColorType::L8);
    assert_eq!(back.into_bytes(), gray);
}

/// Writes the bundled 64 x 64 camera crop as an 8-bit gray PNG named `name` in `dir`
/// ([`write_png`]) and returns its pixels.
fn gray_png(dir: &Path, name: &str) -> Vec<u8> {
    let pgm = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/images/camera-64.pgm");
    let pixels = std::fs::read(pgm).unwrap()[b"P5\n64 64\n255\n".len()..].to_vec();
    write_png(
        &dir.join(name),
        &pixels,
        (64, 64),
        image::ExtendedColorType::L8,
    );
    pixels
}

/// Writes `pixels` (`width` x `height`, of `color`) to `path` as a PNG stored without
/// filtering and with fast deflate, as a camera or screenshot tool might; returns its bytes.
fn write_png(
    path: &Path,
    pixels: &[u8],
    (width, height): (u32, u32),
    color: image::ExtendedColorType,
) -> Vec<u8> {
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::NoFilter,
    );
    image::ImageEncoder::write_image(encoder, pixels, width, height, color).unwrap();
    std::fs::write(path, &png).unwrap();
    png
}

#[test]
fn zstd_short_forms_combine_as_in_zstd() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text: Vec<u8> = (0..3000u32)
        .map(|i| b"abcd"[(i * i % 4) as usize])
        .collect();
    std::fs::write(d.join("a.txt"), &text).unwrap();
    ok(&["-zq", "a.txt"], d);
    for args in [
        &["-dc", "a.txt.pcz"][..],
        &["-cd", "a.txt.pcz"],
        &["-c", "-d", "a.txt.pcz"],
        &["-d", "-c", "a.txt.pcz"],
        &["-qdc", "-T1", "a.txt.pcz"],
        &["-dc", "-"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_pcz"))
            .args(args)
            .current_dir(d)
            .stdin(std::fs::File::open(d.join("a.txt.pcz")).unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "pcz {args:?}: {stderr}");
        assert_eq!(out.stdout, text, "pcz {args:?}");
    }
    std::fs::remove_file(d.join("a.txt")).unwrap();
    ok(&["-q", "-d", "a.txt.pcz"], d);
    assert_eq!(std::fs::read(d.join("a.txt")).unwrap(), text);
    fails(&["-kd", "a.txt.pcz"], d, 1, "already exists");
    ok(&["-kdf", "a.txt.pcz"], d);
    ok(&["-do", "b.txt", "a.txt.pcz"], d);
    assert_eq!(std::fs::read(d.join("b.txt")).unwrap(), text);
    // Help, version and subcommands are as they were.
    ok(&["--help"], d);
    assert!(String::from_utf8_lossy(&ok(&["-V"], d).stdout).starts_with("pcz "));
    ok(&["decompress", "-c", "a.txt.pcz"], d);
}

#[test]
fn verbose_logs_the_steps_even_into_a_file_and_quiet_is_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text: Vec<u8> = (0..3000u32)
        .map(|i| b"xyz "[(i * 7 % 4) as usize])
        .collect();
    std::fs::write(d.join("a.txt"), &text).unwrap();
    // The tests' stderr is a pipe, not a terminal.
    assert!(ok(&["compress", "a.txt"], d).stderr.is_empty());
    assert!(ok(&["-d", "-c", "a.txt.pcz"], d).stderr.is_empty());
    let logged = ok(&["compress", "-v", "-f", "a.txt"], d).stderr;
    let logged = String::from_utf8(logged).unwrap();
    let lines: Vec<&str> = logged.lines().collect();
    assert!(lines.len() >= 3, "{logged}");
    assert!(lines.iter().all(|l| l.starts_with("a.txt: ")), "{logged}");
    assert!(
        logged.contains("training") && logged.contains(" s)"),
        "{logged}"
    );
    let last = lines.last().unwrap();
    assert!(
        last.starts_with("a.txt: 3000 -> ") && last.ends_with(" s"),
        "{logged}"
    );
    let logged = ok(&["-v", "-d", "-c", "a.txt.pcz"], d).stderr;
    let logged = String::from_utf8(logged).unwrap();
    assert!(logged.starts_with("a.txt.pcz: ") && logged.contains("-> 3000 bytes in"));
}

#[test]
fn short_levels_are_the_level_option() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text: Vec<u8> = (0..20_000u32)
        .map(|i| b"abcab"[(i * i % 5) as usize])
        .collect();
    std::fs::write(d.join("a.txt"), text).unwrap();
    let long = ok(&["compress", "--level", "1", "a.txt", "-c"], d).stdout;
    assert_eq!(ok(&["compress", "-1", "a.txt", "-c"], d).stdout, long);
    assert_eq!(ok(&["-z", "a.txt", "-c", "-1"], d).stdout, long);
    fails(
        &["compress", "-9", "--model", "m.pcm", "a.txt"],
        d,
        2,
        "--level",
    );
    fails(&["compress", "-0", "a.txt"], d, 2, "-0");
}

#[test]
fn several_inputs_are_handled_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let names = ["a.txt", "b.bin", "c.txt"];
    for (i, name) in names.iter().enumerate() {
        let bytes: Vec<u8> = (0..3000u32).map(|j| (j % (7 + i as u32)) as u8).collect();
        std::fs::write(d.join(name), bytes).unwrap();
    }
    let json = ok(&["compress", "--json", "a.txt", "b.bin", "c.txt"], d).stdout;
    let lines: Vec<serde_json::Value> = String::from_utf8(json)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let inputs: Vec<_> = lines.iter().map(|l| l["input"].as_str().unwrap()).collect();
    assert_eq!(inputs, names, "one JSON line per input, in order");
    let packed = ["a.txt.pcz", "b.bin.pcz", "c.txt.pcz"];
    let text = ok(&[&["inspect"][..], &packed[..]].concat(), d).stdout;
    let heads: Vec<_> = String::from_utf8(text)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("file       ").map(str::to_owned))
        .collect();
    assert_eq!(heads, packed, "each report headed by its file");
    let json = ok(&[&["inspect", "--json"][..], &packed[..]].concat(), d).stdout;
    let files: Vec<_> = String::from_utf8(json)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["file"].clone())
        .collect();
    assert_eq!(files, packed);
    // Decompressed to stdout, the contents follow one another, as with `zstd -dc`.
    let joined = ok(&[&["decompress", "-c"][..], &packed[..]].concat(), d).stdout;
    let want: Vec<u8> = names
        .iter()
        .flat_map(|n| std::fs::read(d.join(n)).unwrap())
        .collect();
    assert_eq!(joined, want);
    // An input that fails is reported, and the others still go through.
    for p in packed {
        std::fs::remove_file(d.join(p)).unwrap();
    }
    fails(
        &["compress", "a.txt", "missing.bin", "c.txt"],
        d,
        1,
        "missing.bin",
    );
    assert!(d.join("a.txt.pcz").exists() && d.join("c.txt.pcz").exists());
    fails(
        &["compress", "-f", "a.txt", "missing.bin"],
        d,
        1,
        "1 of 2 inputs failed",
    );
    // Every report names its input, even when the error itself names another file.
    fails(
        &["compress", "a.txt", "c.txt"],
        d,
        1,
        "pcz: c.txt: c.txt.pcz already exists",
    );
}

#[test]
fn several_inputs_refuse_a_single_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.txt"), b"aaaa").unwrap();
    std::fs::write(d.join("b.txt"), b"bbbb").unwrap();
    fails(&["compress", "-c", "a.txt", "b.txt"], d, 2, "drop -c");
    fails(
        &["compress", "-o", "x.pcz", "a.txt", "b.txt"],
        d,
        2,
        "-o names one",
    );
    fails(
        &["decompress", "-o", "x", "a.pcz", "b.pcz"],
        d,
        2,
        "-o names one",
    );
    fails(&["decompress", "-c", "-", "-"], d, 2, "only once");
    assert!(!d.join("a.txt.pcz").exists() && !d.join("x.pcz").exists());
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    // `pcz inspect x.pcz | head -1`: once the reader is gone, writing fails with a broken
    // pipe, which must end pcz with success and without a panic.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.txt"), b"some text some text").unwrap();
    ok(&["compress", "a.txt"], d);
    for args in [
        &["inspect", "a.txt.pcz"][..],
        &["decompress", "-c", "a.txt.pcz"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pcz"))
            .args(args)
            .current_dir(d)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "pcz {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
