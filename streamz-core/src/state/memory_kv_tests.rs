use proptest::prelude::*;

use super::*;
use crate::state::key_value_store;
use crate::state::test_serdes::{s, u64_be, utf8, NullableUtf8};

fn store() -> InMemoryKeyValueStore<String, u64> {
    InMemoryKeyValueStore::new("kv", utf8())
}

fn keys(it: impl Iterator<Item = (String, u64)>) -> Vec<String> {
    it.map(|(k, _)| k).collect()
}

#[test]
fn get_put_delete() {
    let mut kv = store();
    assert_eq!(kv.get(&s("a")), None);
    kv.put(&s("a"), 1);
    kv.put(&s("a"), 2);
    assert_eq!(kv.get(&s("a")), Some(2));
    assert_eq!(kv.approximate_len(), 1);
    assert_eq!(kv.delete(&s("a")), Some(2));
    assert_eq!(kv.delete(&s("a")), None);
    assert_eq!(kv.approximate_len(), 0);
    assert_eq!(kv.name(), "kv");
}

#[test]
fn all_is_in_key_byte_order() {
    let mut kv = store();
    for k in ["b", "aa", "B", "a", ""] {
        kv.put(&s(k), 0);
    }
    // Byte order, not length or case-insensitive order.
    assert_eq!(keys(kv.all()), ["", "B", "a", "aa", "b"]);
}

#[test]
fn byte_order_differs_from_numeric_order_of_the_type() {
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
        fn deserialize(&self, _: Option<&[u8]>) -> Result<u64, crate::error::SerdeError> {
            unimplemented!()
        }
    }
    let mut kv = InMemoryKeyValueStore::<u64, ()>::new("le", std::sync::Arc::new(Le));
    kv.put(&1, ());
    kv.put(&256, ());
    assert_eq!(kv.all().map(|(k, _)| k).collect::<Vec<_>>(), [256, 1]);
}

#[test]
fn range_is_inclusive_on_both_ends() {
    let mut kv = InMemoryKeyValueStore::<u64, u64>::new("n", u64_be());
    for k in 0..10 {
        kv.put(&k, k * 10);
    }
    let got: Vec<_> = kv.range(&3, &6).collect();
    assert_eq!(got, [(3, 30), (4, 40), (5, 50), (6, 60)]);
    assert_eq!(kv.range(&6, &6).count(), 1);
    assert_eq!(kv.range(&20, &30).count(), 0);
}

#[test]
fn range_with_from_after_to_is_empty() {
    let mut kv = store();
    kv.put(&s("a"), 1);
    kv.put(&s("b"), 2);
    assert_eq!(kv.range(&s("b"), &s("a")).count(), 0);
}

#[test]
fn range_bounds_need_not_be_present() {
    let mut kv = store();
    for k in ["a", "ab", "b", "ba", "c"] {
        kv.put(&s(k), 0);
    }
    assert_eq!(keys(kv.range(&s("aa"), &s("b"))), ["ab", "b"]);
}

#[test]
fn put_keeps_the_store_usable_while_iterating_twice() {
    let mut kv = store();
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
fn null_key_panics() {
    let mut kv = InMemoryKeyValueStore::<Option<String>, u64>::new("nullable", std::sync::Arc::new(NullableUtf8));
    kv.put(&None, 1);
}

#[test]
fn store_is_send_and_usable_as_trait_object() {
    fn assert_send<T: Send>(_: &T) {}
    let kv = key_value_store::<String, u64>("t", utf8(), crate::state::StoreBackend::InMemory);
    assert_send(&kv);
    assert!(kv.as_any().downcast_ref::<InMemoryKeyValueStore<String, u64>>().is_some());
    assert!(format!("{kv:?}").contains("InMemoryKeyValueStore"));
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
    fn matches_a_reference_model(ops in prop::collection::vec(op(), 0..80)) {
        let mut kv = store();
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
            prop_assert_eq!(kv.approximate_len(), model.len());
        }
    }
}
