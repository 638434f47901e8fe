//! Storage benchmarks: the store's hot path against a plain `HashMap`, lz4 on JSON-like records, and
//! the hot tier's hit ratio under LRU and S3-FIFO on a Zipf-0.99 trace.
//!
//! `cargo bench -p kvlab-core --bench storage -- --warm-up-time 1 --measurement-time 3`
//!
//! Figures that are not times go to stderr: compression ratios, hit ratios, and *paired* speed ratios
//! against the `HashMap` (alternating rounds, median), which stay meaningful on a machine whose load
//! changes while criterion measures one contender after the other.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use kvlab_core::{Key, Policy, Record, Rng, Store, Value, Zipf, ENTRY_OVERHEAD_BYTES};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

const KEYS: usize = 10_000;
const BATCH: usize = 1_000;

/// A JSON-ish record of about `target` bytes: a shopping cart, the canonical Dynamo value.
fn json_record(rng: &mut Rng, target: usize) -> String {
    let mut s = String::from("{\"cart\":[");
    while s.len() + 2 < target {
        if !s.ends_with('[') {
            s.push(',');
        }
        s.push_str(&format!(
            "{{\"sku\":\"SKU-{:05}\",\"name\":\"item {}\",\"qty\":{},\"price_cents\":{}}}",
            rng.below(100_000),
            rng.below(1000),
            1 + rng.below(5),
            rng.below(100_000)
        ));
    }
    s.push_str("]}");
    s
}

/// A record of exactly `len` bytes (truncated JSON-ish text: it still compresses like JSON).
fn sized_record(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut b = json_record(rng, len + 80).into_bytes();
    b.truncate(len);
    b
}

fn keys() -> Vec<Key> {
    (0..KEYS)
        .map(|i| Key::from(format!("user:{i:06}")))
        .collect()
}

/// A fixed pseudo-random order of key indexes, so every contender sees the same lookups.
fn order() -> Vec<usize> {
    let mut rng = Rng::new(99);
    (0..BATCH)
        .map(|_| rng.below(KEYS as u64) as usize)
        .collect()
}

