//! Stream-table joins (`join_table`, `left_join_table`) and stream-global-table joins
//! (`join_global`, `left_join_global`): only the stream side triggers.

use std::sync::Arc;

use super::{GlobalTable, Stream, Table};
use crate::processor::ops::stream_table_join::{Lookup, LookupJoiner, StreamTableJoin};
use crate::serdes::Data;
use crate::topology::ProcFactory;

impl<K: Data, V: Data> Stream<K, V> {
    /// Joins each record with the current value of its key in `table`, at the record's
    /// timestamp; records whose key has no value emit nothing. Table updates emit nothing.
    /// Records with a null key or value are dropped (and counted). The stream is repartitioned
    /// first (topic `<app>-<join name>-left-repartition`) when its key changed; stream and
    /// table must be co-partitioned.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let prices = builder.table::<String, i64>("prices");
    /// builder.stream::<String, i64>("orders").join_table(&prices, |qty, price| qty * price).to("totals");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, i64>("orders").pipe("apple".into(), 3, 1)?; // no price yet
    /// driver.input::<String, Option<i64>>("prices").pipe("apple".into(), Some(5), 2)?;
    /// driver.input::<String, i64>("orders").pipe("apple".into(), 4, 3)?;
    /// let out = driver.output::<String, i64>("totals").read_with_timestamps();
    /// assert_eq!(out, vec![("apple".to_string(), 20, 3)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "KStream.join(KTable)")]
    pub fn join_table<VT: Data, VR: Data>(
        &self,
        table: &Table<K, VT>,
        joiner: impl Fn(&V, &VT) -> VR + Send + Sync + 'static,
    ) -> Stream<K, VR> {
        self.table_lookup(table, "KSTREAM-JOIN", Arc::new(move |v, t| t.map(|t| joiner(v, t))))
    }

    /// Like [`Stream::join_table`], and a record whose key has no value in `table` emits
    /// `joiner(v, None)`; so does a record with a null key.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let names = builder.table::<i64, String>("names");
    /// builder
    ///     .stream::<i64, String>("events")
    ///     .left_join_table(&names, |e, n| format!("{e} by {}", n.map_or("?", |n| n.as_str())))
    ///     .to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<i64, String>("events").pipe(7, "login".into(), 1)?;
    /// assert_eq!(driver.output::<i64, String>("out").read_values(), vec!["login by ?".to_string()]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "leftJoin")]
    pub fn left_join_table<VT: Data, VR: Data>(
        &self,
        table: &Table<K, VT>,
        joiner: impl Fn(&V, Option<&VT>) -> VR + Send + Sync + 'static,
    ) -> Stream<K, VR> {
        self.table_lookup(table, "KSTREAM-LEFTJOIN", Arc::new(move |v, t| Some(joiner(v, t))))
    }

    fn table_lookup<VT: Data, VR: Data>(
        &self,
        table: &Table<K, VT>,
        prefix: &str,
        joiner: LookupJoiner<V, VT, VR>,
    ) -> Stream<K, VR> {
        let (table, store) = table.materialized();
        let op = self.builder.graph().name(None, prefix);
        let stream = match self.repartition_required {
            true => self.through_repartition(&format!("{op}-left"), None, None, None),
            false => self.clone(),
        };
        let lookup: Lookup<K, V, K> = Arc::new(|k: &K, _: &V| k.clone());
        let node = stream.add_lookup(&op, &store, lookup, joiner, true);
        self.builder.graph().copartition.push((op, vec![stream.node, table.node]));
        Stream { node, repartition_required: false, ..stream.with_types() }
    }

