//! `Stream<K, V>`: a record stream and its stateless operators.

use std::sync::Arc;

use super::{Consumed, Produced, Repartitioned, StreamsBuilder};
use crate::processor::ops::sink::{Sink, SinkTopic, TopicChooser};
use crate::processor::ops::{source, FnProcessor};
use crate::processor::ProcessorContext;
use crate::record::Record;
use crate::serdes::{Data, SerdeRef};
use crate::topology::{NodeId, ProcFactory, TopicRef};
use crate::Result;

/// A stream of records: every record is an independent event.
///
/// Handles are cheap to clone; using one handle twice fans the stream out. Closures are
/// `Fn + Send + Sync + 'static`: every task runs them.
#[doc(alias = "KStream")]
pub struct Stream<K, V> {
    pub(crate) builder: StreamsBuilder,
    pub(crate) node: NodeId,
    pub(crate) key_serde: SerdeRef<K>,
    pub(crate) value_serde: SerdeRef<V>,
    /// Whether the key may have changed since the last partitioning: grouping or joining then
    /// goes through a repartition topic first.
    pub(crate) repartition_required: bool,
}

impl<K, V> Clone for Stream<K, V> {
    fn clone(&self) -> Self {
        Stream {
            builder: self.builder.clone(),
            node: self.node,
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            repartition_required: self.repartition_required,
        }
    }
}

impl<K, V> std::fmt::Debug for Stream<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("node", &self.node)
            .field("repartition_required", &self.repartition_required)
            .finish()
    }
}

impl<K: Data, V: Data> Stream<K, V> {
    /// Adds a node running `f` on each record, below this stream.
    pub(crate) fn add_fn<K2: Data, V2: Data, F>(
        &self,
        prefix: &str,
        named: Option<&str>,
        f: F,
        key_serde: SerdeRef<K2>,
        value_serde: SerdeRef<V2>,
        repartition_required: bool,
    ) -> Stream<K2, V2>
    where
        F: Fn(Record<K, V>, &mut ProcessorContext<'_, K2, V2>) -> Result<()> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let factory = ProcFactory::<_, K, V, K2, V2, _>::new(move |_, _| Ok(FnProcessor::new(f.clone())));
        let mut graph = self.builder.graph();
        let name = graph.name(named, prefix);
        let node = graph.add_processor(name, &[self.node], factory);
        drop(graph);
        Stream { builder: self.builder.clone(), node, key_serde, value_serde, repartition_required }
    }

