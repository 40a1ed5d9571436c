//! Loading and decoding all 70,000 MNIST images (hash check, gunzip, IDX parse, u8 → f32).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

fn load_mnist(c: &mut Criterion) {
    let mut group = c.benchmark_group("mnist");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("load_70000", |b| {
        b.iter(|| {
            let data = pacbayes_data::mnist().expect("vendored MNIST loads");
            black_box(data.train.len() + data.test.len())
        })
    });
    group.finish();
}

criterion_group!(benches, load_mnist);
criterion_main!(benches);
