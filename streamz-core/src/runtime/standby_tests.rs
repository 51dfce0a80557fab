//! Where standby replicas go: every instance derives the same placement from the group's
//! assignment.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

fn task(sub: u32, partition: i32) -> TaskId {
    TaskId { subtopology: sub, partition }
}

fn instances(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// The instances holding a standby of each task, as each instance computes it.
fn holders(
    owners: &BTreeMap<TaskId, String>,
    all: &BTreeSet<String>,
    replicas: usize,
) -> BTreeMap<TaskId, BTreeSet<String>> {
    let mut out: BTreeMap<TaskId, BTreeSet<String>> = BTreeMap::new();
    for me in all {
        for t in placement(me, owners, all, replicas) {
            out.entry(t).or_default().insert(me.clone());
        }
    }
    out
}

#[test]
fn each_task_gets_the_asked_number_of_standbys_never_on_its_owner() {
    let all = instances(&["a", "b", "c", "d"]);
    let names: Vec<&String> = all.iter().collect();
    let owners: BTreeMap<TaskId, String> =
        (0..24).map(|p| (task(p as u32 % 2, p), names[p as usize % 4].clone())).collect();
    for replicas in 0..=4 {
        let placed = holders(&owners, &all, replicas);
        for (t, owner) in &owners {
            let holding = placed.get(t).cloned().unwrap_or_default();
            assert_eq!(holding.len(), replicas.min(3), "{t} with {replicas} replicas: {holding:?}");
            assert!(!holding.contains(owner), "{t}: no standby on its owner {owner}");
        }
    }
}

#[test]
fn standbys_spread_over_the_instances() {
    let all = instances(&["host-1", "host-2", "host-3"]);
    let owners: BTreeMap<TaskId, String> = (0..60).map(|p| (task(0, p), "host-1".to_string())).collect();
    let placed = holders(&owners, &all, 1);
    let on = |i: &str| placed.values().filter(|h| h.contains(i)).count();
    // Rendezvous hashing: roughly half of host-1's tasks each.
    assert!((15..=45).contains(&on("host-2")), "host-2 holds {}", on("host-2"));
    assert_eq!(on("host-2") + on("host-3"), 60);
}

#[test]
fn a_placement_moves_little_when_an_instance_joins() {
    let before = instances(&["a", "b", "c"]);
    let after = instances(&["a", "b", "c", "d"]);
    let owners: BTreeMap<TaskId, String> = (0..90).map(|p| (task(0, p), "a".to_string())).collect();
    let (old, new) = (holders(&owners, &before, 1), holders(&owners, &after, 1));
    // A standby moves only to the new instance, never between the old ones.
    for (t, holding) in &new {
        assert!(holding == &old[t] || holding.contains("d"), "{t}: {:?} -> {holding:?}", old[t]);
    }
}

#[test]
fn the_instance_id_is_read_from_a_stream_thread_consumers_client_id() {
    let id = "fraud-host-7-4242-StreamThread-2-consumer";
    assert_eq!(instance_of(id, "fraud"), Some("host-7-4242"));
    assert_eq!(instance_of(id, "other"), None);
    assert_eq!(instance_of("fraud-restore-consumer", "fraud"), None);
}

#[test]
fn owners_come_from_the_stateful_sub_topologies_source_partitions() {
    let mut stateful: FastMap<String, Vec<u32>> = FastMap::default();
    stateful.insert("orders".into(), vec![0]);
    stateful.insert("app-by-user-repartition".into(), vec![1]);
    let members = vec![
        GroupMember {
            client_id: "app-i1-StreamThread-1-consumer".into(),
            partitions: vec![("orders".into(), 0), ("app-by-user-repartition".into(), 0), ("clicks".into(), 0)],
        },
        GroupMember { client_id: "app-i2-StreamThread-1-consumer".into(), partitions: vec![("orders".into(), 1)] },
        GroupMember { client_id: "someone-else".into(), partitions: vec![("orders".into(), 2)] },
    ];
    let (owners, all) = owners(&members, "app", &stateful);
    let want: BTreeMap<TaskId, String> =
        [(task(0, 0), "i1"), (task(1, 0), "i1"), (task(0, 1), "i2")].into_iter().map(|(t, i)| (t, i.into())).collect();
    assert_eq!(owners, want);
    assert_eq!(all, instances(&["i1", "i2"]));
}

#[test]
fn a_standby_store_commits_after_eight_mebibytes_of_large_records() -> Result<()> {
    use crate::runtime::noted_store::{entry, Noted};
    let noted = Arc::new(Noted::default());
    let mut store = StandbyStore {
        name: "store".into(),
        topic: "store-changelog".into(),
        entry: entry(&noted),
        next: 5,
        committed: 5,
        since_commit: Default::default(),
    };
    assert!(!store.apply(4, b"key", Some(b"value"))?, "a record the store holds is skipped");
    let value = vec![1u8; (1 << 20) - 3];
    for offset in 5..22 {
        assert!(store.apply(offset, b"key", Some(&value))?);
    }
    assert_eq!(*noted.records.lock().unwrap(), 17);
    assert_eq!(*noted.commits.lock().unwrap(), vec![Some(13), Some(21)], "a commit after every 8 MiB");
    assert_eq!((store.committed, store.next, store.since_commit.records), (21, 22, 1));
    // Small records wait for the record count or the interval.
    for offset in 22..1_000 {
        store.apply(offset, b"k", Some(b"v"))?;
    }
    assert_eq!(noted.commits.lock().unwrap().len(), 2);
    Ok(())
}
