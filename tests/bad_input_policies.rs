//! Bad input under each policy (rule 22, rule 16 for timestamps): poison pills mixed into a
//! valid stream are failed on, skipped and counted, or sent to a dead-letter topic — never lost
//! silently, and never processed twice.

use serde::{Deserialize, Serialize};
use streamz::error::SerdeError;
use streamz::prelude::*;
use streamz::processor::{Processor, ProcessorContext};
use streamz::serdes::{Serde, SerdeRef};
use streamz::task::{
    HEADER_EXCEPTION, HEADER_MESSAGE, HEADER_OFFSET, HEADER_PARTITION, HEADER_TIMESTAMP, HEADER_TOPIC,
};
use streamz::{RawRecord, StreamsError};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, streamz::Data)]
struct Trade {
    player: String,
    amount: i64,
}

/// `in` (String → Trade) → panics on amount 666 → `Err` on negative amounts → `out` (i64).
fn topology() -> anyhow::Result<streamz::topology::Topology> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, Trade>("in")
        .map_values(|t| {
            assert!(t.amount != 666, "the number of the beast");
            t
        })
        .try_map_values(|t| if t.amount < 0 { Err(format!("negative amount {}", t.amount)) } else { Ok(t.amount) })
        .to("out");
    Ok(builder.build()?)
}

fn json(t: &Trade) -> Option<Vec<u8>> {
    Some(serde_json::to_vec(t).expect("a trade encodes"))
}

fn trade(amount: i64) -> Trade {
    Trade { player: "p".into(), amount }
}

/// One poison pill: its key and value bytes, timestamp, and the kind and message it fails with.
#[derive(Debug)]
struct Pill {
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    /// Whether it decodes (then it is piped with a `trace` header, kept in the dead letter).
    decodes: bool,
    exception: &'static str,
    message: &'static str,
}

fn pill(
    key: Option<&[u8]>,
    value: Option<Vec<u8>>,
    decodes: bool,
    exception: &'static str,
    message: &'static str,
) -> Pill {
    Pill { key: key.map(<[u8]>::to_vec), value, decodes, exception, message }
}

fn pills() -> Vec<Pill> {
    vec![
        pill(Some(&[0xff, 0xfe]), json(&trade(1)), false, "deserialization", "invalid utf-8"),
        pill(Some(b"bad"), Some(br#"{"player": 3}"#.to_vec()), false, "deserialization", "json"),
        pill(Some(b"bad"), None, false, "deserialization", "use `Option<"),
        pill(Some(b"bad"), json(&trade(666)), true, "panic", "the number of the beast"),
        pill(Some(b"bad"), json(&trade(-5)), true, "processing", "negative amount -5"),
    ]
}

const TRACE: (&str, &[u8]) = ("trace", b"t1");

/// Pipes good records (amounts 0..10, keys `k<i>`, timestamps `100 + i`) with a pill after each
/// of the first five, and a record with a negative timestamp after the fifth good one. Returns
/// the pills with their offsets in `in`, stopping at the first error.
fn pipe_mixed(driver: &TopologyTestDriver) -> Result<Vec<(i64, Pill)>, StreamsError> {
    let input = driver.input::<String, Trade>("in");
    let (mut offset, mut piped) = (0, Vec::new());
    let mut pills = pills().into_iter();
    for i in 0..10 {
        input.pipe(format!("k{i}"), trade(i), 100 + i)?;
        offset += 1;
        if i == 4 {
            input.pipe_raw(Some(b"neg".to_vec()), json(&trade(99)), -1)?;
            offset += 1;
        }
        if let Some(p) = pills.next() {
            let ts = 100 + i;
            piped.push((offset, pill(p.key.as_deref(), p.value.clone(), p.decodes, p.exception, p.message)));
            offset += 1;
            if p.decodes {
                let key = String::from_utf8(p.key.clone().unwrap_or_default()).expect("utf-8 key");
                let value: Trade = serde_json::from_slice(p.value.as_deref().unwrap_or_default()).expect("a trade");
                let headers = vec![(TRACE.0.to_string(), Some(TRACE.1.to_vec()))];
                input.pipe_record(Record { key, value, timestamp: Timestamp(ts), headers })?;
            } else {
                input.pipe_raw(p.key, p.value, ts)?;
            }
        }
    }
    Ok(piped)
}

fn driver(config: DriverConfig) -> anyhow::Result<TopologyTestDriver> {
    let config = config.timestamp_policy(TimestampPolicy::SkipAndCount);
    Ok(TopologyTestDriver::with_config(topology()?, config)?)
}

#[test]
fn log_and_continue_processes_every_valid_record_once_and_counts_the_bad_ones() -> anyhow::Result<()> {
    let config = DriverConfig::default()
        .deserialization_error_policy(ErrorPolicy::LogAndContinue)
        .processing_error_policy(ErrorPolicy::LogAndContinue);
    let driver = driver(config)?;
    pipe_mixed(&driver)?;
    let out = driver.output::<String, i64>("out").read_key_values();
    assert_eq!(out, (0..10).map(|i| (format!("k{i}"), i)).collect::<Vec<_>>());
    assert_eq!(driver.metric("skipped-records.deserialization"), 3);
    assert_eq!(driver.metric("skipped-records.processing"), 2);
    assert_eq!(driver.metric("skipped-records"), 5);
    assert_eq!(driver.metric("dropped-records.invalid-timestamp"), 1);
    assert_eq!(driver.metric("dead-letter-records"), 0);
    Ok(())
}

fn header<'a>(r: &'a RawRecord, name: &str) -> Option<&'a str> {
    let value = r.headers.iter().find(|(k, _)| k == name)?.1.as_deref()?;
    std::str::from_utf8(value).ok()
}

