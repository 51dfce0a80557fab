//! `Table<K, V>`: a changelog stream, one current value per key.

use super::windows::WindowClose;
use super::{Stream, StreamsBuilder};
use crate::processor::ops::FnProcessor;
use crate::processor::ProcessorContext;
use crate::record::{Change, Record};
use crate::serdes::{Data, SerdeRef};
use crate::topology::{NodeId, ProcFactory};
use std::sync::Arc;

/// A table: each record is the new value of its key; a null value deletes the key.
///
/// Updates travel as [`Change`]s (new and old value); [`Table::to_stream`] emits the new
/// values, `None` for deletes.
#[doc(alias = "KTable")]
pub struct Table<K, V> {
    pub(crate) builder: StreamsBuilder,
    pub(crate) node: NodeId,
    pub(crate) key_serde: SerdeRef<K>,
    pub(crate) value_serde: SerdeRef<V>,
    /// The store holding the table's current values (`Timestamped<V>` per key), if any.
    pub(crate) store: Option<String>,
    /// When the windows of a windowed table close (for `suppress`).
    pub(crate) window: Option<WindowClose>,
}

impl<K, V> Clone for Table<K, V> {
    fn clone(&self) -> Self {
        Table {
            builder: self.builder.clone(),
            node: self.node,
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            store: self.store.clone(),
            window: self.window,
        }
    }
}

impl<K, V> std::fmt::Debug for Table<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table").field("node", &self.node).field("store", &self.store).finish()
    }
}

impl<K: Data, V: Data> Table<K, V> {
    /// The stream of the table's updates: the new value of each update, `None` for a delete.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.table::<String, i64>("balances").to_stream().to("updates");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, Option<i64>>("balances");
    /// input.pipe("alice".into(), Some(10), 0)?;
    /// input.pipe("alice".into(), None, 1)?;
    /// let out = driver.output::<String, Option<i64>>("updates");
    /// assert_eq!(out.read_values(), vec![Some(10), None]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "toStream")]
    pub fn to_stream(&self) -> Stream<K, Option<V>> {
        let f = Arc::new(|r: Record<K, Change<V>>, ctx: &mut ProcessorContext<'_, K, Option<V>>| {
            ctx.forward(Record { key: r.key, value: r.value.new, timestamp: r.timestamp, headers: r.headers })
        });
        let factory = ProcFactory::<_, K, Change<V>, K, Option<V>, _>::new(move |_, _| Ok(FnProcessor::new(f.clone())));
        let mut graph = self.builder.graph();
        let name = graph.name(None, "KTABLE-TOSTREAM");
        let node = graph.add_processor(name, &[self.node], factory);
        drop(graph);
        Stream {
            builder: self.builder.clone(),
            node,
            key_serde: self.key_serde.clone(),
            value_serde: <Option<V>>::default_serde(),
            repartition_required: false,
        }
    }
}
