//! How a stream thread handles each class of transaction error, with errors injected into the
//! transactional requests on the embedded (mock) cluster.
//!
//! The mock cluster implements the transactional protocol, but neither stores the offsets of
//! `TxnOffsetCommit` nor hides aborted records from `read_committed` readers. So these tests
//! use a stateless pass-through, started on input it reads whole in its first transaction: a
//! recovery starts again from the beginning (nothing committed), and the copy's log is what
//! the aborted transactions wrote followed by the input exactly once. Exactly-once as seen by
//! `read_committed` readers is tested on a real broker (`tests/eos_*.rs`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::types::{RDKafkaApiKey as Api, RDKafkaRespErr as Err};

use crate::dsl::StreamsBuilder;
use crate::kafka::{EmbeddedCluster, KafkaClient};
use crate::runtime::{App, ProcessingGuarantee, RunningApp, StreamsConfig};
use crate::serdes::Data;
use crate::time::Timestamp;

const RECORDS: usize = 200;

/// Fields drop in order: the client (which holds a handle of the cluster) before the cluster,
/// whose drop waits until no handle is left.
struct Fixture {
    client: KafkaClient,
    input: Vec<(String, i64)>,
    cluster: EmbeddedCluster,
}

/// An embedded cluster with topics `in` (holding the input) and `copy`.
fn fixture() -> crate::Result<Fixture> {
    let cluster = EmbeddedCluster::start()?;
    let client = KafkaClient::embedded(&cluster)?;
    client.create_topic("in", 1)?;
    client.create_topic("copy", 1)?;
    let input: Vec<(String, i64)> = (0..RECORDS as i64).map(|i| (format!("k{}", i % 7), i)).collect();
    client.produce("in", input.iter().map(|(k, v)| (k.clone(), *v, Timestamp(1_000 + v))))?;
    Ok(Fixture { client, input, cluster })
}

impl Fixture {
    /// Makes the next requests of `api` fail with `errors`.
    fn inject(&self, api: Api, errors: &[Err]) -> crate::Result<()> {
        self.cluster.handle().request_errors(api, errors)
    }

    /// Starts the exactly-once pass-through `in` → `copy`.
    fn start(&self) -> crate::Result<RunningApp> {
        self.start_with(|config| config)
    }

    /// Starts the exactly-once pass-through `in` → `copy`, its configuration changed by `tune`.
    fn start_with(&self, tune: impl FnOnce(StreamsConfig) -> StreamsConfig) -> crate::Result<RunningApp> {
        let builder = StreamsBuilder::new();
        builder.stream::<String, i64>("in").to("copy");
        // One directory per application: tests run in parallel, and a running instance
        // locks its state directory.
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("streamz-eos-mock-{}-{n}", std::process::id()));
        let config = StreamsConfig::new("eos-mock")
            .embedded_cluster(&self.cluster)
            .processing_guarantee(ProcessingGuarantee::ExactlyOnce)
            .state_dir(dir)
            .startup_timeout(Duration::from_secs(5))
            // The input arrives in more than one fetch, read in batches as it comes: the first
            // transaction holds all of it only when it lasts long enough.
            .commit_interval(Duration::from_millis(500));
        App::new(builder.build()?, tune(config))?.start()
    }

    /// The copy's log: key and value of each record, in offset order.
    fn copy(&self, min: usize) -> crate::Result<Vec<(String, i64)>> {
        let (keys, values) = (String::default_serde(), i64::default_serde());
        let raw = self.client.read_raw("copy", min, Duration::from_secs(10))?;
        raw.iter()
            .map(|r| {
                let key = keys.deserialize(r.key.as_deref()).map_err(|e| crate::StreamsError::Bug(e.to_string()))?;
                let value =
                    values.deserialize(r.value.as_deref()).map_err(|e| crate::StreamsError::Bug(e.to_string()))?;
                Ok((key, value))
            })
            .collect()
    }
}

fn count(metrics: &BTreeMap<String, u64>, name: &str) -> u64 {
    metrics.get(name).copied().unwrap_or(0)
}

