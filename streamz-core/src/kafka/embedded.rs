//! The embedded cluster: librdkafka's in-process mock of the Kafka protocol.

use std::sync::mpsc;
use std::thread::JoinHandle;

use rdkafka::mocking::MockCluster;

use crate::{Result, StreamsError};

/// An in-process Kafka-protocol mock cluster, for demos and fast tests with no broker.
///
/// It runs on its own thread until dropped. It is not a substitute for a real broker: it
/// implements the protocol, not Kafka's storage (no compaction, no retention).
///
/// # Examples
///
/// ```
/// use streamz_core::kafka::EmbeddedCluster;
///
/// let cluster = EmbeddedCluster::start()?;
/// assert!(!cluster.bootstrap_servers().is_empty());
/// # Ok::<(), streamz_core::StreamsError>(())
/// ```
#[derive(Debug)]
pub struct EmbeddedCluster {
    bootstrap: String,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedCluster {
    /// Starts a one-broker mock cluster.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when librdkafka cannot create it.
    pub fn start() -> Result<Self> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("streamz-embedded-cluster".into())
            .spawn(move || match MockCluster::new(1) {
                Ok(cluster) => {
                    let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                    let _ = stop_rx.recv();
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                }
            })
            .map_err(|e| StreamsError::Kafka {
                message: format!("cannot start the embedded cluster thread: {e}"),
                retriable: false,
            })?;
        let bootstrap = ready_rx
            .recv()
            .map_err(|_| StreamsError::Bug("the embedded cluster thread ended before it started".into()))?
            .map_err(|message| StreamsError::Kafka {
                message: format!("cannot start the embedded cluster: {message}"),
                retriable: false,
            })?;
        Ok(EmbeddedCluster { bootstrap, stop: Some(stop_tx), thread: Some(thread) })
    }

    /// The cluster's bootstrap servers.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
