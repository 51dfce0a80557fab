//! Typed input and output topics of the test driver.

use super::TopologyTestDriver;
use crate::error::{RecordPart, RecordPosition, StreamsError};
use crate::record::{Headers, Record};
use crate::serdes::SerdeRef;
use crate::task::lock;
use crate::time::Timestamp;
use crate::Result;

/// Pipes typed records into a topic of a [`TopologyTestDriver`].
pub struct TestInputTopic<K, V> {
    driver: TopologyTestDriver,
    topic: String,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
}

impl<K, V> std::fmt::Debug for TestInputTopic<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestInputTopic").field("topic", &self.topic).finish()
    }
}

impl<K: 'static, V: 'static> TestInputTopic<K, V> {
    pub(crate) fn new(
        driver: TopologyTestDriver,
        topic: &str,
        key_serde: SerdeRef<K>,
        value_serde: SerdeRef<V>,
    ) -> Self {
        TestInputTopic { driver, topic: topic.to_string(), key_serde, value_serde }
    }

    /// The same topic with other serdes.
    pub fn with_serdes(self, key_serde: SerdeRef<K>, value_serde: SerdeRef<V>) -> Self {
        TestInputTopic { key_serde, value_serde, ..self }
    }

    fn encode(&self, key: &K, value: &V) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>)> {
        let fail = |part, source| StreamsError::Serialization { topic: self.topic.clone(), part, source };
        let key = crate::serdes::to_bytes(&*self.key_serde, key).map_err(|e| fail(RecordPart::Key, e))?;
        let value = crate::serdes::to_bytes(&*self.value_serde, value).map_err(|e| fail(RecordPart::Value, e))?;
        Ok((key, value))
    }

    /// Queues a record with event time `timestamp` (ms) and processes it, with everything it
    /// causes downstream (repartitioned records included).
    ///
    /// # Errors
    ///
    /// The first error processing raised (e.g. a deserialization error naming the offset).
    pub fn pipe(&self, key: K, value: V, timestamp: impl Into<Timestamp>) -> Result<()> {
        self.enqueue(key, value, timestamp)?;
        self.driver.process()
    }

    /// Pipes a record with headers.
    ///
    /// # Errors
    ///
    /// As [`TestInputTopic::pipe`].
    pub fn pipe_record(&self, record: Record<K, V>) -> Result<()> {
        let (k, v) = self.encode(&record.key, &record.value)?;
        self.driver.append(&self.topic, None, k, v, record.timestamp, record.headers)?;
        self.driver.process()
    }

    /// Pipes a record to partition `partition`.
    ///
    /// # Errors
    ///
    /// As [`TestInputTopic::pipe`].
    pub fn pipe_to_partition(&self, partition: i32, key: K, value: V, timestamp: impl Into<Timestamp>) -> Result<()> {
        let (k, v) = self.encode(&key, &value)?;
        self.driver.append(&self.topic, Some(partition), k, v, timestamp.into(), Headers::new())?;
        self.driver.process()
    }

    /// Queues a record without processing it; [`TopologyTestDriver::process`] processes the
    /// queued records of each task in timestamp order, across its input partitions.
    ///
    /// # Errors
    ///
    /// A serialization error, or an invalid timestamp under the `Fail` policy.
    pub fn enqueue(&self, key: K, value: V, timestamp: impl Into<Timestamp>) -> Result<()> {
        let (k, v) = self.encode(&key, &value)?;
        self.driver.append(&self.topic, None, k, v, timestamp.into(), Headers::new())
    }

    /// Pipes raw key and value bytes (e.g. bytes that do not decode).
    ///
    /// # Errors
    ///
    /// As [`TestInputTopic::pipe`].
    pub fn pipe_raw(
        &self,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        timestamp: impl Into<Timestamp>,
    ) -> Result<()> {
        self.driver.append(&self.topic, None, key, value, timestamp.into(), Headers::new())?;
        self.driver.process()
    }
}

/// Reads the typed records a topology wrote to a topic; reading consumes them.
pub struct TestOutputTopic<K, V> {
    driver: TopologyTestDriver,
    topic: String,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
}

impl<K, V> std::fmt::Debug for TestOutputTopic<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestOutputTopic").field("topic", &self.topic).finish()
    }
}

impl<K: 'static, V: 'static> TestOutputTopic<K, V> {
    pub(crate) fn new(
        driver: TopologyTestDriver,
        topic: &str,
        key_serde: SerdeRef<K>,
        value_serde: SerdeRef<V>,
    ) -> Self {
        TestOutputTopic { driver, topic: topic.to_string(), key_serde, value_serde }
    }

    /// The same topic with other serdes.
    pub fn with_serdes(self, key_serde: SerdeRef<K>, value_serde: SerdeRef<V>) -> Self {
        TestOutputTopic { key_serde, value_serde, ..self }
    }

    /// Reads every unread record, decoding it.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Deserialization`] when a record does not decode with this topic's
    /// serdes (the records are consumed all the same).
    pub fn try_read_records(&self) -> Result<Vec<Record<K, V>>> {
        let inner = self.driver.inner.borrow();
        let mut log = lock(&inner.log);
        let records: Vec<_> = match log.topics.get_mut(&self.topic) {
            Some(topic) => {
                let unread = topic.records[topic.read.min(topic.records.len())..].to_vec();
                topic.read += unread.len();
                unread
            }
            None => Vec::new(),
        };
        drop(log);
        records
            .into_iter()
            .map(|raw| {
                let fail = |part, source| StreamsError::Deserialization {
                    position: RecordPosition { topic: raw.topic.clone(), partition: raw.partition, offset: raw.offset },
                    part,
                    source,
                };
                let key = self.key_serde.deserialize(raw.key.as_deref()).map_err(|e| fail(RecordPart::Key, e))?;
                let value =
                    self.value_serde.deserialize(raw.value.as_deref()).map_err(|e| fail(RecordPart::Value, e))?;
                Ok(Record { key, value, timestamp: raw.timestamp, headers: raw.headers })
            })
            .collect()
    }

    /// Reads every unread record.
    ///
    /// # Panics
    ///
    /// When a record does not decode with this topic's serdes (a test failure); use
    /// [`TestOutputTopic::try_read_records`] to get the error instead.
    pub fn read_records(&self) -> Vec<Record<K, V>> {
        self.try_read_records().unwrap_or_else(|e| panic!("output topic `{}`: {e}", self.topic))
    }

    /// Reads every unread record as `(key, value)`.
    ///
    /// # Panics
    ///
    /// As [`TestOutputTopic::read_records`].
    pub fn read_key_values(&self) -> Vec<(K, V)> {
        self.read_records().into_iter().map(|r| (r.key, r.value)).collect()
    }

    /// Reads every unread record's value.
    ///
    /// # Panics
    ///
    /// As [`TestOutputTopic::read_records`].
    pub fn read_values(&self) -> Vec<V> {
        self.read_records().into_iter().map(|r| r.value).collect()
    }

    /// Reads every unread record as `(key, value, timestamp in ms)`.
    ///
    /// # Panics
    ///
    /// As [`TestOutputTopic::read_records`].
    pub fn read_with_timestamps(&self) -> Vec<(K, V, i64)> {
        self.read_records().into_iter().map(|r| (r.key, r.value, r.timestamp.0)).collect()
    }

    /// Whether every record has been read.
    pub fn is_empty(&self) -> bool {
        let inner = self.driver.inner.borrow();
        let log = lock(&inner.log);
        log.topics.get(&self.topic).is_none_or(|t| t.records.len() <= t.read)
    }
}
