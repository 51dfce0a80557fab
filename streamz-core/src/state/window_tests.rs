//! Window stores of every backend: the same tests, the same reference model.

use std::time::Duration;

use proptest::prelude::*;

use super::test_backends::{on_every_backend, window_stats, Fixture};
use super::test_serdes::{s, utf8};
#[cfg(feature = "rocksdb")]
use super::RocksDbWindowStore;
use super::{InMemoryWindowStore, StoreBackend, WindowStore};
use crate::time::Timestamp;

on_every_backend!(
    put_replaces_without_duplicates,
    duplicates_are_kept_in_insertion_order,
    fetch_range_bounds_are_inclusive,
    fetch_all_orders_by_key_bytes_then_start_across_segments,
    expiry_boundary_is_start_at_observed_minus_retention,
    zero_retention_keeps_nothing,
    expired_segments_are_dropped,
    remove_frees_segments,
    factory_builds_a_window_store,
);

const MIN: Duration = Duration::from_secs(60);

fn store(f: &Fixture, retention_ms: u64, dups: bool) -> Box<dyn WindowStore<String, u64>> {
    f.window("w", utf8(), Duration::from_millis(retention_ms), MIN, dups)
}

/// `(entries, segments)`.
fn counts(w: &dyn WindowStore<String, u64>) -> (usize, usize) {
    let (len, segments, _) = window_stats(w);
    (len, segments)
}

fn ts(ms: i64) -> Timestamp {
    Timestamp(ms)
}

fn put_replaces_without_duplicates(f: &Fixture) {
    let mut w = store(f, 1_000, false);
    w.put(&s("a"), ts(10), 1);
    w.put(&s("a"), ts(10), 2);
    w.put(&s("a"), ts(20), 3);
    assert_eq!(w.fetch(&s("a"), ts(10)), Some(2));
    assert_eq!(w.fetch_range(&s("a"), ts(0), ts(100)), [(ts(10), 2), (ts(20), 3)]);
    assert_eq!(counts(&*w).0, 2);
}

fn duplicates_are_kept_in_insertion_order(f: &Fixture) {
    let mut w = store(f, 1_000, true);
    w.put(&s("a"), ts(20), 1);
    w.put(&s("a"), ts(10), 2);
    w.put(&s("a"), ts(20), 3);
    w.put(&s("a"), ts(10), 4);
    let got = w.fetch_range(&s("a"), ts(0), ts(100));
    assert_eq!(got, [(ts(10), 2), (ts(10), 4), (ts(20), 1), (ts(20), 3)]);
    assert_eq!(w.fetch(&s("a"), ts(20)), Some(1));
    w.remove(&s("a"), ts(20));
    assert_eq!(w.fetch_range(&s("a"), ts(0), ts(100)), [(ts(10), 2), (ts(10), 4)]);
    assert_eq!(counts(&*w).0, 2);
}

fn fetch_range_bounds_are_inclusive(f: &Fixture) {
    let mut w = store(f, 1_000, false);
    for t in [9, 10, 11, 19, 20, 21] {
        w.put(&s("a"), ts(t), t as u64);
    }
    w.put(&s("b"), ts(15), 0);
    let got: Vec<i64> = w.fetch_range(&s("a"), ts(10), ts(20)).iter().map(|e| e.0 .0).collect();
    assert_eq!(got, [10, 11, 19, 20]);
    assert!(w.fetch_range(&s("a"), ts(20), ts(10)).is_empty());
    assert!(w.fetch_range(&s("c"), ts(0), ts(100)).is_empty());
}

fn fetch_all_orders_by_key_bytes_then_start_across_segments(f: &Fixture) {
    // Segment interval is 60 s, so these starts fall in three segments.
    let mut w = store(f, 120_000, false);
    w.put(&s("b"), ts(130_000), 1);
    w.put(&s("a"), ts(70_000), 2);
    w.put(&s("b"), ts(59_000), 3);
    w.put(&s("a"), ts(59_000), 4);
    w.put(&s("aa"), ts(50_000), 5);
    assert_eq!(counts(&*w).1, 3);
    let got = w.fetch_all(ts(0), ts(200_000));
    let expected = [
        (s("a"), ts(59_000), 4),
        (s("a"), ts(70_000), 2),
        (s("aa"), ts(50_000), 5),
        (s("b"), ts(59_000), 3),
        (s("b"), ts(130_000), 1),
    ];
    assert_eq!(got, expected);
    assert_eq!(w.fetch_all(ts(59_000), ts(70_000)).len(), 3);
    assert!(w.fetch_all(ts(1), ts(0)).is_empty());
}

