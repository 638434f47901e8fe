//! Ring lookups: `cargo bench -p kvlab-core --bench ring -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kvlab_core::{key_position, NodeId, Ring, Rng};
use std::hint::black_box;

const BATCH: usize = 1_000;

fn preference_lists(c: &mut Criterion) {
    let mut rng = Rng::new(8);
    let positions: Vec<u64> = (0..BATCH).map(|_| rng.next_u64()).collect();
    let mut g = c.benchmark_group("ring");
    g.throughput(Throughput::Elements(BATCH as u64));
    for nodes in [16u16, 256] {
        let ids: Vec<NodeId> = (0..nodes).map(NodeId).collect();
        let ring = Ring::new(&ids, 8);
        let label = format!("{nodes}x8");
        g.bench_with_input(
            BenchmarkId::new("preference_list n=3", &label),
            &ring,
            |b, ring| {
                b.iter(|| {
                    for &p in &positions {
                        black_box(ring.preference_list(p, 3));
                    }
                })
            },
        );
        let mut buf = Vec::with_capacity(8);
        g.bench_with_input(
            BenchmarkId::new("preference_list_into n=3", &label),
            &ring,
            |b, ring| {
                b.iter(|| {
                    for &p in &positions {
                        ring.preference_list_into(p, 3, &mut buf);
                        black_box(&buf);
                    }
                })
            },
        );
        g.bench_with_input(BenchmarkId::new("primary", &label), &ring, |b, ring| {
            b.iter(|| {
                for &p in &positions {
                    black_box(ring.primary(p));
                }
            })
        });
    }
    let keys: Vec<String> = (0..BATCH).map(|i| format!("user:{i:06}")).collect();
    g.bench_function("key_position (sha256)", |b| {
        b.iter(|| {
            for k in &keys {
                black_box(key_position(k));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, preference_lists);
criterion_main!(benches);