#[test]
fn dead_letter_keeps_the_original_bytes_and_says_why() -> anyhow::Result<()> {
    let dlq = ErrorPolicy::dead_letter("in-dlq");
    let config = DriverConfig::default().deserialization_error_policy(dlq.clone()).processing_error_policy(dlq);
    let driver = driver(config)?;
    let piped = pipe_mixed(&driver)?;
    assert_eq!(driver.output::<String, i64>("out").read_values(), (0..10).collect::<Vec<_>>());
    let dead = driver.raw_records("in-dlq");
    assert_eq!(dead.len(), piped.len());
    for ((offset, pill), r) in piped.iter().zip(&dead) {
        let what = format!("pill at offset {offset}: {:?}", r.headers);
        assert_eq!((&r.key, &r.value), (&pill.key, &pill.value), "{what}");
        assert_eq!(header(r, HEADER_EXCEPTION), Some(pill.exception), "{what}");
        assert!(header(r, HEADER_MESSAGE).is_some_and(|m| m.contains(pill.message)), "{what}");
        assert_eq!(header(r, HEADER_TOPIC), Some("in"), "{what}");
        assert_eq!(header(r, HEADER_PARTITION), Some("0"), "{what}");
        assert_eq!(header(r, HEADER_OFFSET), Some(offset.to_string().as_str()), "{what}");
        assert_eq!(header(r, HEADER_TIMESTAMP), Some(r.timestamp.0.to_string().as_str()), "{what}");
        assert_eq!(header(r, TRACE.0).is_some(), pill.decodes, "original headers are kept: {what}");
    }
    assert_eq!(driver.metric("dead-letter-records"), 5);
    assert_eq!(driver.metric("skipped-records"), 5);
    Ok(())
}

#[test]
fn fail_stops_at_the_first_bad_record_naming_its_offset() -> anyhow::Result<()> {
    let driver = driver(DriverConfig::default())?;
    let err = pipe_mixed(&driver).expect_err("the first pill fails");
    assert!(matches!(err, StreamsError::Deserialization { .. }), "{err}");
    assert!(err.to_string().contains("topic `in` partition 0 offset 1"), "{err}");
    assert_eq!(driver.output::<String, i64>("out").read_values(), vec![0]);
    Ok(())
}

#[test]
fn fail_names_the_node_and_offset_of_a_panic_and_of_a_closure_error() -> anyhow::Result<()> {
    for (amount, node, message) in [
        (666, "KSTREAM-MAPVALUES-0000000001", "panicked: the number of the beast"),
        (-5, "KSTREAM-MAPVALUES-0000000002", "negative amount -5"),
    ] {
        let driver = driver(DriverConfig::default())?;
        let input = driver.input::<String, Trade>("in");
        input.pipe("a".into(), trade(1), 1)?;
        let err = input.pipe("b".into(), trade(amount), 2).expect_err("the pill fails");
        let text = err.to_string();
        let StreamsError::Processing { node: got, position, message: got_message } = err else {
            panic!("expected a processing error, got {text}");
        };
        assert_eq!((got.as_str(), &*position.topic, position.offset), (node, "in", 1), "{text}");
        assert!(got_message.contains(message), "{text}");
        // The driver goes on after the error.
        input.pipe("c".into(), trade(3), 3)?;
        assert_eq!(driver.output::<String, i64>("out").read_values(), vec![1, 3]);
    }
    Ok(())
}

