//! The restore of one store from its changelog, committed in batches.

use super::{RestoreProgress, StateRestoreListener};
use crate::kafka::RestoreSink;
use crate::task::{StoreEntry, TaskId};
use crate::Result;

/// How many changelog records a restore applies between two commits of the store.
pub(crate) const RESTORE_BATCH: u64 = 100_000;

/// How many bytes of keys and values a restore applies between two commits of the store at
/// most: a store holds what it restored in memory until the commit, and records can be large.
pub(crate) const RESTORE_BATCH_BYTES: usize = 8 << 20;

/// Records, and bytes of their keys and values, a store applied from its changelog since its
/// last commit: what it holds in memory until then.
#[derive(Debug, Default)]
pub(crate) struct Uncommitted {
    pub(crate) records: u64,
    pub(crate) bytes: usize,
}

impl Uncommitted {
    /// Counts a record with `key` and `value` (`None`: a tombstone, its key alone).
    pub(crate) fn add(&mut self, key: &[u8], value: Option<&[u8]>) {
        self.records += 1;
        self.bytes += key.len() + value.map_or(0, <[u8]>::len);
    }
}

/// The restore of one store: applies records and commits the store every
/// [`RESTORE_BATCH`] records (or [`RESTORE_BATCH_BYTES`]) with the offset after the last
/// one, so an interrupted restore continues where it stopped.
pub(crate) struct RestoreBatch<'a> {
    name: &'a str,
    pub(crate) id: TaskId,
    pub(crate) topic: &'a str,
    entry: &'a StoreEntry,
    listener: Option<&'a dyn StateRestoreListener>,
    pub(crate) checkpoint: Option<i64>,
    /// The offsets the restore reads, `from..end`.
    span: (i64, i64),
    n: u64,
    uncommitted: Uncommitted,
}

impl RestoreSink for RestoreBatch<'_> {
    fn start(&mut self, from: i64, end: i64) -> Result<()> {
        self.span = (from, end);
        self.report(|l, p| l.on_restore_start(p));
        Ok(())
    }

    fn apply(&mut self, offset: i64, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        self.entry.restore(key, value)?;
        self.n += 1;
        self.uncommitted.add(key, value);
        if self.uncommitted.records >= RESTORE_BATCH || self.uncommitted.bytes >= RESTORE_BATCH_BYTES {
            self.uncommitted = Uncommitted::default();
            self.entry.control.commit(Some(offset + 1))?;
            self.report(|l, p| l.on_batch_restored(p));
        }
        Ok(())
    }
}

impl<'a> RestoreBatch<'a> {
    /// The restore of `store` (`name`) of task `id` from `topic`, from `checkpoint`, reporting
    /// to `listener`.
    pub(crate) fn new(
        name: &'a str,
        id: TaskId,
        topic: &'a str,
        entry: &'a StoreEntry,
        checkpoint: Option<i64>,
        listener: Option<&'a dyn StateRestoreListener>,
    ) -> Self {
        RestoreBatch {
            name,
            id,
            topic,
            entry,
            listener,
            checkpoint,
            span: (0, 0),
            n: 0,
            uncommitted: Uncommitted::default(),
        }
    }

    fn report(&self, call: impl Fn(&dyn StateRestoreListener, &RestoreProgress<'_>)) {
        let Some(listener) = self.listener else { return };
        let progress = RestoreProgress {
            store: self.name,
            task: self.id,
            topic: self.topic,
            partition: self.id.partition,
            start_offset: self.span.0,
            end_offset: self.span.1,
            from_checkpoint: self.checkpoint.is_some(),
            restored: self.n,
        };
        call(listener, &progress);
    }
}

#[cfg(test)]
#[path = "restore_batch_tests.rs"]
mod tests;
