//! The record cache on a real Kafka broker: a hot key's updates are folded between commits,
//! so the changelog and the output topic get fewer records than the input, with the right
//! final counts.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{bootstrap, last_per_key, unique};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, StreamsConfig};

#[test]
fn a_hot_key_is_folded_in_the_changelog_and_the_output() -> anyhow::Result<()> {
    let (input, output, app_id) = (unique("cache-in"), unique("cache-out"), unique("cache"));
    let client = KafkaClient::connect(&bootstrap())?;
    client.create_topic(&input, 1)?;
    client.create_topic(&output, 1)?;
    const HOT: usize = 3_000;
    let now = Timestamp::now().0;
    let records = (0..HOT).map(|i| ("hot".to_string(), i as i64, Timestamp(now + i as i64)));
    client.produce(&input, records.chain([("cold".to_string(), 0, Timestamp(now))]))?;

    let builder = StreamsBuilder::new();
    let counts = builder.stream::<String, i64>(&input).group_by_key().count_with(Materialized::named("counts"));
    counts.to_stream().to(&output);
    let config = StreamsConfig::new(&app_id)
        .bootstrap_servers(bootstrap())
        .commit_interval(Duration::from_millis(500))
        .cache_max_bytes(1 << 20);
    let running = App::new(builder.build()?, config)?.start()?;

    let want: BTreeMap<String, Option<i64>> = [("cold".into(), Some(1)), ("hot".into(), Some(HOT as i64))].into();
    let started = Instant::now();
    let mut out = Vec::new();
    while started.elapsed() < Duration::from_secs(60) {
        out = client.read::<String, Option<i64>>(&output, 1, Duration::from_secs(2))?;
        if last_per_key(&out) == want {
            break;
        }
    }
    let status = format!("{:?} {:?} {:?}", running.state(), running.metrics(), running.errors());
    running.close()?;
    assert_eq!(last_per_key(&out), want, "{status}");
    assert!(out.len() < HOT / 2, "the output is folded: {} records for {} inputs", out.len(), HOT + 1);
    let changelog = client.read_raw(&format!("{app_id}-counts-changelog"), 2, Duration::from_secs(10))?;
    assert!(changelog.len() >= 2, "both keys are logged");
    assert!(changelog.len() < HOT / 2, "the changelog is folded: {} records", changelog.len());
    Ok(())
}
