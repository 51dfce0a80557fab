//! `Table::suppress`: emit final results of windows, or rate-limit a table's updates.

use std::sync::Arc;
use std::time::Duration;

use super::Table;
use super::WindowClose;
use crate::error::TopologyError;
use crate::processor::ops::suppress::{Buffered, Limits, Overflow, Suppress, SuppressTime, WindowOf};
use crate::record::Change;
use crate::serdes::Data;
use crate::state::StoreBackend;
use crate::time::{millis, Windowed};
use crate::topology::ProcFactory;

/// What to do when a suppression buffer is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BufferFull {
    /// Emit the oldest buffered updates early, until the buffer is within its limits.
    EmitEarly,
    /// Fail the application (with a processing error naming the operator).
    ShutDown,
}

/// The size of a suppression buffer: at most so many records and bytes (keys and values as
/// serialized), and what happens beyond.
///
/// # Examples
///
/// ```
/// use streamz_core::dsl::{BufferConfig, BufferFull};
///
/// let config = BufferConfig::max_records(1_000).with_max_bytes(1 << 20);
/// assert_eq!(config.when_full(), BufferFull::EmitEarly);
/// assert_eq!(BufferConfig::unbounded().max_records_limit(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferConfig {
    max_records: Option<u64>,
    max_bytes: Option<u64>,
    when_full: BufferFull,
}

impl BufferConfig {
    /// No limit: the buffer holds every key until its time comes.
    pub fn unbounded() -> Self {
        BufferConfig { max_records: None, max_bytes: None, when_full: BufferFull::ShutDown }
    }

    /// At most `n` records; beyond, the oldest are emitted early.
    pub fn max_records(n: u64) -> Self {
        BufferConfig { max_records: Some(n), max_bytes: None, when_full: BufferFull::EmitEarly }
    }

    /// At most `n` bytes; beyond, the oldest records are emitted early.
    pub fn max_bytes(n: u64) -> Self {
        BufferConfig { max_records: None, max_bytes: Some(n), when_full: BufferFull::EmitEarly }
    }

    /// Also limits the buffer to `n` records.
    pub fn with_max_records(mut self, n: u64) -> Self {
        self.max_records = Some(n);
        self
    }

    /// Also limits the buffer to `n` bytes.
    pub fn with_max_bytes(mut self, n: u64) -> Self {
        self.max_bytes = Some(n);
        self
    }

    /// Emits the oldest updates early when the buffer is full.
    pub fn emit_early_when_full(mut self) -> Self {
        self.when_full = BufferFull::EmitEarly;
        self
    }

    /// Fails the application when the buffer is full (results stay final).
    pub fn shut_down_when_full(mut self) -> Self {
        self.when_full = BufferFull::ShutDown;
        self
    }

    /// The record limit.
    pub fn max_records_limit(&self) -> Option<u64> {
        self.max_records
    }

    /// The byte limit.
    pub fn max_bytes_limit(&self) -> Option<u64> {
        self.max_bytes
    }

    /// What happens when the buffer is full.
    pub fn when_full(&self) -> BufferFull {
        self.when_full
    }

    fn limits(&self) -> Limits {
        let overflow = match self.when_full {
            BufferFull::EmitEarly => Overflow::EmitEarly,
            BufferFull::ShutDown => Overflow::Fail,
        };
        Limits { max_records: self.max_records, max_bytes: self.max_bytes, overflow }
    }

    fn is_strict(&self) -> bool {
        self.when_full == BufferFull::ShutDown || (self.max_records.is_none() && self.max_bytes.is_none())
    }
}

enum Mode<K> {
    WindowCloses(WindowOf<K>),
    TimeLimit(Duration),
}

/// How [`Table::suppress`] holds back updates.
pub struct Suppressed<K> {
    mode: Mode<K>,
    buffer: BufferConfig,
    name: Option<String>,
}

impl<K> std::fmt::Debug for Suppressed<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match &self.mode {
            Mode::WindowCloses(_) => "until_window_closes".to_string(),
            Mode::TimeLimit(d) => format!("until_time_limit({d:?})"),
        };
        f.debug_struct("Suppressed")
            .field("mode", &mode)
            .field("buffer", &self.buffer)
            .field("name", &self.name)
            .finish()
    }
}

impl<K: Data> Suppressed<Windowed<K>> {
    /// One final result per window of a windowed aggregation, emitted when the window closes
    /// in the suppress operator's stream time (the largest timestamp of the updates reaching
    /// it): a time window when `end <= st - grace`, a sliding window when `end < st - grace`,
    /// a session when `end < st - gap - grace`. Windows closing together are emitted by key
    /// bytes (of the key's default serde), then window start; each result carries the
    /// aggregate's own timestamp. Deleted windows (e.g. merged sessions) are not emitted.
    ///
    /// The buffer must not emit early: `BufferConfig::unbounded()` or a limited buffer with
    /// [`BufferConfig::shut_down_when_full`]; otherwise building the topology fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::dsl::{BufferConfig, Suppressed};
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let windows = TimeWindows::tumbling(Duration::from_millis(10)).grace(Duration::from_millis(5));
    /// builder
    ///     .stream::<String, String>("clicks")
    ///     .group_by_key()
    ///     .windowed_by(windows)
    ///     .count()
    ///     .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
    ///     .to_stream()
    ///     .to("final-counts");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, String>("clicks");
    /// let out = driver.output::<Windowed<String>, Option<i64>>("final-counts");
    /// input.pipe("alice".into(), "/home".into(), 2)?;
    /// input.pipe("alice".into(), "/cart".into(), 7)?;
    /// input.pipe("alice".into(), "/pay".into(), 14)?; // [0, 10) is open until 10 <= 14 - 5
    /// assert!(out.read_with_timestamps().is_empty());
    /// input.pipe("bob".into(), "/home".into(), 15)?; // 10 <= 15 - 5: [0, 10) closes
    /// let alice = Windowed::new("alice".to_string(), 0, 10);
    /// // One final count, at the aggregate's own timestamp (its newest record's).
    /// assert_eq!(out.read_with_timestamps(), vec![(alice, Some(2), 7)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "untilWindowCloses")]
    pub fn until_window_closes(buffer: BufferConfig) -> Self {
        let serde = K::default_serde();
        let window: WindowOf<Windowed<K>> = Arc::new(move |w: &Windowed<K>| {
            let mut bytes = Vec::new();
            serde.serialize(&w.key, &mut bytes)?;
            Ok((w.window.end, bytes, w.window.start))
        });
        Suppressed { mode: Mode::WindowCloses(window), buffer, name: None }
    }
}

