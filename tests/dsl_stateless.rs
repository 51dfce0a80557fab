//! The stateless operators of `Stream`: exact outputs, timestamps and headers.

use std::sync::{Arc, Mutex};

use streamz::prelude::*;
use streamz::serdes::{to_bytes, Data};
use streamz::task::default_partition;

type Out<K, V> = Vec<(K, V, i64)>;

fn s(x: &str) -> String {
    x.to_string()
}

/// Pipes `(key, value, ts)` into `in` of a topology whose stream `in` is built by `build`.
fn run<V2: Data>(
    build: impl FnOnce(Stream<String, i64>),
    input: &[(&str, i64, i64)],
    output: &str,
) -> anyhow::Result<Out<String, V2>> {
    let builder = StreamsBuilder::new();
    build(builder.stream::<String, i64>("in"));
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let topic = driver.input::<String, i64>("in");
    for &(k, v, ts) in input {
        topic.pipe(s(k), v, ts)?;
    }
    Ok(driver.output::<String, V2>(output).read_with_timestamps())
}

const INPUT: &[(&str, i64, i64)] = &[("a", 1, 10), ("b", -2, 20), ("a", 3, 5), ("c", 40, 30)];

#[test]
fn filter_and_filter_not_partition_the_records() -> anyhow::Result<()> {
    let kept = run::<i64>(|s| s.filter(|k, v| k == "a" || *v > 10).to("out"), INPUT, "out")?;
    assert_eq!(kept, vec![(s("a"), 1, 10), (s("a"), 3, 5), (s("c"), 40, 30)]);
    let dropped = run::<i64>(|s| s.filter_not(|k, v| k == "a" || *v > 10).to("out"), INPUT, "out")?;
    assert_eq!(dropped, vec![(s("b"), -2, 20)]);
    Ok(())
}

#[test]
fn map_replaces_key_and_value_keeping_the_timestamp() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").map(|k, v| (v, format!("{k}{v}"))).to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    for &(k, v, ts) in INPUT {
        driver.input::<String, i64>("in").pipe(s(k), v, ts)?;
    }
    let out = driver.output::<i64, String>("out").read_with_timestamps();
    assert_eq!(out, vec![(1, s("a1"), 10), (-2, s("b-2"), 20), (3, s("a3"), 5), (40, s("c40"), 30)]);
    Ok(())
}

#[test]
fn map_values_and_map_values_with_key() -> anyhow::Result<()> {
    let doubled = run::<i64>(|s| s.map_values(|v| v * 2).to("out"), INPUT, "out")?;
    assert_eq!(doubled, vec![(s("a"), 2, 10), (s("b"), -4, 20), (s("a"), 6, 5), (s("c"), 80, 30)]);
    let keyed = run::<String>(|s| s.map_values_with_key(|k, v| format!("{k}:{v}")).to("out"), INPUT, "out")?;
    let expected =
        vec![(s("a"), s("a:1"), 10), (s("b"), s("b:-2"), 20), (s("a"), s("a:3"), 5), (s("c"), s("c:40"), 30)];
    assert_eq!(keyed, expected);
    Ok(())
}

#[test]
fn flat_map_emits_every_pair_in_order_with_the_input_timestamp() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").flat_map(|k, v| (0..v).map(move |i| (i, k.clone()))).to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, i64>("in");
    input.pipe(s("x"), 2, 7)?;
    input.pipe(s("y"), 0, 8)?;
    input.pipe(s("z"), 1, 9)?;
    let out = driver.output::<i64, String>("out").read_with_timestamps();
    assert_eq!(out, vec![(0, s("x"), 7), (1, s("x"), 7), (0, s("z"), 9)]);
    Ok(())
}

#[test]
fn flat_map_values_keeps_the_key() -> anyhow::Result<()> {
    let out = run::<i64>(|s| s.flat_map_values(|v| vec![v; v.clamp(0, 2) as usize]).to("out"), INPUT, "out")?;
    assert_eq!(out, vec![(s("a"), 1, 10), (s("a"), 3, 5), (s("a"), 3, 5), (s("c"), 40, 30), (s("c"), 40, 30)]);
    Ok(())
}

