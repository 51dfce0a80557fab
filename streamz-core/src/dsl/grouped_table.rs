//! `GroupedTable<K, V>`: a table re-grouped by a new key, ready to aggregate with an adder
//! and a subtractor.

use std::sync::Arc;

use super::{Grouped, Materialized, Stream, StreamsBuilder, Table};
use crate::processor::ops::table_aggregate::{Adder, Subtractor, TableAggregate};
use crate::processor::ops::table_group_map::{GroupMapFn, GroupUpdate, TableGroupMap};
use crate::record::{Change, Timestamped};
use crate::serdes::{Data, OptionSerde, SerdeRef, Tuple2Serde};
use crate::topology::{NodeId, ProcFactory};

/// A table re-grouped by a new key ([`Table::group_by`]): aggregate it with `count`,
/// `reduce` or `aggregate`.
///
/// Every update of the table leaves its old group (the subtractor runs) and joins its new
/// one (the adder runs). When both are the same group, the group emits one result for the
/// update; otherwise the old group emits first, then the new one. A delete only leaves its
/// group, whose aggregate stays (a count of 0 is emitted, not a delete).
#[doc(alias = "KGroupedTable")]
pub struct GroupedTable<K, V> {
    builder: StreamsBuilder,
    /// The node emitting the group updates (before the repartition topic).
    node: NodeId,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
    name: Option<String>,
}

impl<K, V> Clone for GroupedTable<K, V> {
    fn clone(&self) -> Self {
        GroupedTable {
            builder: self.builder.clone(),
            node: self.node,
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            name: self.name.clone(),
        }
    }
}

impl<K, V> std::fmt::Debug for GroupedTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupedTable").field("node", &self.node).field("name", &self.name).finish()
    }
}

impl<K: Data, V: Data> Table<K, V> {
    /// Re-groups the table: `f(key, value)` gives each entry's group key and the value that
    /// entry contributes to the group. Aggregating goes through a repartition topic, so each
    /// group is aggregated by one task.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// // Players per team, from a table of player → team.
    /// let builder = StreamsBuilder::new();
    /// builder.table::<String, String>("teams").group_by(|player, team| (team.clone(), player.clone())).count()
    ///     .to_stream().to("team-sizes");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, Option<String>>("teams");
    /// input.pipe("ann".into(), Some("red".into()), 0)?;
    /// input.pipe("bob".into(), Some("red".into()), 1)?;
    /// input.pipe("ann".into(), Some("blue".into()), 2)?;
    /// let out = driver.output::<String, Option<i64>>("team-sizes");
    /// assert_eq!(
    ///     out.read_key_values(),
    ///     vec![
    ///         ("red".to_string(), Some(1)),
    ///         ("red".to_string(), Some(2)),
    ///         ("red".to_string(), Some(1)), // ann leaves red first,
    ///         ("blue".to_string(), Some(1)), // then joins blue
    ///     ]
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "groupBy")]
    pub fn group_by<K2: Data, V2: Data>(
        &self,
        f: impl Fn(&K, &V) -> (K2, V2) + Send + Sync + 'static,
    ) -> GroupedTable<K2, V2> {
        self.group_by_with(f, Grouped::default())
    }

    /// Re-groups as `grouped` says (repartition topic name, serdes of the group key and value).
    pub fn group_by_with<K2: Data, V2: Data>(
        &self,
        f: impl Fn(&K, &V) -> (K2, V2) + Send + Sync + 'static,
        grouped: Grouped<K2, V2>,
    ) -> GroupedTable<K2, V2> {
        let key_serde = grouped.key_serde.unwrap_or_else(K2::default_serde);
        let value_serde = grouped.value_serde.unwrap_or_else(V2::default_serde);
        let f: GroupMapFn<K, V, K2, V2> = Arc::new(f);
        let serde = key_serde.clone();
        let factory = ProcFactory::<_, K, Change<V>, K2, GroupUpdate<V2>, _>::new(move |_, _| {
            Ok(TableGroupMap::new(f.clone(), serde.clone()))
        });
        let mut graph = self.builder.graph();
        let name = graph.name(None, "KTABLE-SELECT");
        let node = graph.add_processor(name, &[self.node], factory);
        drop(graph);
        GroupedTable { builder: self.builder.clone(), node, key_serde, value_serde, name: grouped.name }
    }
}

impl<K: Data, V: Data> GroupedTable<K, V> {
    /// Counts the entries of each group.
    ///
    /// # Examples
    ///
    /// See [`Table::group_by`].
    pub fn count(&self) -> Table<K, i64> {
        self.count_with(Materialized::default())
    }

