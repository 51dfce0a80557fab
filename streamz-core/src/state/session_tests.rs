//! Session stores of every backend: the same tests, the same reference model.

use std::time::Duration;

use proptest::prelude::*;

use super::test_backends::{on_every_backend, session_stats, Fixture};
use super::test_serdes::{s, utf8};
use super::{SessionStore, StoreBackend};
use crate::time::{Timestamp, Window};

on_every_backend!(
    find_bounds_are_inclusive,
    results_are_ordered_by_end_then_start,
    put_replaces_and_remove_removes_one_session,
    session_ending_at_observed_minus_retention_is_kept,
    expired_segments_are_dropped,
    factory_builds_a_session_store,
);

fn store(f: &Fixture, retention_ms: u64) -> Box<dyn SessionStore<String, u64>> {
    f.session("s", utf8(), Duration::from_millis(retention_ms))
}

/// `(sessions, segments)`.
fn counts(ss: &dyn SessionStore<String, u64>) -> (usize, usize) {
    let (len, segments, _) = session_stats(ss);
    (len, segments)
}

fn w(start: i64, end: i64) -> Window {
    Window::new(start, end)
}

fn ts(ms: i64) -> Timestamp {
    Timestamp(ms)
}

fn find_bounds_are_inclusive(f: &Fixture) {
    let mut ss = store(f, 100_000);
    ss.put(&s("a"), w(10, 20), 1);
    // end >= earliest_end and start <= latest_start, both inclusive.
    assert_eq!(ss.find_sessions(&s("a"), ts(20), ts(10)), [(w(10, 20), 1)]);
    assert!(ss.find_sessions(&s("a"), ts(21), ts(10)).is_empty());
    assert!(ss.find_sessions(&s("a"), ts(20), ts(9)).is_empty());
    assert!(ss.find_sessions(&s("b"), ts(0), ts(100)).is_empty());
}

fn results_are_ordered_by_end_then_start(f: &Fixture) {
    let mut ss = store(f, 100_000);
    ss.put(&s("a"), w(5, 30), 1);
    ss.put(&s("a"), w(10, 20), 2);
    ss.put(&s("a"), w(0, 20), 3);
    ss.put(&s("a"), w(25, 25), 4);
    ss.put(&s("b"), w(0, 1), 5);
    let expected = [(w(0, 20), 3), (w(10, 20), 2), (w(25, 25), 4), (w(5, 30), 1)];
    assert_eq!(ss.fetch(&s("a")), expected);
    assert_eq!(ss.find_sessions(&s("a"), ts(0), ts(100)), expected);
    assert_eq!(ss.find_sessions(&s("a"), ts(21), ts(24)), [(w(5, 30), 1)]);
}

fn put_replaces_and_remove_removes_one_session(f: &Fixture) {
    let mut ss = store(f, 100_000);
    ss.put(&s("a"), w(0, 10), 1);
    ss.put(&s("a"), w(0, 10), 2);
    ss.put(&s("a"), w(5, 10), 3);
    assert_eq!(ss.fetch(&s("a")), [(w(0, 10), 2), (w(5, 10), 3)]);
    ss.remove(&s("a"), w(0, 10));
    ss.remove(&s("a"), w(0, 11)); // absent: no-op
    assert_eq!(ss.fetch(&s("a")), [(w(5, 10), 3)]);
    ss.remove(&s("a"), w(5, 10));
    assert_eq!(counts(&*ss).0, 0);
    if f.frees_empty_segments() {
        assert_eq!(counts(&*ss).1, 0);
    }
}

fn session_ending_at_observed_minus_retention_is_kept(f: &Fixture) {
    let mut ss = store(f, 1_000);
    ss.put(&s("a"), w(900, 999), 1);
    ss.put(&s("a"), w(1_000, 1_000), 2);
    ss.put(&s("b"), w(2_000, 2_000), 3);
    // observed 2_000, retention 1_000: end 1_000 is live, end 999 expired.
    assert_eq!(ss.fetch(&s("a")), [(w(1_000, 1_000), 2)]);
    assert_eq!(ss.find_sessions(&s("a"), ts(0), ts(5_000)), [(w(1_000, 1_000), 2)]);
    ss.put(&s("a"), w(0, 999), 4); // expired: ignored
    ss.put(&s("a"), w(0, 1_000), 5);
    assert_eq!(ss.fetch(&s("a")), [(w(0, 1_000), 5), (w(1_000, 1_000), 2)]);
    assert_eq!(session_stats(&*ss).2, 2_000);
}

