//! Exactly-once: recovering a stream thread from a failed transaction.

use std::time::Duration;

use super::thread::ThreadCore;
use super::{ProcessingGuarantee, StreamsConfig};
use crate::kafka::{thread_producer_config, SharedProducer, StreamConsumer};
use crate::task::TaskId;
use crate::Result;

impl ThreadCore {
    /// After a failed transaction: aborts it (or, when the producer was fenced, replaces the
    /// producer, which aborts it), closes the thread's tasks without committing, creates them
    /// again — their stores restored from the committed part of their changelogs — and moves
    /// the consumer back to the committed offsets, so the aborted work is done again.
    ///
    /// # Errors
    ///
    /// When the producer cannot be replaced, a store cannot be restored, or the consumer
    /// cannot seek.
    pub(super) fn recover(&mut self, fenced: bool, consumer: &StreamConsumer) -> Result<()> {
        let timeout = self.env.config.commit_timeout;
        let ids: Vec<TaskId> = self.tasks.keys().copied().collect();
        for (_, mut task) in std::mem::take(&mut self.tasks) {
            task.close();
        }
        self.offsets.clear();
        match fenced {
            true => {
                // The new producer, with the same transactional id, fences the old one and
                // aborts the transaction it left open.
                self.producer = new_producer(&self.env.config, &self.env.bootstrap, &self.client_id, self.index)?;
                self.env.shared.metrics.add("fenced-producers", 1);
            }
            false if self.producer.abort_settled(timeout) => {
                // Offsets of changelog records that were aborted: no store's checkpoint.
                self.producer.take_changelog_offsets();
            }
            false => {
                self.producer = new_producer(&self.env.config, &self.env.bootstrap, &self.client_id, self.index)?;
                self.env.shared.metrics.add("fenced-producers", 1);
            }
        }
        self.create_tasks(&ids)?;
        consumer.rewind_to_committed(timeout)?;
        self.env.shared.metrics.add("aborted-transactions", 1);
        tracing::info!(thread = self.index, fenced, tasks = self.tasks.len(), "recovered from a failed transaction");
        Ok(())
    }
}

impl ThreadCore {
    /// After the consumer lost its partitions (the group gave them to other members when this
    /// one missed its session timeout, e.g. paused): their new owners start from the last
    /// commit, so nothing processed since may commit here. Aborts the open transaction, if
    /// any (under exactly-once, a transaction of this zombie could otherwise still commit
    /// records its partitions' new owners write again), and closes the tasks without
    /// committing.
    pub(super) fn abandon_all(&mut self) {
        let timeout = self.env.config.commit_timeout;
        if self.producer.abort_transaction(timeout) {
            self.env.shared.metrics.add("aborted-transactions", 1);
        }
        self.producer.take_changelog_offsets();
        self.close_all();
    }
}

/// The producer of thread `index`: transactional under exactly-once.
pub(super) fn new_producer(
    config: &StreamsConfig,
    bootstrap: &str,
    client_id: &str,
    index: usize,
) -> Result<SharedProducer> {
    let producer_config = thread_producer_config(config, bootstrap, &format!("{client_id}-producer"), index);
    match config.processing_guarantee {
        ProcessingGuarantee::ExactlyOnce => {
            SharedProducer::transactional(&producer_config, config.startup_timeout.max(Duration::from_secs(30)))
        }
        _ => SharedProducer::new(&producer_config),
    }
}

#[cfg(test)]
#[path = "eos_tests.rs"]
mod tests;
