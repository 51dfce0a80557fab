//! `TimeWindowedStream<K, V>`: a grouped stream in tumbling, hopping or sliding windows, and
//! [`GroupedStream::windowed_by`].

use std::sync::Arc;
use std::time::Duration;

use super::TimeWindows;
use super::WindowClose;
use super::{GroupedStream, Materialized, SessionWindowedStream, SessionWindows, SlidingWindows, Stream, Table};
use crate::error::TopologyError;
use crate::processor::ops::aggregate::Fold;
use crate::processor::ops::sliding_aggregate::SlidingAggregate;
use crate::processor::ops::window_aggregate::TimeWindowAggregate;
use crate::record::{Change, Timestamped};
use crate::serdes::{Data, SerdeRef, WindowedSerde};
use crate::time::{millis, Windowed};
use crate::topology::ProcFactory;

/// A kind of window a grouped stream can be windowed by: [`TimeWindows`] and
/// [`SlidingWindows`] give a [`TimeWindowedStream`], [`SessionWindows`] a
/// [`SessionWindowedStream`]. Used by [`GroupedStream::windowed_by`].
pub trait WindowSpec<K, V> {
    /// The windowed stream.
    type Output;
    /// Windows `grouped`.
    fn windowed(self, grouped: GroupedStream<K, V>) -> Self::Output;
}

impl<K: Data, V: Data> WindowSpec<K, V> for TimeWindows {
    type Output = TimeWindowedStream<K, V>;
    fn windowed(self, grouped: GroupedStream<K, V>) -> TimeWindowedStream<K, V> {
        TimeWindowedStream { grouped, windows: Kind::Time(self) }
    }
}

impl<K: Data, V: Data> WindowSpec<K, V> for SlidingWindows {
    type Output = TimeWindowedStream<K, V>;
    fn windowed(self, grouped: GroupedStream<K, V>) -> TimeWindowedStream<K, V> {
        TimeWindowedStream { grouped, windows: Kind::Sliding(self) }
    }
}

impl<K: Data, V: Data> WindowSpec<K, V> for SessionWindows {
    type Output = SessionWindowedStream<K, V>;
    fn windowed(self, grouped: GroupedStream<K, V>) -> SessionWindowedStream<K, V> {
        SessionWindowedStream { grouped, windows: self }
    }
}

impl<K: Data, V: Data> GroupedStream<K, V> {
    /// Windows the grouped stream: tumbling or hopping ([`TimeWindows`]) and sliding
    /// ([`SlidingWindows`]) windows give a [`TimeWindowedStream`], [`SessionWindows`] a
    /// [`SessionWindowedStream`]. Aggregating it repartitions first if the key changed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let clicks = builder.stream::<String, String>("clicks").group_by_key();
    /// let per_minute = clicks.windowed_by(TimeWindows::tumbling(Duration::from_secs(60))).count();
    /// per_minute.to_stream().to("per-minute");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, String>("clicks").pipe("alice".into(), "/home".into(), 61_000)?;
    /// let out = driver.output::<Windowed<String>, Option<i64>>("per-minute");
    /// assert_eq!(out.read_key_values(), vec![(Windowed::new("alice".to_string(), 60_000, 120_000), Some(1))]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "windowedBy")]
    pub fn windowed_by<W: WindowSpec<K, V>>(&self, windows: W) -> W::Output {
        windows.windowed(self.clone())
    }

    /// Names the store of a windowed aggregation, validates its window and retention
    /// (errors go to the graph) and returns the input, repartitioned if the key changed.
    pub(crate) fn windowed_input<A>(
        &self,
        materialized: &Materialized<K, A>,
        prefix: &str,
        minimum_retention: Duration,
        validate: impl FnOnce(&str) -> Result<(), TopologyError>,
    ) -> (String, Stream<K, V>, Duration) {
        let store = self.store_name(materialized, &format!("{prefix}-STATE-STORE"));
        let retention = materialized.retention.unwrap_or(minimum_retention);
        {
            let mut graph = self.stream.builder.graph();
            if let Err(e) = validate(&store) {
                graph.errors.push(e);
            }
            if retention < minimum_retention {
                graph.errors.push(TopologyError::InvalidWindow {
                    operator: store.clone(),
                    reason: format!(
                        "retention {}ms is below the window size plus grace ({}ms)",
                        millis(retention),
                        millis(minimum_retention)
                    ),
                });
            }
        }
        let input = self.repartitioned(&store);
        (store, input, retention)
    }
}

/// The windows of a [`TimeWindowedStream`].
#[derive(Clone, Copy, Debug)]
enum Kind {
    Time(TimeWindows),
    Sliding(SlidingWindows),
}

