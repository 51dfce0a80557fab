//! `StreamsBuilder`: where a topology starts.

use std::sync::{Arc, Mutex, MutexGuard};

use super::{Consumed, Materialized, Stream, Table};
use crate::error::TopologyError;
use crate::processor::ops::source;
use crate::serdes::Data;
use crate::task::lock;
use crate::topology::{GraphBuilder, TopicRef, Topology};

/// Builds a [`Topology`] with the typed DSL.
///
/// # Examples
///
/// ```
/// use streamz_core::prelude::*;
///
/// let builder = StreamsBuilder::new();
/// builder
///     .stream::<String, String>("sentences")
///     .flat_map_values(|line| line.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>())
///     .select_key(|_, word| word.clone())
///     .group_by_key()
///     .count()
///     .to_stream()
///     .to("word-counts");
/// let topology = builder.build()?;
/// assert_eq!(topology.subtopologies().len(), 2); // split at the repartition topic
/// # Ok::<(), streamz_core::TopologyError>(())
/// ```
#[doc(alias = "KStreamBuilder")]
#[derive(Clone, Default)]
pub struct StreamsBuilder {
    pub(crate) graph: Arc<Mutex<GraphBuilder>>,
}

impl std::fmt::Debug for StreamsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsBuilder").field("nodes", &self.graph().nodes.len()).finish()
    }
}

impl StreamsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuse generated names for stores and internal topics: every stateful operator must be
    /// named (`Materialized::named`, `Grouped::named`, ...), so adding an operator can never
    /// rename existing state. Like Kafka Streams' `ensure.explicit.internal.resource.naming`.
    pub fn require_explicit_names(self) -> Self {
        self.graph().explicit_naming = true;
        self
    }

    pub(crate) fn graph(&self) -> MutexGuard<'_, GraphBuilder> {
        lock(&self.graph)
    }

    /// A stream of `topic`, with the default serdes of `K` and `V`.
    pub fn stream<K: Data, V: Data>(&self, topic: &str) -> Stream<K, V> {
        self.stream_with(topic, Consumed::default())
    }

    /// A stream of `topic`, read as `consumed` says.
    pub fn stream_with<K: Data, V: Data>(&self, topic: &str, consumed: Consumed<K, V>) -> Stream<K, V> {
        self.stream_from(&[topic], consumed)
    }

    /// One stream of several topics.
    pub fn stream_from<K: Data, V: Data>(&self, topics: &[&str], consumed: Consumed<K, V>) -> Stream<K, V> {
        let key_serde = consumed.key_serde.unwrap_or_else(K::default_serde);
        let value_serde = consumed.value_serde.unwrap_or_else(V::default_serde);
        let spec = source::spec(key_serde.clone(), value_serde.clone(), consumed.extractor, consumed.error_policy);
        let mut graph = self.graph();
        let name = graph.name(consumed.name.as_deref(), "KSTREAM-SOURCE");
        let topics = topics.iter().map(|t| TopicRef::External(t.to_string())).collect();
        let node = graph.add_source(name, topics, spec);
        drop(graph);
        Stream { builder: self.clone(), node, key_serde, value_serde, repartition_required: false }
    }

    /// A table of `topic`: each record is an update of its key (a null value deletes it),
    /// materialized in a store named after the operator.
    pub fn table<K: Data, V: Data>(&self, topic: &str) -> Table<K, V> {
        self.table_with(topic, Consumed::default(), Materialized::default())
    }

    /// A table of `topic`, read and materialized as given.
    pub fn table_with<K: Data, V: Data>(
        &self,
        topic: &str,
        consumed: Consumed<K, V>,
        materialized: Materialized<K, V>,
    ) -> Table<K, V> {
        super::table_source::table(self, topic, consumed, materialized, false).0
    }

    /// A global table of `topic`: every task sees all its partitions (for joins whose key is
    /// computed from the stream record; no co-partitioning needed).
    #[doc(alias = "globalTable")]
    pub fn global_table<K: Data, V: Data>(&self, topic: &str) -> super::GlobalTable<K, V> {
        self.global_table_with(topic, Consumed::default(), Materialized::default())
    }

    /// A global table of `topic`, read and materialized as given.
    pub fn global_table_with<K: Data, V: Data>(
        &self,
        topic: &str,
        consumed: Consumed<K, V>,
        materialized: Materialized<K, V>,
    ) -> super::GlobalTable<K, V> {
        let (table, store) = super::table_source::table(self, topic, consumed, materialized, true);
        super::GlobalTable { store, key_serde: table.key_serde, _value: std::marker::PhantomData }
    }

    /// Builds the topology.
    ///
    /// # Errors
    ///
    /// The first [`TopologyError`] found while the DSL was used: a duplicate name, an invalid
    /// window, a generated name while explicit names are required.
    pub fn build(&self) -> Result<Topology, TopologyError> {
        self.graph().build()
    }
}
