//! Table-table joins (`Table::join`, `left_join`, `outer_join`) and materializing a table for
//! lookups.
//!
//! Joiners see values only (`Fn(&V, &VO) -> VR`; `Option` for a side that may be missing).

use std::sync::Arc;

use super::Table;
use crate::processor::ops::materialize_table::MaterializeTable;
use crate::processor::ops::table_table_join::{RowJoiner, TableTableJoin};
use crate::processor::ops::FnProcessor;
use crate::processor::ProcessorContext;
use crate::record::{Change, Record, Timestamped};
use crate::serdes::Data;
use crate::topology::ProcFactory;

impl<K: Data, V: Data> Table<K, V> {
    /// This table with a store of its current values: itself when it has one, else the table
    /// behind a node writing every change into a new store `KTABLE-MATERIALIZE-STATE-STORE-<n>`.
    pub(crate) fn materialized(&self) -> (Table<K, V>, String) {
        if let Some(store) = &self.store {
            return (self.clone(), store.clone());
        }
        let mut graph = self.builder.graph();
        let store = graph.state_name(None, "KTABLE-MATERIALIZE-STATE-STORE");
        let kv = super::materialize::kv_store::<K, Timestamped<V>>;
        graph.add_store(kv(&store, self.key_serde.clone(), None, true, false));
        let name = store.clone();
        let factory = ProcFactory::<_, K, Change<V>, K, Change<V>, _>::new(move |inst, _| {
            Ok(MaterializeTable { store: inst.store(&name)? })
        });
        let node_name = graph.name(None, "KTABLE-MATERIALIZE");
        let node = graph.add_processor(node_name, &[self.node], factory);
        graph.connect_store(node, &store);
        drop(graph);
        (Table { node, store: Some(store.clone()), ..self.clone() }, store)
    }

    /// Inner-joins this table with `other` by key: both sides trigger, each update joins the
    /// other side's current value. The result's timestamp is the larger of the update's and the
    /// other value's. A delete emits a tombstone whenever the other side has a value (again on
    /// every repeated delete). Both tables must be co-partitioned.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let names = builder.table::<i64, String>("names");
    /// let emails = builder.table::<i64, String>("emails");
    /// names.join(&emails, |n, e| format!("{n} <{e}>")).to_stream().to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<i64, Option<String>>("names").pipe(1, Some("Ada".into()), 5)?;
    /// driver.input::<i64, Option<String>>("emails").pipe(1, Some("ada@x".into()), 3)?;
    /// driver.input::<i64, Option<String>>("names").pipe(1, None, 9)?;
    /// let out = driver.output::<i64, Option<String>>("out").read_with_timestamps();
    /// assert_eq!(out, vec![(1, Some("Ada <ada@x>".to_string()), 5), (1, None, 9)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "KTable.join")]
    pub fn join<VO: Data, VR: Data>(
        &self,
        other: &Table<K, VO>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
    ) -> Table<K, VR> {
        let joiner = Arc::new(joiner);
        let right = joiner.clone();
        self.table_join(
            other,
            "KTABLE-JOIN",
            Arc::new(move |l, r| Some(joiner(l?, r?))),
            Arc::new(move |r, l| Some(right(l?, r?))),
        )
    }

    /// Left-joins this table with `other`: every left value gives a row, `joiner(v, None)`
    /// while the right side is empty. A left delete emits a tombstone if the right side has a
    /// value or the left had one; a right delete emits `joiner(left, None)` if the left side
    /// has a value.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let users = builder.table::<i64, String>("users");
    /// let plans = builder.table::<i64, String>("plans");
    /// users.left_join(&plans, |u, p| format!("{u}:{}", p.map_or("free", |p| p.as_str()))).to_stream().to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<i64, Option<String>>("users").pipe(1, Some("ada".into()), 1)?;
    /// driver.input::<i64, Option<String>>("plans").pipe(1, Some("pro".into()), 2)?;
    /// driver.input::<i64, Option<String>>("plans").pipe(1, None, 3)?;
    /// let out = driver.output::<i64, Option<String>>("out").read_values();
    /// assert_eq!(out, vec![Some("ada:free".to_string()), Some("ada:pro".into()), Some("ada:free".into())]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "leftJoin")]
    pub fn left_join<VO: Data, VR: Data>(
        &self,
        other: &Table<K, VO>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
    ) -> Table<K, VR> {
        let joiner = Arc::new(joiner);
        let right = joiner.clone();
        self.table_join(
            other,
            "KTABLE-LEFTJOIN",
            Arc::new(move |l, r| Some(joiner(l?, r))),
            Arc::new(move |r, l| Some(right(l?, r))),
        )
    }

