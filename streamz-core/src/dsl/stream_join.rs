//! Windowed stream-stream joins: `Stream::join`, `left_join`, `outer_join`.
//!
//! Joiners see values only (`Fn(&V, &VO) -> VR`; `Option` for the side that may be missing);
//! the output keeps the input key.

use std::sync::Arc;
use std::time::Duration;

use super::{JoinWindows, Stream, StreamJoined};
use crate::processor::ops::stream_stream_join::{NullJoiner, PairJoiner, SideWindow, StreamStreamJoin};
use crate::processor::ops::FnProcessor;
use crate::processor::ProcessorContext;
use crate::record::Record;
use crate::serdes::Data;
use crate::topology::ProcFactory;

/// Retention of the held-records stores: held records leave them only when emitted or matched.
const HELD_RETENTION: Duration = Duration::from_millis(i64::MAX as u64 / 4);

impl<K: Data, V: Data> Stream<K, V> {
    /// Inner-joins this stream with `other`: a record at `ts` joins each `other` record of the
    /// same key at `ts - before ..= ts + after` (both bounds inclusive), with output timestamp
    /// `max` of the two. Records with a null key or value are dropped (and counted).
    ///
    /// Both streams are repartitioned first when their key changed (topics
    /// `<app>-<name>-left-repartition` / `-right-repartition`), and must be co-partitioned.
    /// A stored record joins until its window plus grace closes in the join's stream time
    /// (the largest timestamp either input has seen), exactly when a left/outer join would
    /// emit its null-join; a record later than that still joins the other side's records whose
    /// windows are open.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let clicks = builder.stream::<String, String>("clicks");
    /// let views = builder.stream::<String, String>("views");
    /// let window = JoinWindows::of(Duration::from_millis(10));
    /// clicks.join(&views, |c, v| format!("{c}+{v}"), window).to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, String>("views").pipe("a".into(), "v1".into(), 100)?;
    /// driver.input::<String, String>("clicks").pipe("a".into(), "c1".into(), 105)?;
    /// driver.input::<String, String>("clicks").pipe("a".into(), "c2".into(), 111)?; // too late for v1
    /// let out = driver.output::<String, String>("out").read_with_timestamps();
    /// assert_eq!(out, vec![("a".to_string(), "c1+v1".to_string(), 105)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "KStream.join")]
    pub fn join<VO: Data, VR: Data>(
        &self,
        other: &Stream<K, VO>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> Stream<K, VR> {
        self.join_with(other, joiner, windows, StreamJoined::default())
    }

    /// [`Stream::join`] named and stored as `joined` says.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let a = builder.stream::<String, i64>("a");
    /// let b = builder.stream::<String, i64>("b");
    /// a.join_with(&b, |x, y| x + y, JoinWindows::of(Duration::ZERO), StreamJoined::named("sum")).to("out");
    /// let topology = builder.build()?;
    /// assert!(topology.subtopologies()[0].store_names().contains(&"sum-this-join-store".to_string()));
    /// let driver = TopologyTestDriver::new(topology)?;
    /// driver.input::<String, i64>("a").pipe("k".into(), 1, 7)?;
    /// driver.input::<String, i64>("b").pipe("k".into(), 2, 7)?;
    /// assert_eq!(driver.output::<String, i64>("out").read_values(), vec![3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join_with<VO: Data, VR: Data>(
        &self,
        other: &Stream<K, VO>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V, VO>,
    ) -> Stream<K, VR> {
        self.stream_join(other, Arc::new(joiner), None, None, windows, joined)
    }

