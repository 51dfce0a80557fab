//! Global tables on a real broker: the initial load reads each partition to its end, which can
//! lie past its last record, and the table follows its topic afterwards.
//!
//! - A topic written in transactions ends with a transaction marker, never delivered as a
//!   record; under exactly-once, records of aborted transactions are not read.
//! - A partition whose records were all deleted (retention, or `DeleteRecords`) has an end
//!   offset above 0 and nothing to read.

mod common;

use std::time::{Duration, Instant};

use common::{bootstrap, last_per_key, unique};
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, ProcessingGuarantee, RunningApp, StreamsConfig};

/// Well under the 60 s after which a load that never ends fails the start.
const LOAD_TIME: Duration = Duration::from_secs(30);

/// The topics of a test: the global table's, the stream's and the joined output's.
struct Topics {
    table: String,
    stream: String,
    out: String,
}

impl Topics {
    fn create(client: &KafkaClient, table_partitions: i32) -> anyhow::Result<Topics> {
        let t = Topics { table: unique("global"), stream: unique("lookups"), out: unique("looked-up") };
        client.create_topic(&t.table, table_partitions)?;
        client.create_topic(&t.stream, 2)?;
        client.create_topic(&t.out, 2)?;
        Ok(t)
    }

    /// Starts an application left-joining the stream (key → country code) with the global
    /// table (country code → name); returns it and how long its start took.
    fn start(&self, guarantee: ProcessingGuarantee) -> anyhow::Result<(RunningApp, Duration)> {
        let builder = StreamsBuilder::new();
        let names = builder.global_table::<String, String>(&self.table);
        builder
            .stream::<String, String>(&self.stream)
            .left_join_global(&names, |_, code| code.clone(), |code, name| format!("{code}={name:?}"))
            .to(&self.out);
        let config = StreamsConfig::new(unique("global-app"))
            .bootstrap_servers(bootstrap())
            .processing_guarantee(guarantee)
            .commit_interval(Duration::from_millis(200));
        let started = Instant::now();
        let app = App::new(builder.build()?, config)?.start()?;
        Ok((app, started.elapsed()))
    }

    /// Looks `code` up through the stream until the output says `want` (the global thread
    /// applies the table's updates on its own), for up to 60 s.
    fn wait_for_lookup(&self, client: &KafkaClient, code: &str, want: &str, committed: bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut probes = Vec::new();
        let mut answers = Vec::new();
        while Instant::now() < deadline {
            let probe = unique("probe");
            client.produce(&self.stream, [(probe.clone(), code.to_string(), Timestamp::now())])?;
            probes.push(probe);
            let got = client.read_with::<String, String>(&self.out, 1, Duration::from_secs(10), committed)?;
            answers = got.into_iter().filter(|r| probes.contains(&r.key)).map(|r| r.value).collect();
            if answers.iter().any(|v| v == want) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        anyhow::bail!("looking `{code}` up gave {answers:?}, never `{want}`")
    }
}

/// A transactional producer of `bootstrap()`, its transactions initialized.
fn transactional_producer() -> anyhow::Result<ThreadedProducer<DefaultProducerContext>> {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("transactional.id", unique("global-writer"))
        .create()?;
    producer.init_transactions(Duration::from_secs(30))?;
    Ok(producer)
}

/// Writes `records` (partition, key, value) in one transaction, committed or aborted.
fn transaction(
    producer: &ThreadedProducer<DefaultProducerContext>,
    topic: &str,
    records: &[(i32, &str, &str)],
    commit: bool,
) -> anyhow::Result<()> {
    producer.begin_transaction()?;
    for &(partition, key, value) in records {
        producer.send(BaseRecord::to(topic).partition(partition).key(key).payload(value)).map_err(|(e, _)| e)?;
    }
    // Written before the transaction ends: an abort drops what is still queued.
    producer.flush(Duration::from_secs(30))?;
    match commit {
        true => producer.commit_transaction(Duration::from_secs(30))?,
        false => producer.abort_transaction(Duration::from_secs(30))?,
    }
    Ok(())
}

#[test]
fn a_table_written_in_transactions_loads_to_their_markers_without_aborted_records() -> anyhow::Result<()> {
    let client = KafkaClient::connect(&bootstrap())?;
    let topics = Topics::create(&client, 2)?;
    let producer = transactional_producer()?;
    transaction(&producer, &topics.table, &[(0, "fr", "France"), (1, "de", "Germany")], true)?;
    // Both partitions end with the marker of an aborted transaction.
    transaction(&producer, &topics.table, &[(0, "fr", "Aborted"), (1, "it", "Italy")], false)?;
    let ends: Vec<i64> = client.watermarks(&topics.table)?.into_iter().map(|(_, _, high)| high).collect();
    assert_eq!(ends, vec![4, 4], "a record, a commit marker, a record, an abort marker per partition");

    let (app, load) = topics.start(ProcessingGuarantee::ExactlyOnce)?;
    assert!(load < LOAD_TIME, "loading the global table took {load:?}");
    let rows = [("a", "fr"), ("b", "de"), ("c", "it")];
    client.produce(&topics.stream, rows.iter().map(|&(k, v)| (k.to_string(), v.to_string(), Timestamp::now())))?;
    let got = client.read_with::<String, String>(&topics.out, rows.len(), Duration::from_secs(60), true)?;
    let want = [("a", "fr=Some(\"France\")"), ("b", "de=Some(\"Germany\")"), ("c", "it=None")];
    assert_eq!(last_per_key(&got), want.iter().map(|&(k, v)| (k.to_string(), v.to_string())).collect());

    // Afterwards the table follows its topic: a committed transaction's update is applied.
    transaction(&producer, &topics.table, &[(1, "it", "Italia")], true)?;
    topics.wait_for_lookup(&client, "it", "it=Some(\"Italia\")", true)?;
    assert!(app.errors().is_empty(), "the application failed: {:?}", app.errors());
    app.close()?;
    Ok(())
}

#[test]
fn a_partition_whose_records_were_all_deleted_loads_at_once_and_fills_later() -> anyhow::Result<()> {
    let client = KafkaClient::connect(&bootstrap())?;
    let topics = Topics::create(&client, 1)?;
    let old = ["fr", "de", "it"].map(|code| (code.to_string(), format!("old {code}"), Timestamp::now()));
    client.produce(&topics.table, old)?;
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", bootstrap()).create()?;
    let mut before = TopicPartitionList::new();
    before.add_partition_offset(&topics.table, 0, Offset::Offset(3))?;
    let deleted = futures::executor::block_on(admin.delete_records(&before, &AdminOptions::new()))?;
    assert_eq!(deleted.elements()[0].offset(), Offset::Offset(3), "the new start of the partition");
    assert_eq!(client.watermarks(&topics.table)?, vec![(0, 3, 3)]);

    let (app, load) = topics.start(ProcessingGuarantee::AtLeastOnce)?;
    assert!(load < LOAD_TIME, "loading the global table took {load:?}");
    topics.wait_for_lookup(&client, "fr", "fr=None", false)?;
    client.produce(&topics.table, [("fr".to_string(), "France".to_string(), Timestamp::now())])?;
    topics.wait_for_lookup(&client, "fr", "fr=Some(\"France\")", false)?;
    assert!(app.errors().is_empty(), "the application failed: {:?}", app.errors());
    app.close()?;
    Ok(())
}
