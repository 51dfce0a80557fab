//! Exactly-once on a real broker (rule 19): outputs, read `read_committed`, are exactly the
//! expected ones, also across a rebalance that moves tasks to a second instance.

mod common;

use std::time::Duration;

use common::{bootstrap, per_key, unique};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, AppState, ProcessingGuarantee, StreamsConfig};
use streamz::topology::Topology;

/// Word count through a repartition topic: every count update goes out.
fn word_count(input: &str, output: &str) -> Result<Topology, TopologyError> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<(), String>(input)
        .flat_map_values(|line| line.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .select_key(|_, word| word.clone())
        .group_by_key()
        .count_with(Materialized::named("counts"))
        .to_stream()
        .to(output);
    builder.build()
}

fn lines(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("w{} w{} w{}", i % 7, i % 13, i % 31)).collect()
}

#[test]
fn exactly_once_word_count_has_every_count_once_across_a_rebalance() -> anyhow::Result<()> {
    let (input, output, app_id) = (unique("eos-lines"), unique("eos-counts"), unique("eos-wc"));
    let client = KafkaClient::connect(&bootstrap())?;
    client.create_topic(&input, 4)?;
    client.create_topic(&output, 4)?;
    let config = || {
        StreamsConfig::new(&app_id)
            .cache_max_bytes(0)
            .bootstrap_servers(bootstrap())
            .state_dir(common::state_dir())
            .processing_guarantee(ProcessingGuarantee::ExactlyOnce)
    };
    let produce = |range: std::ops::Range<usize>| {
        let now = Timestamp::now().0;
        client.produce(&input, lines(range).into_iter().enumerate().map(|(i, l)| ((), l, Timestamp(now + i as i64))))
    };
    let first = App::new(word_count(&input, &output)?, config())?.start()?;
    produce(0..500)?;
    let early = client.read_with::<String, Option<i64>>(&output, 300, Duration::from_secs(60), true)?;
    assert!(early.len() >= 300, "{:?} {:?}", first.metrics(), first.errors());

    // A second instance takes over half the tasks: the first commits its transaction for
    // them before they go; the second restores their counts from the committed changelogs.
    let second = App::new(word_count(&input, &output)?, config())?.start()?;
    produce(500..1_000)?;
    let want = 1_000 * 3;
    let got = client.read_with::<String, Option<i64>>(&output, want, Duration::from_secs(90), true)?;
    let status = format!("{:?} {:?} / {:?} {:?}", first.metrics(), first.errors(), second.metrics(), second.errors());
    assert!(second.wait_for_state(AppState::Running, Duration::from_secs(30)), "{status}");
    first.close()?;
    second.close()?;

    let mut expected: std::collections::BTreeMap<String, Vec<Option<i64>>> = Default::default();
    for line in lines(0..1_000) {
        for word in line.split_whitespace() {
            let counts = expected.entry(word.to_string()).or_default();
            counts.push(Some(counts.len() as i64 + 1));
        }
    }
    assert_eq!(got.len(), want, "{status}");
    assert_eq!(per_key(&got), expected, "{status}");
    Ok(())
}

#[test]
fn exactly_once_defaults_to_a_short_commit_interval() -> anyhow::Result<()> {
    let (input, output) = (unique("eos-ci-in"), unique("eos-ci-out"));
    let client = KafkaClient::connect(&bootstrap())?;
    client.create_topic(&input, 1)?;
    client.create_topic(&output, 1)?;
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>(&input).map_values(|v| v * 2).to(&output);
    let config = StreamsConfig::new(unique("eos-ci"))
        .cache_max_bytes(0)
        .bootstrap_servers(bootstrap())
        .processing_guarantee(ProcessingGuarantee::ExactlyOnce);
    let app = App::new(builder.build()?, config)?.start()?;
    client.produce(&input, (0..10i64).map(|i| (format!("k{i}"), i, Timestamp::now())))?;
    // Under at-least-once nothing would be committed for 30 s; here within a fraction of it.
    let got = client.read_with::<String, i64>(&output, 10, Duration::from_secs(20), true)?;
    app.close()?;
    assert_eq!(got.iter().map(|r| r.value).collect::<Vec<_>>(), (0..10).map(|i| i * 2).collect::<Vec<_>>());
    Ok(())
}
