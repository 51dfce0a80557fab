//! Recovering a stream thread from a failed transaction (exactly-once) or an error that may
//! pass, from the last commit.

use std::time::Duration;

use super::thread::ThreadCore;
use super::{ProcessingGuarantee, StreamsConfig};
use crate::kafka::{thread_producer_config, SharedProducer, StreamConsumer};
use crate::Result;

impl ThreadCore {
    /// The first step of a recovery from the last commit (after a failed transaction, or an
    /// error that may pass; see the thread's `recover_retrying`), before
    /// [`restart_tasks`](Self::restart_tasks): ends the open transaction, if any, so that
    /// nothing of it is ever committed. Aborts it, or, when the producer was fenced or an
    /// abort does not complete, replaces the producer (the new one, with the same
    /// transactional id, fences the old one and aborts what it left open). Forgets the
    /// offsets processed since the last commit.
    ///
    /// # Errors
    ///
    /// When a new producer cannot be created or registered.
    pub(super) fn settle_producer(&mut self, fenced: bool) -> Result<()> {
        self.offsets.clear();
        let timeout = self.env.config.commit_timeout;
        if !fenced && self.producer.abort_settled(timeout) {
            // Offsets of changelog records that were aborted: no store's checkpoint.
            self.producer.take_changelog_offsets();
        } else {
            self.producer = new_producer(&self.env.config, &self.env.bootstrap, &self.client_id, self.index)?;
            self.env.shared.metrics.add("fenced-producers", 1);
        }
        Ok(())
    }

    /// Closes every task without committing, creates the tasks of the consumer's assignment
    /// again — their stores restored from the committed part of their changelogs — and moves
    /// the consumer back to the committed offsets.
    ///
    /// # Errors
    ///
    /// When the assignment cannot be read, a store cannot be restored, or the consumer
    /// cannot seek.
    pub(super) fn restart_tasks(&mut self, consumer: &StreamConsumer) -> Result<()> {
        for (_, mut task) in std::mem::take(&mut self.tasks) {
            task.close();
        }
        self.offsets.clear();
        // From the assignment, not the tasks there were: an earlier attempt may have failed
        // before it created them all.
        let ids = self.task_ids(&consumer.assigned_partitions()?);
        self.create_tasks(&ids)?;
        consumer.rewind_to_committed(self.env.config.commit_timeout)?;
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
