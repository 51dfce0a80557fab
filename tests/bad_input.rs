//! Records whose bytes do not decode: no panic, a `StreamsError::Deserialization` naming topic,
//! partition, offset and the codec's message; the records before it were processed.

use serde::{Deserialize, Serialize};
use streamz::error::RecordPart;
use streamz::prelude::*;
use streamz::serdes::to_bytes;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, streamz::Data)]
struct Trade {
    player: String,
    amount: i64,
}

/// `in` → `out` unchanged, for keys `K` and values `V`, with two good records piped first.
fn driver_with_two_good<V: Data>(good: V) -> anyhow::Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, V>("in").map_values(|v| v).to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, V>("in");
    input.pipe("a".into(), good.clone(), 1)?;
    input.pipe("b".into(), good, 2)?;
    Ok(driver)
}

fn key_bytes(k: &str) -> Option<Vec<u8>> {
    Some(k.as_bytes().to_vec())
}

/// Checks `err` is a deserialization error of `part` at offset 2 of `in` carrying `message`.
fn check(err: StreamsError, part: RecordPart, codec: &str, message: &str) {
    let text = err.to_string();
    let StreamsError::Deserialization { position, part: got, source } = err else {
        panic!("expected a deserialization error, got {text}");
    };
    assert_eq!((&*position.topic, position.partition, position.offset), ("in", 0, 2), "{text}");
    assert_eq!(got, part, "{text}");
    assert_eq!(source.codec, codec, "{text}");
    assert!(source.message.contains(message), "{text}");
    assert!(text.contains(&format!("the {part} of the record at topic `in` partition 0 offset 2")), "{text}");
    assert!(text.contains(&format!("{codec}: {}", source.message)), "{text}");
}

#[test]
fn a_key_that_is_not_utf8() -> anyhow::Result<()> {
    let driver = driver_with_two_good(1i64)?;
    let err =
        driver.input::<String, i64>("in").pipe_raw(Some(vec![b'x', 0xff, 0xfe]), Some(7i64.to_be_bytes().to_vec()), 3);
    check(err.expect_err("bad UTF-8 must fail"), RecordPart::Key, "utf-8", "invalid utf-8");
    assert_eq!(driver.output::<String, i64>("out").read_values(), vec![1, 1]);
    Ok(())
}

#[test]
fn a_json_value_of_the_wrong_shape() -> anyhow::Result<()> {
    let driver = driver_with_two_good(Trade { player: "p".into(), amount: 5 })?;
    let value = br#"{"player": "p", "amount": "lots"}"#.to_vec();
    let err = driver.input::<String, Trade>("in").pipe_raw(key_bytes("c"), Some(value), 3);
    check(err.expect_err("a string amount must fail"), RecordPart::Value, "json", "invalid type: string \"lots\"");
    assert_eq!(driver.output::<String, Trade>("out").read_values().len(), 2);
    Ok(())
}

#[test]
fn a_short_i64() -> anyhow::Result<()> {
    let driver = driver_with_two_good(1i64)?;
    let err = driver.input::<String, i64>("in").pipe_raw(key_bytes("c"), Some(vec![0, 1, 2]), 3);
    check(err.expect_err("3 bytes are no i64"), RecordPart::Value, "i64", "expected 8 bytes, got 3");
    assert_eq!(driver.output::<String, i64>("out").read_values(), vec![1, 1]);
    Ok(())
}

#[test]
fn a_null_value_of_a_non_nullable_type() -> anyhow::Result<()> {
    let driver = driver_with_two_good(1i64)?;
    let err = driver.input::<String, i64>("in").pipe_raw(key_bytes("c"), None, 3);
    check(err.expect_err("i64 is not nullable"), RecordPart::Value, "i64", "use `Option<i64>` to accept nulls");
    assert_eq!(driver.output::<String, i64>("out").read_values(), vec![1, 1]);
    Ok(())
}

#[test]
fn a_null_key_of_a_non_nullable_type() -> anyhow::Result<()> {
    let driver = driver_with_two_good(1i64)?;
    let err = driver.input::<String, i64>("in").pipe_raw(None, Some(1i64.to_be_bytes().to_vec()), 3);
    check(err.expect_err("String is not nullable"), RecordPart::Key, "utf-8", "use `Option<String>` to accept nulls");
    Ok(())
}

#[test]
fn nullable_types_accept_nulls() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<Option<String>, Option<i64>>("in").to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    driver.input::<Option<String>, Option<i64>>("in").pipe_raw(None, None, 3)?;
    assert_eq!(driver.output::<Option<String>, Option<i64>>("out").read_key_values(), vec![(None, None)]);
    Ok(())
}

#[test]
fn a_value_timestamp_extractor_fails_on_the_bad_record_and_the_driver_goes_on() -> anyhow::Result<()> {
    // A value extractor decodes the value when the record is queued: the error surfaces there.
    let builder = StreamsBuilder::new();
    let consumed =
        Consumed::default().with_timestamp_extractor(TimestampExtractor::from_value(|v: &i64| Timestamp(*v)));
    builder.stream_with::<String, i64>("in", consumed).to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, i64>("in");
    input.pipe("a".into(), 1, 0)?;
    input.pipe("b".into(), 2, 0)?;
    let err = input.pipe_raw(key_bytes("c"), Some(vec![1]), 0).expect_err("1 byte is no i64");
    check(err, RecordPart::Value, "i64", "expected 8 bytes, got 1");
    let value = to_bytes(&*i64::default_serde(), &4)?;
    input.pipe_raw(key_bytes("d"), value, 0)?;
    assert_eq!(
        driver.output::<String, i64>("out").read_with_timestamps(),
        vec![("a".into(), 1, 1), ("b".into(), 2, 2), ("d".into(), 4, 4)]
    );
    Ok(())
}
