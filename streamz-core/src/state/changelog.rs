//! The changelog buffer of a task: the changes its logged stores made since the task last sent
//! them to the changelog topics.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{RecordPart, SerdeError, StreamsError};
use crate::task::lock;
use crate::Result;

/// The changes of a task's logged stores, in the order they were made, and the first change
/// that could not be encoded (reported when the task sends the buffer).
///
/// The key and value bytes of every change sit back to back in two byte arenas. The task sends
/// and clears the buffer after each record (and after punctuations and at commits); the arenas
/// keep their capacity, so logging a change allocates nothing once they have grown to one
/// record's worth of changes.
#[derive(Debug, Default)]
pub(crate) struct ChangelogBuffer {
    topics: Vec<Arc<str>>,
    keys: Vec<u8>,
    values: Vec<u8>,
    changes: Vec<Change>,
    pub(crate) error: Option<StreamsError>,
}

/// Where one change's bytes are: its topic (an index into the buffer's topics), its key
/// (`keys[key_start..key_end]`) and its value (`values[value_start..value_end]`, none for a
/// tombstone).
#[derive(Debug)]
struct Change {
    topic: usize,
    key_start: usize,
    key_end: usize,
    value: Option<(usize, usize)>,
}

/// One change of a logged store, as the buffer holds it: key and value bytes for its changelog
/// topic (`None` is a tombstone). The partition is the task's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChangelogRecord<'a> {
    pub(crate) topic: &'a str,
    pub(crate) key: &'a [u8],
    pub(crate) value: Option<&'a [u8]>,
}

impl ChangelogBuffer {
    /// The index of `topic` among the buffer's topics, added if new.
    fn topic_index(&mut self, topic: &Arc<str>) -> usize {
        match self.topics.iter().position(|t| t == topic) {
            Some(index) => index,
            None => {
                self.topics.push(topic.clone());
                self.topics.len() - 1
            }
        }
    }

    /// Appends a change of `topic`; see [`ChangeLogger::log`]. A failed encoding leaves no bytes
    /// behind and is kept as the buffer's error unless it already has one.
    fn push<F>(&mut self, topic: usize, encode: F)
    where
        F: FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> std::result::Result<bool, (RecordPart, SerdeError)>,
    {
        let (key_start, value_start) = (self.keys.len(), self.values.len());
        match encode(&mut self.keys, &mut self.values) {
            Ok(has_value) => {
                let value = has_value.then_some((value_start, self.values.len()));
                if !has_value {
                    self.values.truncate(value_start);
                }
                self.changes.push(Change { topic, key_start, key_end: self.keys.len(), value });
            }
            Err((part, source)) => {
                self.keys.truncate(key_start);
                self.values.truncate(value_start);
                let error = StreamsError::Serialization { topic: self.topics[topic].to_string(), part, source };
                self.error.get_or_insert(error);
            }
        }
    }

    /// The changes, in the order they were made.
    pub(crate) fn records(&self) -> impl Iterator<Item = ChangelogRecord<'_>> + '_ {
        self.changes.iter().map(|c| ChangelogRecord {
            topic: &self.topics[c.topic],
            key: &self.keys[c.key_start..c.key_end],
            value: c.value.map(|(start, end)| &self.values[start..end]),
        })
    }

    /// Forgets the changes (not the error), keeping the memory for the next ones.
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.values.clear();
        self.changes.clear();
    }
}

/// A task's changelog buffer, shared by its logged stores.
pub(crate) type SharedChangelog = Arc<Mutex<ChangelogBuffer>>;

/// How a logged store appends its changes to its task's buffer.
///
/// Clones share the buffer and the restoring flag: while a store restores from its changelog
/// the flag is set and nothing is logged.
#[derive(Clone, Debug)]
pub(crate) struct ChangeLogger {
    topic: Arc<str>,
    /// The topic's index among the buffer's topics.
    index: usize,
    buffer: SharedChangelog,
    restoring: Arc<AtomicBool>,
}

impl ChangeLogger {
    /// A logger writing to changelog `topic` through `buffer`.
    pub(crate) fn new(topic: impl Into<Arc<str>>, buffer: SharedChangelog) -> Self {
        let topic = topic.into();
        let index = lock(&buffer).topic_index(&topic);
        ChangeLogger { topic, index, buffer, restoring: Arc::new(AtomicBool::new(false)) }
    }

    /// The changelog topic.
    pub(crate) fn topic(&self) -> &Arc<str> {
        &self.topic
    }

    /// Appends a change: `encode` appends the key bytes to its first buffer and the value
    /// bytes to its second, and says whether there is a value (`false`: a tombstone).
    pub(crate) fn log<F>(&self, encode: F)
    where
        F: FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> std::result::Result<bool, (RecordPart, SerdeError)>,
    {
        if self.restoring.load(Ordering::Relaxed) {
            return;
        }
        lock(&self.buffer).push(self.index, encode);
    }

    /// Runs `apply` (a change read from the changelog) without logging what it writes.
    pub(crate) fn restoring<T>(&self, apply: impl FnOnce() -> T) -> T {
        self.restoring.store(true, Ordering::Relaxed);
        let out = apply();
        self.restoring.store(false, Ordering::Relaxed);
        out
    }
}

