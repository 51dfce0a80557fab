//! Scaling out on a real Kafka broker: tasks move between instances of one application and
//! their state follows them through the changelog topics (rule 20 of KAFKA_STREAMS_SEMANTICS.md).

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{bootstrap, last_per_key, unique};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, AppState, RunningApp, StreamsConfig};
use streamz::topology::Topology;

const PARTITIONS: i32 = 4;
const HALF: usize = 400;

/// Records keyed by record id, counted per value after a `select_key` (so through a
/// repartition topic), with the counts in a logged store.
fn word_counts(input: &str, output: &str) -> Result<Topology, TopologyError> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>(input)
        .select_key(|_, word| word.clone())
        .group_by_key()
        .count_with(Materialized::named("word-counts"))
        .to_stream()
        .to(output);
    builder.build()
}

struct Setup {
    app_id: String,
    input: String,
    output: String,
    client: KafkaClient,
    records: Vec<(String, String, Timestamp)>,
}

impl Setup {
    fn new(prefix: &str) -> anyhow::Result<Self> {
        let (input, output) = (unique(&format!("{prefix}-in")), unique(&format!("{prefix}-out")));
        let client = KafkaClient::connect(&bootstrap())?;
        client.create_topic(&input, PARTITIONS)?;
        client.create_topic(&output, PARTITIONS)?;
        let now = Timestamp::now().0;
        let records = (0..2 * HALF)
            .map(|i| (format!("id{i}"), format!("word{}", (i * 7) % 11), Timestamp(now + i as i64)))
            .collect();
        Ok(Setup { app_id: unique(prefix), input, output, client, records })
    }

    fn start(&self) -> anyhow::Result<RunningApp> {
        let config = StreamsConfig::new(&self.app_id)
            .cache_max_bytes(0)
            .bootstrap_servers(bootstrap())
            .state_dir(common::state_dir())
            .commit_interval(Duration::from_millis(200))
            .startup_timeout(Duration::from_secs(30));
        Ok(App::new(word_counts(&self.input, &self.output)?, config)?.start()?)
    }

    fn produce(&self, half: usize) -> anyhow::Result<()> {
        self.client.produce(&self.input, self.records[half * HALF..(half + 1) * HALF].to_vec())?;
        Ok(())
    }

    fn expected(&self) -> BTreeMap<String, Option<i64>> {
        let mut counts: BTreeMap<String, Option<i64>> = BTreeMap::new();
        for (_, word, _) in &self.records {
            *counts.entry(word.clone()).or_default().get_or_insert(0) += 1;
        }
        counts
    }

    /// The last count of each word in the output, once it equals `want` or after a minute.
    fn final_counts(&self, want: &BTreeMap<String, Option<i64>>) -> anyhow::Result<BTreeMap<String, Option<i64>>> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let got = self.client.read::<String, Option<i64>>(&self.output, 2 * HALF, Duration::from_secs(20))?;
            let last = last_per_key(&got);
            if &last == want || Instant::now() > deadline {
                return Ok(last);
            }
        }
    }
}

fn metric(app: &RunningApp, name: &str) -> u64 {
    app.metrics().get(name).copied().unwrap_or(0)
}

/// Waits until `done()` holds, for at most a minute; returns whether it does.
fn wait_until(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

#[test]
fn an_instance_leaving_hands_its_counts_to_the_other() -> anyhow::Result<()> {
    let setup = Setup::new("scale-leave")?;
    let (a, b) = (setup.start()?, setup.start()?);
    let both_running = || a.state() == AppState::Running && b.state() == AppState::Running;
    assert!(wait_until(both_running), "states {} and {}: {:?} {:?}", a.state(), b.state(), a.errors(), b.errors());
    setup.produce(0)?;
    // Every record is processed twice: by the select_key task and by the count task.
    let processed = || metric(&a, "records-processed") + metric(&b, "records-processed") >= 2 * HALF as u64;
    assert!(
        wait_until(processed),
        "processed {} and {}",
        metric(&a, "records-processed"),
        metric(&b, "records-processed")
    );
    assert!(metric(&a, "records-processed") > 0 && metric(&b, "records-processed") > 0, "both instances have tasks");

    a.close()?;
    assert!(wait_until(|| b.state() == AppState::Running), "state {}", b.state());
    setup.produce(1)?;
    let want = setup.expected();
    let got = setup.final_counts(&want)?;
    let restored = metric(&b, "restored-records");
    b.close()?;
    assert_eq!(got, want, "no count lost or counted twice");
    assert!(restored > 0, "the remaining instance restored the counts it took over");
    Ok(())
}

#[test]
fn an_instance_joining_later_takes_tasks_with_their_counts() -> anyhow::Result<()> {
    let setup = Setup::new("scale-join")?;
    let a = setup.start()?;
    assert!(a.wait_for_state(AppState::Running, Duration::from_secs(60)), "state {}: {:?}", a.state(), a.errors());
    setup.produce(0)?;
    assert!(
        wait_until(|| metric(&a, "records-processed") >= 2 * HALF as u64),
        "processed {}",
        metric(&a, "records-processed")
    );

    let b = setup.start()?;
    assert!(b.wait_for_state(AppState::Running, Duration::from_secs(60)), "state {}", b.state());
    assert!(a.wait_for_state(AppState::Running, Duration::from_secs(60)), "state {}", a.state());
    let restored_by_b = metric(&b, "restored-records");
    setup.produce(1)?;
    let want = setup.expected();
    let got = setup.final_counts(&want)?;
    let processed_by_b = metric(&b, "records-processed");
    a.close()?;
    b.close()?;
    assert_eq!(got, want, "no count lost or counted twice");
    assert!(restored_by_b > 0, "the new instance restored the counts of the tasks it took");
    assert!(processed_by_b > 0, "the new instance processed records of its tasks");
    Ok(())
}
