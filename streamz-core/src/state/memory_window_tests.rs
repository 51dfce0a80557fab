use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::state::test_serdes::{s, utf8};

const MIN: Duration = Duration::from_secs(60);

fn store(retention_ms: u64, dups: bool) -> InMemoryWindowStore<String, u64> {
    InMemoryWindowStore::new("w", utf8(), Duration::from_millis(retention_ms), MIN, dups)
}

fn ts(ms: i64) -> Timestamp {
    Timestamp(ms)
}

#[test]
fn put_replaces_without_duplicates() {
    let mut w = store(1_000, false);
    w.put(&s("a"), ts(10), 1);
    w.put(&s("a"), ts(10), 2);
    w.put(&s("a"), ts(20), 3);
    assert_eq!(w.fetch(&s("a"), ts(10)), Some(2));
    assert_eq!(w.fetch_range(&s("a"), ts(0), ts(100)), [(ts(10), 2), (ts(20), 3)]);
    assert_eq!(w.len(), 2);
}

#[test]
fn duplicates_are_kept_in_insertion_order() {
    let mut w = store(1_000, true);
    w.put(&s("a"), ts(20), 1);
    w.put(&s("a"), ts(10), 2);
    w.put(&s("a"), ts(20), 3);
    w.put(&s("a"), ts(10), 4);
    let got = w.fetch_range(&s("a"), ts(0), ts(100));
    assert_eq!(got, [(ts(10), 2), (ts(10), 4), (ts(20), 1), (ts(20), 3)]);
    assert_eq!(w.fetch(&s("a"), ts(20)), Some(1));
    w.remove(&s("a"), ts(20));
    assert_eq!(w.fetch_range(&s("a"), ts(0), ts(100)), [(ts(10), 2), (ts(10), 4)]);
    assert_eq!(w.len(), 2);
}

#[test]
fn fetch_range_bounds_are_inclusive() {
    let mut w = store(1_000, false);
    for t in [9, 10, 11, 19, 20, 21] {
        w.put(&s("a"), ts(t), t as u64);
    }
    w.put(&s("b"), ts(15), 0);
    let got: Vec<i64> = w.fetch_range(&s("a"), ts(10), ts(20)).iter().map(|e| e.0 .0).collect();
    assert_eq!(got, [10, 11, 19, 20]);
    assert!(w.fetch_range(&s("a"), ts(20), ts(10)).is_empty());
    assert!(w.fetch_range(&s("c"), ts(0), ts(100)).is_empty());
}

#[test]
fn fetch_all_orders_by_key_bytes_then_start_across_segments() {
    // Segment interval is 60 s, so these starts fall in three segments.
    let mut w = store(120_000, false);
    w.put(&s("b"), ts(130_000), 1);
    w.put(&s("a"), ts(70_000), 2);
    w.put(&s("b"), ts(59_000), 3);
    w.put(&s("a"), ts(59_000), 4);
    w.put(&s("aa"), ts(50_000), 5);
    assert_eq!(w.segment_count(), 3);
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

#[test]
fn expiry_boundary_is_start_at_observed_minus_retention() {
    let mut w = store(1_000, false);
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
    assert_eq!(w.observed_stream_time(), ts(2_000));
}

#[test]
fn zero_retention_keeps_nothing() {
    let mut w = store(0, false);
    w.put(&s("a"), ts(5), 1);
    assert_eq!(w.fetch(&s("a"), ts(5)), None);
    assert!(w.is_empty());
}

#[test]
fn expired_segments_are_dropped() {
    // retention 120 s -> segments of 60 s.
    let mut w = store(120_000, false);
    for t in (0..180_000).step_by(10_000) {
        w.put(&s("a"), ts(t), 0);
        w.put(&s("b"), ts(t), 0);
    }
    assert_eq!(w.segment_count(), 3);
    assert_eq!(w.len(), 36);
    // observed 239_999: min live start 120_000, so segments 0 and 1 go.
    w.put(&s("a"), ts(239_999), 0);
    assert_eq!(w.segment_count(), 2);
    assert_eq!(w.len(), 13);
    // observed 240_000: min live 120_001, segment 2 still holds a live start.
    w.put(&s("a"), ts(240_000), 0);
    assert_eq!(w.segment_count(), 3);
    assert_eq!(w.len(), 14);
    // But its entry at 120_000 is expired and no longer fetched.
    assert_eq!(w.fetch(&s("a"), ts(120_000)), None);
    assert_eq!(w.fetch(&s("a"), ts(130_000)), Some(0));
}

#[test]
fn remove_frees_segments() {
    let mut w = store(1_000_000, false);
    w.put(&s("a"), ts(0), 1);
    w.put(&s("a"), ts(500_000), 2);
    w.remove(&s("a"), ts(0));
    w.remove(&s("a"), ts(1)); // absent: no-op
    w.remove(&s("z"), ts(500_000)); // absent: no-op
    assert_eq!(w.segment_count(), 1);
    assert_eq!(w.len(), 1);
}

#[test]
fn factory_builds_a_window_store() {
    let mut w = crate::state::window_store::<String, u64>(
        "f",
        utf8(),
        MIN,
        Duration::from_secs(10),
        true,
        crate::state::StoreBackend::InMemory,
    );
    w.put(&s("a"), ts(1), 1);
    w.put(&s("a"), ts(1), 1);
    assert_eq!(w.fetch_range(&s("a"), ts(0), ts(1)).len(), 2);
    assert_eq!(w.retention_ms(), 60_000);
    let inner = w.as_any().downcast_ref::<InMemoryWindowStore<String, u64>>().unwrap();
    assert_eq!(inner.window_size_ms(), 10_000);
    assert!(inner.retains_duplicates());
}

#[derive(Clone, Debug)]
enum Op {
    Put(String, i64, u64),
    Remove(String, i64),
    Fetch(String, i64),
    FetchRange(String, i64, i64),
    FetchAll(i64, i64),
}

fn key() -> impl Strategy<Value = String> {
    "[ab]{1,2}"
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
    ]
}

proptest! {
    #[test]
    fn matches_a_reference_model(
        dups in any::<bool>(),
        retention in prop_oneof![Just(50_000u64), Just(120_000), Just(200_000)],
        ops in prop::collection::vec(op(), 0..100),
    ) {
        let mut w = store(retention, dups);
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
                    let expected = model
                        .iter()
                        .find(|(mk, mt, _)| *mk == k && *mt == t && live(observed, *mt))
                        .map(|e| e.2);
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
            }
            // Dropped segments hold only expired entries; live ones are all still held.
            let live_count = model.iter().filter(|e| live(observed, e.1)).count();
            prop_assert!(w.len() >= live_count);
        }
    }
}
