//! Learning and likelihood hot paths on the bundled MNIST subset (1000 images, D = 784):
//! mutual information, one EM epoch (M = 16 from a trained model, M = 32 from a fresh one),
//! exact log-likelihood. Each bench checks its result
//! before timing it.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

mod common;

fn benches(c: &mut Criterion) {
    let data = common::mnist();
    let mut group = c.benchmark_group("circuit");
    group.sample_size(10);

    let mi = pcz::learn::mi::mutual_information(&data, 16);
    assert!(mi.iter().all(|x| x.is_finite() && *x >= 0.0));
    group.bench_function("mutual_information_1000x784", |b| {
        b.iter(|| pcz::learn::mi::mutual_information(black_box(&data), 16))
    });

    let model = common::model(&data, 16);
    let bpd = model.params().bits_per_dim(&data);
    assert!(
        bpd > 0.5 && bpd < 3.0,
        "trained model fits MNIST: {bpd} bpd"
    );
    group.throughput(Throughput::Elements(data.len() as u64));
    group.bench_function("log_likelihood_m16_1000_records", |b| {
        let params = model.params();
        b.iter(|| params.bits_per_dim(black_box(&data)))
    });

    let em = pcz::learn::EmOptions {
        epochs: 1,
        full_epochs: 0,
        ..Default::default()
    };
    for (name, start) in [
        ("em_epoch_m16_1000_records", &model),
        ("em_epoch_m32_1000_records", &common::initial(&data, 32)),
    ] {
        let (_, log) = pcz::learn::train(start, &data, None, &em, &mut |_| {}).expect("epoch");
        let bpd = log[0].train_bpd;
        assert!(
            bpd > 0.5 && bpd < 8.0,
            "{name}: an EM epoch sees a finite NLL: {bpd} bpd"
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                pcz::learn::train(start, black_box(&data), None, &em, &mut |_| {}).expect("epoch")
            })
        });
    }
    group.finish();
}

criterion_group!(circuit, benches);
criterion_main!(circuit);