fn expired_segments_are_dropped(f: &Fixture) {
    // retention 120 s -> segments of 60 s by session end.
    let mut ss = store(f, 120_000);
    for end in (0..180_000).step_by(10_000) {
        ss.put(&s("a"), w(end - 5, end), 0);
    }
    assert_eq!(counts(&*ss), (18, 3));
    // observed 240_000: min live end 120_000, so segments 0 and 1 go.
    ss.put(&s("a"), w(240_000, 240_000), 0);
    assert_eq!(counts(&*ss), (7, 2));
    // observed 240_001: min live end 120_001; segment 2 stays but its end 120_000 is hidden.
    ss.put(&s("a"), w(240_001, 240_001), 0);
    assert_eq!(counts(&*ss), (8, 2));
    assert_eq!(ss.fetch(&s("a")).first().map(|e| e.0), Some(w(129_995, 130_000)));
}

fn factory_builds_a_session_store(f: &Fixture) {
    let mut ss = f.session::<String, u64>("f", utf8(), Duration::from_secs(5));
    ss.put(&s("a"), w(0, 1), 1);
    assert_eq!(ss.fetch(&s("a")), [(w(0, 1), 1)]);
    assert_eq!((ss.name(), ss.retention_ms()), ("f", 5_000));
}

#[derive(Clone, Debug)]
enum Op {
    Put(String, Window, u64),
    Remove(String, Window),
    Find(String, i64, i64),
    Fetch(String),
}

fn key() -> impl Strategy<Value = String> {
    // With a zero byte, so that keys of RocksDB stores need their escaping to sort right.
    "[ab\\x00]{1,2}"
}

fn time() -> impl Strategy<Value = i64> {
    (0i64..40).prop_map(|t| t * 10_000)
}

fn window() -> impl Strategy<Value = Window> {
    (time(), prop_oneof![Just(0i64), Just(10_000), Just(30_000)])
        .prop_map(|(start, len)| Window::new(start, start + len))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (key(), window(), any::<u64>()).prop_map(|(k, w, v)| Op::Put(k, w, v)),
        1 => (key(), window()).prop_map(|(k, w)| Op::Remove(k, w)),
        2 => (key(), time(), time()).prop_map(|(k, a, b)| Op::Find(k, a, b)),
        1 => key().prop_map(Op::Fetch),
    ]
}

fn retention() -> impl Strategy<Value = u64> {
    prop_oneof![Just(50_000u64), Just(120_000), Just(200_000)]
}

proptest! {
    #[test]
    fn in_memory_matches_a_reference_model(retention in retention(), ops in prop::collection::vec(op(), 0..100)) {
        check_model(&Fixture::new(StoreBackend::InMemory), retention, ops)?;
    }
}

proptest! {
    // Each case opens a database and creates a column family per segment: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    #[cfg(feature = "rocksdb")]
    fn rocksdb_matches_a_reference_model(retention in retention(), ops in prop::collection::vec(op(), 0..100)) {
        check_model(&Fixture::new(StoreBackend::RocksDb), retention, ops)?;
    }
}

fn check_model(f: &Fixture, retention: u64, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut ss = store(f, retention);
    let retention = retention as i64;
    let mut model: Vec<(String, Window, u64)> = Vec::new();
    let mut observed = i64::MIN;
    let live = |observed: i64, w: &Window| w.end.0 >= observed.saturating_sub(retention);
    let found = |model: &[(String, Window, u64)], observed: i64, k: &str, ee: i64, ls: i64| {
        let mut out: Vec<_> = model
            .iter()
            .filter(|(mk, w, _)| mk == k && w.end.0 >= ee && w.start.0 <= ls && live(observed, w))
            .map(|(_, w, v)| (*w, *v))
            .collect();
        out.sort_by_key(|(w, _)| (w.end, w.start));
        out
    };
    for op in ops {
        match op {
            Op::Put(k, win, v) => {
                ss.put(&k, win, v);
                observed = observed.max(win.end.0);
                if live(observed, &win) {
                    model.retain(|(mk, mw, _)| !(*mk == k && *mw == win));
                    model.push((k, win, v));
                }
            }
            Op::Remove(k, win) => {
                ss.remove(&k, win);
                model.retain(|(mk, mw, _)| !(*mk == k && *mw == win));
            }
            Op::Find(k, ee, ls) => {
                let expected = found(&model, observed, &k, ee, ls);
                prop_assert_eq!(ss.find_sessions(&k, ts(ee), ts(ls)), expected);
            }
            Op::Fetch(k) => {
                let expected = found(&model, observed, &k, i64::MIN, i64::MAX);
                prop_assert_eq!(ss.fetch(&k), expected);
            }
        }
        let live_count = model.iter().filter(|e| live(observed, &e.1)).count();
        prop_assert!(counts(&*ss).0 >= live_count);
    }
    Ok(())
}
