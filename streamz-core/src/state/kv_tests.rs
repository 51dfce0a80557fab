//! Key-value stores of every backend: the same tests, the same reference model.

use proptest::prelude::*;

use super::test_backends::{on_every_backend, Fixture};
use super::test_serdes::{s, u64_be, utf8, NullableUtf8};
#[cfg(feature = "rocksdb")]
use super::RocksDbKeyValueStore;
use super::{InMemoryKeyValueStore, KeyValueStore, StoreBackend};

on_every_backend!(
    get_put_delete,
    all_is_in_key_byte_order,
    byte_order_differs_from_numeric_order_of_the_type,
    range_is_inclusive_on_both_ends,
    range_with_from_after_to_is_empty,
    range_bounds_need_not_be_present,
    put_keeps_the_store_usable_while_iterating_twice,
    null_values_are_entries,
    store_is_send_and_usable_as_trait_object,
);

fn store(f: &Fixture) -> Box<dyn KeyValueStore<String, u64>> {
    f.kv("kv", utf8())
}

fn keys(it: impl Iterator<Item = (String, u64)>) -> Vec<String> {
    it.map(|(k, _)| k).collect()
}

fn get_put_delete(f: &Fixture) {
    let mut kv = store(f);
    assert_eq!(kv.get(&s("a")), None);
    kv.put(&s("a"), 1);
    kv.put(&s("a"), 2);
    assert_eq!(kv.get(&s("a")), Some(2));
    if f.backend == StoreBackend::InMemory {
        assert_eq!(kv.approximate_len(), 1);
    }
    assert_eq!(kv.delete(&s("a")), Some(2));
    assert_eq!(kv.delete(&s("a")), None);
    assert_eq!(kv.get(&s("a")), None);
    if f.backend == StoreBackend::InMemory {
        assert_eq!(kv.approximate_len(), 0);
    }
    assert_eq!(kv.name(), "kv");
}

fn all_is_in_key_byte_order(f: &Fixture) {
    let mut kv = store(f);
    for k in ["b", "aa", "B", "a", "", "a\0", "\u{ff}"] {
        kv.put(&s(k), 0);
    }
    // Byte order, not length or case-insensitive order.
    assert_eq!(keys(kv.all()), ["", "B", "a", "a\0", "aa", "b", "\u{ff}"]);
}

fn byte_order_differs_from_numeric_order_of_the_type(f: &Fixture) {
    // Little-endian encoding: 256 = [0, 1, ..] sorts before 1 = [1, 0, ..].
    struct Le;
    impl crate::serdes::Serde<u64> for Le {
        fn name(&self) -> &'static str {
            "le"
        }
        fn serialize(&self, v: &u64, out: &mut Vec<u8>) -> Result<bool, crate::error::SerdeError> {
            out.extend_from_slice(&v.to_le_bytes());
            Ok(true)
        }
        fn deserialize(&self, b: Option<&[u8]>) -> Result<u64, crate::error::SerdeError> {
            Ok(u64::from_le_bytes(b.unwrap_or_default().try_into().expect("8 bytes")))
        }
    }
    let mut kv = f.kv::<u64, ()>("le", std::sync::Arc::new(Le));
    kv.put(&1, ());
    kv.put(&256, ());
    assert_eq!(kv.all().map(|(k, _)| k).collect::<Vec<_>>(), [256, 1]);
}

fn range_is_inclusive_on_both_ends(f: &Fixture) {
    let mut kv = f.kv::<u64, u64>("n", u64_be());
    for k in 0..10 {
        kv.put(&k, k * 10);
    }
    let got: Vec<_> = kv.range(&3, &6).collect();
    assert_eq!(got, [(3, 30), (4, 40), (5, 50), (6, 60)]);
    assert_eq!(kv.range(&6, &6).count(), 1);
    assert_eq!(kv.range(&20, &30).count(), 0);
}

fn range_with_from_after_to_is_empty(f: &Fixture) {
    let mut kv = store(f);
    kv.put(&s("a"), 1);
    kv.put(&s("b"), 2);
    assert_eq!(kv.range(&s("b"), &s("a")).count(), 0);
}

fn range_bounds_need_not_be_present(f: &Fixture) {
    let mut kv = store(f);
    for k in ["a", "ab", "b", "b\0", "ba", "c"] {
        kv.put(&s(k), 0);
    }
    assert_eq!(keys(kv.range(&s("aa"), &s("b"))), ["ab", "b"]);
    assert_eq!(keys(kv.range(&s("b"), &s("b\0"))), ["b", "b\0"]);
}

