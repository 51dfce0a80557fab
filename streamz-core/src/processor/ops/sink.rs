//! Sink nodes: encode records and hand them to the task's record collector.

use std::sync::Arc;

use crate::error::{RecordPart, StreamsError};
use crate::processor::{Processor, ProcessorContext};
use crate::record::Record;
use crate::serdes::SerdeRef;
use crate::task::policy::apply_production;
use crate::Result;

/// Chooses the topic of each record (`to_dynamic`).
pub(crate) type TopicChooser<K, V> = Arc<dyn Fn(&K, &V) -> String + Send + Sync>;

/// Where a sink writes.
pub(crate) enum SinkTopic<K, V> {
    Fixed(Arc<str>),
    PerRecord(TopicChooser<K, V>),
}

/// Encodes records and sends them to a topic.
pub(crate) struct Sink<K, V> {
    pub(crate) topic: SinkTopic<K, V>,
    pub(crate) key_serde: SerdeRef<K>,
    pub(crate) value_serde: SerdeRef<V>,
    key_buf: Vec<u8>,
    value_buf: Vec<u8>,
}

impl<K, V> Sink<K, V> {
    pub(crate) fn new(topic: SinkTopic<K, V>, key_serde: SerdeRef<K>, value_serde: SerdeRef<V>) -> Self {
        Sink { topic, key_serde, value_serde, key_buf: Vec::new(), value_buf: Vec::new() }
    }
}

impl<K: 'static, V: 'static> Processor<K, V, (), ()> for Sink<K, V> {
    fn process(&mut self, record: Record<K, V>, ctx: &mut ProcessorContext<'_, (), ()>) -> Result<()> {
        let chosen;
        let topic: &str = match &self.topic {
            SinkTopic::Fixed(t) => t,
            SinkTopic::PerRecord(f) => {
                chosen = f(&record.key, &record.value);
                &chosen
            }
        };
        self.key_buf.clear();
        self.value_buf.clear();
        let fail = |part, source| StreamsError::Serialization { topic: topic.to_string(), part, source };
        let encoded = self.key_serde.serialize(&record.key, &mut self.key_buf).map_err(|e| fail(RecordPart::Key, e));
        let encoded = encoded.and_then(|k| {
            let v = self.value_serde.serialize(&record.value, &mut self.value_buf);
            Ok((k, v.map_err(|e| fail(RecordPart::Value, e))?))
        });
        let task = ctx.task_mut();
        let (has_key, has_value) = match encoded {
            Ok(kv) => kv,
            Err(e) => return apply_production(task, task.policies.production, e),
        };
        let key = has_key.then_some(self.key_buf.as_slice());
        let value = has_value.then_some(self.value_buf.as_slice());
        match task.collector.send(topic, None, key, value, record.timestamp, &record.headers) {
            Err(e @ StreamsError::RecordRejected { .. }) => apply_production(task, task.policies.production, e),
            sent => sent,
        }
    }
}
