//! `GroupedStream<K, V>`: a stream grouped by key, ready to aggregate.

use std::sync::Arc;

use super::{Grouped, Materialized, Stream, Table};
use crate::processor::ops::aggregate::{Fold, StreamAggregate};
use crate::record::{Change, Timestamped};
use crate::serdes::{Data, SerdeRef};
use crate::topology::ProcFactory;

/// A stream grouped by its key: aggregate it (`count`, `reduce`, `aggregate`) or window it
/// first (`windowed_by`).
#[doc(alias = "KGroupedStream")]
pub struct GroupedStream<K, V> {
    pub(crate) stream: Stream<K, V>,
    pub(crate) name: Option<String>,
}

impl<K, V> Clone for GroupedStream<K, V> {
    fn clone(&self) -> Self {
        GroupedStream { stream: self.stream.clone(), name: self.name.clone() }
    }
}

impl<K, V> std::fmt::Debug for GroupedStream<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupedStream").field("stream", &self.stream).field("name", &self.name).finish()
    }
}

impl<K: Data, V: Data> Stream<K, V> {
    /// Groups the stream by its key; aggregating repartitions first if the key changed.
    #[doc(alias = "groupByKey")]
    pub fn group_by_key(&self) -> GroupedStream<K, V> {
        self.group_by_key_with(Grouped::default())
    }

    /// Groups by key as `grouped` says (repartition topic name, serdes).
    pub fn group_by_key_with(&self, grouped: Grouped<K, V>) -> GroupedStream<K, V> {
        let mut stream = self.clone();
        if let Some(k) = grouped.key_serde {
            stream.key_serde = k;
        }
        if let Some(v) = grouped.value_serde {
            stream.value_serde = v;
        }
        GroupedStream { stream, name: grouped.name }
    }

    /// Groups by a new key computed from each record; aggregating repartitions first.
    #[doc(alias = "groupBy")]
    pub fn group_by<K2: Data>(&self, key: impl Fn(&K, &V) -> K2 + Send + Sync + 'static) -> GroupedStream<K2, V> {
        self.group_by_with(key, Grouped::default())
    }

    /// Groups by a new key as `grouped` says.
    pub fn group_by_with<K2: Data>(
        &self,
        key: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
        grouped: Grouped<K2, V>,
    ) -> GroupedStream<K2, V> {
        self.select_key(key).group_by_key_with(grouped)
    }
}

impl<K: Data, V: Data> GroupedStream<K, V> {
    /// The grouped stream, through a repartition topic when its key changed. `store` names
    /// the topic when the grouping has no name of its own.
    pub(crate) fn repartitioned(&self, store: &str) -> Stream<K, V> {
        if !self.stream.repartition_required {
            return self.stream.clone();
        }
        let name = self.name.clone().unwrap_or_else(|| store.to_string());
        self.stream.through_repartition(&name, None, None, None)
    }

    /// The name of a new stateful operator's store.
    pub(crate) fn store_name<A>(&self, materialized: &Materialized<K, A>, prefix: &str) -> String {
        self.stream.builder.graph().state_name(materialized.name.as_deref(), prefix)
    }

    /// Counts the records of each key. Records with a null key or value are skipped.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("clicks").group_by_key().count().to_stream().to("counts");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, String>("clicks");
    /// input.pipe("alice".into(), "/home".into(), 0)?;
    /// input.pipe("alice".into(), "/cart".into(), 1)?;
    /// let counts = driver.output::<String, Option<i64>>("counts");
    /// assert_eq!(counts.read_values(), vec![Some(1), Some(2)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count(&self) -> Table<K, i64> {
        self.count_with(Materialized::default())
    }

    /// Counts as `materialized` says (store name, backend).
    pub fn count_with(&self, materialized: Materialized<K, i64>) -> Table<K, i64> {
        self.fold("KSTREAM-AGGREGATE", materialized, Arc::new(|_: &K, _: V, count: Option<i64>| count.unwrap_or(0) + 1))
    }

    /// Combines each key's values with `reducer(aggregate, value)`; the first value is the
    /// first aggregate.
    pub fn reduce(&self, reducer: impl Fn(V, V) -> V + Send + Sync + 'static) -> Table<K, V> {
        self.reduce_with(reducer, Materialized::default())
    }

    /// Reduces as `materialized` says.
    pub fn reduce_with(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> Table<K, V> {
        let fold: Fold<K, V, V> = Arc::new(move |_, value, agg| match agg {
            Some(agg) => reducer(agg, value),
            None => value,
        });
        self.fold("KSTREAM-REDUCE", materialized, fold)
    }

    /// Folds each key's values into an aggregate: starts from `init()`, then
    /// `aggregator(key, value, aggregate)` per record.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .stream::<String, i64>("trades")
    ///     .group_by_key()
    ///     .aggregate(|| 0i64, |_, amount, total| total + amount)
    ///     .to_stream()
    ///     .to("totals");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, i64>("trades");
    /// input.pipe("p1".into(), 5, 0)?;
    /// input.pipe("p1".into(), 7, 1)?;
    /// assert_eq!(driver.output::<String, Option<i64>>("totals").read_values(), vec![Some(5), Some(12)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn aggregate<A: Data>(
        &self,
        init: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
    ) -> Table<K, A> {
        self.aggregate_with(init, aggregator, Materialized::default())
    }

    /// Aggregates as `materialized` says.
    pub fn aggregate_with<A: Data>(
        &self,
        init: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        materialized: Materialized<K, A>,
    ) -> Table<K, A> {
        let fold: Fold<K, V, A> = Arc::new(move |key, value, agg| aggregator(key, value, agg.unwrap_or_else(&init)));
        self.fold("KSTREAM-AGGREGATE", materialized, fold)
    }

    fn fold<A: Data>(&self, prefix: &str, materialized: Materialized<K, A>, fold: Fold<K, V, A>) -> Table<K, A> {
        let store = self.store_name(&materialized, &format!("{prefix}-STATE-STORE"));
        let input = self.repartitioned(&store);
        let key_serde: SerdeRef<K> = materialized.key_serde.unwrap_or_else(|| input.key_serde.clone());
        let value_serde = materialized.value_serde.unwrap_or_else(A::default_serde);
        let mut graph = input.builder.graph();
        let mut def = super::materialize::kv_store::<K, Timestamped<A>>(
            &store,
            key_serde.clone(),
            materialized.backend,
            materialized.logging,
            false,
        );
        def.cached = materialized.caching;
        graph.add_store(def);
        let store_name = store.clone();
        let factory = ProcFactory::<_, K, V, K, Change<A>, _>::new(move |inst, _| {
            let (store, cache) = (inst.store(&store_name)?, inst.cache_link(&store_name));
            Ok(StreamAggregate { store, fold: fold.clone(), cache })
        });
        let name = graph.name(None, prefix);
        let node = graph.add_processor(name, &[input.node], factory);
        graph.connect_store(node, &store);
        drop(graph);
        Table { builder: input.builder.clone(), node, key_serde, value_serde, store: Some(store), window: None }
    }
}
