//! End to end on a real Kafka broker: the same topologies as under the test driver, with the
//! same outputs per key.

mod common;

use std::time::Duration;

use common::{bootstrap, per_key, unique};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, AppState, StreamsConfig};
use streamz::topology::Topology;

fn word_count(input: &str, output: &str) -> Result<Topology, TopologyError> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<(), String>(input)
        .flat_map_values(|line| line.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>())
        .select_key(|_, word| word.clone())
        .group_by_key()
        .count_with(Materialized::named("counts"))
        .to_stream()
        .to(output);
    builder.build()
}

fn config(app: &str) -> StreamsConfig {
    StreamsConfig::new(app)
        .cache_max_bytes(0)
        .bootstrap_servers(bootstrap())
        .commit_interval(Duration::from_millis(200))
}

fn lines() -> Vec<String> {
    (0..200).map(|i| format!("w{} w{} common w{}", i % 7, i % 13, i % 3)).collect()
}

#[test]
fn word_count_matches_the_test_driver() -> anyhow::Result<()> {
    let (input, output) = (unique("lines"), unique("counts"));
    let client = KafkaClient::connect(&bootstrap())?;
    client.create_topic(&input, 3)?;
    client.create_topic(&output, 3)?;
    let now = Timestamp::now().0;
    client.produce(&input, lines().into_iter().enumerate().map(|(i, l)| ((), l, Timestamp(now + i as i64))))?;

    let running = App::new(word_count(&input, &output)?, config(&unique("wc")))?.start()?;
    let expected_records = lines().len() * 4;
    let got = client.read::<String, Option<i64>>(&output, expected_records, Duration::from_secs(60))?;
    let status = format!("{:?} {:?} {:?}", running.state(), running.metrics(), running.errors());
    running.close()?;

    let driver =
        TopologyTestDriver::with_config(word_count(&input, &output)?, DriverConfig::default().partitions(&input, 3))?;
    let pipe = driver.input::<(), String>(&input);
    for (i, line) in lines().into_iter().enumerate() {
        pipe.pipe((), line, now + i as i64)?;
    }
    let want = driver.output::<String, Option<i64>>(&output).read_records();
    assert_eq!(got.len(), want.len(), "{status}");
    assert_eq!(per_key(&got), per_key(&want));
    Ok(())
}

#[test]
fn two_stream_threads_share_the_tasks() -> anyhow::Result<()> {
    let (input, output) = (unique("lines2"), unique("counts2"));
    let client = KafkaClient::connect(&bootstrap())?;
    client.create_topic(&input, 4)?;
    client.create_topic(&output, 4)?;
    let now = Timestamp::now().0;
    client.produce(&input, lines().into_iter().enumerate().map(|(i, l)| ((), l, Timestamp(now + i as i64))))?;
    let running = App::new(word_count(&input, &output)?, config(&unique("wc2")).num_stream_threads(2))?.start()?;
    assert!(running.wait_for_state(AppState::Running, Duration::from_secs(30)), "{:?}", running.state());
    let got = client.read::<String, Option<i64>>(&output, lines().len() * 4, Duration::from_secs(60))?;
    running.close()?;
    let totals = common::last_per_key(&got);
    assert_eq!(totals.get("common"), Some(&Some(lines().len() as i64)));
    assert_eq!(got.len(), lines().len() * 4);
    Ok(())
}

#[test]
fn consumed_repartition_records_are_purged() -> anyhow::Result<()> {
    let (input, output, app) = (unique("purge-in"), unique("purge-out"), unique("purge"));
    let client = KafkaClient::connect(&bootstrap())?;
    client.create_topic(&input, 2)?;
    client.create_topic(&output, 2)?;
    let now = Timestamp::now().0;
    client.produce(&input, lines().into_iter().enumerate().map(|(i, l)| ((), l, Timestamp(now + i as i64))))?;
    let config = config(&app).repartition_purge_interval(Duration::ZERO);
    let running = App::new(word_count(&input, &output)?, config)?.start()?;
    client.read::<String, Option<i64>>(&output, lines().len() * 4, Duration::from_secs(60))?;
    let repartition = format!("{app}-counts-repartition");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = |running: &streamz::runtime::RunningApp| {
        format!("{:?} {:?} {:?}", running.state(), running.metrics(), running.errors())
    };
    let purged = loop {
        let marks = client.watermarks(&repartition)?;
        let low: i64 = marks.iter().map(|(_, low, _)| low).sum();
        let high: i64 = marks.iter().map(|(_, _, high)| high).sum();
        if (low > 0 && low == high) || std::time::Instant::now() > deadline {
            break (low, high);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let status = status(&running);
    running.close()?;
    assert_eq!(purged.1, (lines().len() * 4) as i64, "every word went through the repartition topic: {status}");
    assert_eq!(purged.0, purged.1, "the consumed records of the repartition topic were deleted: {status}");
    Ok(())
}

#[test]
fn an_unreachable_cluster_fails_start_with_a_clear_error() -> anyhow::Result<()> {
    let config = StreamsConfig::new(unique("unreachable"))
        .cache_max_bytes(0)
        .bootstrap_servers("127.0.0.1:1")
        .startup_timeout(Duration::from_secs(2));
    let started = std::time::Instant::now();
    let err = App::new(word_count("a", "b")?, config)?.start().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(15), "start took {:?}", started.elapsed());
    assert!(err.to_string().contains("cannot reach the Kafka cluster at `127.0.0.1:1`"), "{err}");
    Ok(())
}

#[test]
fn a_missing_input_topic_fails_start() -> anyhow::Result<()> {
    let missing = unique("missing");
    let err = App::new(word_count(&missing, "out")?, config(&unique("missing-app")))?.start().unwrap_err();
    assert!(
        matches!(err, StreamsError::Topology(TopologyError::UnknownTopic { ref topic, .. }) if *topic == missing),
        "{err}"
    );
    Ok(())
}

#[test]
fn a_missing_output_topic_fails_start() -> anyhow::Result<()> {
    let (input, output) = (unique("has-input"), unique("no-output"));
    KafkaClient::connect(&bootstrap())?.create_topic(&input, 1)?;
    let err = App::new(word_count(&input, &output)?, config(&unique("no-output-app")))?.start().unwrap_err();
    assert!(
        matches!(err, StreamsError::Topology(TopologyError::UnknownTopic { ref topic, .. }) if *topic == output),
        "{err}"
    );
    assert!(err.to_string().contains("writes to it but it does not exist"), "{err}");
    Ok(())
}

#[test]
fn the_app_reports_its_states() -> anyhow::Result<()> {
    let (input, output) = (unique("states-in"), unique("states-out"));
    let client = KafkaClient::connect(&bootstrap())?;
    client.create_topic(&input, 1)?;
    client.create_topic(&output, 1)?;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = App::new(word_count(&input, &output)?, config(&unique("states")))?
        .with_state_listener(move |_, new| log.lock().unwrap().push(new));
    let running = app.start()?;
    assert!(
        running.wait_for_state(AppState::Running, Duration::from_secs(30)),
        "state {:?}: {:?}",
        running.state(),
        running.errors()
    );
    running.close()?;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.first(), Some(&AppState::Rebalancing));
    assert!(seen.contains(&AppState::Running));
    assert_eq!(&seen[seen.len() - 2..], &[AppState::PendingShutdown, AppState::NotRunning]);
    Ok(())
}