fn expiry_boundary_is_start_at_observed_minus_retention(f: &Fixture) {
    let mut w = store(f, 1_000, false);
    w.put(&s("a"), ts(999), 1);
    w.put(&s("a"), ts(1_000), 2);
    w.put(&s("a"), ts(2_000), 3);
    // observed 2_000: 1_000 = observed - retention is expired, 1_001 would be live.
    assert_eq!(w.fetch(&s("a"), ts(1_000)), None);
    assert_eq!(w.fetch_range(&s("a"), ts(0), ts(3_000)), [(ts(2_000), 3)]);
    assert_eq!(w.fetch_all(ts(0), ts(3_000)), [(s("a"), ts(2_000), 3)]);
    w.put(&s("a"), ts(1_000), 4);
    w.put(&s("a"), ts(1_001), 5);
    assert_eq!(w.fetch_range(&s("a"), ts(0), ts(3_000)), [(ts(1_001), 5), (ts(2_000), 3)]);
    assert_eq!(window_stats(&*w).2, 2_000);
}

fn zero_retention_keeps_nothing(f: &Fixture) {
    let mut w = store(f, 0, false);
    w.put(&s("a"), ts(5), 1);
    assert_eq!(w.fetch(&s("a"), ts(5)), None);
    assert_eq!(counts(&*w).0, 0);
}

fn expired_segments_are_dropped(f: &Fixture) {
    // retention 120 s -> segments of 60 s.
    let mut w = store(f, 120_000, false);
    for t in (0..180_000).step_by(10_000) {
        w.put(&s("a"), ts(t), 0);
        w.put(&s("b"), ts(t), 0);
    }
    assert_eq!(counts(&*w), (36, 3));
    // observed 239_999: min live start 120_000, so segments 0 and 1 go.
    w.put(&s("a"), ts(239_999), 0);
    assert_eq!(counts(&*w), (13, 2));
    // observed 240_000: min live 120_001, segment 2 still holds a live start.
    w.put(&s("a"), ts(240_000), 0);
    assert_eq!(counts(&*w), (14, 3));
    // But its entry at 120_000 is expired and no longer fetched.
    assert_eq!(w.fetch(&s("a"), ts(120_000)), None);
    assert_eq!(w.fetch(&s("a"), ts(130_000)), Some(0));
}

fn remove_frees_segments(f: &Fixture) {
    let mut w = store(f, 1_000_000, false);
    w.put(&s("a"), ts(0), 1);
    w.put(&s("a"), ts(500_000), 2);
    w.remove(&s("a"), ts(0));
    w.remove(&s("a"), ts(1)); // absent: no-op
    w.remove(&s("z"), ts(500_000)); // absent: no-op
    assert_eq!(counts(&*w).0, 1);
    assert_eq!(w.fetch_all(ts(0), ts(1_000_000)), [(s("a"), ts(500_000), 2)]);
    if f.frees_empty_segments() {
        assert_eq!(counts(&*w).1, 1);
    }
}

fn factory_builds_a_window_store(f: &Fixture) {
    let mut w = f.window::<String, u64>("f", utf8(), MIN, Duration::from_secs(10), true);
    w.put(&s("a"), ts(1), 1);
    w.put(&s("a"), ts(1), 1);
    assert_eq!(w.fetch_range(&s("a"), ts(0), ts(1)).len(), 2);
    assert_eq!(w.retention_ms(), 60_000);
    let (size, dups) = match f.backend {
        StoreBackend::InMemory => {
            let inner = w.as_any().downcast_ref::<InMemoryWindowStore<String, u64>>().unwrap();
            (inner.window_size_ms(), inner.retains_duplicates())
        }
        #[cfg(feature = "rocksdb")]
        _ => {
            let inner = w.as_any().downcast_ref::<RocksDbWindowStore<String, u64>>().unwrap();
            (inner.window_size_ms(), inner.retains_duplicates())
        }
    };
    assert_eq!((size, dups), (10_000, true));
}

#[derive(Clone, Debug)]
enum Op {
    Put(String, i64, u64),
    Remove(String, i64),
    Fetch(String, i64),
    FetchRange(String, i64, i64),
    FetchAll(i64, i64),
    /// A commit: what follows reads committed entries, not only pending writes.
    Commit,
}