    /// Joins each record with the value of `key_selector(key, value)` in the global table, at
    /// the record's timestamp; records finding no value (or with a null computed key) emit
    /// nothing. No co-partitioning or repartitioning is needed: every task holds the whole
    /// global table. Records with a null value are dropped (and counted); a null stream key is
    /// fine, the key selector decides.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let countries = builder.global_table::<String, String>("countries");
    /// builder
    ///     .stream::<i64, String>("logins") // value: country code
    ///     .join_global(&countries, |_, code| code.clone(), |code, name| format!("{code}={name}"))
    ///     .to("out");
    /// let driver = TopologyTestDriver::with_config(builder.build()?, DriverConfig::default().partitions("logins", 3))?;
    /// driver.input::<String, Option<String>>("countries").pipe("fr".into(), Some("France".into()), 0)?;
    /// driver.input::<i64, String>("logins").pipe(42, "fr".into(), 1)?;
    /// assert_eq!(driver.output::<i64, String>("out").read_key_values(), vec![(42, "fr=France".to_string())]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "KStream.join(GlobalKTable)")]
    pub fn join_global<GK: Data, GV: Data, VR: Data>(
        &self,
        global: &GlobalTable<GK, GV>,
        key_selector: impl Fn(&K, &V) -> GK + Send + Sync + 'static,
        joiner: impl Fn(&V, &GV) -> VR + Send + Sync + 'static,
    ) -> Stream<K, VR> {
        let joiner: LookupJoiner<V, GV, VR> = Arc::new(move |v, t| t.map(|t| joiner(v, t)));
        self.global_lookup(global, "KSTREAM-JOIN", Arc::new(key_selector), joiner)
    }

    /// Like [`Stream::join_global`], and a record finding no value emits `joiner(v, None)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let rates = builder.global_table::<String, i64>("rates");
    /// builder
    ///     .stream::<String, (String, i64)>("payments") // value: (currency, amount)
    ///     .left_join_global(&rates, |_, (cur, _)| cur.clone(), |(_, amount), rate| amount * rate.copied().unwrap_or(1))
    ///     .to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, Option<i64>>("rates").pipe("eur".into(), Some(2), 0)?;
    /// let payments = driver.input::<String, (String, i64)>("payments");
    /// payments.pipe("p1".into(), ("eur".into(), 10), 1)?;
    /// payments.pipe("p2".into(), ("usd".into(), 10), 2)?;
    /// assert_eq!(driver.output::<String, i64>("out").read_values(), vec![20, 10]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "leftJoin")]
    pub fn left_join_global<GK: Data, GV: Data, VR: Data>(
        &self,
        global: &GlobalTable<GK, GV>,
        key_selector: impl Fn(&K, &V) -> GK + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&GV>) -> VR + Send + Sync + 'static,
    ) -> Stream<K, VR> {
        let joiner: LookupJoiner<V, GV, VR> = Arc::new(move |v, t| Some(joiner(v, t)));
        self.global_lookup(global, "KSTREAM-LEFTJOIN", Arc::new(key_selector), joiner)
    }

    fn global_lookup<GK: Data, GV: Data, VR: Data>(
        &self,
        global: &GlobalTable<GK, GV>,
        prefix: &str,
        lookup: Lookup<K, V, GK>,
        joiner: LookupJoiner<V, GV, VR>,
    ) -> Stream<K, VR> {
        let op = self.builder.graph().name(None, prefix);
        let node = self.add_lookup(&op, &global.store, lookup, joiner, false);
        Stream { node, ..self.with_types() }
    }

    /// Adds node `name` below this stream joining with the table in `store`.
    fn add_lookup<LK: Data, VT: Data, VR: Data>(
        &self,
        name: &str,
        store: &str,
        lookup: Lookup<K, V, LK>,
        joiner: LookupJoiner<V, VT, VR>,
        by_key: bool,
    ) -> crate::topology::NodeId {
        let store_name = store.to_string();
        let factory = ProcFactory::<_, K, V, K, VR, _>::new(move |inst, _| {
            Ok(StreamTableJoin {
                store: inst.store(&store_name)?,
                lookup: lookup.clone(),
                joiner: joiner.clone(),
                by_key,
            })
        });
        let mut graph = self.builder.graph();
        let node = graph.add_processor(name.to_string(), &[self.node], factory);
        graph.connect_store(node, store);
        node
    }

    /// This stream's handle with another value type (for the fields shared by a join result).
    fn with_types<VR: Data>(&self) -> Stream<K, VR> {
        Stream {
            builder: self.builder.clone(),
            node: self.node,
            key_serde: self.key_serde.clone(),
            value_serde: VR::default_serde(),
            repartition_required: self.repartition_required,
        }
    }
}
