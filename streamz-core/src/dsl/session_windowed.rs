//! `SessionWindowedStream<K, V>`: a grouped stream in session windows.

use std::sync::Arc;

use super::windowed::ms;
use super::WindowClose;
use super::{GroupedStream, Materialized, SessionWindows, Table};
use crate::processor::ops::aggregate::Fold;
use crate::processor::ops::session_aggregate::{Merge, SessionAggregate};
use crate::record::{Change, Timestamped};
use crate::serdes::{Data, SerdeRef, WindowedSerde};
use crate::time::Windowed;
use crate::topology::ProcFactory;

/// A grouped stream in session windows, ready to aggregate per key and session. Results are
/// tables keyed by [`Windowed<K>`](crate::time::Windowed) whose windows are the sessions
/// `[first, last]` (both ends inclusive).
///
/// A record at `ts` merges every session of its key that ends at or after `ts - gap`, starts
/// at or before `ts + gap` and is not closed (`end >= st - grace - gap`, `st` being the
/// largest timestamp the aggregation has seen). Merging deletes the merged sessions
/// downstream (a `None` value at the old session's end) before the merged session is emitted
/// at its end. Records with a null key are skipped; null values are aggregated.
#[doc(alias = "SessionWindowedKStream")]
pub struct SessionWindowedStream<K, V> {
    pub(crate) grouped: GroupedStream<K, V>,
    pub(crate) windows: SessionWindows,
}

impl<K, V> Clone for SessionWindowedStream<K, V> {
    fn clone(&self) -> Self {
        SessionWindowedStream { grouped: self.grouped.clone(), windows: self.windows }
    }
}

impl<K, V> std::fmt::Debug for SessionWindowedStream<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionWindowedStream").field("grouped", &self.grouped).field("windows", &self.windows).finish()
    }
}

