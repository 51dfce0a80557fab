//! The changelog buffer of a task: the changes its logged stores made since the task last sent
//! them to the changelog topics.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{RecordPart, SerdeError, StreamsError};
use crate::task::lock;
use crate::Result;

/// One change of a logged store: key and value bytes for its changelog topic (`None` is a
/// tombstone). The partition is the task's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChangelogRecord {
    pub(crate) topic: Arc<str>,
    pub(crate) key: Vec<u8>,
    pub(crate) value: Option<Vec<u8>>,
}

/// The changes of a task's logged stores, in the order they were made, and the first change
/// that could not be encoded (reported when the task sends the buffer).
#[derive(Debug, Default)]
pub(crate) struct ChangelogBuffer {
    pub(crate) records: Vec<ChangelogRecord>,
    pub(crate) error: Option<StreamsError>,
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
    buffer: SharedChangelog,
    restoring: Arc<AtomicBool>,
}

impl ChangeLogger {
    /// A logger writing to changelog `topic` through `buffer`.
    pub(crate) fn new(topic: impl Into<Arc<str>>, buffer: SharedChangelog) -> Self {
        ChangeLogger { topic: topic.into(), buffer, restoring: Arc::new(AtomicBool::new(false)) }
    }

    /// The changelog topic.
    pub(crate) fn topic(&self) -> &Arc<str> {
        &self.topic
    }

    /// Appends a change: `encode` writes the key bytes into its first buffer and the value
    /// bytes into its second, and says whether there is a value (`false`: a tombstone).
    pub(crate) fn log<F>(&self, encode: F)
    where
        F: FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> std::result::Result<bool, (RecordPart, SerdeError)>,
    {
        if self.restoring.load(Ordering::Relaxed) {
            return;
        }
        let (mut key, mut value) = (Vec::new(), Vec::new());
        let encoded = encode(&mut key, &mut value);
        let mut buffer = lock(&self.buffer);
        match encoded {
            Ok(has_value) => {
                let value = has_value.then_some(value);
                buffer.records.push(ChangelogRecord { topic: self.topic.clone(), key, value });
            }
            Err((part, source)) => {
                let error = StreamsError::Serialization { topic: self.topic.to_string(), part, source };
                buffer.error.get_or_insert(error);
            }
        }
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