#[test]
fn a_source_policy_overrides_the_application_policy() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let consumed = Consumed::default().with_error_policy(ErrorPolicy::LogAndContinue);
    builder.stream_with::<String, i64>("lenient", consumed).to("out");
    builder.stream::<String, i64>("strict").to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    driver.input::<String, i64>("lenient").pipe_raw(None, Some(vec![1]), 1)?;
    let err = driver.input::<String, i64>("strict").pipe_raw(None, Some(vec![1]), 1).expect_err("strict fails");
    assert!(err.to_string().contains("topic `strict`"), "{err}");
    assert_eq!(driver.metric("skipped-records.deserialization"), 1);
    Ok(())
}

/// Fails with a processing error on odd values, forwards even ones.
struct EvenOnly;

impl Processor<String, i64, String, i64> for EvenOnly {
    fn process(
        &mut self,
        record: Record<String, i64>,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> streamz::Result<()> {
        if record.value % 2 != 0 {
            return Err(ctx.processing_error(format!("{} is odd", record.value)));
        }
        ctx.forward(record)
    }
}

#[test]
fn a_user_processor_error_goes_through_the_processing_policy() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").process(|| EvenOnly).to("out");
    let config = DriverConfig::default().processing_error_policy(ErrorPolicy::dead_letter("dlq"));
    let driver = TopologyTestDriver::with_config(builder.build()?, config)?;
    let input = driver.input::<String, i64>("in");
    for v in 0..4 {
        input.pipe("k".into(), v, v)?;
    }
    assert_eq!(driver.output::<String, i64>("out").read_values(), vec![0, 2]);
    let dead = driver.raw_records("dlq");
    let messages: Vec<&str> = dead.iter().filter_map(|r| header(r, HEADER_MESSAGE)).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].ends_with("offset 1: 1 is odd") && messages[1].ends_with("offset 3: 3 is odd"), "{messages:?}");
    Ok(())
}

/// Encodes `i64`s, failing on negative ones.
struct NonNegative;

impl Serde<i64> for NonNegative {
    fn name(&self) -> &'static str {
        "non-negative"
    }

    fn serialize(&self, value: &i64, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        if *value < 0 {
            return Err(SerdeError::new("non-negative", format!("{value} is negative")));
        }
        out.extend_from_slice(&value.to_be_bytes());
        Ok(true)
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<i64, SerdeError> {
        i64::default_serde().deserialize(bytes)
    }
}

fn production_driver(policy: ProductionErrorPolicy) -> anyhow::Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    let serde: SerdeRef<i64> = std::sync::Arc::new(NonNegative);
    builder.stream::<String, i64>("in").to_with("out", Produced::with(String::default_serde(), serde));
    let config = DriverConfig::default()
        .production_error_policy(policy)
        .processing_error_policy(ErrorPolicy::LogAndContinue)
        .max_record_bytes(16);
    Ok(TopologyTestDriver::with_config(builder.build()?, config)?)
}

#[test]
fn production_errors_fail_or_are_skipped_and_counted() -> anyhow::Result<()> {
    let driver = production_driver(ProductionErrorPolicy::LogAndContinue)?;
    let input = driver.input::<String, i64>("in");
    input.pipe("a".into(), 1, 0)?;
    input.pipe("b".into(), -1, 1)?; // does not encode
    input.pipe("a-key-long-enough-to-be-rejected".into(), 2, 2)?; // too large
    input.pipe("c".into(), 3, 3)?;
    assert_eq!(driver.output::<String, i64>("out").read_values(), vec![1, 3]);
    assert_eq!(driver.metric("skipped-records.production"), 2);

    let driver = production_driver(ProductionErrorPolicy::Fail)?;
    let input = driver.input::<String, i64>("in");
    let err = input.pipe("b".into(), -1, 1).expect_err("does not encode");
    assert!(matches!(&err, StreamsError::Serialization { .. }) && err.to_string().contains("-1 is negative"), "{err}");
    let err = input.pipe("a-key-long-enough-to-be-rejected".into(), 2, 2).expect_err("too large");
    assert!(matches!(&err, StreamsError::RecordRejected { .. }), "{err}");
    // The processing policy (log and continue) does not swallow production errors.
    assert_eq!(driver.metric("skipped-records"), 0);
    Ok(())
}
