//! Tables read from topics, and streams turned into tables.

use super::{Consumed, Materialized, Stream, StreamsBuilder, Table};
use crate::processor::ops::source;
use crate::processor::ops::table_source::TableSource;
use crate::record::Timestamped;
use crate::serdes::{Data, OptionSerde};
use crate::topology::{ProcFactory, TopicRef};

/// A table of `topic` (a global one when `global`), and its store's name.
pub(crate) fn table<K: Data, V: Data>(
    builder: &StreamsBuilder,
    topic: &str,
    consumed: Consumed<K, V>,
    materialized: Materialized<K, V>,
    global: bool,
) -> (Table<K, V>, String) {
    let key_serde = consumed.key_serde.or(materialized.key_serde).unwrap_or_else(K::default_serde);
    let value_serde = consumed.value_serde.or(materialized.value_serde).unwrap_or_else(V::default_serde);
    let nullable: crate::serdes::SerdeRef<Option<V>> = std::sync::Arc::new(OptionSerde::new(value_serde.clone()));
    let extractor = match consumed.extractor {
        super::TimestampExtractor::RecordTimestamp => super::TimestampExtractor::RecordTimestamp,
        super::TimestampExtractor::WallClock => super::TimestampExtractor::WallClock,
        super::TimestampExtractor::Value(f) => {
            super::TimestampExtractor::Value(std::sync::Arc::new(move |v: &Option<V>| v.as_ref().and_then(|v| f(v))))
        }
    };
    let spec = source::spec(key_serde.clone(), nullable, extractor, consumed.error_policy);
    let mut graph = builder.graph();
    let source_name = graph.name(consumed.name.as_deref(), "KSTREAM-SOURCE");
    let topics = vec![TopicRef::External(topic.to_string())];
    let source = if global {
        graph.add_global_source(source_name, topics, spec)
    } else {
        graph.add_source(source_name, topics, spec)
    };
    let store = graph.state_name(materialized.name.as_deref(), &format!("{topic}-STATE-STORE"));
    let mut def = super::materialize::kv_store::<K, Timestamped<V>>(
        &store,
        key_serde.clone(),
        materialized.backend,
        materialized.logging,
        global,
    );
    def.cached = materialized.caching;
    graph.add_store(def);
    let store_name = store.clone();
    let factory = ProcFactory::<_, K, Option<V>, K, crate::record::Change<V>, _>::new(move |inst, _| {
        Ok(TableSource { store: inst.store(&store_name)?, cache: inst.cache_link(&store_name) })
    });
    let name = graph.name(None, "KTABLE-SOURCE");
    let node = graph.add_processor(name, &[source], factory);
    graph.connect_store(node, &store);
    drop(graph);
    (Table { builder: builder.clone(), node, key_serde, value_serde, store: Some(store.clone()), window: None }, store)
}

impl<K: Data, V: Data> Stream<K, V> {
    /// A table of this stream: each record updates its key. (A stream of `Option` values
    /// deletes on `None`: use [`Stream::to_table_nullable`].)
    #[doc(alias = "toTable")]
    pub fn to_table(&self) -> Table<K, V> {
        self.to_table_with(Materialized::default())
    }

    /// A table of this stream, materialized as given.
    pub fn to_table_with(&self, materialized: Materialized<K, V>) -> Table<K, V> {
        self.map_values(Some).to_table_nullable_with(materialized)
    }
}

impl<K: Data, V: Data> Stream<K, Option<V>> {
    /// A table of this stream, where `None` deletes the key.
    pub fn to_table_nullable(&self) -> Table<K, V> {
        self.to_table_nullable_with(Materialized::default())
    }

    /// A table of this stream, where `None` deletes the key, materialized as given.
    pub fn to_table_nullable_with(&self, materialized: Materialized<K, V>) -> Table<K, V> {
        let key_serde = materialized.key_serde.unwrap_or_else(|| self.key_serde.clone());
        let value_serde = materialized.value_serde.unwrap_or_else(V::default_serde);
        let mut graph = self.builder.graph();
        let store = graph.state_name(materialized.name.as_deref(), "KSTREAM-TOTABLE-STATE-STORE");
        let mut def = super::materialize::kv_store::<K, Timestamped<V>>(
            &store,
            key_serde.clone(),
            materialized.backend,
            materialized.logging,
            false,
        );
        def.cached = materialized.caching;
        graph.add_store(def);
        let store_name = store.clone();
        let factory = ProcFactory::<_, K, Option<V>, K, crate::record::Change<V>, _>::new(move |inst, _| {
            Ok(TableSource { store: inst.store(&store_name)?, cache: inst.cache_link(&store_name) })
        });
        let name = graph.name(None, "KSTREAM-TOTABLE");
        let node = graph.add_processor(name, &[self.node], factory);
        graph.connect_store(node, &store);
        drop(graph);
        Table { builder: self.builder.clone(), node, key_serde, value_serde, store: Some(store), window: None }
    }
}
