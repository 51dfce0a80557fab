//! Event time (rule 16), processing order across input partitions (rule 17) and punctuation
//! (rule 18).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use streamz::prelude::*;
use streamz::processor::{Processor, ProcessorContext, PunctuationType, Punctuator};
use streamz::task::TimestampPolicy;

fn s(x: &str) -> String {
    x.to_string()
}

/// Passes records through `in` → `out` with the given consumed options; returns the driver.
fn passthrough<V: Data>(consumed: Consumed<String, V>, config: DriverConfig) -> anyhow::Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    builder.stream_with::<String, V>("in", consumed).to("out");
    Ok(TopologyTestDriver::with_config(builder.build()?, config)?)
}

#[test]
fn the_default_extractor_uses_the_record_timestamp() -> anyhow::Result<()> {
    let driver = passthrough::<i64>(Consumed::default(), DriverConfig::default())?;
    driver.input::<String, i64>("in").pipe(s("a"), 1, 42)?;
    assert_eq!(driver.output::<String, i64>("out").read_with_timestamps(), vec![(s("a"), 1, 42)]);
    Ok(())
}

#[test]
fn a_value_extractor_sets_event_time_from_the_value() -> anyhow::Result<()> {
    let extractor = TimestampExtractor::from_value(|v: &i64| Timestamp(v * 1000));
    let driver = passthrough(Consumed::default().with_timestamp_extractor(extractor), DriverConfig::default())?;
    driver.input::<String, i64>("in").pipe(s("a"), 7, 1)?;
    assert_eq!(driver.output::<String, i64>("out").read_with_timestamps(), vec![(s("a"), 7, 7000)]);
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, streamz::Data)]
struct Tick {
    #[streamz(timestamp)]
    at: i64,
    price: i64,
}

#[test]
fn the_field_extractor_reads_the_derived_timestamp_field() -> anyhow::Result<()> {
    let consumed = Consumed::default().with_timestamp_extractor(TimestampExtractor::<Tick>::field());
    let driver = passthrough(consumed, DriverConfig::default())?;
    let tick = Tick { at: 5_000, price: 3 };
    driver.input::<String, Tick>("in").pipe(s("t"), tick.clone(), 1)?;
    assert_eq!(driver.output::<String, Tick>("out").read_with_timestamps(), vec![(s("t"), tick, 5_000)]);
    Ok(())
}

#[test]
fn the_wall_clock_extractor_uses_the_drivers_clock() -> anyhow::Result<()> {
    let consumed = Consumed::default().with_timestamp_extractor(TimestampExtractor::WallClock);
    let driver = passthrough::<i64>(consumed, DriverConfig::default().wall_clock(Timestamp(10_000)))?;
    let input = driver.input::<String, i64>("in");
    input.pipe(s("a"), 1, 1)?;
    driver.advance_wall_clock(Duration::from_millis(250))?;
    input.pipe(s("b"), 2, 2)?;
    let out = driver.output::<String, i64>("out").read_with_timestamps();
    assert_eq!(out, vec![(s("a"), 1, 10_000), (s("b"), 2, 10_250)]);
    Ok(())
}

