//! The writes of a RocksDB store since its last commit, kept out of RocksDB until the commit.
//!
//! A store puts and deletes into a [`Pending`] overlay; reads look at the overlay first and
//! iterations merge it with RocksDB's. At commit, the overlay goes into one write batch
//! together with the store's checkpoint, so what RocksDB holds (and whatever of it reaches
//! disk when memtables are flushed, at any time) is always the state of one commit with the
//! changelog offset it corresponds to. A crash loses at most the writes of the last
//! commits' memtables, never mixes in uncommitted ones.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::iter::Peekable;
use std::ops::Bound;
use std::sync::Arc;

/// Uncommitted writes by key bytes: `Some(value)` for a put, `None` for a delete.
///
/// Point lookups and rewrites of a key (most of a store's traffic) go to a hash map; the
/// ordered set of the keys serves ranges and only changes when a key is written the first
/// time since the last commit. The hash is keyed per map (SipHash): keys are input data.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    writes: HashMap<Arc<[u8]>, Option<Vec<u8>>>,
    order: BTreeSet<Arc<[u8]>>,
}

/// What the overlay says about one key.
pub(crate) enum Lookup<'a> {
    /// Written since the last commit: its value.
    Put(&'a [u8]),
    /// Deleted since the last commit.
    Deleted,
    /// Not written: ask RocksDB.
    Unknown,
}

impl Pending {
    pub(crate) fn put(&mut self, key: &[u8], value: &[u8]) {
        match self.writes.get_mut(key) {
            Some(Some(old)) => {
                old.clear();
                old.extend_from_slice(value);
            }
            Some(slot) => *slot = Some(value.to_vec()),
            None => self.insert(key, Some(value.to_vec())),
        }
    }

    pub(crate) fn delete(&mut self, key: &[u8]) {
        match self.writes.get_mut(key) {
            Some(slot) => *slot = None,
            None => self.insert(key, None),
        }
    }

    fn insert(&mut self, key: &[u8], value: Option<Vec<u8>>) {
        let key: Arc<[u8]> = key.into();
        self.order.insert(key.clone());
        self.writes.insert(key, value);
    }

    pub(crate) fn get(&self, key: &[u8]) -> Lookup<'_> {
        match self.writes.get(key) {
            Some(Some(value)) => Lookup::Put(value),
            Some(None) => Lookup::Deleted,
            None => Lookup::Unknown,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.writes.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Every write (in no particular order: each key once), leaving the overlay empty.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = (Arc<[u8]>, Option<Vec<u8>>)> + '_ {
        self.order.clear();
        self.writes.drain()
    }

    pub(crate) fn clear(&mut self) {
        self.writes.clear();
        self.order.clear();
    }

    /// The writes with `lower <= key < upper` (an empty bound is no bound), in key order.
    pub(crate) fn range<'a>(&'a self, lower: &[u8], upper: &[u8]) -> Writes<'a> {
        let low = match lower.is_empty() {
            true => Bound::Unbounded,
            false => Bound::Included(lower),
        };
        let high = match upper.is_empty() {
            true => Bound::Unbounded,
            false => Bound::Excluded(upper),
        };
        let keys = match (low, high) {
            (Bound::Included(l), Bound::Excluded(h)) if l >= h => None,
            bounds => Some(self.order.range::<[u8], _>(bounds)),
        };
        Writes { keys, writes: &self.writes }
    }
}

/// The writes of a key range of a [`Pending`], in key order: `(key, Some(value))` for a put,
/// `(key, None)` for a delete.
pub(crate) struct Writes<'a> {
    keys: Option<std::collections::btree_set::Range<'a, Arc<[u8]>>>,
    writes: &'a HashMap<Arc<[u8]>, Option<Vec<u8>>>,
}

impl<'a> Iterator for Writes<'a> {
    type Item = (&'a [u8], Option<&'a [u8]>);

    fn next(&mut self) -> Option<Self::Item> {
        let key = self.keys.as_mut()?.next()?;
        let value = self.writes.get(key).expect("every ordered key has a write");
        Some((key, value.as_deref()))
    }
}

/// Merges committed entries (in key order) with the overlay's writes of the same range: an
/// overlay put replaces or adds an entry, an overlay delete hides one.
pub(crate) struct Merged<'a, I: Iterator<Item = (Box<[u8]>, Box<[u8]>)>> {
    committed: Peekable<I>,
    pending: Peekable<Writes<'a>>,
}

impl<'a, I: Iterator<Item = (Box<[u8]>, Box<[u8]>)>> Merged<'a, I> {
    pub(crate) fn new(committed: I, pending: Writes<'a>) -> Self {
        Merged { committed: committed.peekable(), pending: pending.peekable() }
    }
}

