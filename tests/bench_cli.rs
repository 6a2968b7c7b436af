//! `pcz bench` end to end: files in, table on stdout, JSON, CSV and SVG out, with no
//! external programs on PATH.

use std::process::{Command, Output};

fn pcz() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pcz"))
}

/// Asserts that the table on `stdout` has every one of `texts` and `verified` verified rows.
fn assert_table(stdout: &str, texts: &[&str], verified: usize) {
    for text in texts {
        assert!(stdout.contains(text), "no {text:?} in\n{stdout}");
    }
    assert_eq!(stdout.matches("verified").count(), verified, "{stdout}");
}

/// Runs `bench` with `--json` into a temporary file; asserts success and returns the table
/// printed and the JSON report.
fn bench_json(bench: &mut Command) -> (String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = bench.arg("--json").arg(&json).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{out:?}");
    let report = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    (stdout, report)
}

/// Asserts that `out` is a failure whose one-line error has `text`.
fn assert_fails_with(out: &Output, text: &str) {
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(text), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one-line error: {stderr}");
}

#[test]
fn bench_writes_table_json_csv_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..100 * 16)
        .map(|i| ((i % 16) * 9 + i / 160) as u8)
        .collect();
    let mut file = vec![0xAB; 4];
    file.extend_from_slice(&data);
    let input = dir.path().join("records.bin");
    std::fs::write(&input, &file).unwrap();
    let (json, csv, svg) = (
        dir.path().join("r.json"),
        dir.path().join("r.csv"),
        dir.path().join("r.svg"),
    );
    let out = pcz()
        .env("PATH", dir.path())
        .arg("bench")
        .arg(&input)
        .args(["--shape", "4x4", "--skip-bytes", "4", "--repeat", "1"])
        .args(["--peers", "zstd-3,bzip2,cwebp"])
        .arg("--json")
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .arg("--plot")
        .arg(&svg)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_table(
        &stdout,
        &[
            "records.bin: 100 records of 4x4, 1600 bytes",
            "bits/dim",
            "not installed: cwebp, dwebp not on PATH",
        ],
        4,
    );

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["rows"].as_array().unwrap().len(), 6);
    assert_eq!(report["rows"][0]["input_bytes"], 1600);
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv_text.lines().count(), 1 + 6);
    assert!(std::fs::read_to_string(&svg)
        .unwrap()
        .contains(">bzip2 -9<"));
}

#[test]
fn bench_rejects_records_that_do_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("odd.bin");
    std::fs::write(&input, [1u8; 10]).unwrap();
    let out = pcz()
        .arg("bench")
        .arg(&input)
        .args(["--record-size", "3"])
        .output()
        .unwrap();
    assert_fails_with(
        &out,
        "odd.bin: 10 bytes after the first 0 do not split into records of 3",
    );
}

#[test]
fn bench_codes_with_a_given_model_and_rejects_a_mismatched_one() {
    let dir = tempfile::tempdir().unwrap();
    let digits = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/digits/digits-images-idx3-ubyte.gz"
    );
    let model = dir.path().join("digits.pcm");
    let train = pcz()
        .args(["train", digits, "--hidden", "2", "--epochs", "1", "-o"])
        .arg(&model)
        .output()
        .unwrap();
    assert!(train.status.success(), "{train:?}");
    let (stdout, report) = bench_json(
        pcz()
            .args(["bench", digits, "--repeat", "1", "--peers", "pcz,zstd-3"])
            .arg("--model")
            .arg(&model),
    );
    assert!(stdout.contains("pcz model M=2"), "{stdout}");
    let row = &report["rows"][0];
    assert_eq!(row["extra_bytes"], std::fs::metadata(&model).unwrap().len());

    let other = dir.path().join("other.bin");
    std::fs::write(&other, [7u8; 40]).unwrap();
    let out = pcz()
        .arg("bench")
        .arg(&other)
        .args(["--record-size", "8", "--repeat", "1", "--peers", "pcz"])
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("the model codes records of 64 values, the bench records have 8"),
        "{stderr}"
    );
    assert!(stderr.contains("digits.pcm"), "{stderr}");
}

#[test]
fn bench_codes_image_files_each_alone() {
    let dir = tempfile::tempdir().unwrap();
    let images = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/images/");
    let camera = format!("{images}camera-64.pgm");
    let astronaut = format!("{images}astronaut-rgb-8.png");
    let (stdout, report) = bench_json(
        pcz()
            .env("PATH", dir.path())
            .args(["bench", &camera, &astronaut, "--repeat", "1"])
            .args(["--peers", "pcz,xz,cjxl-9"]),
    );
    assert_table(
        &stdout,
        &[
            "camera-64.pgm and 1 more: 2 images (1 grey, 1 RGB), 4288 subpixels",
            "bits/subpixel",
            "not installed: cjxl, djxl not on PATH",
        ],
        2,
    );
    assert_eq!(report["images"][0]["file"], "camera-64.pgm");
    assert_eq!(report["images"][1]["channels"], 3);
    let pcz_sizes = report["rows"][0]["image_bytes"].as_array().unwrap();
    assert_eq!(pcz_sizes.len(), 2);
    // The pcz row's size of the PGM is what `pcz compress` writes for it.
    let packed = pcz().args(["compress", &camera, "-c"]).output().unwrap();
    assert!(packed.status.success(), "{packed:?}");
    assert_eq!(pcz_sizes[0], packed.stdout.len());
}

#[test]
fn bench_rejects_a_broken_image_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("broken.png");
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0x55; 40]);
    std::fs::write(&input, bytes).unwrap();
    let out = pcz().arg("bench").arg(&input).output().unwrap();
    assert_fails_with(&out, "broken.png");
}

#[test]
fn bench_level_sets_the_image_rows_effort_and_is_refused_for_records() {
    let camera = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/images/camera-64.pgm");
    let (stdout, report) = bench_json(
        pcz()
            .args(["bench", camera, "--repeat", "1"])
            .args(["--peers", "pcz", "--level", "1"]),
    );
    assert_table(&stdout, &["pcz -l 1 (self-trained)"], 1);
    let packed = pcz()
        .args(["compress", "-l", "1", camera, "-c"])
        .output()
        .unwrap();
    assert!(packed.status.success(), "{packed:?}");
    assert_eq!(report["rows"][0]["image_bytes"][0], packed.stdout.len());

    let digits = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/digits/digits-images-idx3-ubyte.gz"
    );
    let out = pcz()
        .args(["bench", digits, "--level", "2"])
        .output()
        .unwrap();
    assert_fails_with(&out, "--level sets the effort of image mode");
}
