//! The embedded cluster: librdkafka's in-process mock of the Kafka protocol.

use std::sync::mpsc;
use std::thread::JoinHandle;

use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use crate::{Result, StreamsError};

enum Command {
    CreateTopic {
        name: String,
        partitions: i32,
        reply: mpsc::Sender<std::result::Result<(), String>>,
    },
    /// The next requests of `api` fail with `errors`, one each, in order.
    #[cfg_attr(not(test), allow(dead_code))]
    RequestErrors {
        api: RDKafkaApiKey,
        errors: Vec<RDKafkaRespErr>,
        reply: mpsc::Sender<()>,
    },
    /// Requests of `api` no longer fail.
    #[cfg_attr(not(test), allow(dead_code))]
    ClearRequestErrors {
        api: RDKafkaApiKey,
        reply: mpsc::Sender<()>,
    },
    /// The broker answers every request `delay` late.
    #[cfg_attr(not(test), allow(dead_code))]
    RoundTripTime {
        delay: std::time::Duration,
        reply: mpsc::Sender<std::result::Result<(), String>>,
    },
}

/// Creates topics on an embedded cluster (its admin API is not served by the mock).
#[derive(Clone, Debug)]
pub(crate) struct EmbeddedHandle(mpsc::Sender<Command>);

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::CreateTopic { name, partitions, .. } => write!(f, "CreateTopic({name}, {partitions})"),
            Command::RequestErrors { api, errors, .. } => write!(f, "RequestErrors({api:?}, {errors:?})"),
            Command::ClearRequestErrors { api, .. } => write!(f, "ClearRequestErrors({api:?})"),
            Command::RoundTripTime { delay, .. } => write!(f, "RoundTripTime({delay:?})"),
        }
    }
}

impl EmbeddedHandle {
    /// Creates `name` with `partitions` partitions.
    pub(crate) fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        self.ask(|reply| Command::CreateTopic { name: name.to_string(), partitions, reply })?
            .map_err(|e| cluster_error(format!("cannot create topic `{name}` on the embedded cluster: {e}")))
    }

    /// Sends the command `command` makes with a reply channel, and waits for the reply.
    fn ask<T>(&self, command: impl FnOnce(mpsc::Sender<T>) -> Command) -> Result<T> {
        let (reply, answer) = mpsc::channel();
        self.0.send(command(reply)).map_err(|_| cluster_error("the embedded cluster has stopped".into()))?;
        answer.recv().map_err(|_| cluster_error("the embedded cluster has stopped".into()))
    }

    /// Makes the next requests of `api` fail with `errors`, one each, in order (to test how
    /// failures are handled).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn request_errors(&self, api: RDKafkaApiKey, errors: &[RDKafkaRespErr]) -> Result<()> {
        self.ask(|reply| Command::RequestErrors { api, errors: errors.to_vec(), reply })
    }

    /// Drops the errors still queued for requests of `api`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn clear_request_errors(&self, api: RDKafkaApiKey) -> Result<()> {
        self.ask(|reply| Command::ClearRequestErrors { api, reply })
    }

    /// Makes the broker answer every request `delay` late (to test waits for answers).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn round_trip_time(&self, delay: std::time::Duration) -> Result<()> {
        self.ask(|reply| Command::RoundTripTime { delay, reply })?
            .map_err(|e| cluster_error(format!("cannot delay the embedded broker: {e}")))
    }
}

/// A Kafka error of the embedded cluster with `message`.
fn cluster_error(message: String) -> StreamsError {
    StreamsError::Kafka { message, retriable: false }
}

/// An in-process Kafka-protocol mock cluster, for demos and fast tests with no broker.
///
/// It runs on its own thread until dropped. It is not a substitute for a real broker: it
/// implements the protocol, not Kafka's storage (no compaction, no retention), and creates
/// topics through [`EmbeddedCluster::create_topic`] rather than the admin API.
///
/// # Examples
///
/// ```
/// use streamz_core::kafka::EmbeddedCluster;
///
/// let cluster = EmbeddedCluster::start()?;
/// cluster.create_topic("events", 3)?;
/// assert!(!cluster.bootstrap_servers().is_empty());
/// # Ok::<(), streamz_core::StreamsError>(())
/// ```
#[derive(Debug)]
pub struct EmbeddedCluster {
    bootstrap: String,
    handle: Option<EmbeddedHandle>,
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
        let (commands, inbox) = mpsc::channel::<Command>();
        let thread = std::thread::Builder::new()
            .name("streamz-embedded-cluster".into())
            .spawn(move || match MockCluster::new(1) {
                Ok(cluster) => {
                    let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                    for command in inbox {
                        match command {
                            Command::CreateTopic { name, partitions, reply } => {
                                let _ =
                                    reply.send(cluster.create_topic(&name, partitions, 1).map_err(|e| e.to_string()));
                            }
                            Command::RequestErrors { api, errors, reply } => {
                                cluster.request_errors(api, &errors);
                                let _ = reply.send(());
                            }
                            Command::ClearRequestErrors { api, reply } => {
                                cluster.clear_request_errors(api);
                                let _ = reply.send(());
                            }
                            Command::RoundTripTime { delay, reply } => {
                                let _ = reply.send(cluster.broker_round_trip_time(1, delay).map_err(|e| e.to_string()));
                            }
                        }
                    }
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
        Ok(EmbeddedCluster { bootstrap, handle: Some(EmbeddedHandle(commands)), thread: Some(thread) })
    }

    /// The cluster's bootstrap servers.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// Creates topic `name` with `partitions` partitions.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when the mock refuses.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        self.handle().create_topic(name, partitions)
    }

    pub(crate) fn handle(&self) -> EmbeddedHandle {
        match &self.handle {
            Some(h) => h.clone(),
            None => {
                let (dead, _) = mpsc::channel();
                EmbeddedHandle(dead)
            }
        }
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        drop(self.handle.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
