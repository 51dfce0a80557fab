//! `Table::suppress`: holds back a table's updates in a buffer store and emits each key's
//! latest update once its time has come.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{SerdeError, StreamsError};
use crate::processor::{Processor, ProcessorContext};
use crate::record::{Change, Headers, Record};
use crate::serdes::{Data, SerdeRef};
use crate::state::KeyValueStore;
use crate::task::{lock, StoreRef};
use crate::time::Timestamp;
use crate::Result;

/// A window's `(end, key bytes, start)`, the order in which closed windows are emitted.
pub(crate) type WindowOf<K> =
    Arc<dyn Fn(&K) -> std::result::Result<(Timestamp, Vec<u8>, Timestamp), SerdeError> + Send + Sync>;

/// When a buffered key is emitted.
pub(crate) enum SuppressTime<K> {
    /// `delay_ms` of stream time after the key's first buffered update (non-resetting);
    /// deletes are buffered and emitted like values.
    Limit { delay_ms: i64 },
    /// When the key's window closes, `end <= st - delay_ms`; deletes are not emitted and drop
    /// the window from the buffer.
    WindowEnd { delay_ms: i64, window: WindowOf<K> },
}

/// What to do when the buffer holds more than its limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Overflow {
    EmitEarly,
    Fail,
}

/// Buffer limits: records, bytes (keys and values as serialized), and what to do beyond.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_records: Option<u64>,
    pub(crate) max_bytes: Option<u64>,
    pub(crate) overflow: Overflow,
}

/// A key's buffered update: its latest new value, the value before its first buffered
/// update, its buffer time, and the record context of the latest update.
#[derive(Clone, Debug)]
pub(crate) struct Buffered<V> {
    pub(crate) new: Option<V>,
    pub(crate) prior: Option<V>,
    /// When the entry was first buffered (time limit) or its window's end.
    pub(crate) time: Timestamp,
    pub(crate) timestamp: Timestamp,
    pub(crate) headers: Headers,
    /// Serialized size, for the byte limit.
    pub(crate) size: u64,
}

type IndexKey = (Timestamp, Vec<u8>, Timestamp);

/// The suppress operator. The buffer lives in `store` (so it can be restored); `index`
/// orders its keys by emission order and is rebuilt from the store on the first record.
pub(crate) struct Suppress<K, V> {
    pub(crate) store: StoreRef<dyn KeyValueStore<K, Buffered<V>>>,
    pub(crate) time: SuppressTime<K>,
    pub(crate) limits: Limits,
    pub(crate) key_serde: SerdeRef<K>,
    pub(crate) value_serde: SerdeRef<V>,
    index: Option<BTreeMap<IndexKey, K>>,
    bytes: u64,
    stream_time: Timestamp,
}

impl<K: Data, V: Data> Suppress<K, V> {
    pub(crate) fn new(
        store: StoreRef<dyn KeyValueStore<K, Buffered<V>>>,
        time: SuppressTime<K>,
        limits: Limits,
        key_serde: SerdeRef<K>,
        value_serde: SerdeRef<V>,
    ) -> Self {
        Suppress { store, time, limits, key_serde, value_serde, index: None, bytes: 0, stream_time: Timestamp::MIN }
    }

    fn fail(ctx: &ProcessorContext<'_, K, Change<V>>, message: String) -> StreamsError {
        StreamsError::Processing { node: ctx.node_name().to_string(), position: ctx.record_position().clone(), message }
    }

    fn key_bytes(&self, key: &K) -> std::result::Result<Vec<u8>, SerdeError> {
        let mut out = Vec::new();
        self.key_serde.serialize(key, &mut out)?;
        Ok(out)
    }

    fn value_len(&self, value: &Option<V>) -> std::result::Result<u64, SerdeError> {
        let mut out = Vec::new();
        if let Some(v) = value {
            self.value_serde.serialize(v, &mut out)?;
        }
        Ok(out.len() as u64)
    }

    fn index_key(&self, key: &K, key_bytes: Vec<u8>, time: Timestamp) -> std::result::Result<IndexKey, SerdeError> {
        match &self.time {
            SuppressTime::Limit { .. } => Ok((time, key_bytes, Timestamp(0))),
            SuppressTime::WindowEnd { window, .. } => window(key),
        }
    }

    /// The index of the buffered keys, rebuilt from the store when missing (after a restore).
    fn index(&mut self) -> std::result::Result<&mut BTreeMap<IndexKey, K>, SerdeError> {
        if self.index.is_none() {
            let entries: Vec<(K, Buffered<V>)> = lock(&self.store).all().collect();
            let mut index = BTreeMap::new();
            for (key, entry) in entries {
                self.bytes += entry.size;
                self.stream_time = self.stream_time.max(entry.timestamp);
                let bytes = self.key_bytes(&key)?;
                index.insert(self.index_key(&key, bytes, entry.time)?, key);
            }
            self.index = Some(index);
        }
        Ok(self.index.get_or_insert_with(BTreeMap::new))
    }