#[test]
fn a_negative_timestamp_fails_by_default_naming_topic_partition_and_offset() -> anyhow::Result<()> {
    let driver = passthrough::<i64>(Consumed::default(), DriverConfig::default())?;
    let input = driver.input::<String, i64>("in");
    input.pipe(s("a"), 1, 0)?;
    let err = input.pipe(s("b"), 2, -5).expect_err("a negative timestamp must fail");
    assert!(matches!(err, StreamsError::InvalidTimestamp { timestamp: -5, .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("topic `in` partition 0 offset 1"), "{text}");
    assert!(text.contains("-5"), "{text}");
    assert_eq!(driver.output::<String, i64>("out").read_values(), vec![1]);
    Ok(())
}

#[test]
fn a_negative_extracted_timestamp_fails_too() -> anyhow::Result<()> {
    let extractor = TimestampExtractor::from_value(|v: &i64| Timestamp(*v));
    let driver = passthrough(Consumed::default().with_timestamp_extractor(extractor), DriverConfig::default())?;
    let err = driver.input::<String, i64>("in").pipe(s("a"), -1, 100).expect_err("must fail");
    assert!(err.to_string().contains("topic `in` partition 0 offset 0"), "{err}");
    Ok(())
}

#[test]
fn skip_and_count_drops_records_with_negative_timestamps() -> anyhow::Result<()> {
    let config = DriverConfig::default().timestamp_policy(TimestampPolicy::SkipAndCount);
    let driver = passthrough::<i64>(Consumed::default(), config)?;
    let input = driver.input::<String, i64>("in");
    input.pipe(s("a"), 1, 10)?;
    input.pipe(s("b"), 2, -1)?;
    input.pipe(s("c"), 3, 5)?;
    let out = driver.output::<String, i64>("out").read_with_timestamps();
    assert_eq!(out, vec![(s("a"), 1, 10), (s("c"), 3, 5)]);
    assert_eq!(driver.metric("dropped-records.invalid-timestamp"), 1);
    assert_eq!(driver.metric("dropped-records"), 1);
    Ok(())
}

#[test]
fn use_partition_time_replaces_negative_timestamps() -> anyhow::Result<()> {
    let config = DriverConfig::default().timestamp_policy(TimestampPolicy::UsePartitionTime);
    let driver = passthrough::<i64>(Consumed::default(), config)?;
    let input = driver.input::<String, i64>("in");
    input.pipe(s("early"), 0, -3)?; // no partition time yet: dropped and counted
    input.pipe(s("a"), 1, 10)?;
    input.pipe(s("b"), 2, 4)?;
    input.pipe(s("c"), 3, -1)?; // the partition time is 10
    let out = driver.output::<String, i64>("out").read_with_timestamps();
    assert_eq!(out, vec![(s("a"), 1, 10), (s("b"), 2, 4), (s("c"), 3, 10)]);
    assert_eq!(driver.metric("dropped-records.invalid-timestamp"), 1);
    Ok(())
}

/// Forwards records and logs `(key, stream time)` as it sees them.
struct StreamTimeLog(Arc<Mutex<Vec<(String, i64)>>>);

impl Processor<String, i64, String, i64> for StreamTimeLog {
    fn process(
        &mut self,
        record: Record<String, i64>,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> streamz::Result<()> {
        self.0.lock().unwrap().push((record.key.clone(), ctx.stream_time().0));
        ctx.forward(record)
    }
}

fn check_smallest_head_first(builder: &StreamsBuilder, stream: Stream<String, i64>) -> anyhow::Result<()> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    stream.process(move || StreamTimeLog(l.clone())).to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let (a, b) = (driver.input::<String, i64>("a"), driver.input::<String, i64>("b"));
    a.enqueue(s("a1"), 0, 5)?;
    a.enqueue(s("a2"), 0, 1)?; // behind a1 in its partition: processed after it
    a.enqueue(s("a3"), 0, 9)?;
    b.enqueue(s("b1"), 0, 3)?;
    b.enqueue(s("b2"), 0, 4)?;
    b.enqueue(s("b3"), 0, 9)?; // ties go to the partition queued first
    driver.process()?;
    let keys: Vec<String> = driver.output::<String, i64>("out").read_key_values().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["b1", "b2", "a1", "a2", "a3", "b3"]);
    let times: Vec<i64> = log.lock().unwrap().iter().map(|(_, t)| *t).collect();
    assert_eq!(times, [3, 4, 5, 5, 9, 9], "stream time never decreases");
    Ok(())
}

#[test]
fn one_source_of_two_topics_processes_the_smallest_head_first() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let stream = builder.stream_from::<String, i64>(&["a", "b"], Consumed::default());
    check_smallest_head_first(&builder, stream)
}