/// How many times faster `contender` runs than `baseline`: the median over alternating rounds of
/// t(baseline) / t(contender). Pairing rounds cancels the load drift of a shared machine, which
/// criterion's one-after-the-other measurements do not.
fn speedup(mut baseline: impl FnMut(), mut contender: impl FnMut()) -> f64 {
    fn time(f: &mut impl FnMut()) -> f64 {
        let t = Instant::now();
        for _ in 0..10 {
            f();
        }
        t.elapsed().as_secs_f64()
    }
    let mut ratios: Vec<f64> = (0..201)
        .map(|round| {
            if round % 2 == 0 {
                let b = time(&mut baseline);
                b / time(&mut contender)
            } else {
                let c = time(&mut contender);
                time(&mut baseline) / c
            }
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

fn hot_path(c: &mut Criterion, label: &str, len: usize) {
    let keys = keys();
    let order = order();
    let mut rng = Rng::new(1);
    let raw: Vec<Vec<u8>> = (0..KEYS).map(|_| sized_record(&mut rng, len)).collect();
    let values: Vec<Value> = raw.iter().map(|v| Value::from(v.as_slice())).collect();

    let mut map: HashMap<Key, Vec<u8>> = HashMap::new();
    let mut lru: Store<Value> = Store::new(u64::MAX, Policy::Lru);
    let mut s3: Store<Value> = Store::new(u64::MAX, Policy::S3Fifo);
    let mut s3vec: Store<Vec<u8>> = Store::new(u64::MAX, Policy::S3Fifo);
    for i in 0..KEYS {
        map.insert(keys[i].clone(), raw[i].clone());
        lru.put(keys[i].clone(), values[i].clone());
        s3.put(keys[i].clone(), values[i].clone());
        s3vec.put(keys[i].clone(), raw[i].clone());
    }
    let st = s3.stats();
    eprintln!(
        "[{label}] {} records of {len} B: stored/raw {:.3}, all hot: {}",
        KEYS,
        st.compression_ratio,
        st.cold_entries == 0
    );

    {
        let get_map = || {
            for &i in &order {
                black_box(map.get(keys[i].as_str()).cloned());
            }
        };
        let get = |st: &mut Store<Value>| {
            for &i in &order {
                black_box(st.get(keys[i].as_str()));
            }
        };
        let s3_get = speedup(get_map, || get(&mut s3));
        let lru_get = speedup(get_map, || get(&mut lru));
        let vec_get = speedup(get_map, || {
            for &i in &order {
                black_box(s3vec.get(keys[i].as_str()));
            }
        });
        let mut map2 = map.clone();
        let mut put_map = || {
            for &i in &order {
                black_box(map2.insert(keys[i].clone(), raw[i].clone()));
            }
        };
        let put = |st: &mut Store<Value>| {
            for &i in &order {
                st.put(keys[i].clone(), values[i].clone());
            }
        };
        let s3_put = speedup(&mut put_map, || put(&mut s3));
        let lru_put = speedup(&mut put_map, || put(&mut lru));
        let vec_put = speedup(&mut put_map, || {
            for &i in &order {
                s3vec.put(keys[i].clone(), raw[i].clone());
            }
        });
        eprintln!(
            "[{label}] paired speed vs HashMap<Key,Vec<u8>> (>1 = Store faster): get (vs get+clone): \
             Store<Value> S3-FIFO {s3_get:.2}x, LRU {lru_get:.2}x, Store<Vec<u8>> S3-FIFO {vec_get:.2}x; \
             put (vs insert): Store<Value> S3-FIFO {s3_put:.2}x, LRU {lru_put:.2}x, Store<Vec<u8>> S3-FIFO {vec_put:.2}x"
        );
    }

    let mut g = c.benchmark_group(format!("get_{label}"));
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("HashMap<Key,Vec<u8>> get (borrow)", |b| {
        b.iter(|| {
            for &i in &order {
                black_box(map.get(keys[i].as_str()));
            }
        })
    });
    g.bench_function("HashMap<Key,Vec<u8>> get+clone", |b| {
        b.iter(|| {
            for &i in &order {
                black_box(map.get(keys[i].as_str()).cloned());
            }
        })
    });
    g.bench_function("Store<Value> S3-FIFO get", |b| {
        b.iter(|| {
            for &i in &order {
                black_box(s3.get(keys[i].as_str()));
            }
        })
    });
    g.bench_function("Store<Value> LRU get", |b| {
        b.iter(|| {
            for &i in &order {
                black_box(lru.get(keys[i].as_str()));
            }
        })
    });
    g.bench_function("Store<Vec<u8>> S3-FIFO get", |b| {
        b.iter(|| {
            for &i in &order {
                black_box(s3vec.get(keys[i].as_str()));
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group(format!("put_{label}"));
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("HashMap<Key,Vec<u8>> insert", |b| {
        b.iter(|| {
            for &i in &order {
                black_box(map.insert(keys[i].clone(), raw[i].clone()));
            }
        })
    });
    g.bench_function("Store<Value> S3-FIFO put", |b| {
        b.iter(|| {
            for &i in &order {
                s3.put(keys[i].clone(), values[i].clone());
            }
        })
    });
    g.bench_function("Store<Value> LRU put", |b| {
        b.iter(|| {
            for &i in &order {
                lru.put(keys[i].clone(), values[i].clone());
            }
        })
    });
    g.bench_function("Store<Vec<u8>> S3-FIFO put", |b| {
        b.iter(|| {
            for &i in &order {
                s3vec.put(keys[i].clone(), raw[i].clone());
            }
        })
    });
    g.finish();
}

fn hot_get_put(c: &mut Criterion) {
    // The brief's case: 100-byte values (stored plain: below the compression threshold).
    hot_path(c, "100B", 100);
    // Records large enough to be stored compressed: reads decompress.
    hot_path(c, "1KiB", 1024);
}

fn compression(c: &mut Criterion) {
    // Ratio by record size: the measurement behind COMPRESS_MIN_BYTES.
    let mut rng = Rng::new(5);
    for len in [48, 64, 96, 128, 160, 192, 256, 512, 1024, 4096] {
        let (mut raw, mut packed, mut kept) = (0usize, 0usize, 0usize);
        for _ in 0..500 {
            let rec = sized_record(&mut rng, len);
            let n = lz4_flex::block::compress_prepend_size(&rec).len() + 1;
            raw += rec.len() + 1;
            packed += n;
            kept += usize::from(n * 8 <= (rec.len() + 1) * 7);
        }
        eprintln!(
            "lz4 on {len:>4} B JSON-ish records: stored/plain {:.3}, saves >= 1/8 for {:>3}/500",
            packed as f64 / raw as f64,
            kept
        );
    }

    // The corpus: carts of 3..40 lines (about 200 B to 3 KiB).
    let mut rng = Rng::new(7);
    let corpus: Vec<Vec<u8>> = (0..2000)
        .map(|_| {
            let target = 150 + rng.below(3000) as usize;
            json_record(&mut rng, target).into_bytes()
        })
        .collect();
    let total: usize = corpus.iter().map(Vec::len).sum();
    let mut store: Store<Vec<u8>> = Store::new(u64::MAX, Policy::S3Fifo);
    for (i, rec) in corpus.iter().enumerate() {
        store.put(Key::from(format!("cart:{i}")), rec.clone());
    }
    eprintln!(
        "JSON corpus: {} records, {:.2} MiB raw, store compression ratio (stored/raw) {:.3}",
        corpus.len(),
        total as f64 / 1048576.0,
        store.stats().compression_ratio
    );

    let mut g = c.benchmark_group("lz4_json_corpus");
    g.throughput(Throughput::Bytes(total as u64));
    let mut out = vec![0u8; lz4_flex::block::get_maximum_output_size(4096)];
    g.bench_function("compress", |b| {
        b.iter(|| {
            for rec in &corpus {
                black_box(lz4_flex::block::compress_into(rec, &mut out).ok());
            }
        })
    });
    let packed: Vec<Vec<u8>> = corpus
        .iter()
        .map(|r| lz4_flex::block::compress(r))
        .collect();
    let mut back = vec![0u8; 4096];
    g.bench_function("decompress", |b| {
        b.iter(|| {
            for p in &packed {
                black_box(lz4_flex::block::decompress_into(p, &mut back).ok());
            }
        })
    });
    let keys: Vec<Key> = (0..corpus.len())
        .map(|i| Key::from(format!("cart:{i}")))
        .collect();
    g.bench_function("Store put of new keys (encode + compress + index)", |b| {
        b.iter_batched_ref(
            || Store::<Vec<u8>>::new(u64::MAX, Policy::S3Fifo),
            |st| {
                for (k, rec) in keys.iter().zip(&corpus) {
                    st.put(k.clone(), rec.clone());
                }
            },
            BatchSize::LargeInput,
        )
    });
    // Records put once and never read stay packed; peek decodes without promoting them to plain.
    g.bench_function("Store peek of packed records (decompress + decode)", |b| {
        b.iter(|| {
            for k in &keys {
                black_box(store.peek(k.as_str()));
            }
        })
    });
    g.finish();
}

/// A store of 10k keys of `len`-byte records (JSON-ish, or one repeated byte for 100 B as in the unit
/// test) whose budget is 10% of the records' plain footprint.
fn zipf_store(policy: Policy, len: usize) -> (Store<Value>, Vec<Key>) {
    let keys: Vec<Key> = (0..KEYS).map(|k| Key::from(format!("key{k:05}"))).collect();
    let mut rng = Rng::new(11);
    let values: Vec<Value> = (0..KEYS)
        .map(|_| {
            if len == 100 {
                Value::from(vec![b'v'; 100])
            } else {
                Value::from(sized_record(&mut rng, len))
            }
        })
        .collect();
    let plain: u64 = keys
        .iter()
        .zip(&values)
        .map(|(k, v)| {
            k.len() as u64 + v.encoded_len().unwrap_or(0) as u64 + 1 + ENTRY_OVERHEAD_BYTES
        })
        .sum();
    let mut st: Store<Value> = Store::new(plain / 10, policy);
    for (k, v) in keys.iter().zip(values) {
        st.put(k.clone(), v);
    }
    (st, keys)
}

fn zipf_hit_ratio(c: &mut Criterion) {
    let zipf = Zipf::new(KEYS as u64, 990);
    for len in [100, 1024] {
        for policy in [Policy::Lru, Policy::S3Fifo] {
            let (mut st, keys) = zipf_store(policy, len);
            let before = st.stats();
            let mut rng = Rng::new(2024);
            for _ in 0..1_000_000 {
                st.get(keys[zipf.sample(&mut rng) as usize].as_str());
            }
            let s = st.stats();
            let hot = s.hits_hot - before.hits_hot;
            let cold = s.hits_cold - before.hits_cold;
            eprintln!(
                "Zipf 0.99, 10k keys x {len} B, budget 10% of plain size, 1M reads: {policy:?} hot hit ratio {:.4} \
                 (hot entries {}, stored/raw {:.3}, disk reads {}, disk writes {})",
                hot as f64 / (hot + cold) as f64,
                s.hot_entries,
                s.compression_ratio,
                s.disk_reads - before.disk_reads,
                s.disk_writes - before.disk_writes
            );
        }
    }
    let mut g = c.benchmark_group("zipf_get_10pct_budget");
    g.throughput(Throughput::Elements(BATCH as u64));
    for len in [100, 1024] {
        for policy in [Policy::Lru, Policy::S3Fifo] {
            let (mut st, keys) = zipf_store(policy, len);
            let mut rng = Rng::new(3);
            let trace: Vec<usize> = (0..BATCH).map(|_| zipf.sample(&mut rng) as usize).collect();
            let id = BenchmarkId::new(format!("{policy:?}"), format!("{len}B"));
            g.bench_with_input(id, &trace, |b, t| {
                b.iter(|| {
                    for &i in t {
                        black_box(st.get(keys[i].as_str()));
                    }
                })
            });
        }
    }
    let mut rng = Rng::new(4);
    g.bench_function("Zipf::sample", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                black_box(zipf.sample(&mut rng));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, hot_get_put, compression, zipf_hit_ratio);
criterion_main!(benches);
