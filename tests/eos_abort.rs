//! Exactly-once on a real broker (rule 19): a transaction aborted by a failure leaves nothing
//! behind for `read_committed` readers, in outputs or in the state restored from changelogs.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{bootstrap, per_key, unique};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, AppState, ProcessingGuarantee, StreamsConfig};
use streamz::topology::Topology;

/// `input` → fails on negative values → `copy`, and the running sum per key → `sums`.
fn topology(input: &str, copy: &str, sums: &str) -> anyhow::Result<Topology> {
    let builder = StreamsBuilder::new();
    let checked =
        builder.stream::<String, i64>(input).try_map_values(|v| if v < 0 { Err(format!("poison {v}")) } else { Ok(v) });
    checked.to(copy);
    checked.group_by_key().reduce_with(|a, b| a + b, Materialized::named("sums")).to_stream().to(sums);
    Ok(builder.build()?)
}

fn records(range: std::ops::Range<i64>) -> Vec<(String, i64, Timestamp)> {
    range.map(|i| (format!("k{}", i % 10), i, Timestamp::now())).collect()
}

/// Waits until `topic` holds at least `n` records, committed or not (`read_uncommitted`).
fn wait_for_log(client: &KafkaClient, topic: &str, n: usize) -> anyhow::Result<bool> {
    Ok(client.read_raw(topic, n, Duration::from_secs(60))?.len() >= n)
}

#[test]
fn an_aborted_transaction_is_neither_seen_nor_restored_and_is_processed_again() -> anyhow::Result<()> {
    let (input, copy, sums, app_id) =
        (unique("eos-ab-in"), unique("eos-ab-copy"), unique("eos-ab-sums"), unique("eos-ab"));
    let client = KafkaClient::connect(&bootstrap())?;
    for t in [&input, &copy, &sums] {
        client.create_topic(t, 1)?;
    }
    // Long commit intervals: a transaction stays open until the application closes or fails.
    let config = |policy: ErrorPolicy, interval: Duration| {
        StreamsConfig::new(&app_id)
            .cache_max_bytes(0)
            .bootstrap_servers(bootstrap())
            .processing_guarantee(ProcessingGuarantee::ExactlyOnce)
            .commit_interval(interval)
            .producer_config("transaction.timeout.ms", "120000")
            .processing_error_policy(policy)
    };

    // Run 1 commits records 0..300 when it closes.
    client.produce(&input, records(0..300))?;
    let run = App::new(topology(&input, &copy, &sums)?, config(ErrorPolicy::Fail, Duration::from_secs(60)))?.start()?;
    assert!(wait_for_log(&client, &copy, 300)?, "{:?} {:?}", run.metrics(), run.errors());
    run.close()?;
    let first = client.read_with::<String, i64>(&copy, 300, Duration::from_secs(10), true)?;
    assert_eq!(first.len(), 300);

    // Run 2 restores the sums of 0..300, writes outputs of 300..600 in a transaction, then
    // fails on a poison record: the transaction is aborted.
    client.produce(&input, records(300..600))?;
    let run = App::new(topology(&input, &copy, &sums)?, config(ErrorPolicy::Fail, Duration::from_secs(60)))?.start()?;
    let written = wait_for_log(&client, &copy, 600)?;
    let status = format!("{:?} {:?}", run.metrics(), run.errors());
    client.produce(&input, vec![("k0".to_string(), -1i64, Timestamp::now())])?;
    client.produce(&input, records(600..900))?;
    assert!(run.wait_for_state(AppState::Error, Duration::from_secs(60)), "{:?} {:?}", run.state(), run.metrics());
    let _ = run.close();
    assert!(written, "the outputs of 300..600 reached the log before the failure: {status}");
    let seen = client.read_with::<String, i64>(&copy, 300, Duration::from_secs(3), true)?;
    assert_eq!(seen.len(), 300, "read_committed sees only the committed run");
    let raw = client.read_raw(&copy, 600, Duration::from_secs(10))?;
    assert!(raw.len() >= 600, "the aborted records are in the log: {}", raw.len());

    // Run 3 skips the poison record, restores only committed sums, and processes 300..900.
    let lenient = config(ErrorPolicy::LogAndContinue, Duration::from_millis(100));
    let run = App::new(topology(&input, &copy, &sums)?, lenient)?.start()?;
    let out = client.read_with::<String, i64>(&copy, 900, Duration::from_secs(60), true)?;
    let summed = client.read_with::<String, Option<i64>>(&sums, 900, Duration::from_secs(60), true)?;
    let status = format!("{:?} {:?}", run.metrics(), run.errors());
    run.close()?;

    let inputs = records(0..900);
    assert_eq!(out.iter().map(|r| (r.key.clone(), r.value)).collect::<Vec<_>>(), pairs(&inputs), "{status}");
    let expected = running_sums(&inputs);
    assert_eq!(summed.len(), 900, "{status}");
    assert_eq!(per_key(&summed), expected, "{status}");
    Ok(())
}

