use std::sync::{Arc, Mutex};

use super::*;
use crate::runtime::noted_store::{entry, Noted};

/// The progress reported after each batch: records restored so far.
#[derive(Default)]
struct Batches(Mutex<Vec<u64>>);

impl StateRestoreListener for Batches {
    fn on_batch_restored(&self, progress: &RestoreProgress<'_>) {
        self.0.lock().unwrap().push(progress.restored);
    }
}

/// The restore of `entry` (task 0_3, no checkpoint), reporting its batches to `batches`.
fn restore_of<'a>(entry: &'a StoreEntry, batches: &'a Batches) -> RestoreBatch<'a> {
    RestoreBatch::new("store", TaskId { subtopology: 0, partition: 3 }, "store-changelog", entry, None, Some(batches))
}

#[test]
fn small_records_are_committed_every_hundred_thousand() -> Result<()> {
    let noted = Arc::new(Noted::default());
    let (entry, batches) = (entry(&noted), Batches::default());
    let mut batch = restore_of(&entry, &batches);
    batch.start(10, 250_010)?;
    for offset in 10..250_010 {
        batch.apply(offset, b"key", Some(b"value"))?;
    }
    assert_eq!(*noted.records.lock().unwrap(), 250_000);
    assert_eq!(*noted.commits.lock().unwrap(), vec![Some(100_010), Some(200_010)]);
    assert_eq!(*batches.0.lock().unwrap(), vec![100_000, 200_000]);
    Ok(())
}

#[test]
fn large_records_are_committed_every_eight_mebibytes() -> Result<()> {
    let noted = Arc::new(Noted::default());
    let (entry, batches) = (entry(&noted), Batches::default());
    let mut batch = restore_of(&entry, &batches);
    let value = vec![7u8; (1 << 20) - 3];
    batch.start(0, 20)?;
    for offset in 0..20 {
        // A key of 3 bytes: each record is 1 MiB of key and value.
        batch.apply(offset, b"key", Some(&value))?;
    }
    // A tombstone has no value bytes: only its key counts.
    batch.apply(20, b"key", None)?;
    assert_eq!(*noted.commits.lock().unwrap(), vec![Some(8), Some(16)], "a commit after every 8 MiB");
    assert_eq!(*batches.0.lock().unwrap(), vec![8, 16]);
    assert_eq!(RESTORE_BATCH_BYTES, 8 << 20);
    Ok(())
}
