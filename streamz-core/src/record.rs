//! Records as they travel between operators, and as raw bytes at topic boundaries.

use std::sync::Arc;

use crate::time::Timestamp;

/// Record headers: name and optional value bytes, in order.
pub type Headers = Vec<(String, Option<Vec<u8>>)>;

/// A typed record inside a sub-topology.
///
/// Nullness is part of the type: a stream whose keys may be absent has a key type such as
/// `Option<String>` or `()`, and a table update travels as a [`Change`].
#[derive(Clone, Debug, PartialEq)]
pub struct Record<K, V> {
    /// The key.
    pub key: K,
    /// The value.
    pub value: V,
    /// The record's event time.
    pub timestamp: Timestamp,
    /// Headers, carried from the input record to the outputs derived from it.
    pub headers: Headers,
}

impl<K, V> Record<K, V> {
    /// A record with no headers.
    pub fn new(key: K, value: V, timestamp: impl Into<Timestamp>) -> Self {
        Record { key, value, timestamp: timestamp.into(), headers: Headers::new() }
    }

    /// The same record with another key and value (timestamp and headers kept).
    pub fn with<K2, V2>(self, key: K2, value: V2) -> Record<K2, V2> {
        Record { key, value, timestamp: self.timestamp, headers: self.headers }
    }

    /// The same record with another value.
    pub fn with_value<V2>(self, value: V2) -> Record<K, V2> {
        Record { key: self.key, value, timestamp: self.timestamp, headers: self.headers }
    }

    /// The same record with another key.
    pub fn with_key<K2>(self, key: K2) -> Record<K2, V> {
        Record { key, value: self.value, timestamp: self.timestamp, headers: self.headers }
    }

    /// The same record with another timestamp.
    pub fn with_timestamp(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = timestamp;
        self
    }
}

/// An update of a table: the key's new value and the value it replaces.
///
/// `new == None` is a delete (a tombstone downstream).
#[derive(Clone, Debug, PartialEq)]
pub struct Change<V> {
    /// The value after the update.
    pub new: Option<V>,
    /// The value before the update.
    pub old: Option<V>,
}

impl<V> Change<V> {
    /// An update from `old` to `new`.
    pub fn new(new: Option<V>, old: Option<V>) -> Self {
        Change { new, old }
    }
}

/// A record as bytes, as read from or written to a topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRecord {
    /// The topic.
    pub topic: Arc<str>,
    /// The partition.
    pub partition: i32,
    /// The offset (for records read from a topic; -1 before they are written).
    pub offset: i64,
    /// The timestamp.
    pub timestamp: Timestamp,
    /// Key bytes; `None` is a null key.
    pub key: Option<Vec<u8>>,
    /// Value bytes; `None` is a null value (a tombstone).
    pub value: Option<Vec<u8>>,
    /// Headers.
    pub headers: Headers,
}

/// A value with the timestamp of its last update, as aggregations and tables store them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timestamped<V> {
    /// The value.
    pub value: V,
    /// When it was last updated (event time).
    pub timestamp: Timestamp,
}

impl<V> Timestamped<V> {
    /// `value` at `timestamp`.
    pub fn new(value: V, timestamp: Timestamp) -> Self {
        Timestamped { value, timestamp }
    }
}