    /// Counts as `materialized` says (store name, backend).
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, String>("teams")
    ///     .group_by(|player, team| (team.clone(), player.clone()))
    ///     .count_with(Materialized::named("team-sizes"));
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, Option<String>>("teams");
    /// input.pipe("ann".into(), Some("red".into()), 0)?;
    /// input.pipe("ann".into(), None, 1)?;
    /// assert_eq!(driver.key_value_store::<String, i64>("team-sizes")?, vec![("red".to_string(), 0)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count_with(&self, materialized: Materialized<K, i64>) -> Table<K, i64> {
        let add: Adder<K, V, i64> = Arc::new(|_, _, count| count.unwrap_or(0) + 1);
        let subtract: Subtractor<K, V, i64> = Arc::new(|_, _, count| count - 1);
        self.fold("KTABLE-AGGREGATE", materialized, add, subtract)
    }

    /// Combines each group's values: `adder(aggregate, value)` when a value joins the group
    /// (the first value is the first aggregate), `subtractor(aggregate, value)` when one
    /// leaves it.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// // Total balance per region, from a table of account → (region, balance).
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, (String, i64)>("accounts")
    ///     .group_by(|_, (region, balance)| (region.clone(), *balance))
    ///     .reduce(|total, b| total + b, |total, b| total - b)
    ///     .to_stream()
    ///     .to("totals");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, Option<(String, i64)>>("accounts");
    /// input.pipe("a1".into(), Some(("eu".into(), 10)), 0)?;
    /// input.pipe("a2".into(), Some(("eu".into(), 5)), 1)?;
    /// input.pipe("a1".into(), Some(("eu".into(), 12)), 2)?; // one update: -10 +12
    /// let out = driver.output::<String, Option<i64>>("totals");
    /// assert_eq!(out.read_values(), vec![Some(10), Some(15), Some(17)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reduce(
        &self,
        adder: impl Fn(V, V) -> V + Send + Sync + 'static,
        subtractor: impl Fn(V, V) -> V + Send + Sync + 'static,
    ) -> Table<K, V> {
        self.reduce_with(adder, subtractor, Materialized::default())
    }

    /// Reduces as `materialized` says.
    pub fn reduce_with(
        &self,
        adder: impl Fn(V, V) -> V + Send + Sync + 'static,
        subtractor: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> Table<K, V> {
        let add: Adder<K, V, V> = Arc::new(move |_, value, agg| match agg {
            Some(agg) => adder(agg, value),
            None => value,
        });
        let subtract: Subtractor<K, V, V> = Arc::new(move |_, value, agg| subtractor(agg, value));
        self.fold("KTABLE-REDUCE", materialized, add, subtract)
    }

    /// Folds each group's values into an aggregate: starts from `init()`, then
    /// `adder(key, value, aggregate)` when a value joins the group and
    /// `subtractor(key, value, aggregate)` when one leaves it.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// // Number of players and total score per team, from player → (team, score).
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, (String, i64)>("players")
    ///     .group_by(|_, (team, score)| (team.clone(), *score))
    ///     .aggregate(|| (0i64, 0i64), |_, s, (n, total)| (n + 1, total + s), |_, s, (n, total)| (n - 1, total - s))
    ///     .to_stream()
    ///     .to("teams");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, Option<(String, i64)>>("players");
    /// input.pipe("ann".into(), Some(("red".into(), 3)), 0)?;
    /// input.pipe("bob".into(), Some(("red".into(), 4)), 1)?;
    /// input.pipe("ann".into(), None, 2)?;
    /// let out = driver.output::<String, Option<(i64, i64)>>("teams");
    /// assert_eq!(out.read_values(), vec![Some((1, 3)), Some((2, 7)), Some((1, 4))]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn aggregate<A: Data>(
        &self,
        init: impl Fn() -> A + Send + Sync + 'static,
        adder: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        subtractor: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
    ) -> Table<K, A> {
        self.aggregate_with(init, adder, subtractor, Materialized::default())
    }

    /// Aggregates as `materialized` says.
    pub fn aggregate_with<A: Data>(
        &self,
        init: impl Fn() -> A + Send + Sync + 'static,
        adder: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        subtractor: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        materialized: Materialized<K, A>,
    ) -> Table<K, A> {
        let add: Adder<K, V, A> = Arc::new(move |key, value, agg| adder(key, value, agg.unwrap_or_else(&init)));
        self.fold("KTABLE-AGGREGATE", materialized, add, Arc::new(subtractor))
    }

    /// The group updates, through the repartition topic `<name>-repartition` (the grouping's
    /// name, else the store's), partitioned by group key.
    fn repartitioned(&self, store: &str) -> Stream<K, GroupUpdate<V>> {
        let update_serde: SerdeRef<GroupUpdate<V>> = Arc::new(Tuple2Serde::new(
            Arc::new(OptionSerde::new(self.value_serde.clone())),
            Arc::new(OptionSerde::new(self.value_serde.clone())),
        ));
        let updates = Stream {
            builder: self.builder.clone(),
            node: self.node,
            key_serde: self.key_serde.clone(),
            value_serde: update_serde,
            repartition_required: true,
        };
        let name = self.name.clone().unwrap_or_else(|| store.to_string());
        updates.through_repartition(&name, None, None, None)
    }

    fn fold<A: Data>(
        &self,
        prefix: &str,
        materialized: Materialized<K, A>,
        add: Adder<K, V, A>,
        subtract: Subtractor<K, V, A>,
    ) -> Table<K, A> {
        let store = self.builder.graph().state_name(materialized.name.as_deref(), &format!("{prefix}-STATE-STORE"));
        let input = self.repartitioned(&store);
        let key_serde = materialized.key_serde.unwrap_or_else(|| self.key_serde.clone());
        let value_serde = materialized.value_serde.unwrap_or_else(A::default_serde);
        let mut graph = self.builder.graph();
        graph.add_store(super::materialize::kv_store::<K, Timestamped<A>>(
            &store,
            key_serde.clone(),
            materialized.backend,
            materialized.logging,
            false,
        ));
        let store_name = store.clone();
        let factory = ProcFactory::<_, K, GroupUpdate<V>, K, Change<A>, _>::new(move |inst, _| {
            Ok(TableAggregate { store: inst.store(&store_name)?, add: add.clone(), subtract: subtract.clone() })
        });
        let name = graph.name(None, prefix);
        let node = graph.add_processor(name, &[input.node], factory);
        graph.connect_store(node, &store);
        drop(graph);
        Table { builder: self.builder.clone(), node, key_serde, value_serde, store: Some(store), window: None }
    }
}
