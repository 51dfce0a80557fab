//! Stateful topologies on a real Kafka broker: outputs equal the test driver's, per key.

mod common;

use std::time::{Duration, Instant};

use common::{bootstrap, per_key, unique};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, RunningApp, StreamsConfig};
use streamz::topology::Topology;

fn start(topology: Topology) -> anyhow::Result<RunningApp> {
    let config = StreamsConfig::new(unique("topologies"))
        .cache_max_bytes(0)
        .bootstrap_servers(bootstrap())
        .commit_interval(Duration::from_millis(200));
    Ok(App::new(topology, config)?.start()?)
}

fn wait_processed(app: &RunningApp, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.metrics().get("records-processed").copied().unwrap_or(0) < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn stream_table_join_matches_the_test_driver() -> anyhow::Result<()> {
    let (trades, users, out) = (unique("trades"), unique("users"), unique("enriched"));
    let topology = || -> Result<Topology, TopologyError> {
        let builder = StreamsBuilder::new();
        let users = builder.table::<String, String>(&users);
        builder
            .stream::<String, i64>(&trades)
            .left_join_table(&users, |amount, country| format!("{amount}@{}", country.map_or("?", String::as_str)))
            .to(&out);
        builder.build()
    };
    let client = KafkaClient::connect(&bootstrap())?;
    client.create_topic(&trades, 2)?;
    client.create_topic(&users, 2)?;
    client.create_topic(&out, 2)?;
    let now = Timestamp::now().0;
    let user_records: Vec<(String, String, Timestamp)> =
        (0..10).map(|u| (format!("u{u}"), format!("c{}", u % 3), Timestamp(now + u))).collect();
    let trade_records: Vec<(String, i64, Timestamp)> =
        (0..100).map(|i| (format!("u{}", i % 12), i, Timestamp(now + 100 + i))).collect();

    client.produce(&users, user_records.clone())?;
    let app = start(topology()?)?;
    wait_processed(&app, user_records.len() as u64);
    client.produce(&trades, trade_records.clone())?;
    let got = client.read::<String, String>(&out, trade_records.len(), Duration::from_secs(60))?;
    app.close()?;

    let driver = TopologyTestDriver::with_config(
        topology()?,
        DriverConfig::default().partitions(&trades, 2).partitions(&users, 2),
    )?;
    let (u, t) = (driver.input::<String, Option<String>>(&users), driver.input::<String, i64>(&trades));
    for (k, v, ts) in user_records {
        u.pipe(k, Some(v), ts)?;
    }
    for (k, v, ts) in trade_records {
        t.pipe(k, v, ts)?;
    }
    let want = driver.output::<String, String>(&out).read_records();
    assert_eq!(got.len(), want.len());
    assert_eq!(per_key(&got), per_key(&want));
    Ok(())
}

#[test]
fn windowed_count_matches_the_test_driver() -> anyhow::Result<()> {
    let (input, out) = (unique("clicks"), unique("clicks-per-10s"));
    let topology = || -> Result<Topology, TopologyError> {
        let builder = StreamsBuilder::new();
        builder
            .stream::<String, String>(&input)
            .group_by_key()
            .windowed_by(TimeWindows::tumbling(Duration::from_secs(10)).grace(Duration::from_secs(5)))
            .count_with(Materialized::named("clicks-per-window"))
            .to_stream()
            .map(|w, c| (format!("{}@{}", w.key, w.window.start.0), c))
            .to(&out);
        builder.build()
    };
    let client = KafkaClient::connect(&bootstrap())?;
    client.create_topic(&input, 3)?;
    client.create_topic(&out, 3)?;
    let now = Timestamp::now().0;
    // Out of order by up to 3 s: within grace.
    let records: Vec<(String, String, Timestamp)> = (0..300)
        .map(|i| (format!("user{}", i % 7), format!("/page/{i}"), Timestamp(now + i * 100 - (i % 4) * 1_000)))
        .collect();
    client.produce(&input, records.clone())?;
    let app = start(topology()?)?;
    let got = client.read::<String, Option<i64>>(&out, records.len(), Duration::from_secs(60))?;
    app.close()?;

    let driver = TopologyTestDriver::with_config(topology()?, DriverConfig::default().partitions(&input, 3))?;
    let pipe = driver.input::<String, String>(&input);
    for (k, v, ts) in records {
        pipe.pipe(k, v, ts)?;
    }
    let want = driver.output::<String, Option<i64>>(&out).read_records();
    assert_eq!(got.len(), want.len());
    assert_eq!(per_key(&got), per_key(&want));
    Ok(())
}

#[test]
fn joining_topics_with_different_partition_counts_fails_start() -> anyhow::Result<()> {
    let (a, b) = (unique("left"), unique("right"));
    let client = KafkaClient::connect(&bootstrap())?;
    client.create_topic(&a, 2)?;
    client.create_topic(&b, 3)?;
    client.create_topic("joined", 1)?;
    let builder = StreamsBuilder::new();
    let right = builder.table::<String, String>(&b);
    builder.stream::<String, String>(&a).join_table(&right, |l, r| format!("{l}{r}")).to("joined");
    let config = StreamsConfig::new(unique("copartition")).cache_max_bytes(0).bootstrap_servers(bootstrap());
    let err = App::new(builder.build()?, config)?.start().unwrap_err();
    match err {
        StreamsError::Topology(TopologyError::NotCoPartitioned { topics, counts, .. }) => {
            assert!(topics.contains(&a) && topics.contains(&b), "{topics:?}");
            let mut counts = counts;
            counts.sort();
            assert_eq!(counts, vec![2, 3]);
        }
        other => panic!("expected NotCoPartitioned, got {other}"),
    }
    Ok(())
}
