//! Options of DSL operators: small value types with consuming `with_*` setters.

use std::sync::Arc;
use std::time::Duration;

use crate::serdes::{Data, SerdeRef};
use crate::state::StoreBackend;
use crate::task::ErrorPolicy;
use crate::time::Timestamp;

/// Where the event time of a source record comes from.
#[derive(Default)]
pub enum TimestampExtractor<V> {
    /// The Kafka record's timestamp (the default).
    #[default]
    RecordTimestamp,
    /// The wall-clock time when the record is read.
    WallClock,
    /// A function of the value; `None` falls back to the record timestamp.
    Value(Arc<dyn Fn(&V) -> Option<Timestamp> + Send + Sync>),
}

impl<V> Clone for TimestampExtractor<V> {
    fn clone(&self) -> Self {
        match self {
            TimestampExtractor::RecordTimestamp => TimestampExtractor::RecordTimestamp,
            TimestampExtractor::WallClock => TimestampExtractor::WallClock,
            TimestampExtractor::Value(f) => TimestampExtractor::Value(f.clone()),
        }
    }
}

impl<V> std::fmt::Debug for TimestampExtractor<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimestampExtractor::RecordTimestamp => "RecordTimestamp",
            TimestampExtractor::WallClock => "WallClock",
            TimestampExtractor::Value(_) => "Value(..)",
        })
    }
}

impl<V: Data> TimestampExtractor<V> {
    /// The field marked `#[streamz(timestamp)]` in the value's derive ([`Data::event_time`]).
    pub fn field() -> Self {
        TimestampExtractor::Value(Arc::new(|v: &V| v.event_time()))
    }

    /// A function of the value.
    pub fn from_value(f: impl Fn(&V) -> Timestamp + Send + Sync + 'static) -> Self {
        TimestampExtractor::Value(Arc::new(move |v: &V| Some(f(v))))
    }
}

/// How a source topic is read: serdes, timestamp extractor, name.
pub struct Consumed<K, V> {
    pub(crate) key_serde: Option<SerdeRef<K>>,
    pub(crate) value_serde: Option<SerdeRef<V>>,
    pub(crate) extractor: TimestampExtractor<V>,
    pub(crate) name: Option<String>,
    pub(crate) error_policy: Option<ErrorPolicy>,
}

impl<K, V> std::fmt::Debug for Consumed<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumed").finish_non_exhaustive()
    }
}

impl<K, V> Default for Consumed<K, V> {
    fn default() -> Self {
        Consumed {
            key_serde: None,
            value_serde: None,
            extractor: TimestampExtractor::RecordTimestamp,
            name: None,
            error_policy: None,
        }
    }
}

impl<K, V> Consumed<K, V> {
    /// Reads with these serdes.
    pub fn with(key_serde: SerdeRef<K>, value_serde: SerdeRef<V>) -> Self {
        Consumed { key_serde: Some(key_serde), value_serde: Some(value_serde), ..Default::default() }
    }

    /// Uses this timestamp extractor.
    pub fn with_timestamp_extractor(mut self, extractor: TimestampExtractor<V>) -> Self {
        self.extractor = extractor;
        self
    }

    /// Names the source node.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Uses this key serde.
    pub fn with_key_serde(mut self, serde: SerdeRef<K>) -> Self {
        self.key_serde = Some(serde);
        self
    }

    /// Uses this value serde.
    pub fn with_value_serde(mut self, serde: SerdeRef<V>) -> Self {
        self.value_serde = Some(serde);
        self
    }

    /// Handles records of this source whose key or value does not decode with `policy`,
    /// instead of the application's deserialization policy.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let consumed = Consumed::default().with_error_policy(ErrorPolicy::dead_letter("payments-dlq"));
    /// builder.stream_with::<String, i64>("payments", consumed).to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, i64>("payments");
    /// input.pipe_raw(Some(b"k".to_vec()), Some(b"not an i64".to_vec()), 5)?;
    /// input.pipe("k".into(), 7, 6)?;
    /// assert_eq!(driver.output::<String, i64>("out").read_values(), vec![7]);
    /// assert_eq!(driver.raw_records("payments-dlq")[0].value.as_deref(), Some(&b"not an i64"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_error_policy(mut self, policy: ErrorPolicy) -> Self {
        self.error_policy = Some(policy);
        self
    }
}

/// How records are written to a topic: serdes and the sink's name.
pub struct Produced<K, V> {
    pub(crate) key_serde: Option<SerdeRef<K>>,
    pub(crate) value_serde: Option<SerdeRef<V>>,
    pub(crate) name: Option<String>,
}

impl<K, V> std::fmt::Debug for Produced<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Produced").finish_non_exhaustive()
    }
}

impl<K, V> Default for Produced<K, V> {
    fn default() -> Self {
        Produced { key_serde: None, value_serde: None, name: None }
    }
}