fn pairs(records: &[(String, i64, Timestamp)]) -> Vec<(String, i64)> {
    records.iter().map(|(k, v, _)| (k.clone(), *v)).collect()
}

#[test]
fn a_transaction_aborted_by_the_broker_is_recovered_from_without_stopping() -> anyhow::Result<()> {
    static SLEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let (input, copy, sums) = (unique("eos-to-in"), unique("eos-to-copy"), unique("eos-to-sums"));
    let client = KafkaClient::connect(&bootstrap())?;
    for t in [&input, &copy, &sums] {
        client.create_topic(t, 1)?;
    }
    // Record 100 stalls its transaction (once) past the transaction timeout: the broker aborts
    // the transaction and fences the producer; the thread replaces it and processes again.
    let builder = StreamsBuilder::new();
    let stalled = builder.stream::<String, i64>(&input).map_values(|v| {
        if v == 100 && !SLEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(Duration::from_secs(6));
        }
        v
    });
    stalled.to(&copy);
    stalled.group_by_key().reduce_with(|a, b| a + b, Materialized::named("sums")).to_stream().to(&sums);
    let config = StreamsConfig::new(unique("eos-to"))
        .cache_max_bytes(0)
        .bootstrap_servers(bootstrap())
        .processing_guarantee(ProcessingGuarantee::ExactlyOnce)
        .producer_config("transaction.timeout.ms", "2000")
        .max_poll_records(20);
    let app = App::new(builder.build()?, config)?.start()?;
    client.produce(&input, records(0..200))?;
    let out = client.read_with::<String, i64>(&copy, 200, Duration::from_secs(60), true)?;
    let summed = client.read_with::<String, Option<i64>>(&sums, 200, Duration::from_secs(30), true)?;
    let (metrics, errors) = (app.metrics(), app.errors());
    app.close()?;

    assert!(SLEPT.load(std::sync::atomic::Ordering::SeqCst));
    assert!(errors.is_empty(), "{errors:?}");
    assert!(metrics.get("aborted-transactions").copied().unwrap_or(0) >= 1, "{metrics:?}");
    let inputs = records(0..200);
    assert_eq!(out.iter().map(|r| (r.key.clone(), r.value)).collect::<Vec<_>>(), pairs(&inputs), "{metrics:?}");
    let expected = running_sums(&inputs);
    assert_eq!(per_key(&summed), expected, "{metrics:?}");
    Ok(())
}

/// The running sum per key after each of `records`.
fn running_sums(records: &[(String, i64, Timestamp)]) -> BTreeMap<String, Vec<Option<i64>>> {
    let mut sums: BTreeMap<String, Vec<Option<i64>>> = BTreeMap::new();
    for (key, value, _) in records {
        let values = sums.entry(key.clone()).or_default();
        let last = values.last().copied().flatten().unwrap_or(0);
        values.push(Some(last + value));
    }
    sums
}