    /// Outer-joins this table with `other`: a row exists while either side has a value. A
    /// delete emits `joiner(None, other)` (or `joiner(this, None)`) if the other side has a
    /// value, else a tombstone if this side had one; nothing when both sides are empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let a = builder.table::<i64, i64>("a");
    /// let b = builder.table::<i64, i64>("b");
    /// a.outer_join(&b, |x, y| (x.copied(), y.copied())).to_stream().to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<i64, Option<i64>>("b").pipe(1, Some(20), 1)?;
    /// driver.input::<i64, Option<i64>>("a").pipe(1, Some(10), 2)?;
    /// driver.input::<i64, Option<i64>>("b").pipe(1, None, 3)?;
    /// let out = driver.output::<i64, Option<(Option<i64>, Option<i64>)>>("out").read_values();
    /// assert_eq!(out, vec![Some((None, Some(20))), Some((Some(10), Some(20))), Some((Some(10), None))]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "outerJoin")]
    pub fn outer_join<VO: Data, VR: Data>(
        &self,
        other: &Table<K, VO>,
        joiner: impl Fn(Option<&V>, Option<&VO>) -> VR + Send + Sync + 'static,
    ) -> Table<K, VR> {
        let joiner = Arc::new(joiner);
        let right = joiner.clone();
        let row = move |l: Option<&V>, r: Option<&VO>| (l.is_some() || r.is_some()).then(|| joiner(l, r));
        let flipped = move |r: Option<&VO>, l: Option<&V>| (l.is_some() || r.is_some()).then(|| right(l, r));
        self.table_join(other, "KTABLE-OUTERJOIN", Arc::new(row), Arc::new(flipped))
    }

    fn table_join<VO: Data, VR: Data>(
        &self,
        other: &Table<K, VO>,
        prefix: &str,
        left_row: RowJoiner<V, VO, VR>,
        right_row: RowJoiner<VO, V, VR>,
    ) -> Table<K, VR> {
        let (left, left_store) = self.materialized();
        let (right, right_store) = other.materialized();
        let mut graph = self.builder.graph();
        let op = graph.name(None, prefix);
        let rs = right_store.clone();
        let this = ProcFactory::<_, K, Change<V>, K, Change<VR>, _>::new(move |inst, _| {
            Ok(TableTableJoin { other: inst.store(&rs)?, row: left_row.clone() })
        });
        let this_node = graph.add_processor(format!("{op}-THIS"), &[left.node], this);
        graph.connect_store(this_node, &right_store);
        let ls = left_store.clone();
        let that = ProcFactory::<_, K, Change<VO>, K, Change<VR>, _>::new(move |inst, _| {
            Ok(TableTableJoin { other: inst.store(&ls)?, row: right_row.clone() })
        });
        let other_node = graph.add_processor(format!("{op}-OTHER"), &[right.node], that);
        graph.connect_store(other_node, &left_store);
        let merge = ProcFactory::<_, K, Change<VR>, K, Change<VR>, _>::new(|_, _| {
            let f = |r: Record<K, Change<VR>>, ctx: &mut ProcessorContext<'_, K, Change<VR>>| ctx.forward(r);
            Ok(FnProcessor::new(Arc::new(f)))
        });
        let merge_name = graph.name(None, "KTABLE-MERGE");
        let node = graph.add_processor(merge_name, &[this_node, other_node], merge);
        graph.copartition.push((op, vec![left.node, right.node]));
        drop(graph);
        Table {
            builder: self.builder.clone(),
            node,
            key_serde: self.key_serde.clone(),
            value_serde: VR::default_serde(),
            store: None,
            window: None,
        }
    }
}

#[cfg(test)]
#[path = "table_join_tests.rs"]
mod tests;
