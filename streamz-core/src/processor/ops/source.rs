//! Source nodes: decode raw records and start them down a sub-topology.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use crate::dsl::TimestampExtractor;
use crate::error::{RecordPart, RecordPosition, StreamsError};
use crate::processor::Downstream;
use crate::record::{RawRecord, Record};
use crate::serdes::SerdeRef;
use crate::task::policy::{self, panic_message, take_panicked_node};
use crate::task::{ErrorKind, ErrorPolicy, SourceNode, TaskContext};
use crate::time::Timestamp;
use crate::topology::{Instantiator, NodeId, SourceFactory};
use crate::Result;

/// Decodes the records of its topics with its serdes.
pub(crate) struct Source<K, V> {
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
    extractor: TimestampExtractor<V>,
    children: Vec<Box<dyn Downstream<K, V>>>,
    name: Arc<str>,
    /// The deserialization policy of this source, when it overrides the application's.
    policy: Option<ErrorPolicy>,
}

fn position(raw: &RawRecord) -> RecordPosition {
    RecordPosition { topic: raw.topic.clone(), partition: raw.partition, offset: raw.offset }
}

impl<K: Clone + 'static, V: Clone + 'static> Source<K, V> {
    fn decode(&self, raw: &RawRecord) -> Result<(K, V)> {
        let key = self.key_serde.deserialize(raw.key.as_deref()).map_err(|source| StreamsError::Deserialization {
            position: position(raw),
            part: RecordPart::Key,
            source,
        })?;
        Ok((key, self.decode_value(raw)?))
    }

    fn decode_value(&self, raw: &RawRecord) -> Result<V> {
        self.value_serde.deserialize(raw.value.as_deref()).map_err(|source| StreamsError::Deserialization {
            position: position(raw),
            part: RecordPart::Value,
            source,
        })
    }
}

impl<K: Clone + Send + 'static, V: Clone + Send + 'static> SourceNode for Source<K, V> {
    fn extract_timestamp(&self, raw: &RawRecord, wall_clock: Timestamp) -> Result<Timestamp> {
        match &self.extractor {
            TimestampExtractor::RecordTimestamp => Ok(raw.timestamp),
            TimestampExtractor::WallClock => Ok(wall_clock),
            TimestampExtractor::Value(f) => {
                let value = self.decode_value(raw)?;
                Ok(f(&value).unwrap_or(raw.timestamp))
            }
        }
    }

    /// Processing runs inside `catch_unwind`: a panic in a processor is handled by the
    /// processing policy like a returned [`StreamsError::Processing`]. As in Kafka Streams,
    /// what the panicking record changed before the panic (stores, records already forwarded)
    /// stays changed.
    fn process(&mut self, raw: &mut RawRecord, timestamp: Timestamp, task: &mut TaskContext) -> Result<()> {
        let (key, value) = match self.decode(raw) {
            Ok(kv) => kv,
            Err(e) => {
                let policy = self.policy.as_ref().unwrap_or(&task.policies.deserialization).clone();
                let (kind, position) = (ErrorKind::Deserialization, position(raw));
                return policy::apply(task, &policy, kind, "deserialization", &position, Some(raw), e);
            }
        };
        // The input record as read is kept only when a processing error would send it on.
        let kept = matches!(task.policies.processing, ErrorPolicy::DeadLetter { .. }).then(|| raw.clone());
        let record = Record { key, value, timestamp, headers: std::mem::take(&mut raw.headers) };
        let children = &mut self.children;
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| forward(children, record, task)));
        let (exception, error) = match result {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e @ StreamsError::Processing { .. })) => ("processing", e),
            Ok(Err(e)) => return Err(e),
            Err(payload) => {
                let node = take_panicked_node().unwrap_or_else(|| self.name.to_string());
                let message = format!("panicked: {}", panic_message(&*payload));
                ("panic", StreamsError::Processing { node, position: task.position.clone(), message })
            }
        };
        let (policy, position) = (task.policies.processing.clone(), task.position.clone());
        policy::apply(task, &policy, ErrorKind::Processing, exception, &position, kept.as_ref(), error)
    }

    fn deserialization_policy(&self) -> Option<ErrorPolicy> {
        self.policy.clone()
    }
}

fn forward<K: Clone, V: Clone>(
    children: &mut [Box<dyn Downstream<K, V>>],
    record: Record<K, V>,
    task: &mut TaskContext,
) -> Result<()> {
    let Some((last, rest)) = children.split_last_mut() else {
        return Ok(());
    };
    for child in rest {
        child.accept(record.clone(), task)?;
    }
    last.accept(record, task)
}

/// Builds [`Source`] nodes.
pub(crate) struct SourceSpec<K, V> {
    pub(crate) key_serde: SerdeRef<K>,
    pub(crate) value_serde: SerdeRef<V>,
    pub(crate) extractor: TimestampExtractor<V>,
    pub(crate) policy: Option<ErrorPolicy>,
}

impl<K: Clone + Send + 'static, V: Clone + Send + 'static> SourceFactory for SourceSpec<K, V> {
    fn instantiate(&self, id: NodeId, inst: &mut Instantiator<'_>) -> Result<Box<dyn SourceNode>> {
        let children = inst.children::<K, V>(id)?;
        Ok(Box::new(Source {
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            extractor: self.extractor.clone(),
            children,
            name: inst.name(id),
            policy: self.policy.clone(),
        }))
    }
}

pub(crate) fn spec<K, V>(
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
    extractor: TimestampExtractor<V>,
    policy: Option<ErrorPolicy>,
) -> Arc<SourceSpec<K, V>> {
    Arc::new(SourceSpec { key_serde, value_serde, extractor, policy })
}
