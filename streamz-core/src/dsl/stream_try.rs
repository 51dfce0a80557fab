//! Fallible stateless operators: closures that return `Result`, whose errors go through the
//! application's processing error policy.

use std::fmt::Display;

use super::Stream;
use crate::processor::ProcessorContext;
use crate::record::Record;
use crate::serdes::Data;

impl<K: Data, V: Data> Stream<K, V> {
    /// Replaces the value by `f(value)`, or, when `f` returns `Err(e)`, hands the record to the
    /// processing error policy with `e`'s message (see
    /// [`ErrorPolicy`](crate::task::ErrorPolicy)): by default processing stops with a
    /// [`StreamsError::Processing`](crate::StreamsError::Processing) naming the node and the
    /// record's topic, partition and offset.
    ///
    /// # Errors
    ///
    /// Under [`ErrorPolicy::Fail`](crate::task::ErrorPolicy::Fail), processing the record fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("in").try_map_values(|v| v.parse::<i64>()).to("out");
    /// let config = DriverConfig::default().processing_error_policy(ErrorPolicy::LogAndContinue);
    /// let driver = TopologyTestDriver::with_config(builder.build()?, config)?;
    /// let input = driver.input::<String, String>("in");
    /// input.pipe("a".into(), "12".into(), 0)?;
    /// input.pipe("b".into(), "twelve".into(), 1)?;
    /// assert_eq!(driver.output::<String, i64>("out").read_values(), vec![12]);
    /// assert_eq!(driver.metric("skipped-records.processing"), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_map_values<V2: Data, E: Display>(
        &self,
        f: impl Fn(V) -> Result<V2, E> + Send + Sync + 'static,
    ) -> Stream<K, V2> {
        self.add_fn(
            "KSTREAM-MAPVALUES",
            None,
            move |r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V2>| match f(r.value) {
                Ok(value) => ctx.forward(Record { key: r.key, value, timestamp: r.timestamp, headers: r.headers }),
                Err(e) => Err(ctx.processing_error(e.to_string())),
            },
            self.key_serde.clone(),
            V2::default_serde(),
            self.repartition_required,
        )
    }

    /// Keeps the records for which `predicate` returns `Ok(true)`; `Err(e)` hands the record
    /// to the processing error policy with `e`'s message, as in [`Stream::try_map_values`].
    ///
    /// # Errors
    ///
    /// Under [`ErrorPolicy::Fail`](crate::task::ErrorPolicy::Fail), processing the record fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .stream::<String, String>("in")
    ///     .try_filter(|_, v| v.parse::<i64>().map(|n| n > 10))
    ///     .to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?)?;
    /// let input = driver.input::<String, String>("in");
    /// input.pipe("a".into(), "50".into(), 0)?;
    /// let err = input.pipe("b".into(), "fifty".into(), 1).unwrap_err();
    /// assert!(err.to_string().contains("topic `in` partition 0 offset 1"), "{err}");
    /// assert_eq!(driver.output::<String, String>("out").read_values(), vec!["50".to_string()]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_filter<E: Display>(
        &self,
        predicate: impl Fn(&K, &V) -> Result<bool, E> + Send + Sync + 'static,
    ) -> Stream<K, V> {
        self.add_fn(
            "KSTREAM-FILTER",
            None,
            move |r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V>| match predicate(&r.key, &r.value) {
                Ok(true) => ctx.forward(r),
                Ok(false) => Ok(()),
                Err(e) => Err(ctx.processing_error(e.to_string())),
            },
            self.key_serde.clone(),
            self.value_serde.clone(),
            self.repartition_required,
        )
    }
}