    /// Keeps the records for which `predicate` holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, i64>("in").filter(|_, v| *v > 10).to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, i64>("in");
    /// input.pipe("a".into(), 5, 0)?;
    /// input.pipe("b".into(), 50, 1)?;
    /// assert_eq!(driver.output::<String, i64>("out").read_key_values(), vec![("b".to_string(), 50)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn filter(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Stream<K, V> {
        self.add_fn(
            "KSTREAM-FILTER",
            None,
            move |r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V>| {
                if predicate(&r.key, &r.value) {
                    ctx.forward(r)
                } else {
                    Ok(())
                }
            },
            self.key_serde.clone(),
            self.value_serde.clone(),
            self.repartition_required,
        )
    }

    /// Keeps the records for which `predicate` does not hold.
    pub fn filter_not(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Stream<K, V> {
        self.filter(move |k, v| !predicate(k, v))
    }

    /// Replaces key and value; grouping or joining afterwards repartitions.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, i64>("in").map(|k, v| (v, k)).to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, i64>("in").pipe("a".into(), 1, 0)?;
    /// assert_eq!(driver.output::<i64, String>("out").read_key_values(), vec![(1, "a".to_string())]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map<K2: Data, V2: Data>(&self, f: impl Fn(K, V) -> (K2, V2) + Send + Sync + 'static) -> Stream<K2, V2> {
        self.add_fn(
            "KSTREAM-MAP",
            None,
            move |r: Record<K, V>, ctx: &mut ProcessorContext<'_, K2, V2>| {
                let (k, v) = f(r.key, r.value);
                ctx.forward(Record { key: k, value: v, timestamp: r.timestamp, headers: r.headers })
            },
            K2::default_serde(),
            V2::default_serde(),
            true,
        )
    }

    /// Replaces the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("in").map_values(|v| v.len() as i64).to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, String>("in").pipe("a".into(), "four".into(), 0)?;
    /// assert_eq!(driver.output::<String, i64>("out").read_values(), vec![4]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_values<V2: Data>(&self, f: impl Fn(V) -> V2 + Send + Sync + 'static) -> Stream<K, V2> {
        self.add_fn(
            "KSTREAM-MAPVALUES",
            None,
            move |r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V2>| {
                let value = f(r.value);
                ctx.forward(Record { key: r.key, value, timestamp: r.timestamp, headers: r.headers })
            },
            self.key_serde.clone(),
            V2::default_serde(),
            self.repartition_required,
        )
    }

    /// Replaces the value, seeing the key.
    pub fn map_values_with_key<V2: Data>(&self, f: impl Fn(&K, V) -> V2 + Send + Sync + 'static) -> Stream<K, V2> {
        self.add_fn(
            "KSTREAM-MAPVALUES",
            None,
            move |r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V2>| {
                let value = f(&r.key, r.value);
                ctx.forward(Record { key: r.key, value, timestamp: r.timestamp, headers: r.headers })
            },
            self.key_serde.clone(),
            V2::default_serde(),
            self.repartition_required,
        )
    }

    /// Replaces each record by zero or more records; grouping or joining afterwards
    /// repartitions.
    pub fn flat_map<K2: Data, V2: Data, I>(&self, f: impl Fn(K, V) -> I + Send + Sync + 'static) -> Stream<K2, V2>
    where
        I: IntoIterator<Item = (K2, V2)>,
    {
        self.add_fn(
            "KSTREAM-FLATMAP",
            None,
            move |r: Record<K, V>, ctx: &mut ProcessorContext<'_, K2, V2>| {
                for (key, value) in f(r.key, r.value) {
                    ctx.forward(Record { key, value, timestamp: r.timestamp, headers: r.headers.clone() })?;
                }
                Ok(())
            },
            K2::default_serde(),
            V2::default_serde(),
            true,
        )
    }

    /// Replaces each value by zero or more values, keeping the key.
    pub fn flat_map_values<V2: Data, I>(&self, f: impl Fn(V) -> I + Send + Sync + 'static) -> Stream<K, V2>
    where
        I: IntoIterator<Item = V2>,
    {
        self.add_fn(
            "KSTREAM-FLATMAPVALUES",
            None,
            move |r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V2>| {
                for value in f(r.value) {
                    ctx.forward(Record {
                        key: r.key.clone(),
                        value,
                        timestamp: r.timestamp,
                        headers: r.headers.clone(),
                    })?;
                }
                Ok(())
            },
            self.key_serde.clone(),
            V2::default_serde(),
            self.repartition_required,
        )
    }

    /// Sets a new key; grouping or joining afterwards repartitions.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<(), String>("in").select_key(|_, v| v.clone()).to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<(), String>("in").pipe((), "x".into(), 0)?;
    /// assert_eq!(driver.output::<String, String>("out").read_key_values(), vec![("x".to_string(), "x".to_string())]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn select_key<K2: Data>(&self, f: impl Fn(&K, &V) -> K2 + Send + Sync + 'static) -> Stream<K2, V> {
        self.add_fn(
            "KSTREAM-KEY-SELECT",
            None,
            move |r: Record<K, V>, ctx: &mut ProcessorContext<'_, K2, V>| {
                let key = f(&r.key, &r.value);
                ctx.forward(r.with_key(key))
            },
            K2::default_serde(),
            self.value_serde.clone(),
            true,
        )
    }

    /// Calls `f` on each record and passes it on unchanged.
    pub fn peek(&self, f: impl Fn(&K, &V) + Send + Sync + 'static) -> Stream<K, V> {
        self.add_fn(
            "KSTREAM-PEEK",
            None,
            move |r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V>| {
                f(&r.key, &r.value);
                ctx.forward(r)
            },
            self.key_serde.clone(),
            self.value_serde.clone(),
            self.repartition_required,
        )
    }

    /// Calls `f` on each record; the stream ends here.
    pub fn foreach(&self, f: impl Fn(&K, &V) + Send + Sync + 'static) {
        self.add_fn::<(), (), _>(
            "KSTREAM-FOREACH",
            None,
            move |r: Record<K, V>, _: &mut ProcessorContext<'_, (), ()>| {
                f(&r.key, &r.value);
                Ok(())
            },
            <()>::default_serde(),
            <()>::default_serde(),
            false,
        );
    }

    /// Splits the stream: each record goes to the first branch whose predicate holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let branches = builder
    ///     .stream::<String, i64>("in")
    ///     .split()
    ///     .branch(|_, v| *v < 0)
    ///     .branch(|_, v| *v < 100)
    ///     .default_branch();
    /// branches[0].to("negative");
    /// branches[1].to("small");
    /// branches[2].to("large");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, i64>("in");
    /// for v in [-1, 5, 500] {
    ///     input.pipe("k".into(), v, 0)?;
    /// }
    /// assert_eq!(driver.output::<String, i64>("small").read_values(), vec![5]);
    /// assert_eq!(driver.output::<String, i64>("large").read_values(), vec![500]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "branch")]
    pub fn split(&self) -> super::Split<K, V> {
        super::Split::new(self.clone())
    }

    /// One stream of the records of both streams.
    pub fn merge(&self, other: &Stream<K, V>) -> Stream<K, V> {
        let mut graph = self.builder.graph();
        let name = graph.name(None, "KSTREAM-MERGE");
        let factory = ProcFactory::<_, K, V, K, V, _>::new(|_, _| {
            Ok(FnProcessor::new(Arc::new(|r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V>| ctx.forward(r))))
        });
        let node = graph.add_processor(name, &[self.node, other.node], factory);
        drop(graph);
        Stream {
            builder: self.builder.clone(),
            node,
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            repartition_required: self.repartition_required || other.repartition_required,
        }
    }

    /// Writes the stream to `topic` with the serdes it carries.
    pub fn to(&self, topic: &str) {
        self.to_with(topic, Produced::default())
    }

    /// Writes the stream to `topic` as `produced` says.
    pub fn to_with(&self, topic: &str, produced: Produced<K, V>) {
        self.add_sink(Some(TopicRef::External(topic.to_string())), None, produced);
    }

    /// Writes each record to the topic `choose` names for it.
    pub fn to_dynamic(&self, choose: impl Fn(&K, &V) -> String + Send + Sync + 'static) {
        self.add_sink(None, Some(Arc::new(choose)), Produced::default());
    }

    /// Adds a sink writing to `topic`, or to the topic `choose` names per record.
    fn add_sink(
        &self,
        topic: Option<TopicRef>,
        choose: Option<TopicChooser<K, V>>,
        produced: Produced<K, V>,
    ) -> NodeId {
        let key_serde = produced.key_serde.unwrap_or_else(|| self.key_serde.clone());
        let value_serde = produced.value_serde.unwrap_or_else(|| self.value_serde.clone());
        let fixed = topic.clone();
        let factory = ProcFactory::<_, K, V, (), (), _>::new(move |inst, _| {
            let target = match (&fixed, &choose) {
                (Some(t), _) => SinkTopic::Fixed(inst.topic(t)),
                (None, Some(f)) => SinkTopic::PerRecord(f.clone()),
                (None, None) => return Err(crate::StreamsError::Bug("a sink without a topic".into())),
            };
            Ok(Sink::new(target, key_serde.clone(), value_serde.clone()))
        });
        let mut graph = self.builder.graph();
        let name = graph.name(produced.name.as_deref(), "KSTREAM-SINK");
        graph.add_sink(name, self.node, topic, factory)
    }

    /// Sends the stream through a repartition topic `<app>-<name>-repartition`, so records are
    /// partitioned by their current key.
    pub fn repartition(&self) -> Stream<K, V> {
        self.repartition_with(Repartitioned::default())
    }

    /// Repartitions as `options` says (name, partition count, serdes).
    pub fn repartition_with(&self, options: Repartitioned<K, V>) -> Stream<K, V> {
        let name = {
            let mut graph = self.builder.graph();
            graph.state_name(options.name.as_deref(), "KSTREAM-REPARTITION")
        };
        self.through_repartition(&name, options.partitions, options.key_serde, options.value_serde)
    }

    /// Writes to the repartition topic `<name>-repartition` and reads it back.
    pub(crate) fn through_repartition(
        &self,
        name: &str,
        partitions: Option<i32>,
        key_serde: Option<SerdeRef<K>>,
        value_serde: Option<SerdeRef<V>>,
    ) -> Stream<K, V> {
        let key_serde = key_serde.unwrap_or_else(|| self.key_serde.clone());
        let value_serde = value_serde.unwrap_or_else(|| self.value_serde.clone());
        let topic = TopicRef::Internal(format!("{name}-repartition"));
        self.builder.graph().add_repartition(topic.clone(), partitions);
        let produced =
            Produced::with(key_serde.clone(), value_serde.clone()).with_name(format!("{name}-repartition-sink"));
        self.add_sink(Some(topic.clone()), None, produced);
        let spec = source::spec(key_serde.clone(), value_serde.clone(), Default::default(), None);
        let mut graph = self.builder.graph();
        let node = graph.add_source(format!("{name}-repartition-source"), vec![topic], spec);
        drop(graph);
        Stream { builder: self.builder.clone(), node, key_serde, value_serde, repartition_required: false }
    }

    /// The builder this stream belongs to.
    pub fn builder(&self) -> &StreamsBuilder {
        &self.builder
    }

    /// Reads the stream again from a topic it was written to: `to(topic)` then
    /// `builder.stream(topic)`.
    pub fn through(&self, topic: &str) -> Stream<K, V> {
        self.to_with(topic, Produced::with(self.key_serde.clone(), self.value_serde.clone()));
        self.builder.stream_with(topic, Consumed::with(self.key_serde.clone(), self.value_serde.clone()))
    }
}