/// A grouped stream in tumbling, hopping or sliding windows, ready to aggregate per key and
/// window. Results are tables keyed by [`Windowed<K>`](crate::time::Windowed).
///
/// Tumbling/hopping windows are `[start, start + size)`, epoch-aligned; a window is updated
/// while `end > st - grace` (`st`: the largest timestamp the aggregation has seen). Sliding
/// windows are `[s, s + d]`, both ends inclusive, updated while `end >= st - grace`. Records
/// with a null key are skipped; sliding aggregations also skip null values. Each result
/// carries the largest timestamp of the records in its window.
#[doc(alias = "TimeWindowedKStream")]
pub struct TimeWindowedStream<K, V> {
    grouped: GroupedStream<K, V>,
    windows: Kind,
}

impl<K, V> Clone for TimeWindowedStream<K, V> {
    fn clone(&self) -> Self {
        TimeWindowedStream { grouped: self.grouped.clone(), windows: self.windows }
    }
}

impl<K, V> std::fmt::Debug for TimeWindowedStream<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeWindowedStream").field("grouped", &self.grouped).field("windows", &self.windows).finish()
    }
}

impl<K: Data, V: Data> TimeWindowedStream<K, V> {
    /// Counts the records of each key and window.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let hopping = TimeWindows::hopping(Duration::from_millis(10), Duration::from_millis(5));
    /// builder.stream::<String, String>("in").group_by_key().windowed_by(hopping).count().to_stream().to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, String>("in").pipe("k".into(), "a".into(), 7)?;
    /// let out = driver.output::<Windowed<String>, Option<i64>>("out").read_with_timestamps();
    /// assert_eq!(
    ///     out,
    ///     vec![(Windowed::new("k".to_string(), 0, 10), Some(1), 7), (Windowed::new("k".to_string(), 5, 15), Some(1), 7)]
    /// );
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
    /// let windows = TimeWindows::tumbling(Duration::from_millis(10));
    /// let grouped = builder.stream::<String, String>("in").group_by_key();
    /// grouped.windowed_by(windows).count_with(Materialized::named("counts"));
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// driver.input::<String, String>("in").pipe("k".into(), "a".into(), 12)?;
    /// let stored = driver.window_store::<String, i64>("counts", Timestamp(0), Timestamp(100))?;
    /// assert_eq!(stored, vec![("k".to_string(), Timestamp(10), 1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count_with(&self, materialized: Materialized<K, i64>) -> Table<Windowed<K>, i64> {
        self.fold("KSTREAM-AGGREGATE", materialized, Arc::new(|_: &K, _: V, count: Option<i64>| count.unwrap_or(0) + 1))
    }

    /// Combines the values of each key and window with `reducer(aggregate, value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let windows = SlidingWindows::with_difference_and_grace(Duration::from_millis(10), Duration::ZERO);
    /// let grouped = builder.stream::<String, i64>("in").group_by_key();
    /// grouped.windowed_by(windows).reduce(|a, b| a.max(b)).to_stream().to("max");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, i64>("in");
    /// input.pipe("k".into(), 3, 20)?;
    /// input.pipe("k".into(), 5, 25)?;
    /// let out = driver.output::<Windowed<String>, Option<i64>>("max").read_key_values();
    /// let k = |s, e| Windowed::new("k".to_string(), s, e);
    /// assert_eq!(out, vec![(k(10, 20), Some(3)), (k(21, 31), Some(5)), (k(15, 25), Some(5))]);
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
    /// let windows = TimeWindows::tumbling(Duration::from_millis(10));
    /// let grouped = builder.stream::<String, i64>("in").group_by_key();
    /// grouped.windowed_by(windows).reduce_with(|a, b| a + b, Materialized::named("sums")).to_stream().to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, i64>("in");
    /// input.pipe("k".into(), 3, 1)?;
    /// input.pipe("k".into(), 4, 2)?;
    /// assert_eq!(driver.output::<Windowed<String>, Option<i64>>("out").read_values(), vec![Some(3), Some(7)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reduce_with(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> Table<Windowed<K>, V> {
        let fold: Fold<K, V, V> = Arc::new(move |_, value, agg| match agg {
            Some(agg) => reducer(agg, value),
            None => value,
        });
        self.fold("KSTREAM-REDUCE", materialized, fold)
    }

    /// Folds the values of each key and window into an aggregate: starts from `init()`,
    /// then `aggregator(key, value, aggregate)` per record.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let windows = TimeWindows::tumbling(Duration::from_millis(10)).grace(Duration::from_millis(5));
    /// let grouped = builder.stream::<String, i64>("trades").group_by_key();
    /// grouped.windowed_by(windows).aggregate(|| 0i64, |_, v, total| total + v).to_stream().to("totals");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, i64>("trades");
    /// input.pipe("p".into(), 5, 8)?;
    /// input.pipe("p".into(), 1, 12)?;
    /// input.pipe("p".into(), 2, 6)?; // late but within grace: window [0, 10) ends after 12 - 5
    /// let out = driver.output::<Windowed<String>, Option<i64>>("totals").read_with_timestamps();
    /// let p = |s, e| Windowed::new("p".to_string(), s, e);
    /// assert_eq!(out, vec![(p(0, 10), Some(5), 8), (p(10, 20), Some(1), 12), (p(0, 10), Some(7), 8)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn aggregate<A: Data>(
        &self,
        init: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
    ) -> Table<Windowed<K>, A> {
        self.aggregate_with(init, aggregator, Materialized::default())
    }

    /// Aggregates as `materialized` says.
    ///
    /// # Errors
    ///
    /// `build()` fails with [`TopologyError::InvalidWindow`] when the window is invalid or the
    /// retention is below the window size plus grace (`2·d + grace` for sliding windows).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let windows = TimeWindows::tumbling(Duration::from_secs(60)).grace(Duration::from_secs(10));
    /// let grouped = builder.stream::<String, i64>("trades").group_by_key();
    /// let too_short = Materialized::named("totals").with_retention(Duration::from_secs(30));
    /// grouped.windowed_by(windows).aggregate_with(|| 0i64, |_, v, total| total + v, too_short);
    /// assert!(matches!(builder.build(), Err(TopologyError::InvalidWindow { .. })));
    /// ```
    pub fn aggregate_with<A: Data>(
        &self,
        init: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        materialized: Materialized<K, A>,
    ) -> Table<Windowed<K>, A> {
        let fold: Fold<K, V, A> = Arc::new(move |key, value, agg| aggregator(key, value, agg.unwrap_or_else(&init)));
        self.fold("KSTREAM-AGGREGATE", materialized, fold)
    }

    fn fold<A: Data>(
        &self,
        prefix: &str,
        materialized: Materialized<K, A>,
        fold: Fold<K, V, A>,
    ) -> Table<Windowed<K>, A> {
        let (minimum, close, size) = match self.windows {
            Kind::Time(w) => {
                let close = WindowClose::Time { grace_ms: w.grace_ms() };
                (ms(w.size_ms() + w.grace_ms()), close, ms(w.size_ms()))
            }
            Kind::Sliding(w) => {
                let close = WindowClose::Sliding { grace_ms: w.grace_ms() };
                (ms(2 * w.difference_ms() + w.grace_ms()), close, ms(w.difference_ms()))
            }
        };
        let windows = self.windows;
        let (store, input, retention) =
            self.grouped.windowed_input(&materialized, prefix, minimum, |op| match windows {
                Kind::Time(w) => w.validate(op),
                Kind::Sliding(w) => w.validate(op),
            });
        // The in-memory store hides windows by the largest start put (over all keys, at most
        // `st`); a sliding record at `ts >= st - grace - d` may still need the window starting
        // at `st - grace - 2d - 1` to find the key's previous record, so keep 2 ms more (D2).
        let kept = match self.windows {
            Kind::Time(_) => retention,
            Kind::Sliding(_) => retention.max(minimum + Duration::from_millis(2)),
        };
        let key_serde: SerdeRef<K> = materialized.key_serde.unwrap_or_else(|| input.key_serde.clone());
        let value_serde = materialized.value_serde.unwrap_or_else(A::default_serde);
        let mut def = super::materialize::window_store_def::<K, Timestamped<A>>(
            &store,
            key_serde.clone(),
            materialized.backend,
            materialized.logging,
            kept,
            size,
            false,
        );
        def.retention_ms = Some(millis(retention));
        def.cached = materialized.caching && matches!(self.windows, Kind::Time(_));
        let mut graph = input.builder.graph();
        graph.add_store(def);
        let store_name = store.clone();
        let node = match self.windows {
            Kind::Time(w) => {
                let (size, advance, grace) = (w.size_ms(), w.advance_ms(), w.grace_ms());
                let factory = ProcFactory::<_, K, V, Windowed<K>, Change<A>, _>::new(move |inst, _| {
                    let (store, cache) = (inst.store(&store_name)?, inst.cache_link(&store_name));
                    Ok(TimeWindowAggregate::new(store, fold.clone(), size, advance, grace, cache))
                });
                let name = graph.name(None, prefix);
                graph.add_processor(name, &[input.node], factory)
            }
            Kind::Sliding(w) => {
                let (diff, grace) = (w.difference_ms(), w.grace_ms());
                let factory = ProcFactory::<_, K, V, Windowed<K>, Change<A>, _>::new(move |inst, _| {
                    Ok(SlidingAggregate::new(inst.store(&store_name)?, fold.clone(), diff, grace))
                });
                let name = graph.name(None, prefix);
                graph.add_processor(name, &[input.node], factory)
            }
        };
        graph.connect_store(node, &store);
        drop(graph);
        Table {
            builder: input.builder.clone(),
            node,
            key_serde: Arc::new(WindowedSerde::new(key_serde)),
            value_serde,
            store: None,
            window: Some(close),
        }
    }
}

/// `ms` milliseconds (negative as zero).
pub(crate) fn ms(ms: i64) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}