    /// Left-joins this stream with `other`: like [`Stream::join`], and a left record that
    /// matched nothing is emitted once as `joiner(v, None)` at its own timestamp, when its
    /// window plus grace has closed (`ts + after + grace < st`), by the first record that
    /// reaches the join after that, in order of (timestamp, key). A left record with a null key
    /// is emitted with `None` at once.
    ///
    /// Deliberate difference from Kafka Streams: a record is never null-joined at arrival (Kafka
    /// Streams null-joins a record arriving after its window at once and may then emit a match
    /// too), and held records are emitted as soon as their window closes. A record arriving
    /// after its own window plus grace closed is null-joined (if it matched nothing) by the next
    /// record that reaches the join.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let orders = builder.stream::<String, String>("orders");
    /// let payments = builder.stream::<String, String>("payments");
    /// let window = JoinWindows::of(Duration::from_millis(10));
    /// orders.left_join(&payments, |o, p| format!("{o}:{}", p.map_or("unpaid", |p| p.as_str())), window).to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, String>("orders").pipe("o1".into(), "book".into(), 100)?;
    /// let out = driver.output::<String, String>("out");
    /// assert!(out.read_values().is_empty()); // held: a payment may still come
    /// driver.input::<String, String>("orders").pipe("o2".into(), "pen".into(), 111)?; // closes o1's window
    /// assert_eq!(out.read_with_timestamps(), vec![("o1".to_string(), "book:unpaid".to_string(), 100)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "leftJoin")]
    pub fn left_join<VO: Data, VR: Data>(
        &self,
        other: &Stream<K, VO>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> Stream<K, VR> {
        self.left_join_with(other, joiner, windows, StreamJoined::default())
    }

    /// [`Stream::left_join`] named and stored as `joined` says.
    pub fn left_join_with<VO: Data, VR: Data>(
        &self,
        other: &Stream<K, VO>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V, VO>,
    ) -> Stream<K, VR> {
        let joiner = Arc::new(joiner);
        let (pair, left) = (joiner.clone(), joiner);
        let pair: PairJoiner<V, VO, VR> = Arc::new(move |v, vo| pair(v, Some(vo)));
        let left: NullJoiner<V, VR> = Arc::new(move |v| left(v, None));
        self.stream_join(other, pair, Some(left), None, windows, joined)
    }

    /// Outer-joins this stream with `other`: like [`Stream::left_join`], for both sides; an
    /// unmatched right record is emitted as `joiner(None, Some(r))` when
    /// `r.ts + before + grace < st`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let a = builder.stream::<String, i64>("a");
    /// let b = builder.stream::<String, i64>("b");
    /// let window = JoinWindows::of(Duration::from_millis(5));
    /// a.outer_join(&b, |x, y| (x.copied(), y.copied()), window).to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, i64>("b").pipe("k".into(), 2, 10)?;
    /// driver.input::<String, i64>("a").pipe("other".into(), 1, 16)?; // closes b's record
    /// let out = driver.output::<String, (Option<i64>, Option<i64>)>("out").read_with_timestamps();
    /// assert_eq!(out, vec![("k".to_string(), (None, Some(2)), 10)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "outerJoin")]
    pub fn outer_join<VO: Data, VR: Data>(
        &self,
        other: &Stream<K, VO>,
        joiner: impl Fn(Option<&V>, Option<&VO>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> Stream<K, VR> {
        self.outer_join_with(other, joiner, windows, StreamJoined::default())
    }

    /// [`Stream::outer_join`] named and stored as `joined` says.
    pub fn outer_join_with<VO: Data, VR: Data>(
        &self,
        other: &Stream<K, VO>,
        joiner: impl Fn(Option<&V>, Option<&VO>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V, VO>,
    ) -> Stream<K, VR> {
        let joiner = Arc::new(joiner);
        let (pair, left, right) = (joiner.clone(), joiner.clone(), joiner);
        let pair: PairJoiner<V, VO, VR> = Arc::new(move |v, vo| pair(Some(v), Some(vo)));
        let left: NullJoiner<V, VR> = Arc::new(move |v| left(Some(v), None));
        let right: NullJoiner<VO, VR> = Arc::new(move |vo| right(None, Some(vo)));
        self.stream_join(other, pair, Some(left), Some(right), windows, joined)
    }

    fn stream_join<VO: Data, VR: Data>(
        &self,
        other: &Stream<K, VO>,
        pair: PairJoiner<V, VO, VR>,
        left_null: Option<NullJoiner<V, VR>>,
        right_null: Option<NullJoiner<VO, VR>>,
        windows: JoinWindows,
        joined: StreamJoined<K, V, VO>,
    ) -> Stream<K, VR> {
        let op = self.builder.graph().state_name(joined.name.as_deref(), "KSTREAM-JOIN");
        if let Err(e) = windows.validate(&op) {
            self.builder.graph().errors.push(e);
        }
        let key_serde = joined.key_serde.clone().unwrap_or_else(|| self.key_serde.clone());
        let left = match self.repartition_required {
            true => self.through_repartition(&format!("{op}-left"), None, Some(key_serde.clone()), joined.value_serde),
            false => self.clone(),
        };
        let right = match other.repartition_required {
            true => {
                let value_serde = joined.other_value_serde;
                other.through_repartition(&format!("{op}-right"), None, Some(key_serde.clone()), value_serde)
            }
            false => other.clone(),
        };
        let base = joined.store_name.unwrap_or_else(|| op.clone());
        let stores = JoinStores::new(&base, left_null.is_some(), right_null.is_some());
        let (before, after, grace) = (windows.before_ms(), windows.after_ms(), windows.grace_ms());
        let retention = Duration::from_millis((before + after + grace).saturating_add(1) as u64);
        let size = Duration::from_millis((before + after) as u64);
        let mut graph = self.builder.graph();
        let logged = joined.logging;
        let backend = None;
        use super::materialize::{kv_store, window_store_def};
        graph.add_store(window_store_def::<K, V>(
            &stores.left,
            key_serde.clone(),
            backend,
            logged,
            retention,
            size,
            true,
        ));
        graph.add_store(window_store_def::<K, VO>(
            &stores.right,
            key_serde.clone(),
            backend,
            logged,
            retention,
            size,
            true,
        ));
        if let Some(held) = &stores.left_held {
            graph.add_store(window_store_def::<K, V>(
                held,
                key_serde.clone(),
                backend,
                logged,
                HELD_RETENTION,
                size,
                true,
            ));
        }
        if let Some(held) = &stores.right_held {
            graph.add_store(window_store_def::<K, VO>(
                held,
                key_serde.clone(),
                backend,
                logged,
                HELD_RETENTION,
                size,
                true,
            ));
        }
        graph.add_store(kv_store::<i32, i64>(&stores.time, i32::default_serde(), backend, logged, false));
        let this_window = SideWindow { before, after, grace };
        let other_window = SideWindow { before: after, after: before, grace };
        let (s, ks, p, ln, rn) =
            (stores.clone(), key_serde.clone(), pair.clone(), left_null.clone(), right_null.clone());
        let this = ProcFactory::<_, K, V, K, VR, _>::new(move |inst, _| {
            Ok(StreamStreamJoin {
                window: this_window,
                is_left: true,
                key_serde: ks.clone(),
                joiner: p.clone(),
                this_null: ln.clone(),
                other_null: rn.clone(),
                this_window: inst.store(&s.left)?,
                other_window: inst.store(&s.right)?,
                this_held: s.left_held.as_ref().map(|n| inst.store(n)).transpose()?,
                other_held: s.right_held.as_ref().map(|n| inst.store(n)).transpose()?,
                time: inst.store(&s.time)?,
            })
        });
        let (s, ks) = (stores.clone(), key_serde.clone());
        let that = ProcFactory::<_, K, VO, K, VR, _>::new(move |inst, _| {
            let p = pair.clone();
            Ok(StreamStreamJoin {
                window: other_window,
                is_left: false,
                key_serde: ks.clone(),
                joiner: Arc::new(move |vo: &VO, v: &V| p(v, vo)),
                this_null: right_null.clone(),
                other_null: left_null.clone(),
                this_window: inst.store(&s.right)?,
                other_window: inst.store(&s.left)?,
                this_held: s.right_held.as_ref().map(|n| inst.store(n)).transpose()?,
                other_held: s.left_held.as_ref().map(|n| inst.store(n)).transpose()?,
                time: inst.store(&s.time)?,
            })
        });
        let named = joined.name.as_deref();
        let this_name = graph.name(named.map(|n| format!("{n}-join-this")).as_deref(), "KSTREAM-JOINTHIS");
        let this_node = graph.add_processor(this_name, &[left.node], this);
        let other_name = graph.name(named.map(|n| format!("{n}-join-other")).as_deref(), "KSTREAM-JOINOTHER");
        let other_node = graph.add_processor(other_name, &[right.node], that);
        for store in stores.all() {
            graph.connect_store(this_node, &store);
            graph.connect_store(other_node, &store);
        }
        let merge = ProcFactory::<_, K, VR, K, VR, _>::new(|_, _| {
            Ok(FnProcessor::new(Arc::new(|r: Record<K, VR>, ctx: &mut ProcessorContext<'_, K, VR>| ctx.forward(r))))
        });
        let merge_name = graph.name(named.map(|n| format!("{n}-merge")).as_deref(), "KSTREAM-MERGE");
        let node = graph.add_processor(merge_name, &[this_node, other_node], merge);
        graph.copartition.push((op, vec![left.node, right.node]));
        drop(graph);
        Stream {
            builder: self.builder.clone(),
            node,
            key_serde,
            value_serde: VR::default_serde(),
            repartition_required: false,
        }
    }
}

/// The store names of one stream-stream join.
#[derive(Clone)]
struct JoinStores {
    left: String,
    right: String,
    left_held: Option<String>,
    right_held: Option<String>,
    time: String,
}

impl JoinStores {
    fn new(base: &str, left_outer: bool, right_outer: bool) -> Self {
        JoinStores {
            left: format!("{base}-this-join-store"),
            right: format!("{base}-other-join-store"),
            left_held: left_outer.then(|| format!("{base}-left-held-store")),
            right_held: right_outer.then(|| format!("{base}-right-held-store")),
            time: format!("{base}-join-time-store"),
        }
    }

    fn all(&self) -> Vec<String> {
        let mut all = vec![self.left.clone(), self.right.clone(), self.time.clone()];
        all.extend(self.left_held.iter().chain(&self.right_held).cloned());
        all
    }
}
