//! Bad input on a real broker (rule 22): dead-letter topics, log and continue, and fail — which
//! stops the application before the bad record's offset is committed.

mod common;

use std::time::{Duration, Instant};

use common::{bootstrap, unique};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, AppState, RunningApp, StreamsConfig};
use streamz::task::{HEADER_EXCEPTION, HEADER_OFFSET, HEADER_TOPIC};
use streamz::topology::Topology;
use streamz::RawRecord;

/// `input` (String → i64) → panics on 666 → `Err` on negative values → `output`.
fn topology(input: &str, output: &str) -> anyhow::Result<Topology> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>(input)
        .map_values(|v| {
            assert!(v != 666, "the number of the beast");
            v
        })
        .try_map_values(|v| if v < 0 { Err(format!("negative value {v}")) } else { Ok(v) })
        .to(output);
    Ok(builder.build()?)
}

type Raw = (Option<Vec<u8>>, Option<Vec<u8>>, Timestamp);

fn good(i: i64) -> Raw {
    (Some(format!("k{i}").into_bytes()), Some(i.to_be_bytes().to_vec()), Timestamp::now())
}

/// Good records 0..6 with five bad ones between them; returns them with the exception each bad
/// one must be reported with, by offset.
fn mixed() -> Vec<(Raw, Option<&'static str>)> {
    let bad = |k: &[u8], v: Option<Vec<u8>>| (Some(k.to_vec()), v, Timestamp::now());
    vec![
        (good(0), None),
        (bad(&[0xff], Some(1i64.to_be_bytes().to_vec())), Some("deserialization")),
        (good(1), None),
        (bad(b"short", Some(vec![1, 2, 3])), Some("deserialization")),
        (good(2), None),
        (bad(b"null", None), Some("deserialization")),
        (good(3), None),
        (bad(b"beast", Some(666i64.to_be_bytes().to_vec())), Some("panic")),
        (good(4), None),
        (bad(b"negative", Some((-7i64).to_be_bytes().to_vec())), Some("processing")),
        (good(5), None),
    ]
}

struct Setup {
    client: KafkaClient,
    input: String,
    output: String,
    dlq: String,
}

fn setup(prefix: &str, records: Vec<Raw>) -> anyhow::Result<Setup> {
    let client = KafkaClient::connect(&bootstrap())?;
    let (input, output, dlq) = (unique(&format!("{prefix}-in")), unique(&format!("{prefix}-out")), unique("dlq"));
    for t in [&input, &output, &dlq] {
        client.create_topic(t, 1)?;
    }
    client.produce_raw(&input, records)?;
    Ok(Setup { client, input, output, dlq })
}

fn config(app: &str) -> StreamsConfig {
    StreamsConfig::new(app)
        .cache_max_bytes(0)
        .bootstrap_servers(bootstrap())
        .commit_interval(Duration::from_millis(100))
}