impl<K, V> Produced<K, V> {
    /// Writes with these serdes.
    pub fn with(key_serde: SerdeRef<K>, value_serde: SerdeRef<V>) -> Self {
        Produced { key_serde: Some(key_serde), value_serde: Some(value_serde), name: None }
    }

    /// Names the sink node.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// How a stream is grouped: the name of the repartition topic (if one is needed) and serdes.
pub struct Grouped<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) key_serde: Option<SerdeRef<K>>,
    pub(crate) value_serde: Option<SerdeRef<V>>,
}

impl<K, V> std::fmt::Debug for Grouped<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grouped").finish_non_exhaustive()
    }
}

impl<K, V> Default for Grouped<K, V> {
    fn default() -> Self {
        Grouped { name: None, key_serde: None, value_serde: None }
    }
}

impl<K, V> Grouped<K, V> {
    /// Names the grouping: a needed repartition topic is `<app>-<name>-repartition`.
    pub fn named(name: impl Into<String>) -> Self {
        Grouped { name: Some(name.into()), ..Default::default() }
    }

    /// Uses these serdes for the repartition topic.
    pub fn with_serdes(mut self, key_serde: SerdeRef<K>, value_serde: SerdeRef<V>) -> Self {
        self.key_serde = Some(key_serde);
        self.value_serde = Some(value_serde);
        self
    }
}

/// How an explicit repartition is done.
pub struct Repartitioned<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) partitions: Option<i32>,
    pub(crate) key_serde: Option<SerdeRef<K>>,
    pub(crate) value_serde: Option<SerdeRef<V>>,
}

impl<K, V> std::fmt::Debug for Repartitioned<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repartitioned").finish_non_exhaustive()
    }
}

impl<K, V> Default for Repartitioned<K, V> {
    fn default() -> Self {
        Repartitioned { name: None, partitions: None, key_serde: None, value_serde: None }
    }
}

impl<K, V> Repartitioned<K, V> {
    /// Names the repartition topic `<app>-<name>-repartition`.
    pub fn named(name: impl Into<String>) -> Self {
        Repartitioned { name: Some(name.into()), ..Default::default() }
    }

    /// Gives the repartition topic `n` partitions.
    pub fn with_partitions(mut self, n: i32) -> Self {
        self.partitions = Some(n);
        self
    }

    /// Uses these serdes for the topic.
    pub fn with_serdes(mut self, key_serde: SerdeRef<K>, value_serde: SerdeRef<V>) -> Self {
        self.key_serde = Some(key_serde);
        self.value_serde = Some(value_serde);
        self
    }
}

/// How the result of a stateful operator is stored: store name, serdes, backend, retention,
/// changelogging.
pub struct Materialized<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) key_serde: Option<SerdeRef<K>>,
    pub(crate) value_serde: Option<SerdeRef<V>>,
    pub(crate) backend: Option<StoreBackend>,
    pub(crate) retention: Option<Duration>,
    pub(crate) logging: bool,
    pub(crate) caching: bool,
}

impl<K, V> std::fmt::Debug for Materialized<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Materialized").finish_non_exhaustive()
    }
}

impl<K, V> Default for Materialized<K, V> {
    fn default() -> Self {
        Materialized {
            name: None,
            key_serde: None,
            value_serde: None,
            backend: None,
            retention: None,
            logging: true,
            caching: true,
        }
    }
}

impl<K, V> Materialized<K, V> {
    /// Names the store (and its changelog `<app>-<name>-changelog`).
    pub fn named(name: impl Into<String>) -> Self {
        Materialized { name: Some(name.into()), ..Default::default() }
    }

    /// Uses these serdes for the store and its changelog.
    pub fn with_serdes(mut self, key_serde: SerdeRef<K>, value_serde: SerdeRef<V>) -> Self {
        self.key_serde = Some(key_serde);
        self.value_serde = Some(value_serde);
        self
    }

    /// Keeps the store in this backend, whatever the application's default
    /// ([`StreamsConfig::default_store_backend`](crate::runtime::StreamsConfig::default_store_backend)).
    pub fn with_backend(mut self, backend: StoreBackend) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Retains windows for this long (window and session stores); at least the window size
    /// plus grace.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = Some(retention);
        self
    }

    /// Turns the changelog topic off (the store is then not fault tolerant).
    pub fn without_logging(mut self) -> Self {
        self.logging = false;
        self
    }

    /// Puts no record cache in front of this store: every update is written to the store (and
    /// its changelog) and forwarded downstream at once, whatever
    /// [`StreamsConfig::cache_max_bytes`](crate::runtime::StreamsConfig::cache_max_bytes).
    /// Kafka Streams' `withCachingDisabled`.
    pub fn with_caching_disabled(mut self) -> Self {
        self.caching = false;
        self
    }

    /// Puts a record cache in front of this store when the application has one (the default
    /// for the stores of aggregations and tables): updates to one key are folded until the next
    /// commit or eviction. Kafka Streams' `withCachingEnabled`.
    pub fn with_caching_enabled(mut self) -> Self {
        self.caching = true;
        self
    }
}
