//! The writes of a RocksDB store since its last commit, kept out of RocksDB until the commit.
//!
//! A store puts and deletes into a [`Pending`] overlay; reads look at the overlay first and
//! iterations merge it with RocksDB's. At commit, the overlay goes into one write batch
//! together with the store's checkpoint, so what RocksDB holds (and whatever of it reaches
//! disk when memtables are flushed, at any time) is always the state of one commit with the
//! changelog offset it corresponds to. A crash loses at most the writes of the last
//! commits' memtables, never mixes in uncommitted ones.

use std::cmp::Ordering;
use std::collections::btree_map;
use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::Bound;

/// Uncommitted writes by key bytes: `Some(value)` for a put, `None` for a delete.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
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
            None => {
                self.writes.insert(key.to_vec(), Some(value.to_vec()));
            }
        }
    }

    pub(crate) fn delete(&mut self, key: &[u8]) {
        match self.writes.get_mut(key) {
            Some(slot) => *slot = None,
            None => {
                self.writes.insert(key.to_vec(), None);
            }
        }
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

    /// Every write, in key order, leaving the overlay empty.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = (Vec<u8>, Option<Vec<u8>>)> {
        std::mem::take(&mut self.writes).into_iter()
    }

    pub(crate) fn clear(&mut self) {
        self.writes.clear();
    }

    /// The writes with `lower <= key < upper` (an empty bound is no bound).
    pub(crate) fn range<'a>(&'a self, lower: &[u8], upper: &[u8]) -> btree_map::Range<'a, Vec<u8>, Option<Vec<u8>>> {
        let low = match lower.is_empty() {
            true => Bound::Unbounded,
            false => Bound::Included(lower.to_vec()),
        };
        let high = match upper.is_empty() {
            true => Bound::Unbounded,
            false => Bound::Excluded(upper.to_vec()),
        };
        if let (Bound::Included(l), Bound::Excluded(h)) = (&low, &high) {
            if l >= h {
                return self.writes.range(l.clone()..l.clone());
            }
        }
        self.writes.range((low, high))
    }
}

/// Merges committed entries (in key order) with the overlay's writes of the same range: an
/// overlay put replaces or adds an entry, an overlay delete hides one.
pub(crate) struct Merged<'a, I: Iterator<Item = (Box<[u8]>, Box<[u8]>)>> {
    committed: Peekable<I>,
    pending: Peekable<btree_map::Range<'a, Vec<u8>, Option<Vec<u8>>>>,
}

impl<'a, I: Iterator<Item = (Box<[u8]>, Box<[u8]>)>> Merged<'a, I> {
    pub(crate) fn new(committed: I, pending: btree_map::Range<'a, Vec<u8>, Option<Vec<u8>>>) -> Self {
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
                (Some((c, _)), Some((p, _))) => (**c).cmp(p.as_slice()),
            };
            if order == Ordering::Less {
                return self.committed.next();
            }
            if order == Ordering::Equal {
                self.committed.next();
            }
            let (key, value) = self.pending.next().expect("peeked");
            if let Some(value) = value {
                return Some((key.clone().into_boxed_slice(), value.clone().into_boxed_slice()));
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
}