#[test]
fn select_key_sets_the_key_from_key_and_value() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").select_key(|k, v| format!("{k}-{}", v % 2 == 0)).to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    for &(k, v, ts) in INPUT {
        driver.input::<String, i64>("in").pipe(s(k), v, ts)?;
    }
    let out = driver.output::<String, i64>("out").read_with_timestamps();
    assert_eq!(out, vec![(s("a-false"), 1, 10), (s("b-true"), -2, 20), (s("a-false"), 3, 5), (s("c-true"), 40, 30)]);
    Ok(())
}

#[test]
fn peek_and_foreach_see_every_record_in_order() -> anyhow::Result<()> {
    let peeked = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (p, f) = (peeked.clone(), seen.clone());
    let out = run::<i64>(
        move |stream| {
            let peeked = stream.peek(move |k, v| p.lock().unwrap().push((k.clone(), *v)));
            peeked.to("out");
            peeked.filter(|_, v| *v > 0).foreach(move |k, v| f.lock().unwrap().push((k.clone(), *v)));
        },
        INPUT,
        "out",
    )?;
    assert_eq!(out, INPUT.iter().map(|&(k, v, ts)| (s(k), v, ts)).collect::<Vec<_>>());
    let all: Vec<_> = INPUT.iter().map(|&(k, v, _)| (s(k), v)).collect();
    assert_eq!(*peeked.lock().unwrap(), all);
    assert_eq!(*seen.lock().unwrap(), vec![(s("a"), 1), (s("a"), 3), (s("c"), 40)]);
    Ok(())
}

#[test]
fn split_sends_each_record_to_the_first_matching_branch() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, i64>("in")
        .split()
        .branch(|_, v| *v < 0)
        .branch(|_, v| *v < 10)
        .branch(|_, v| *v < 100) // 5 matches this too, but the second branch wins
        .default_branch();
    assert_eq!(branches.len(), 4);
    for (i, b) in branches.iter().enumerate() {
        b.to(&format!("b{i}"));
    }
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, i64>("in");
    for (i, v) in [-1, 5, 50, 500, 7].into_iter().enumerate() {
        input.pipe(s("k"), v, i as i64)?;
    }
    let read = |t: &str| driver.output::<String, i64>(t).read_with_timestamps();
    assert_eq!(read("b0"), vec![(s("k"), -1, 0)]);
    assert_eq!(read("b1"), vec![(s("k"), 5, 1), (s("k"), 7, 4)]);
    assert_eq!(read("b2"), vec![(s("k"), 50, 2)]);
    assert_eq!(read("b3"), vec![(s("k"), 500, 3)]);
    Ok(())
}

#[test]
fn split_without_default_branch_drops_unmatched_records() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let branches =
        builder.stream::<String, i64>("in").split().branch(|_, v| *v < 0).branch(|_, v| *v > 100).no_default_branch();
    assert_eq!(branches.len(), 2);
    branches[0].to("neg");
    branches[1].to("big");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, i64>("in");
    for (i, v) in [5, -3, 500, 0].into_iter().enumerate() {
        input.pipe(s("k"), v, i as i64)?;
    }
    assert_eq!(driver.output::<String, i64>("neg").read_with_timestamps(), vec![(s("k"), -3, 1)]);
    assert_eq!(driver.output::<String, i64>("big").read_with_timestamps(), vec![(s("k"), 500, 2)]);
    Ok(())
}

#[test]
fn merge_interleaves_both_streams_in_processing_order() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, i64>("left");
    let right = builder.stream::<String, i64>("right").map_values(|v| v * 100);
    left.merge(&right).to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    driver.input::<String, i64>("left").pipe(s("l"), 1, 3)?;
    driver.input::<String, i64>("right").pipe(s("r"), 2, 1)?;
    driver.input::<String, i64>("left").pipe(s("l"), 3, 2)?;
    let out = driver.output::<String, i64>("out").read_with_timestamps();
    assert_eq!(out, vec![(s("l"), 1, 3), (s("r"), 200, 1), (s("l"), 3, 2)]);
    Ok(())
}

#[test]
fn to_dynamic_writes_each_record_to_its_chosen_topic() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").to_dynamic(|k, _| format!("out-{k}"));
    let driver = TopologyTestDriver::new(builder.build()?)?;
    for &(k, v, ts) in INPUT {
        driver.input::<String, i64>("in").pipe(s(k), v, ts)?;
    }
    let read = |t: &str| driver.output::<String, i64>(t).read_with_timestamps();
    assert_eq!(read("out-a"), vec![(s("a"), 1, 10), (s("a"), 3, 5)]);
    assert_eq!(read("out-b"), vec![(s("b"), -2, 20)]);
    assert_eq!(read("out-c"), vec![(s("c"), 40, 30)]);
    Ok(())
}

