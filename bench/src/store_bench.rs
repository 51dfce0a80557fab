//! Store write paths: RocksDB written through (no write-ahead log) against write batches
//! applied at each commit, and the streamz key-value stores of both backends.

use std::time::Instant;

use rocksdb::{Options, WriteBatch, WriteOptions, DB};
use streamz::state::{key_value_store, StoreBackend, StoreEnv};
use streamz::Data;

/// `records` puts of `keys` distinct keys, a commit every `commit_every` puts.
pub(crate) fn run(records: u64, keys: u64, commit_every: u64) -> anyhow::Result<()> {
    let key = |i: u64| format!("key-{:08}", (i.wrapping_mul(2_654_435_761)) % keys);
    let value = [7u8; 100];
    let dir = tempfile::tempdir()?;
    let mut opts = Options::default();
    opts.create_if_missing(true);
    let mut no_wal = WriteOptions::default();
    no_wal.disable_wal(true);

    let db = DB::open(&opts, dir.path().join("through"))?;
    let started = Instant::now();
    for i in 0..records {
        db.put_opt(key(i), value, &no_wal)?;
    }
    report("rocksdb write-through, no WAL", records, started);
    drop(db);

    let db = DB::open(&opts, dir.path().join("batch"))?;
    let started = Instant::now();
    let mut batch = WriteBatch::default();
    for i in 0..records {
        batch.put(key(i), value);
        if (i + 1) % commit_every == 0 {
            db.write_opt(std::mem::take(&mut batch), &no_wal)?;
        }
    }
    db.write_opt(batch, &no_wal)?;
    report("rocksdb write batch per commit, no WAL", records, started);
    drop(db);

    for backend in [StoreBackend::InMemory, StoreBackend::RocksDb] {
        let env = StoreEnv::new(dir.path().join(format!("{backend:?}")));
        let mut store = key_value_store::<String, i64>("kv", String::default_serde(), backend, &env)?;
        let started = Instant::now();
        for i in 0..records {
            let k = key(i);
            let old = store.get(&k).unwrap_or(0);
            store.put(&k, old + 1);
            if (i + 1) % commit_every == 0 {
                store.flush()?;
            }
        }
        report(&format!("streamz {backend:?} key-value store, get + put"), records, started);
    }
    Ok(())
}

fn report(what: &str, records: u64, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    println!("{what}: {records} in {secs:.3} s = {:.0} records/s", records as f64 / secs);
}
