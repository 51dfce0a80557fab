//! Stateless table operators: `filter`, `filter_not`, `map_values`, optionally materialized.

use std::sync::Arc;

use super::{Materialized, Table};
use crate::processor::ops::table_values::{TableValues, ValueFn};
use crate::record::{Change, Timestamped};
use crate::serdes::{Data, SerdeRef};
use crate::topology::ProcFactory;

impl<K: Data, V: Data> Table<K, V> {
    /// Keeps the keys whose value satisfies `predicate`; other keys are absent.
    ///
    /// Every update whose new value fails the predicate (or is a delete) is forwarded as a
    /// delete, even when the key's previous value failed it too, as in Kafka Streams.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.table::<String, i64>("balances").filter(|_, v| *v >= 0).to_stream().to("solvent");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, Option<i64>>("balances");
    /// input.pipe("alice".into(), Some(10), 0)?;
    /// input.pipe("alice".into(), Some(-5), 1)?;
    /// input.pipe("alice".into(), Some(-7), 2)?;
    /// let out = driver.output::<String, Option<i64>>("solvent");
    /// assert_eq!(out.read_values(), vec![Some(10), None, None]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn filter(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Table<K, V> {
        self.values_op("KTABLE-FILTER", filter_fn(predicate), self.value_serde.clone(), None)
    }

    /// As [`Table::filter`], materialized into a store of its own (queryable, and usable
    /// where a store is needed).
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.table::<String, i64>("balances").filter_with(|_, v| *v >= 0, Materialized::named("solvent"));
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, Option<i64>>("balances");
    /// input.pipe("alice".into(), Some(10), 0)?;
    /// input.pipe("bob".into(), Some(-5), 1)?;
    /// assert_eq!(driver.key_value_store::<String, i64>("solvent")?, vec![("alice".to_string(), 10)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn filter_with(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> Table<K, V> {
        let value_serde = materialized.value_serde.clone().unwrap_or_else(|| self.value_serde.clone());
        self.values_op("KTABLE-FILTER", filter_fn(predicate), value_serde, Some(materialized))
    }

    /// Keeps the keys whose value does not satisfy `predicate` (see [`Table::filter`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.table::<String, i64>("balances").filter_not(|_, v| *v < 0).to_stream().to("solvent");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, Option<i64>>("balances");
    /// input.pipe("alice".into(), Some(-1), 0)?;
    /// input.pipe("alice".into(), Some(3), 1)?;
    /// assert_eq!(driver.output::<String, Option<i64>>("solvent").read_values(), vec![None, Some(3)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "filterNot")]
    pub fn filter_not(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Table<K, V> {
        self.filter(move |k, v| !predicate(k, v))
    }

    /// As [`Table::filter_not`], materialized into a store of its own.
    pub fn filter_not_with(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> Table<K, V> {
        self.filter_with(move |k, v| !predicate(k, v), materialized)
    }

    /// Replaces each value with `f(value)`; deletes stay deletes (`f` never sees them).
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.table::<String, String>("names").map_values(|v| v.len() as i64).to_stream().to("lengths");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, Option<String>>("names");
    /// input.pipe("k".into(), Some("four".into()), 0)?;
    /// input.pipe("k".into(), None, 1)?;
    /// assert_eq!(driver.output::<String, Option<i64>>("lengths").read_values(), vec![Some(4), None]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "mapValues")]
    pub fn map_values<V2: Data>(&self, f: impl Fn(V) -> V2 + Send + Sync + 'static) -> Table<K, V2> {
        self.values_op("KTABLE-MAPVALUES", Arc::new(move |_: &K, v| Some(f(v))), V2::default_serde(), None)
    }

    /// As [`Table::map_values`], materialized into a store of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.table::<String, i64>("cents").map_values_with(|c| c / 100, Materialized::named("euros"));
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, Option<i64>>("cents").pipe("k".into(), Some(1_250), 0)?;
    /// assert_eq!(driver.key_value_store::<String, i64>("euros")?, vec![("k".to_string(), 12)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_values_with<V2: Data>(
        &self,
        f: impl Fn(V) -> V2 + Send + Sync + 'static,
        materialized: Materialized<K, V2>,
    ) -> Table<K, V2> {
        let value_serde = materialized.value_serde.clone().unwrap_or_else(V2::default_serde);
        self.values_op("KTABLE-MAPVALUES", Arc::new(move |_: &K, v| Some(f(v))), value_serde, Some(materialized))
    }

    /// Replaces each value with `f(key, value)`; deletes stay deletes.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.table::<String, i64>("t").map_values_with_key(|k, v| format!("{k}={v}")).to_stream().to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, Option<i64>>("t").pipe("a".into(), Some(1), 0)?;
    /// assert_eq!(driver.output::<String, Option<String>>("out").read_values(), vec![Some("a=1".to_string())]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_values_with_key<V2: Data>(&self, f: impl Fn(&K, V) -> V2 + Send + Sync + 'static) -> Table<K, V2> {
        self.values_op("KTABLE-MAPVALUES", Arc::new(move |k: &K, v| Some(f(k, v))), V2::default_serde(), None)
    }

    /// Adds a [`TableValues`] node below this table; keeps the key and its window.
    fn values_op<V2: Data>(
        &self,
        prefix: &str,
        f: ValueFn<K, V, V2>,
        value_serde: SerdeRef<V2>,
        materialized: Option<Materialized<K, V2>>,
    ) -> Table<K, V2> {
        let mut graph = self.builder.graph();
        let store = materialized.map(|m| {
            let name = graph.state_name(m.name.as_deref(), &format!("{prefix}-STATE-STORE"));
            let key_serde = m.key_serde.unwrap_or_else(|| self.key_serde.clone());
            graph.add_store(super::materialize::kv_store::<K, Timestamped<V2>>(
                &name, key_serde, m.backend, m.logging, false,
            ));
            name
        });
        let store_name = store.clone();
        let factory = ProcFactory::<_, K, Change<V>, K, Change<V2>, _>::new(move |inst, _| {
            let store = store_name.as_deref().map(|s| inst.store(s)).transpose()?;
            Ok(TableValues { f: f.clone(), store })
        });
        let name = graph.name(None, prefix);
        let node = graph.add_processor(name, &[self.node], factory);
        if let Some(store) = &store {
            graph.connect_store(node, store);
        }
        drop(graph);
        Table {
            builder: self.builder.clone(),
            node,
            key_serde: self.key_serde.clone(),
            value_serde,
            store,
            window: self.window,
        }
    }
}

fn filter_fn<K: Data, V: Data>(predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> ValueFn<K, V, V> {
    Arc::new(move |k: &K, v: V| if predicate(k, &v) { Some(v) } else { None })
}