/// Waits up to 30 s until `done` holds of the application's metrics; returns them.
fn wait_for(app: &RunningApp, done: impl Fn(&BTreeMap<String, u64>) -> bool) -> BTreeMap<String, u64> {
    let start = Instant::now();
    loop {
        let metrics = app.metrics();
        if done(&metrics) || !app.errors().is_empty() || start.elapsed() > Duration::from_secs(30) {
            return metrics;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the application committed the whole input; returns its metrics.
fn wait_for_input_committed(app: &RunningApp) -> BTreeMap<String, u64> {
    // A commit after every record was processed is a commit of all.
    let processed = wait_for(app, |m| count(m, "records-processed") >= RECORDS as u64);
    wait_for(app, |m| count(m, "commits") > count(&processed, "commits") + 2)
}

#[test]
fn retriable_errors_of_every_transactional_request_are_retried_and_nothing_is_aborted() -> crate::Result<()> {
    let f = fixture()?;
    f.inject(Api::InitProducerId, &[Err::RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE])?;
    f.inject(
        Api::AddPartitionsToTxn,
        &[Err::RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS, Err::RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE],
    )?;
    f.inject(Api::AddOffsetsToTxn, &[Err::RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS])?;
    f.inject(Api::TxnOffsetCommit, &[Err::RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS])?;
    f.inject(
        Api::EndTxn,
        &[Err::RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS, Err::RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE],
    )?;
    let app = f.start()?;
    let metrics = wait_for_input_committed(&app);
    assert_eq!(app.errors(), Vec::<String>::new());
    assert_eq!(count(&metrics, "aborted-transactions"), 0, "{metrics:?}");
    assert_eq!(count(&metrics, "records-processed"), RECORDS as u64, "processed once: {metrics:?}");
    assert_eq!(f.copy(RECORDS)?, f.input, "the copy is the input once");
    app.close()
}

/// Injects `error` into the first request of `api`, then checks the recovery.
fn recovers_from(api: Api, error: Err, fenced: bool) -> crate::Result<()> {
    let f = fixture()?;
    f.inject(api, &[error])?;
    let app = f.start()?;
    check_recovered(&f, app, &format!("{api:?} {error:?}"), fenced)
}

/// Checks that `app` aborted once, recovered (replacing its producer when `fenced`),
/// processed the input again from the last commit, and committed it once.
fn check_recovered(f: &Fixture, app: RunningApp, case: &str, fenced: bool) -> crate::Result<()> {
    let metrics = wait_for(&app, |m| count(m, "aborted-transactions") >= 1 && count(m, "committed-transactions") >= 1);
    let metrics = wait_for(&app, |m| count(m, "commits") > count(&metrics, "commits") + 2);
    assert_eq!(app.errors(), Vec::<String>::new(), "{case}");
    assert_eq!(count(&metrics, "aborted-transactions"), 1, "{case}: one abort, {metrics:?}");
    let want = if fenced { 1 } else { 0 };
    assert_eq!(count(&metrics, "fenced-producers"), want, "{case}: producer replaced, {metrics:?}");
    // What the aborted transaction wrote (nothing when it failed before its first record was
    // accepted), then the input exactly once: read again from the beginning, as nothing
    // was committed.
    let copy = f.copy(RECORDS)?;
    assert!(copy.len() >= RECORDS, "{case}: {} records copied", copy.len());
    let aborted = copy.len() - RECORDS;
    assert_eq!(copy[..aborted], f.input[..aborted], "{case}: the aborted transaction");
    assert_eq!(copy[aborted..], f.input[..], "{case}: after recovery, the input exactly once");
    // Processed once after the recovery, and before it as far as the failed attempt got: a
    // batch whose processing failed (an error noticed as a record is sent, e.g. of
    // AddPartitionsToTxn) is not counted.
    let processed = count(&metrics, "records-processed");
    assert!(
        (RECORDS as u64..=2 * RECORDS as u64).contains(&processed),
        "{case}: rewound, {processed} records processed, {metrics:?}"
    );
    app.close()
}

#[test]
fn an_abortable_error_aborts_rewinds_and_processes_again_with_the_same_producer() -> crate::Result<()> {
    recovers_from(Api::TxnOffsetCommit, Err::RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID, false)?;
    recovers_from(Api::EndTxn, Err::RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID, false)
}

#[test]
fn a_commit_that_times_out_replaces_the_producer_and_starts_again_from_the_last_commit() -> crate::Result<()> {
    let f = fixture()?;
    // The first commit keeps failing with a retriable error beyond the commit timeout: whether
    // it took effect is unknown, and only a new producer settles the transaction.
    f.inject(Api::EndTxn, &[Err::RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS; 10_000])?;
    let app = f.start_with(|config| config.commit_timeout(Duration::from_secs(2)))?;
    let replaced = wait_for(&app, |m| count(m, "fenced-producers") >= 1);
    assert_eq!(count(&replaced, "fenced-producers"), 1, "the producer was replaced: {replaced:?}");
    assert_eq!(count(&replaced, "committed-transactions"), 0, "nothing committed before: {replaced:?}");
    f.cluster.handle().clear_request_errors(Api::EndTxn)?;
    check_recovered(&f, app, "EndTxn timing out", true)
}

#[test]
fn a_fenced_producer_is_replaced_and_the_tasks_start_again_from_the_last_commit() -> crate::Result<()> {
    recovers_from(Api::EndTxn, Err::RD_KAFKA_RESP_ERR_PRODUCER_FENCED, true)?;
    recovers_from(Api::AddPartitionsToTxn, Err::RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, true)?;
    recovers_from(Api::TxnOffsetCommit, Err::RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, true)
}

#[test]
fn commits_refused_because_the_group_moved_on_never_make_the_thread_give_up() -> crate::Result<()> {
    // As for an instance paused past its session timeout: every commit with its old member id
    // or generation fails until its consumer rejoins, however many that takes.
    let f = fixture()?;
    let refusals = 2 * super::super::thread::MAX_FAILED_TRANSACTIONS as usize + 1;
    let errors = [Err::RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION, Err::RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID];
    let injected: Vec<Err> = errors.iter().copied().cycle().take(refusals).collect();
    f.inject(Api::TxnOffsetCommit, &injected)?;
    let app = f.start()?;
    let metrics = wait_for(&app, |m| count(m, "committed-transactions") >= 1);
    assert_eq!(app.errors(), Vec::<String>::new());
    assert_eq!(count(&metrics, "aborted-transactions"), refusals as u64, "one abort per refusal: {metrics:?}");
    assert_eq!(count(&metrics, "fenced-producers"), 0, "the producer is kept: {metrics:?}");
    // Each refused transaction copied the whole input (the mock cluster shows aborted records
    // too); the input is then committed once.
    let copy = f.copy((refusals + 1) * RECORDS)?;
    assert_eq!(copy.len(), (refusals + 1) * RECORDS);
    assert_eq!(copy[refusals * RECORDS..], f.input[..], "after the refusals, the input exactly once");
    app.close()
}

#[test]
fn a_recovery_failing_with_errors_that_may_pass_is_retried_until_it_succeeds() -> crate::Result<()> {
    // The first commit fails with an abortable error; the recovery then cannot read the
    // committed offsets (the group coordinator is unavailable) until the test lets it. Such
    // errors must never stop the thread (they used to: "cannot read the committed offsets").
    let f = fixture()?;
    f.inject(Api::EndTxn, &[Err::RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID])?;
    let app =
        f.start_with(|config| config.commit_timeout(Duration::from_secs(1)).commit_interval(Duration::from_secs(2)))?;
    let processed = wait_for(&app, |m| count(m, "records-processed") >= RECORDS as u64);
    assert_eq!(count(&processed, "committed-transactions"), 0, "processed before the first commit: {processed:?}");
    f.inject(Api::OffsetFetch, &[Err::RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE; 100_000])?;
    let retrying = wait_for(&app, |m| count(m, "recovery-retries") >= 3);
    assert!(count(&retrying, "recovery-retries") >= 3, "the recovery was retried: {retrying:?}");
    assert_eq!(app.errors(), Vec::<String>::new(), "an error that may pass stopped the thread");
    assert_eq!(count(&retrying, "aborted-transactions"), 0, "not recovered yet: {retrying:?}");
    f.cluster.handle().clear_request_errors(Api::OffsetFetch)?;
    check_recovered(&f, app, "OffsetFetch failing while recovering", false)
}

/// Waits until the application failed; returns its errors.
fn failure(app: &RunningApp) -> Vec<String> {
    let start = Instant::now();
    while app.errors().is_empty() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    app.errors()
}

#[test]
fn an_unrecoverable_error_fails_the_application_naming_the_transaction_step() -> crate::Result<()> {
    // A transaction that fails again each time it is done again (here an abortable error; a
    // record the broker always rejects in practice).
    let f = fixture()?;
    f.inject(Api::EndTxn, &[Err::RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID; 20])?;
    let app = f.start()?;
    let errors = failure(&app);
    assert!(errors.iter().any(|e| e.contains("cannot commit the transaction")), "{errors:?}");
    // Recovered five times, then gave up.
    assert_eq!(count(&app.metrics(), "aborted-transactions"), 5, "{:?}", app.metrics());
    drop(app.close());
    Ok(())
}