fn put_keeps_the_store_usable_while_iterating_twice(f: &Fixture) {
    let mut kv = store(f);
    kv.put(&s("a"), 1);
    kv.put(&s("b"), 2);
    // Two iterators alive at once: the scratch buffer is not held by them.
    let r1 = kv.range(&s("a"), &s("b"));
    let r2 = kv.range(&s("a"), &s("a"));
    assert_eq!(r1.count() + r2.count(), 3);
    assert_eq!(kv.get(&s("b")), Some(2));
}

#[test]
#[should_panic(expected = "state store `nullable` got a null key")]
fn null_key_panics_in_memory() {
    let mut kv = InMemoryKeyValueStore::<Option<String>, u64>::new("nullable", std::sync::Arc::new(NullableUtf8));
    kv.put(&None, 1);
}

#[test]
#[cfg(feature = "rocksdb")]
#[should_panic(expected = "state store `nullable` got a null key")]
fn null_key_panics_in_rocksdb() {
    let f = Fixture::new(StoreBackend::RocksDb);
    let mut kv = f.kv::<Option<String>, u64>("nullable", std::sync::Arc::new(NullableUtf8));
    kv.put(&None, 1);
}

fn null_values_are_entries(f: &Fixture) {
    let mut kv = f.kv::<String, Option<String>>("nulls", utf8());
    kv.put(&s("a"), None);
    kv.put(&s("b"), Some(s("")));
    assert_eq!(kv.get(&s("a")), Some(None));
    assert_eq!(kv.get(&s("b")), Some(Some(s(""))));
    assert_eq!(kv.all().collect::<Vec<_>>(), [(s("a"), None), (s("b"), Some(s("")))]);
    assert_eq!(kv.delete(&s("a")), Some(None));
    assert_eq!(kv.get(&s("a")), None);
}

fn store_is_send_and_usable_as_trait_object(f: &Fixture) {
    fn assert_send<T: Send>(_: &T) {}
    let kv = store(f);
    assert_send(&kv);
    match f.backend {
        StoreBackend::InMemory => {
            assert!(kv.as_any().downcast_ref::<InMemoryKeyValueStore<String, u64>>().is_some());
            assert!(format!("{kv:?}").contains("InMemoryKeyValueStore"));
        }
        #[cfg(feature = "rocksdb")]
        _ => {
            assert!(kv.as_any().downcast_ref::<RocksDbKeyValueStore<String, u64>>().is_some());
            assert!(format!("{kv:?}").contains("RocksDbKeyValueStore"));
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Put(String, u64),
    Delete(String),
    Get(String),
    Range(String, String),
    All,
}

fn key() -> impl Strategy<Value = String> {
    "[ab]{0,3}"
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (key(), any::<u64>()).prop_map(|(k, v)| Op::Put(k, v)),
        1 => key().prop_map(Op::Delete),
        1 => key().prop_map(Op::Get),
        1 => (key(), key()).prop_map(|(a, b)| Op::Range(a, b)),
        1 => Just(Op::All),
    ]
}

proptest! {
    #[test]
    fn in_memory_matches_a_reference_model(ops in prop::collection::vec(op(), 0..80)) {
        check_model(&Fixture::new(StoreBackend::InMemory), ops)?;
    }
}

proptest! {
    // Each case opens a database and creates a column family per segment: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    #[cfg(feature = "rocksdb")]
    fn rocksdb_matches_a_reference_model(ops in prop::collection::vec(op(), 0..80)) {
        check_model(&Fixture::new(StoreBackend::RocksDb), ops)?;
    }
}

fn check_model(f: &Fixture, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut kv = store(f);
    let mut model: Vec<(String, u64)> = Vec::new();
    for op in ops {
        match op {
            Op::Put(k, v) => {
                kv.put(&k, v);
                model.retain(|(mk, _)| *mk != k);
                model.push((k, v));
            }
            Op::Delete(k) => {
                let expected = model.iter().position(|(mk, _)| *mk == k).map(|i| model.remove(i).1);
                prop_assert_eq!(kv.delete(&k), expected);
            }
            Op::Get(k) => {
                let expected = model.iter().find(|(mk, _)| *mk == k).map(|(_, v)| *v);
                prop_assert_eq!(kv.get(&k), expected);
            }
            Op::Range(a, b) => {
                let mut expected: Vec<_> = model
                    .iter()
                    .filter(|(k, _)| a.as_bytes() <= k.as_bytes() && k.as_bytes() <= b.as_bytes())
                    .cloned()
                    .collect();
                expected.sort();
                prop_assert_eq!(kv.range(&a, &b).collect::<Vec<_>>(), expected);
            }
            Op::All => {
                let mut expected = model.clone();
                expected.sort();
                prop_assert_eq!(kv.all().collect::<Vec<_>>(), expected);
            }
        }
        if f.backend == StoreBackend::InMemory {
            prop_assert_eq!(kv.approximate_len(), model.len());
        }
    }
    Ok(())
}