#[test]
fn through_writes_the_topic_and_reads_it_back() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").map_values(|v| v + 1).through("mid").map_values(|v| v * 10).to("out");
    let topology = builder.build()?;
    assert_eq!(topology.subtopologies().len(), 2);
    let driver = TopologyTestDriver::new(topology)?;
    driver.input::<String, i64>("in").pipe(s("a"), 1, 4)?;
    driver.input::<String, i64>("in").pipe(s("b"), 2, 3)?;
    assert_eq!(driver.output::<String, i64>("mid").read_with_timestamps(), vec![(s("a"), 2, 4), (s("b"), 3, 3)]);
    assert_eq!(driver.output::<String, i64>("out").read_with_timestamps(), vec![(s("a"), 20, 4), (s("b"), 30, 3)]);
    Ok(())
}

#[test]
fn repartition_with_partitions_partitions_by_the_new_key() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("in")
        .select_key(|_, v| format!("key-{v}"))
        .repartition_with(Repartitioned::named("by-value").with_partitions(3))
        .to("out");
    let topology = builder.build()?;
    assert_eq!(topology.subtopologies().len(), 2);
    let driver = TopologyTestDriver::new(topology)?;
    let topic = "streamz-test-by-value-repartition";
    let planned = driver.plan().internal_topics.into_iter().find(|t| t.name == topic);
    assert_eq!(planned.map(|t| t.partitions), Some(3));
    let input = driver.input::<String, i64>("in");
    for v in 0..12 {
        input.pipe(s("k"), v, 100 + v)?;
    }
    let raw = driver.raw_records(topic);
    assert_eq!(raw.len(), 12);
    for r in &raw {
        let key = r.key.as_deref().expect("keyed");
        assert_eq!(r.partition, default_partition(key, 3), "{r:?}");
    }
    let mut partitions: Vec<i32> = raw.iter().map(|r| r.partition).collect();
    partitions.sort();
    partitions.dedup();
    assert!(partitions.len() > 1, "all records in partitions {partitions:?}");
    // The records come out with their keys and timestamps; their order follows the tasks.
    let mut out = driver.output::<String, i64>("out").read_with_timestamps();
    out.sort_by_key(|r| r.1);
    assert_eq!(out, (0..12).map(|v| (format!("key-{v}"), v, 100 + v)).collect::<Vec<_>>());
    Ok(())
}

#[test]
fn repartition_without_options_gets_a_generated_topic() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").repartition().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let names: Vec<String> = driver.plan().internal_topics.into_iter().map(|t| t.name).collect();
    assert_eq!(names, vec![s("streamz-test-KSTREAM-REPARTITION-0000000001-repartition")]);
    driver.input::<String, i64>("in").pipe(s("a"), 1, 2)?;
    assert_eq!(driver.raw_records(&names[0]).len(), 1);
    assert_eq!(driver.output::<String, i64>("out").read_with_timestamps(), vec![(s("a"), 1, 2)]);
    Ok(())
}

#[test]
fn headers_are_carried_through_stateless_operators_and_topics() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, i64>("in")
        .map_values(|v| v + 1)
        .flat_map_values(|v| vec![v, v])
        .select_key(|k, _| format!("{k}!"))
        .repartition()
        .split()
        .branch(|_, v| *v > 0)
        .no_default_branch();
    branches[0].to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let headers = vec![(s("trace"), Some(b"abc".to_vec())), (s("empty"), None)];
    let record = Record { key: s("k"), value: 1, timestamp: Timestamp(9), headers: headers.clone() };
    driver.input::<String, i64>("in").pipe_record(record)?;
    let out = driver.output::<String, i64>("out").read_records();
    assert_eq!(out.len(), 2);
    for r in out {
        assert_eq!((r.key.as_str(), r.value, r.timestamp, &r.headers), ("k!", 2, Timestamp(9), &headers));
    }
    Ok(())
}

#[test]
fn sinks_encode_with_the_serdes_the_stream_carries() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").map_values(|v| v.to_string()).to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    driver.input::<String, i64>("in").pipe(s("a"), 42, 0)?;
    let raw = driver.raw_records("out");
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0].key, to_bytes(&*String::default_serde(), &s("a"))?);
    assert_eq!(raw[0].value.as_deref(), Some(&b"42"[..]));
    Ok(())
}