fn key() -> impl Strategy<Value = String> {
    // With a zero byte, so that keys of RocksDB stores need their escaping to sort right.
    "[ab\\x00]{1,2}"
}

fn time() -> impl Strategy<Value = i64> {
    // Coarse steps so that equal starts and exact expiry boundaries happen often.
    (0i64..40).prop_map(|t| t * 10_000)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (key(), time(), any::<u64>()).prop_map(|(k, t, v)| Op::Put(k, t, v)),
        1 => (key(), time()).prop_map(|(k, t)| Op::Remove(k, t)),
        1 => (key(), time()).prop_map(|(k, t)| Op::Fetch(k, t)),
        1 => (key(), time(), time()).prop_map(|(k, a, b)| Op::FetchRange(k, a, b)),
        1 => (time(), time()).prop_map(|(a, b)| Op::FetchAll(a, b)),
        1 => Just(Op::Commit),
    ]
}

fn retention() -> impl Strategy<Value = u64> {
    prop_oneof![Just(50_000u64), Just(120_000), Just(200_000)]
}

proptest! {
    #[test]
    fn in_memory_matches_a_reference_model(
        dups in any::<bool>(),
        retention in retention(),
        ops in prop::collection::vec(op(), 0..100),
    ) {
        check_model(&Fixture::new(StoreBackend::InMemory), dups, retention, ops)?;
    }
}

proptest! {
    // Each case opens a database and creates a column family per segment: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    #[cfg(feature = "rocksdb")]
    fn rocksdb_matches_a_reference_model(
        dups in any::<bool>(),
        retention in retention(),
        ops in prop::collection::vec(op(), 0..100),
    ) {
        check_model(&Fixture::new(StoreBackend::RocksDb), dups, retention, ops)?;
    }
}

fn check_model(f: &Fixture, dups: bool, retention: u64, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut w = store(f, retention, dups);
    let retention = retention as i64;
    // (key, start, value) in insertion order.
    let mut model: Vec<(String, i64, u64)> = Vec::new();
    let mut observed = i64::MIN;
    let live = |observed: i64, t: i64| observed == i64::MIN || t > observed - retention;
    for op in ops {
        match op {
            Op::Put(k, t, v) => {
                w.put(&k, ts(t), v);
                observed = observed.max(t);
                if live(observed, t) {
                    if !dups {
                        model.retain(|(mk, mt, _)| !(*mk == k && *mt == t));
                    }
                    model.push((k, t, v));
                }
            }
            Op::Remove(k, t) => {
                w.remove(&k, ts(t));
                model.retain(|(mk, mt, _)| !(*mk == k && *mt == t));
            }
            Op::Fetch(k, t) => {
                let expected =
                    model.iter().find(|(mk, mt, _)| *mk == k && *mt == t && live(observed, *mt)).map(|e| e.2);
                prop_assert_eq!(w.fetch(&k, ts(t)), expected);
            }
            Op::FetchRange(k, from, to) => {
                let mut expected: Vec<_> = model
                    .iter()
                    .filter(|(mk, mt, _)| *mk == k && from <= *mt && *mt <= to && live(observed, *mt))
                    .map(|(_, t, v)| (ts(*t), *v))
                    .collect();
                expected.sort_by_key(|e| e.0); // stable: insertion order within a start
                prop_assert_eq!(w.fetch_range(&k, ts(from), ts(to)), expected);
            }
            Op::FetchAll(from, to) => {
                let mut expected: Vec<_> = model
                    .iter()
                    .filter(|(_, mt, _)| from <= *mt && *mt <= to && live(observed, *mt))
                    .map(|(k, t, v)| (k.clone(), ts(*t), *v))
                    .collect();
                expected.sort_by(|a, b| (a.0.as_bytes(), a.1).cmp(&(b.0.as_bytes(), b.1)));
                prop_assert_eq!(w.fetch_all(ts(from), ts(to)), expected);
            }
            Op::Commit => w.commit(None).map_err(|e| TestCaseError::fail(e.to_string()))?,
        }
        // Dropped segments hold only expired entries; live ones are all still held.
        let live_count = model.iter().filter(|e| live(observed, e.1)).count();
        prop_assert!(counts(&*w).0 >= live_count);
    }
    Ok(())
}