/// A decoding failure of a changelog record of `topic`, as a state error of `store`.
pub(crate) fn restore_error(store: &str, topic: &str, part: RecordPart, e: SerdeError) -> StreamsError {
    StreamsError::State {
        store: store.to_string(),
        message: format!("cannot decode the {part} of a record of changelog `{topic}`: {e}"),
    }
}

/// Splits a changelog key into the store key's bytes and a fixed-size suffix of `N` bytes.
pub(crate) fn split_suffix<const N: usize>(key: &[u8]) -> std::result::Result<(&[u8], [u8; N]), SerdeError> {
    let Some(cut) = key.len().checked_sub(N) else {
        return Err(SerdeError::new("changelog-key", format!("expected at least {N} bytes, got {}", key.len())));
    };
    let (head, tail) = key.split_at(cut);
    let tail: [u8; N] = tail.try_into().map_err(|_| SerdeError::new("changelog-key", "bad suffix"))?;
    Ok((head, tail))
}

/// A big-endian `i64` at `at` of `bytes` (whose length the caller checked).
pub(crate) fn be_i64(bytes: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    i64::from_be_bytes(b)
}

/// Decodes with `decode`, mapping a codec error to a restore error.
pub(crate) fn decode<T>(
    store: &str,
    topic: &str,
    part: RecordPart,
    decode: impl FnOnce() -> std::result::Result<T, SerdeError>,
) -> Result<T> {
    decode().map_err(|e| restore_error(store, topic, part, e))
}

/// The changes of `buffer` as owned `(topic, key, value)` triples, for tests.
#[cfg(test)]
pub(crate) fn owned(buffer: &SharedChangelog) -> Vec<(String, Vec<u8>, Option<Vec<u8>>)> {
    lock(buffer).records().map(|r| (r.topic.to_string(), r.key.to_vec(), r.value.map(<[u8]>::to_vec))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Owned = (String, Vec<u8>, Option<Vec<u8>>);

    fn change(topic: &str, key: &str, value: Option<&str>) -> Owned {
        (topic.to_string(), key.as_bytes().to_vec(), value.map(|v| v.as_bytes().to_vec()))
    }

    #[test]
    fn changes_of_several_stores_keep_their_order_topics_and_tombstones() {
        let buffer = SharedChangelog::default();
        let (a, b) =
            (ChangeLogger::new("a-changelog", buffer.clone()), ChangeLogger::new("b-changelog", buffer.clone()));
        let put = |logger: &ChangeLogger, key: &'static str, value: &'static str| {
            logger.log(|k, v| {
                k.extend_from_slice(key.as_bytes());
                v.extend_from_slice(value.as_bytes());
                Ok(true)
            })
        };
        put(&a, "k1", "v1");
        put(&b, "k2", "");
        // A tombstone's encoder may have written value bytes: they are not part of the change.
        a.log(|k, v| {
            k.extend_from_slice(b"k3");
            v.extend_from_slice(b"ignored");
            Ok(false)
        });
        put(&a, "k4", "v4");
        let want = vec![
            change("a-changelog", "k1", Some("v1")),
            change("b-changelog", "k2", Some("")),
            change("a-changelog", "k3", None),
            change("a-changelog", "k4", Some("v4")),
        ];
        assert_eq!(owned(&buffer), want);
        assert_eq!(lock(&buffer).values, b"v1v4", "no bytes of the tombstone's value are kept");
        lock(&buffer).clear();
        assert_eq!(owned(&buffer), vec![]);
        put(&b, "k5", "v5");
        assert_eq!(owned(&buffer), vec![change("b-changelog", "k5", Some("v5"))]);
    }

    #[test]
    fn a_change_that_cannot_be_encoded_leaves_no_bytes_and_is_the_buffers_error() {
        let buffer = SharedChangelog::default();
        let logger = ChangeLogger::new("a-changelog", buffer.clone());
        let fail = |message: &'static str| {
            move |k: &mut Vec<u8>, v: &mut Vec<u8>| {
                k.extend_from_slice(b"half");
                v.extend_from_slice(b"written");
                Err((RecordPart::Value, SerdeError::new("test", message)))
            }
        };
        logger.log(fail("first"));
        logger.log(|k, v| {
            k.extend_from_slice(b"k");
            v.extend_from_slice(b"v");
            Ok(true)
        });
        logger.log(fail("second"));
        assert_eq!(owned(&buffer), vec![change("a-changelog", "k", Some("v"))]);
        let arenas = lock(&buffer);
        assert_eq!((&arenas.keys[..], &arenas.values[..]), (&b"k"[..], &b"v"[..]));
        drop(arenas);
        let error = lock(&buffer).error.take().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("a-changelog") && error.contains("first"), "{error}");
    }

    #[test]
    fn a_restoring_logger_logs_nothing() {
        let buffer = SharedChangelog::default();
        let logger = ChangeLogger::new("a-changelog", buffer.clone());
        logger.restoring(|| logger.log(|k, _| Ok(k.is_empty())));
        assert_eq!(owned(&buffer), vec![]);
    }
}