impl<I: Iterator<Item = (Box<[u8]>, Box<[u8]>)>> Iterator for Merged<'_, I> {
    type Item = (Box<[u8]>, Box<[u8]>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let order = match (self.committed.peek(), self.pending.peek()) {
                (None, None) => return None,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((c, _)), Some((p, _))) => (**c).cmp(*p),
            };
            if order == Ordering::Less {
                return self.committed.next();
            }
            if order == Ordering::Equal {
                self.committed.next();
            }
            let (key, value) = self.pending.next().expect("peeked");
            if let Some(value) = value {
                return Some((key.into(), value.into()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(entries: &[(&str, &str)]) -> Vec<(Box<[u8]>, Box<[u8]>)> {
        entries.iter().map(|(k, v)| (k.as_bytes().into(), v.as_bytes().into())).collect()
    }

    fn merged(committed: Vec<(Box<[u8]>, Box<[u8]>)>, pending: &Pending, lower: &str, upper: &str) -> Vec<String> {
        Merged::new(committed.into_iter(), pending.range(lower.as_bytes(), upper.as_bytes()))
            .map(|(k, v)| format!("{}={}", String::from_utf8_lossy(&k), String::from_utf8_lossy(&v)))
            .collect()
    }

    #[test]
    fn the_overlay_replaces_adds_and_hides_committed_entries() {
        let mut pending = Pending::default();
        pending.put(b"b", b"2'");
        pending.put(b"c", b"3");
        pending.delete(b"d");
        pending.put(b"e", b"x");
        pending.delete(b"e");
        let base = committed(&[("a", "1"), ("b", "2"), ("d", "4"), ("f", "6")]);
        assert_eq!(merged(base.clone(), &pending, "", ""), ["a=1", "b=2'", "c=3", "f=6"]);
        let within = committed(&[("b", "2")]);
        assert_eq!(merged(within, &pending, "b", "d"), ["b=2'", "c=3"]);
        assert!(matches!(pending.get(b"b"), Lookup::Put(b"2'")));
        assert!(matches!(pending.get(b"e"), Lookup::Deleted));
        assert!(matches!(pending.get(b"a"), Lookup::Unknown));
    }

    #[test]
    fn an_empty_or_inverted_range_has_no_writes() {
        let mut pending = Pending::default();
        pending.put(b"b", b"1");
        assert_eq!(pending.range(b"c", b"a").count(), 0);
        assert_eq!(pending.range(b"b", b"b").count(), 0);
        assert_eq!(pending.range(b"b", b"c").count(), 1);
        assert_eq!(pending.drain().count(), 1);
        assert!(pending.is_empty());
    }

    #[test]
    fn lookups_and_ranges_agree_with_an_ordered_model_of_the_writes() {
        let mut pending = Pending::default();
        let mut model: std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>> = Default::default();
        let mut x: u64 = 7;
        for i in 0..5_000u32 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let key = format!("k{:03}", (x >> 33) % 500).into_bytes();
            if (x >> 20).is_multiple_of(4) {
                pending.delete(&key);
                model.insert(key, None);
            } else {
                let value = i.to_be_bytes().to_vec();
                pending.put(&key, &value);
                model.insert(key, Some(value));
            }
        }
        assert_eq!(pending.len(), model.len());
        for (key, value) in &model {
            match (pending.get(key), value) {
                (Lookup::Put(got), Some(want)) => assert_eq!(got, &want[..]),
                (Lookup::Deleted, None) => {}
                _ => panic!("key {:?} disagrees with the model", String::from_utf8_lossy(key)),
            }
        }
        for (lower, upper) in [("", ""), ("k100", "k200"), ("k250", ""), ("", "k050"), ("k3", "k4")] {
            let got: Vec<(Vec<u8>, Option<Vec<u8>>)> = pending
                .range(lower.as_bytes(), upper.as_bytes())
                .map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec)))
                .collect();
            let want: Vec<(Vec<u8>, Option<Vec<u8>>)> = model
                .iter()
                .filter(|(k, _)| {
                    k.as_slice() >= lower.as_bytes() && (upper.is_empty() || k.as_slice() < upper.as_bytes())
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert_eq!(got, want, "range {lower:?}..{upper:?}");
        }
        let mut drained: Vec<Vec<u8>> = pending.drain().map(|(k, _)| k.to_vec()).collect();
        drained.sort();
        assert_eq!(drained, model.keys().cloned().collect::<Vec<_>>());
        assert!(pending.is_empty() && pending.range(b"", b"").next().is_none());
    }
}