impl<K> Suppressed<K> {
    /// Emits a key's latest update once `limit` of stream time has passed since the first
    /// update buffered for it (later updates do not reset the wait). Deletes are emitted too.
    #[doc(alias = "untilTimeLimit")]
    pub fn until_time_limit(limit: Duration, buffer: BufferConfig) -> Self {
        Suppressed { mode: Mode::TimeLimit(limit), buffer, name: None }
    }

    /// Names the operator; its buffer store is `<name>-store`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl<K: Data, V: Data> Table<K, V> {
    /// Holds back updates as `suppressed` says: final results of windows
    /// ([`Suppressed::until_window_closes`]) or at most one update per key and time limit
    /// ([`Suppressed::until_time_limit`]).
    ///
    /// The buffer is a key-value store, so it survives restarts. `until_window_closes` on a
    /// table that is not the result of a windowed aggregation is a
    /// [`TopologyError::Invalid`] when the topology is built.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::dsl::{BufferConfig, Suppressed};
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, i64>("levels")
    ///     .suppress(Suppressed::until_time_limit(Duration::from_millis(10), BufferConfig::unbounded()))
    ///     .to_stream()
    ///     .to("levels-calm");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, Option<i64>>("levels");
    /// input.pipe("tank".into(), Some(1), 0)?;
    /// input.pipe("tank".into(), Some(2), 5)?;
    /// input.pipe("tank".into(), Some(3), 10)?; // 10 ms after the first buffered update
    /// let out = driver.output::<String, Option<i64>>("levels-calm");
    /// assert_eq!(out.read_with_timestamps(), vec![("tank".to_string(), Some(3), 10)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn suppress(&self, suppressed: Suppressed<K>) -> Table<K, V> {
        let mut graph = self.builder.graph();
        let name = graph.name(suppressed.name.as_deref(), "KTABLE-SUPPRESS");
        let store_name = suppressed.name.as_ref().map(|n| format!("{n}-store"));
        let store = graph.state_name(store_name.as_deref(), "KTABLE-SUPPRESS-STATE-STORE");
        let time = match suppressed.mode {
            Mode::TimeLimit(limit) => SuppressTime::Limit { delay_ms: millis(limit) },
            Mode::WindowCloses(window) => {
                let invalid = |reason: &str| TopologyError::Invalid { operator: name.clone(), reason: reason.into() };
                if !suppressed.buffer.is_strict() {
                    graph.errors.push(invalid(
                        "until_window_closes emits final results only: its buffer must not emit early \
                         (use BufferConfig::unbounded() or shut_down_when_full())",
                    ));
                }
                let delay_ms = match self.window {
                    Some(WindowClose::Time { grace_ms }) => grace_ms,
                    Some(WindowClose::Sliding { grace_ms }) => grace_ms.saturating_add(1),
                    Some(WindowClose::Session { gap_ms, grace_ms }) => {
                        gap_ms.saturating_add(grace_ms).saturating_add(1)
                    }
                    None => {
                        graph.errors.push(invalid(
                            "until_window_closes needs a windowed table (the result of a windowed aggregation)",
                        ));
                        0
                    }
                };
                SuppressTime::WindowEnd { delay_ms, window }
            }
        };
        graph.add_store(super::materialize::kv_store::<K, Buffered<V>>(
            &store,
            self.key_serde.clone(),
            Some(StoreBackend::InMemory),
            true,
            false,
        ));
        let time = Arc::new(time);
        let (limits, store_ref) = (suppressed.buffer.limits(), store.clone());
        let (key_serde, value_serde) = (self.key_serde.clone(), self.value_serde.clone());
        let factory = ProcFactory::<_, K, Change<V>, K, Change<V>, _>::new(move |inst, _| {
            let time = match &*time {
                SuppressTime::Limit { delay_ms } => SuppressTime::Limit { delay_ms: *delay_ms },
                SuppressTime::WindowEnd { delay_ms, window } => {
                    SuppressTime::WindowEnd { delay_ms: *delay_ms, window: window.clone() }
                }
            };
            Ok(Suppress::new(inst.store(&store_ref)?, time, limits, key_serde.clone(), value_serde.clone()))
        });
        let node = graph.add_processor(name, &[self.node], factory);
        graph.connect_store(node, &store);
        drop(graph);
        Table {
            builder: self.builder.clone(),
            node,
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            store: None,
            window: self.window,
        }
    }
}

#[cfg(test)]
#[path = "suppress_tests.rs"]
mod tests;
