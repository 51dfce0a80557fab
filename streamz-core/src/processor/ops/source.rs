//! Source nodes: decode raw records and start them down a sub-topology.

use std::sync::Arc;

use crate::dsl::TimestampExtractor;
use crate::error::{RecordPart, RecordPosition, StreamsError};
use crate::processor::Downstream;
use crate::record::{RawRecord, Record};
use crate::serdes::SerdeRef;
use crate::task::{SourceNode, TaskContext};
use crate::time::Timestamp;
use crate::topology::{Instantiator, NodeId, SourceFactory};
use crate::Result;

/// Decodes the records of its topics with its serdes.
pub(crate) struct Source<K, V> {
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
    extractor: TimestampExtractor<V>,
    children: Vec<Box<dyn Downstream<K, V>>>,
}

fn position(raw: &RawRecord) -> RecordPosition {
    RecordPosition { topic: raw.topic.clone(), partition: raw.partition, offset: raw.offset }
}

impl<K: Clone + 'static, V: Clone + 'static> Source<K, V> {
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

    fn process(&mut self, raw: RawRecord, timestamp: Timestamp, task: &mut TaskContext) -> Result<()> {
        let key = self.key_serde.deserialize(raw.key.as_deref()).map_err(|source| StreamsError::Deserialization {
            position: position(&raw),
            part: RecordPart::Key,
            source,
        })?;
        let value = self.decode_value(&raw)?;
        let record = Record { key, value, timestamp, headers: raw.headers };
        let Some((last, rest)) = self.children.split_last_mut() else {
            return Ok(());
        };
        for child in rest {
            child.accept(record.clone(), task)?;
        }
        last.accept(record, task)
    }
}

/// Builds [`Source`] nodes.
pub(crate) struct SourceSpec<K, V> {
    pub(crate) key_serde: SerdeRef<K>,
    pub(crate) value_serde: SerdeRef<V>,
    pub(crate) extractor: TimestampExtractor<V>,
}

impl<K: Clone + Send + 'static, V: Clone + Send + 'static> SourceFactory for SourceSpec<K, V> {
    fn instantiate(&self, id: NodeId, inst: &mut Instantiator<'_>) -> Result<Box<dyn SourceNode>> {
        let children = inst.children::<K, V>(id)?;
        Ok(Box::new(Source {
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            extractor: self.extractor.clone(),
            children,
        }))
    }
}

pub(crate) fn spec<K, V>(
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
    extractor: TimestampExtractor<V>,
) -> Arc<SourceSpec<K, V>> {
    Arc::new(SourceSpec { key_serde, value_serde, extractor })
}
