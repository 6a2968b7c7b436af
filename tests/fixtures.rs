//! The bundled fixtures in `testdata/` load with the expected shape and content.
//!
//! Each fixture is pinned by the sum of its values and an XXH3-64 hash of them, so a
//! corrupted or accidentally regenerated file fails here (see `testdata/README.md`).

use std::path::{Path, PathBuf};

use pcz::data::{load, load_detailed, CsvOptions, Format, Layout, LoadOptions};
use pcz::Dataset;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

fn load_default(rel: &str) -> Dataset {
    load(&fixture(rel), &LoadOptions::default()).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Checks records, variables, the sum of all values and their XXH3-64 hash.
fn check(ds: &Dataset, records: usize, dims: usize, sum: u64, hash: u64) {
    assert_eq!((ds.len(), ds.dims()), (records, dims));
    assert_eq!(ds.values().iter().map(|&v| u64::from(v)).sum::<u64>(), sum);
    assert_eq!(xxhash_rust::xxh3::xxh3_64(ds.values()), hash);
}

#[test]
fn mnist_train_1000() {
    let loaded = load_detailed(
        &fixture("mnist/train-1000-idx3-ubyte.gz"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(loaded.format, Format::Idx);
    assert!(loaded.gzip);
    match &loaded.layout {
        Layout::Idx(h) => {
            assert_eq!(h.dims, vec![1000, 28, 28]);
            assert_eq!(h.header_len, 16);
        }
        other => panic!("{other:?}"),
    }
    check(&loaded.dataset, 1000, 784, 25_637_533, 0x3f2d71e0f9a300da);
    assert_eq!(*loaded.dataset.alphabet().iter().max().unwrap(), 256);
}

#[test]
fn mnist_test_200() {
    let ds = load_default("mnist/test-200-idx3-ubyte.gz");
    check(&ds, 200, 784, 4_757_429, 0x6274ab26246de889);
}

#[test]
fn sklearn_digits_idx_and_csv_agree() {
    let idx = load_default("digits/digits-images-idx3-ubyte.gz");
    check(&idx, 1797, 64, 561_718, 0xeb55457a4c35c009);
    assert!(idx.alphabet().iter().all(|&k| k <= 17));

    let options = LoadOptions {
        csv: CsvOptions {
            drop_last_column: true,
        },
        ..LoadOptions::default()
    };
    let csv = load(&fixture("digits/digits-100.csv"), &options).unwrap();
    check(&csv, 100, 64, 31_147, 0xf8a20455533244c2);
    assert_eq!(csv.values(), idx.slice(0..100).values());

    // With the label column kept.
    let with_labels = load_default("digits/digits-100.csv");
    check(&with_labels, 100, 65, 31_573, 0x0274843230d18a17);
    let labels: Vec<u8> = with_labels.records().map(|r| r[64]).take(10).collect();
    assert_eq!(labels, (0..10).collect::<Vec<u8>>());
}

#[test]
fn digit_pgms_are_the_first_three_digits() {
    let idx = load_default("digits/digits-images-idx3-ubyte.gz");
    let loaded = load_detailed(&fixture("images/digits"), &LoadOptions::default()).unwrap();
    assert_eq!(loaded.format, Format::Images);
    check(
        &loaded.dataset,
        3,
        64,
        294 + 313 + 344,
        xxhash_rust::xxh3::xxh3_64(idx.slice(0..3).values()),
    );
    assert_eq!(loaded.dataset.values(), idx.slice(0..3).values());
    let ds = load_default("images/digits/digit-0.pgm");
    check(&ds, 1, 64, 294, 0xe0ecb76a707bb30d);
}

#[test]
fn camera_crop() {
    let loaded = load_detailed(&fixture("images/camera-64.pgm"), &LoadOptions::default()).unwrap();
    match &loaded.layout {
        Layout::Images { shape, .. } => {
            assert_eq!((shape.width, shape.height, shape.channels), (64, 64, 1))
        }
        other => panic!("{other:?}"),
    }
    check(&loaded.dataset, 1, 4096, 831_829, 0x14fcd39b21eb638c);
}

#[test]
fn astronaut_rgb_png() {
    let loaded = load_detailed(
        &fixture("images/astronaut-rgb-8.png"),
        &LoadOptions::default(),
    )
    .unwrap();
    match &loaded.layout {
        Layout::Images { shape, .. } => {
            assert_eq!((shape.width, shape.height, shape.channels), (8, 8, 3))
        }
        other => panic!("{other:?}"),
    }
    check(&loaded.dataset, 1, 192, 24_392, 0x197f834122b44d5a);
}

#[test]
fn uniform_alphabet_on_a_fixture() {
    let options = LoadOptions {
        alphabet: Some(256),
        ..LoadOptions::default()
    };
    let ds = load(&fixture("mnist/test-200-idx3-ubyte.gz"), &options).unwrap();
    assert!(ds.alphabet().iter().all(|&k| k == 256));
}