#[test]
fn merged_streams_process_the_smallest_head_first() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, i64>("a").merge(&builder.stream::<String, i64>("b"));
    check_smallest_head_first(&builder, stream)
}

/// Schedules a punctuation of `kind` every `interval` and logs `(punctuator, time)` per firing.
struct Ticker {
    kind: PunctuationType,
    interval: Duration,
    fired: Arc<Mutex<Vec<i64>>>,
    scheduled: Option<Punctuator>,
}

impl Processor<String, i64, String, i64> for Ticker {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> streamz::Result<()> {
        self.scheduled = Some(ctx.schedule(self.interval, self.kind)?);
        Ok(())
    }

    fn process(
        &mut self,
        record: Record<String, i64>,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> streamz::Result<()> {
        ctx.forward(record)
    }

    fn punctuate(
        &mut self,
        p: Punctuator,
        time: Timestamp,
        _: &mut ProcessorContext<'_, String, i64>,
    ) -> streamz::Result<()> {
        assert_eq!(Some(p), self.scheduled);
        self.fired.lock().unwrap().push(time.0);
        Ok(())
    }
}

fn ticker(
    kind: PunctuationType,
    interval_ms: u64,
    config: DriverConfig,
) -> anyhow::Result<(TopologyTestDriver, Arc<Mutex<Vec<i64>>>)> {
    let fired = Arc::new(Mutex::new(Vec::new()));
    let f = fired.clone();
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("in")
        .process(move || Ticker {
            kind,
            interval: Duration::from_millis(interval_ms),
            fired: f.clone(),
            scheduled: None,
        })
        .to("out");
    Ok((TopologyTestDriver::with_config(builder.build()?, config)?, fired))
}

#[test]
fn stream_time_punctuation_is_aligned_to_multiples_of_the_interval() -> anyhow::Result<()> {
    let (driver, fired) = ticker(PunctuationType::StreamTime, 10, DriverConfig::default())?;
    let input = driver.input::<String, i64>("in");
    let mut expected = Vec::new();
    for (ts, fires) in
        [(3, true), (7, false), (9, false), (10, true), (12, false), (55, true), (50, false), (59, false), (60, true)]
    {
        input.pipe(s("k"), 0, ts)?;
        if fires {
            expected.push(ts); // fires with the current stream time
        }
        assert_eq!(*fired.lock().unwrap(), expected, "after the record at {ts}");
    }
    // Wall-clock time does not drive stream-time punctuation.
    driver.advance_wall_clock(Duration::from_secs(60))?;
    assert_eq!(*fired.lock().unwrap(), expected);
    Ok(())
}

#[test]
fn stream_time_punctuation_does_not_fire_without_records() -> anyhow::Result<()> {
    let (driver, fired) = ticker(PunctuationType::StreamTime, 10, DriverConfig::default())?;
    driver.process()?;
    assert!(fired.lock().unwrap().is_empty());
    Ok(())
}

#[test]
fn wall_clock_punctuation_fires_at_registration_plus_multiples_of_the_interval() -> anyhow::Result<()> {
    let config = DriverConfig::default().wall_clock(Timestamp(1_005));
    let (driver, fired) = ticker(PunctuationType::WallClockTime, 100, config)?;
    let steps = [(50, None), (49, None), (1, Some(1_105)), (99, None), (251, Some(1_455)), (50, Some(1_505))];
    let mut expected = Vec::new();
    for (by, fires) in steps {
        driver.advance_wall_clock(Duration::from_millis(by))?;
        expected.extend(fires);
        assert_eq!(*fired.lock().unwrap(), expected, "at wall clock {}", driver.wall_clock().0);
    }
    // Records do not drive wall-clock punctuation.
    driver.input::<String, i64>("in").pipe(s("k"), 0, 10_000)?;
    assert_eq!(*fired.lock().unwrap(), expected);
    Ok(())
}
