//! Graceful shutdown on SIGTERM: the application stops, commits and leaves the group, in
//! a few seconds.

mod common;

use std::time::{Duration, Instant};

use common::{bootstrap, unique};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, AppState, StreamsConfig};

#[test]
fn sigterm_closes_the_app_after_a_final_commit() -> anyhow::Result<()> {
    let (input, output) = (unique("sig-in"), unique("sig-out"));
    let client = KafkaClient::connect(&bootstrap())?;
    client.create_topic(&input, 2)?;
    client.create_topic(&output, 2)?;
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>(&input).group_by_key().count().to_stream().to(&output);
    // A long commit interval: only the final commit at shutdown commits the offsets.
    let app_id = unique("sig-app");
    let config = StreamsConfig::new(&app_id)
        .cache_max_bytes(0)
        .bootstrap_servers(bootstrap())
        .commit_interval(Duration::from_secs(3600));
    let running = App::new(builder.build()?, config)?.start()?;
    assert!(
        running.wait_for_state(AppState::Running, Duration::from_secs(30)),
        "{:?} {:?}",
        running.state(),
        running.errors()
    );
    client.produce(&input, (0..20i64).map(|i| (format!("k{}", i % 4), i, Timestamp::now())))?;
    let out = client.read::<String, Option<i64>>(&output, 20, Duration::from_secs(30))?;
    assert_eq!(out.len(), 20, "{:?} {:?}", running.metrics(), running.errors());

    let pid = std::process::id().to_string();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        std::process::Command::new("kill").args(["-TERM", &pid]).status()
    });
    let started = Instant::now();
    running.run_until_shutdown_signal()?;
    let closing = started.elapsed();
    assert!(killer.join().expect("kill thread").map(|s| s.success()).unwrap_or(false));
    // The signal comes after 500 ms; the final commit and leaving the group take little more.
    assert!(closing < Duration::from_secs(10), "closing took {closing:?}");

    // A second run of the same application starts from the committed offsets: it sees no
    // old input, so it writes nothing for it.
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>(&input).group_by_key().count().to_stream().to(&output);
    let config = StreamsConfig::new(&app_id)
        .cache_max_bytes(0)
        .bootstrap_servers(bootstrap())
        .commit_interval(Duration::from_millis(100));
    let started = Instant::now();
    let again = App::new(builder.build()?, config)?.start()?;
    assert!(again.wait_for_state(AppState::Running, Duration::from_secs(30)));
    // Had the first instance not left the group, the group would wait for its session to
    // time out (10 s) before giving the partitions to this one.
    let joined = started.elapsed();
    assert!(joined < Duration::from_secs(8), "the second instance got its partitions after {joined:?}");
    std::thread::sleep(Duration::from_secs(2));
    let processed = again.metrics().get("records-processed").copied().unwrap_or(0);
    again.close()?;
    assert_eq!(processed, 0, "the restarted application reprocessed committed input");
    Ok(())
}