impl<K: Data, V: Data> SessionWindowedStream<K, V> {
    /// Counts the records of each key and session.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let sessions = SessionWindows::with_inactivity_gap(Duration::from_millis(5));
    /// builder.stream::<String, String>("in").group_by_key().windowed_by(sessions).count().to_stream().to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, String>("in");
    /// input.pipe("k".into(), "a".into(), 10)?;
    /// input.pipe("k".into(), "b".into(), 14)?; // within the gap: merges [10, 10]
    /// let out = driver.output::<Windowed<String>, Option<i64>>("out").read_with_timestamps();
    /// let k = |s, e| Windowed::new("k".to_string(), s, e);
    /// assert_eq!(out, vec![(k(10, 10), Some(1), 10), (k(10, 10), None, 10), (k(10, 14), Some(2), 14)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count(&self) -> Table<Windowed<K>, i64> {
        self.count_with(Materialized::default())
    }

    /// Counts as `materialized` says (store name, retention, backend).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let sessions = SessionWindows::with_inactivity_gap(Duration::from_millis(5)).grace(Duration::from_millis(20));
    /// let grouped = builder.stream::<String, String>("in").group_by_key();
    /// grouped.windowed_by(sessions).count_with(Materialized::named("visits"));
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, String>("in");
    /// input.pipe("k".into(), "a".into(), 10)?;
    /// input.pipe("k".into(), "b".into(), 30)?;
    /// let stored = driver.session_store::<String, i64>("visits", &"k".to_string())?;
    /// assert_eq!(stored, vec![(Window::new(10, 10), 1), (Window::new(30, 30), 1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count_with(&self, materialized: Materialized<K, i64>) -> Table<Windowed<K>, i64> {
        let fold: Fold<K, V, i64> = Arc::new(|_, _, count| count.unwrap_or(0) + 1);
        let merge: Merge<K, i64> = Arc::new(|_, acc, count| acc.unwrap_or(0) + count);
        self.fold("KSTREAM-AGGREGATE", materialized, fold, merge)
    }

    /// Combines the values of each key and session with `reducer(aggregate, value)`; merged
    /// sessions are combined with the same `reducer`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let sessions = SessionWindows::with_inactivity_gap(Duration::from_millis(5)).grace(Duration::from_millis(20));
    /// let grouped = builder.stream::<String, i64>("in").group_by_key();
    /// grouped.windowed_by(sessions).reduce(|a, b| a + b).to_stream().to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, i64>("in");
    /// input.pipe("k".into(), 1, 0)?;
    /// input.pipe("k".into(), 2, 10)?;
    /// input.pipe("k".into(), 4, 5)?; // bridges both sessions
    /// let out = driver.output::<Windowed<String>, Option<i64>>("out").read_key_values();
    /// let k = |s, e| Windowed::new("k".to_string(), s, e);
    /// assert_eq!(
    ///     out,
    ///     vec![(k(0, 0), Some(1)), (k(10, 10), Some(2)), (k(0, 0), None), (k(10, 10), None), (k(0, 10), Some(7))]
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reduce(&self, reducer: impl Fn(V, V) -> V + Send + Sync + 'static) -> Table<Windowed<K>, V> {
        self.reduce_with(reducer, Materialized::default())
    }

    /// Reduces as `materialized` says.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let sessions = SessionWindows::with_inactivity_gap(Duration::from_millis(5));
    /// let grouped = builder.stream::<String, i64>("in").group_by_key();
    /// grouped.windowed_by(sessions).reduce_with(|a, b| a.max(b), Materialized::named("max"));
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, i64>("in");
    /// input.pipe("k".into(), 3, 0)?;
    /// input.pipe("k".into(), 1, 2)?;
    /// assert_eq!(driver.session_store::<String, i64>("max", &"k".to_string())?, vec![(Window::new(0, 2), 3)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reduce_with(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> Table<Windowed<K>, V> {
        let reducer = Arc::new(reducer);
        let r = reducer.clone();
        let fold: Fold<K, V, V> = Arc::new(move |_, value, agg| match agg {
            Some(agg) => r(agg, value),
            None => value,
        });
        let merge: Merge<K, V> = Arc::new(move |_, acc, agg| match acc {
            Some(acc) => reducer(acc, agg),
            None => agg,
        });
        self.fold("KSTREAM-REDUCE", materialized, fold, merge)
    }

    /// Folds the values of each key and session into an aggregate: starts from `init()`,
    /// then `aggregator(key, value, aggregate)` per record; when a record merges sessions,
    /// their aggregates are combined with `merger(key, aggregate, session_aggregate)` starting
    /// from `init()`, in the order the sessions end.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let sessions = SessionWindows::with_inactivity_gap(Duration::from_millis(5));
    /// let grouped = builder.stream::<String, String>("pages").group_by_key();
    /// let visited = grouped.windowed_by(sessions).aggregate(
    ///     String::new,
    ///     |_, page, pages| pages + &page,
    ///     |_, a, b| a + &b,
    /// );
    /// visited.to_stream().to("visited");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, String>("pages");
    /// input.pipe("u".into(), "a".into(), 0)?;
    /// input.pipe("u".into(), "b".into(), 3)?;
    /// let out = driver.output::<Windowed<String>, Option<String>>("visited").read_values();
    /// assert_eq!(out, vec![Some("a".to_string()), None, Some("ab".to_string())]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn aggregate<A: Data>(
        &self,
        init: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        merger: impl Fn(&K, A, A) -> A + Send + Sync + 'static,
    ) -> Table<Windowed<K>, A> {
        self.aggregate_with(init, aggregator, merger, Materialized::default())
    }

    /// Aggregates as `materialized` says.
    ///
    /// # Errors
    ///
    /// `build()` fails with [`TopologyError::InvalidWindow`](crate::TopologyError) when the
    /// gap is zero or the retention is below the gap plus grace.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let sessions = SessionWindows::with_inactivity_gap(Duration::from_secs(60)).grace(Duration::from_secs(10));
    /// let grouped = builder.stream::<String, i64>("in").group_by_key();
    /// let materialized = Materialized::named("totals").with_retention(Duration::from_secs(70));
    /// grouped.windowed_by(sessions).aggregate_with(|| 0i64, |_, v, t| t + v, |_, a, b| a + b, materialized);
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, i64>("in").pipe("k".into(), 4, 1_000)?;
    /// assert_eq!(driver.session_store::<String, i64>("totals", &"k".to_string())?, vec![(Window::new(1_000, 1_000), 4)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn aggregate_with<A: Data>(
        &self,
        init: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        merger: impl Fn(&K, A, A) -> A + Send + Sync + 'static,
        materialized: Materialized<K, A>,
    ) -> Table<Windowed<K>, A> {
        let init = Arc::new(init);
        let i = init.clone();
        let fold: Fold<K, V, A> = Arc::new(move |key, value, agg| aggregator(key, value, agg.unwrap_or_else(|| i())));
        let merge: Merge<K, A> = Arc::new(move |key, acc, agg| merger(key, acc.unwrap_or_else(|| init()), agg));
        self.fold("KSTREAM-AGGREGATE", materialized, fold, merge)
    }

    fn fold<A: Data>(
        &self,
        prefix: &str,
        materialized: Materialized<K, A>,
        fold: Fold<K, V, A>,
        merge: Merge<K, A>,
    ) -> Table<Windowed<K>, A> {
        let w = self.windows;
        let (gap, grace) = (w.gap_ms(), w.grace_ms());
        let (store, input, retention) =
            self.grouped.windowed_input(&materialized, prefix, ms(gap + grace), |op| w.validate(op));
        let key_serde: SerdeRef<K> = materialized.key_serde.unwrap_or_else(|| input.key_serde.clone());
        let value_serde = materialized.value_serde.unwrap_or_else(A::default_serde);
        let mut graph = input.builder.graph();
        graph.add_store(super::materialize::session_store_def::<K, Timestamped<A>>(
            &store,
            key_serde.clone(),
            materialized.backend,
            materialized.logging,
            retention,
        ));
        let store_name = store.clone();
        let factory = ProcFactory::<_, K, V, Windowed<K>, Change<A>, _>::new(move |inst, _| {
            Ok(SessionAggregate::new(inst.store(&store_name)?, fold.clone(), merge.clone(), gap, grace))
        });
        let name = graph.name(None, prefix);
        let node = graph.add_processor(name, &[input.node], factory);
        graph.connect_store(node, &store);
        drop(graph);
        Table {
            builder: input.builder.clone(),
            node,
            key_serde: Arc::new(WindowedSerde::new(key_serde)),
            value_serde,
            store: None,
            window: Some(WindowClose::Session { gap_ms: gap, grace_ms: grace }),
        }
    }
}