/// Waits until metric `name` of `app` reaches `n` (or 60 s pass); returns its value.
fn wait_for_metric(app: &RunningApp, name: &str, n: u64) -> u64 {
    let start = Instant::now();
    loop {
        let value = app.metrics().get(name).copied().unwrap_or(0);
        if value >= n || start.elapsed() > Duration::from_secs(60) {
            return value;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn header<'a>(r: &'a RawRecord, name: &str) -> Option<&'a str> {
    std::str::from_utf8(r.headers.iter().find(|(k, _)| k == name)?.1.as_deref()?).ok()
}

#[test]
fn dead_letter_topic_gets_every_bad_record_with_its_reason() -> anyhow::Result<()> {
    let records = mixed();
    let s = setup("dl", records.iter().map(|(r, _)| r.clone()).collect())?;
    let dlq = ErrorPolicy::dead_letter(&s.dlq);
    let config = config(&unique("dl-app")).deserialization_error_policy(dlq.clone()).processing_error_policy(dlq);
    let app = App::new(topology(&s.input, &s.output)?, config)?.start()?;
    let out = s.client.read::<String, i64>(&s.output, 6, Duration::from_secs(60))?;
    let dead = s.client.read_raw(&s.dlq, 5, Duration::from_secs(60))?;
    let skipped = wait_for_metric(&app, "skipped-records", 5);
    let status = format!("{:?} {:?}", app.metrics(), app.errors());
    app.close()?;
    assert_eq!(out.iter().map(|r| r.value).collect::<Vec<_>>(), (0..6).collect::<Vec<_>>(), "{status}");
    let bad: Vec<(i64, &Raw, &str)> = records
        .iter()
        .enumerate()
        .filter_map(|(offset, (raw, exception))| exception.map(|e| (offset as i64, raw, e)))
        .collect();
    assert_eq!(dead.len(), bad.len(), "{status}");
    for ((offset, (key, value, _), exception), r) in bad.into_iter().zip(&dead) {
        assert_eq!((&r.key, &r.value), (key, value), "original bytes of offset {offset}");
        assert_eq!(header(r, HEADER_EXCEPTION), Some(exception), "{:?}", r.headers);
        assert_eq!(header(r, HEADER_TOPIC), Some(s.input.as_str()), "{:?}", r.headers);
        assert_eq!(header(r, HEADER_OFFSET), Some(offset.to_string().as_str()), "{:?}", r.headers);
    }
    assert_eq!(skipped, 5, "{status}");
    Ok(())
}

#[test]
fn log_and_continue_skips_and_counts_the_bad_records() -> anyhow::Result<()> {
    let s = setup("lc", mixed().into_iter().map(|(r, _)| r).collect())?;
    let config = config(&unique("lc-app"))
        .deserialization_error_policy(ErrorPolicy::LogAndContinue)
        .processing_error_policy(ErrorPolicy::LogAndContinue);
    let app = App::new(topology(&s.input, &s.output)?, config)?.start()?;
    let out = s.client.read::<String, i64>(&s.output, 6, Duration::from_secs(60))?;
    let skipped = wait_for_metric(&app, "skipped-records", 5);
    let metrics = app.metrics();
    app.close()?;
    assert_eq!(out.iter().map(|r| r.value).collect::<Vec<_>>(), (0..6).collect::<Vec<_>>(), "{metrics:?}");
    assert_eq!(skipped, 5, "{metrics:?}");
    assert_eq!(metrics.get("skipped-records.deserialization"), Some(&3), "{metrics:?}");
    assert_eq!(metrics.get("skipped-records.processing"), Some(&2), "{metrics:?}");
    Ok(())
}

#[test]
fn fail_stops_in_error_without_committing_past_the_bad_record() -> anyhow::Result<()> {
    let records = vec![good(0), good(1), (Some(b"k2".to_vec()), Some(vec![9]), Timestamp::now()), good(3)];
    let s = setup("fail", records)?;
    let app_id = unique("fail-app");
    let app = App::new(topology(&s.input, &s.output)?, config(&app_id))?.start()?;
    assert!(app.wait_for_state(AppState::Error, Duration::from_secs(60)), "{:?} {:?}", app.state(), app.metrics());
    let errors = app.errors();
    let _ = app.close();
    assert!(
        errors.iter().any(|e| e.contains(&format!("topic `{}` partition 0 offset 2", s.input))),
        "the error names the offset: {errors:?}"
    );
    let committed = s.client.committed_offsets(&app_id, &s.input)?;
    assert_eq!(committed.len(), 1);
    assert!(committed[0].1.is_none_or(|o| o <= 2), "committed past the bad record: {committed:?}");

    // The same application, now lenient, reads the bad record again and goes past it.
    let lenient = config(&app_id).deserialization_error_policy(ErrorPolicy::LogAndContinue);
    let again = App::new(topology(&s.input, &s.output)?, lenient)?.start()?;
    let skipped = wait_for_metric(&again, "skipped-records.deserialization", 1);
    let out = s.client.read::<String, i64>(&s.output, 3, Duration::from_secs(60))?;
    again.close()?;
    assert_eq!(skipped, 1, "the bad record is seen again");
    assert_eq!(out.last().map(|r| r.value), Some(3));
    Ok(())
}

#[test]
fn a_record_too_large_for_the_producer_is_skipped_and_counted() -> anyhow::Result<()> {
    let records = vec![good(0), good(1), good(2)];
    let s = setup("big", records)?;
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>(&s.input)
        .map_values(|v| if v == 1 { "x".repeat(2_000_000) } else { v.to_string() })
        .to(&s.output);
    let config = config(&unique("big-app")).production_error_policy(ProductionErrorPolicy::LogAndContinue);
    let app = App::new(builder.build()?, config)?.start()?;
    let out = s.client.read::<String, String>(&s.output, 2, Duration::from_secs(60))?;
    let skipped = wait_for_metric(&app, "skipped-records.production", 1);
    let status = format!("{:?} {:?}", app.metrics(), app.errors());
    app.close()?;
    assert_eq!(out.iter().map(|r| r.value.as_str()).collect::<Vec<_>>(), vec!["0", "2"], "{status}");
    assert_eq!(skipped, 1, "{status}");
    Ok(())
}
