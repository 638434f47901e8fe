//! Vector clock and version set costs on the simulator's hot path.
//!
//! `cargo bench -p kvlab-core --bench vclock -- --warm-up-time 1 --measurement-time 2`

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use kvlab_core::{ClockEntry, NodeId, Time, Value, VectorClock, VersionSet};
use std::hint::black_box;

const SIZES: [u16; 3] = [3, 10, 50];

fn clock(nodes: impl Iterator<Item = u16>) -> VectorClock {
    nodes
        .map(|n| ClockEntry {
            actor: NodeId(n).into(),
            counter: u64::from(n) + 10,
            updated: Time(u64::from(n)),
        })
        .collect()
}

/// Two clocks over the same `n` nodes that differ only in their last two entries, one ahead in
/// each: concurrent, and only found out at the end, so `compare` walks both.
fn concurrent_pair(n: u16) -> (VectorClock, VectorClock) {
    let mut a = clock(0..n);
    let mut b = a.clone();
    a.increment(NodeId(n - 2), Time(99));
    b.increment(NodeId(n - 1), Time(99));
    (a, b)
}

fn clocks(c: &mut Criterion) {
    let mut g = c.benchmark_group("vclock");
    for n in SIZES {
        let (a, b) = concurrent_pair(n);
        assert_eq!(a.compare(&b), kvlab_core::Causality::Concurrent);
        g.bench_with_input(BenchmarkId::new("compare", n), &n, |bench, _| {
            bench.iter(|| black_box(&a).compare(black_box(&b)))
        });
        g.bench_with_input(BenchmarkId::new("descends", n), &n, |bench, _| {
            bench.iter(|| black_box(&a).descends(black_box(&b)))
        });
        g.bench_with_input(BenchmarkId::new("merge", n), &n, |bench, _| {
            bench.iter_batched_ref(
                || a.clone(),
                |m| m.merge(black_box(&b)),
                BatchSize::SmallInput,
            )
        });
        // `other` names a node `self` lacks: the merge rebuilds the entries.
        let shifted = clock(1..n + 1);
        g.bench_with_input(BenchmarkId::new("merge_new_node", n), &n, |bench, _| {
            bench.iter_batched_ref(
                || a.clone(),
                |m| m.merge(black_box(&shifted)),
                BatchSize::SmallInput,
            )
        });
        g.bench_with_input(BenchmarkId::new("clone", n), &n, |bench, _| {
            bench.iter(|| black_box(&a).clone())
        });
    }
    g.finish();
}

fn version_sets(c: &mut Criterion) {
    let mut g = c.benchmark_group("version_set");
    let value = Value::from("a value of a few bytes");
    // A key written through its three replicas in turn: one version, a three-entry clock.
    let mut set = VersionSet::new();
    for (i, node) in [0u16, 1, 2].into_iter().enumerate() {
        let ctx = set.context();
        set.write(NodeId(node), &ctx, value.clone(), Time(i as u64), 10);
    }
    let ctx = set.context();
    g.bench_function("read_context", |bench| {
        bench.iter(|| black_box(&set).context())
    });
    g.bench_function("write", |bench| {
        bench.iter_batched_ref(
            || set.clone(),
            |s| s.write(NodeId(1), black_box(&ctx), value.clone(), Time(9), 10),
            BatchSize::SmallInput,
        )
    });
    let newer = set
        .clone()
        .write(NodeId(1), &ctx, value.clone(), Time(9), 10);
    g.bench_function("insert_newer", |bench| {
        bench.iter_batched(
            || (set.clone(), newer.clone()),
            |(mut s, v)| {
                s.insert(v);
                s
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("insert_duplicate", |bench| {
        bench.iter_batched(
            || (set.clone(), set.versions()[0].clone()),
            |(mut s, v)| {
                s.insert(v);
                s
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("clone", |bench| bench.iter(|| black_box(&set).clone()));
    g.finish();
}

criterion_group!(benches, clocks, version_sets);
criterion_main!(benches);
