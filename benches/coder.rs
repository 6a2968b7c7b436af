//! Coding hot paths: conditionals per record, quantization, and coding a chunk with the
//! circuit codec. Each bench checks a round trip before timing.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pcz::circuit::{Conditionals, Context};
use pcz::codec::PcCodec;
use pcz::coder::Cdf;
use std::hint::black_box;

mod common;

fn benches(c: &mut Criterion) {
    let data = common::mnist().slice(0..256);
    let model = common::model(&data, 16);
    let codec = PcCodec::new(&model);
    let stream = codec.encode_chunk(data.values()).expect("encode");
    assert_eq!(
        codec.decode_chunk(&stream, data.len()).expect("decode"),
        data.values()
    );

    let mut group = c.benchmark_group("coder");
    group.sample_size(10);
    group.throughput(Throughput::Elements(data.len() as u64));
    group.bench_function("encode_chunk_m16_256_records", |b| {
        b.iter(|| codec.encode_chunk(black_box(data.values())))
    });
    group.bench_function("decode_chunk_m16_256_records", |b| {
        b.iter(|| codec.decode_chunk(black_box(&stream), data.len()))
    });

    let conditionals = Conditionals::new(&model);
    let record = data.record(0);
    let vars = model.tree().vars().to_vec();
    group.throughput(Throughput::Elements(1));
    group.bench_function("conditionals_one_record_m16", |b| {
        let mut ctx = Context::default();
        let mut q = vec![0.0; 256];
        b.iter(|| {
            conditionals.begin(&mut ctx);
            for &v in &vars {
                conditionals.distribution(&mut ctx, &mut q);
                conditionals.observe(&mut ctx, record[v as usize]);
            }
            ctx.ops
        })
    });

    let q: Vec<f64> = (0..256).map(|a| 1.0 / (1.0 + a as f64)).collect();
    let mut cdf = Cdf::default();
    cdf.quantize(&q);
    assert_eq!(cdf.cumulative(256), pcz::coder::TOTAL);
    group.bench_function("quantize_256", |b| b.iter(|| cdf.quantize(black_box(&q))));
    group.finish();
}

criterion_group!(coder, benches);
criterion_main!(coder);