    /// Buffers `record`'s update (or, for a window, drops it on a delete).
    fn buffer(&mut self, record: Record<K, Change<V>>) -> std::result::Result<(), SerdeError> {
        let key_bytes = self.key_bytes(&record.key)?;
        let existing = lock(&self.store).get(&record.key);
        let windowed = matches!(self.time, SuppressTime::WindowEnd { .. });
        let time = match (&existing, &self.time) {
            (Some(e), _) => e.time,
            (None, SuppressTime::Limit { .. }) => record.timestamp,
            (None, SuppressTime::WindowEnd { window, .. }) => window(&record.key)?.0,
        };
        let index_key = self.index_key(&record.key, key_bytes.clone(), time)?;
        if let Some(e) = &existing {
            self.bytes -= e.size;
        }
        if windowed && record.value.new.is_none() {
            if existing.is_some() {
                lock(&self.store).delete(&record.key);
                self.index()?.remove(&index_key);
            }
            return Ok(());
        }
        let Change { new, old } = record.value;
        let prior = match existing {
            Some(e) => e.prior,
            None => old,
        };
        let header_len: usize = record.headers.iter().map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len)).sum();
        let size = key_bytes.len() as u64 + self.value_len(&new)? + self.value_len(&prior)? + 8 + header_len as u64;
        self.bytes += size;
        let entry = Buffered { new, prior, time, timestamp: record.timestamp, headers: record.headers, size };
        lock(&self.store).put(&record.key, entry);
        self.index()?.insert(index_key, record.key);
        Ok(())
    }

    /// Emits the first buffered key in index order; false when the buffer is empty.
    fn emit_first(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>, due: Option<Timestamp>) -> Result<bool> {
        let index = self.index.get_or_insert_with(BTreeMap::new);
        let Some(entry) = index.first_entry() else { return Ok(false) };
        if due.is_some_and(|due| entry.key().0 > due) {
            return Ok(false);
        }
        let key = entry.remove();
        let Some(buffered) = lock(&self.store).delete(&key) else {
            return Err(StreamsError::Bug(format!("suppress buffer of `{}` lost a key", ctx.node_name())));
        };
        self.bytes -= buffered.size;
        let tombstone = buffered.new.is_none();
        if tombstone && matches!(self.time, SuppressTime::WindowEnd { .. }) {
            return Ok(true);
        }
        let change = Change::new(buffered.new, buffered.prior);
        ctx.forward(Record { key, value: change, timestamp: buffered.timestamp, headers: buffered.headers })?;
        Ok(true)
    }

    fn over_capacity(&self) -> bool {
        let records = self.index.as_ref().map_or(0, BTreeMap::len) as u64;
        self.limits.max_records.is_some_and(|max| records > max)
            || self.limits.max_bytes.is_some_and(|max| self.bytes > max)
    }
}

impl<K: Data, V: Data> Processor<K, Change<V>, K, Change<V>> for Suppress<K, V> {
    fn process(&mut self, record: Record<K, Change<V>>, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        if let Err(e) = self.index().map(|_| ()) {
            return Err(Self::fail(ctx, format!("cannot index the suppress buffer: {e}")));
        }
        self.stream_time = self.stream_time.max(record.timestamp);
        self.buffer(record).map_err(|e| Self::fail(ctx, format!("cannot buffer the record: {e}")))?;
        let delay = match &self.time {
            SuppressTime::Limit { delay_ms } | SuppressTime::WindowEnd { delay_ms, .. } => *delay_ms,
        };
        let due = Timestamp(self.stream_time.0.saturating_sub(delay));
        while self.emit_first(ctx, Some(due))? {}
        if self.over_capacity() {
            match self.limits.overflow {
                Overflow::EmitEarly => while self.over_capacity() && self.emit_first(ctx, None)? {},
                Overflow::Fail => {
                    let records = self.index.as_ref().map_or(0, BTreeMap::len);
                    let limit = |l: Option<u64>| l.map_or_else(|| "no limit".to_string(), |l| format!("limit {l}"));
                    let message = format!(
                        "suppress buffer is full: {records} records ({}), {} bytes ({})",
                        limit(self.limits.max_records),
                        self.bytes,
                        limit(self.limits.max_bytes)
                    );
                    return Err(Self::fail(ctx, message));
                }
            }
        }
        Ok(())
    }
}
