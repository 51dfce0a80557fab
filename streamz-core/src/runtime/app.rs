//! `App` and `RunningApp`: starting, observing and stopping an application.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::state_dir::StateDirectory;
use super::thread::{self, ThreadEnv};
use super::{AppState, StreamsConfig};
use crate::kafka::{EmbeddedCluster, KafkaAdmin};
use crate::task::{lock, Metrics};
use crate::topology::Topology;
use crate::{Result, StreamsError};

type StateListener = Box<dyn Fn(AppState, AppState) + Send + Sync>;

/// What the threads of a running application share with it.
pub(crate) struct AppShared {
    state: Mutex<AppState>,
    changed: Condvar,
    listener: Option<StateListener>,
    shutdown: AtomicBool,
    errors: Mutex<Vec<StreamsError>>,
    threads_running: Mutex<Vec<bool>>,
    pub(crate) metrics: Arc<Metrics>,
    /// The instance's locked state directory.
    pub(crate) state_dir: Mutex<StateDirectory>,
    /// The standby replicas kept here (none unless `num_standby_replicas` is set).
    pub(crate) standbys: super::standby::Standbys,
}

impl AppShared {
    fn set_state(&self, new: AppState) {
        let mut state = lock(&self.state);
        let old = *state;
        let allowed = match (old, new) {
            (a, b) if a == b => false,
            (AppState::Error | AppState::NotRunning, _) => false,
            (AppState::PendingShutdown, b) => matches!(b, AppState::NotRunning | AppState::Error),
            _ => true,
        };
        if !allowed {
            return;
        }
        *state = new;
        drop(state);
        tracing::info!(from = %old, to = %new, "state changed");
        if let Some(listener) = &self.listener {
            listener(old, new);
        }
        self.changed.notify_all();
    }

    /// Thread `index` has (`true`) or is waiting for (`false`) its assignment.
    pub(crate) fn thread_running(&self, index: usize, running: bool) {
        let all = {
            let mut threads = lock(&self.threads_running);
            threads[index] = running;
            threads.iter().all(|&r| r)
        };
        self.set_state(if all { AppState::Running } else { AppState::Rebalancing });
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// A thread failed: record the error and stop the application.
    pub(crate) fn fail(&self, error: StreamsError) {
        lock(&self.errors).push(error);
        self.shutdown.store(true, Ordering::SeqCst);
        self.set_state(AppState::Error);
    }
}

/// An application: a topology and its configuration, not started yet.
pub struct App {
    topology: Arc<Topology>,
    config: StreamsConfig,
    listener: Option<StateListener>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("config", &self.config).finish_non_exhaustive()
    }
}

impl App {
    /// An application running `topology` as `config` says.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Topology`] when the configuration cannot work: an empty application id,
    /// or under exactly-once a commit interval not shorter than the transaction timeout.
    pub fn new(topology: Topology, config: StreamsConfig) -> Result<Self> {
        if config.application_id.is_empty() || config.application_id.contains(char::is_whitespace) {
            return Err(StreamsError::Topology(crate::TopologyError::Invalid {
                operator: "application id".into(),
                reason: format!("`{}` must be non-empty and without spaces", config.application_id),
            }));
        }
        if let Some(timeout) = config.transaction_timeout() {
            if config.effective_commit_interval() >= timeout {
                return Err(StreamsError::Topology(crate::TopologyError::Invalid {
                    operator: "commit interval".into(),
                    reason: format!(
                        "under exactly-once the commit interval ({:?}) must be shorter than the transaction timeout \
                         ({timeout:?}, producer setting `transaction.timeout.ms`), or every transaction times out",
                        config.effective_commit_interval()
                    ),
                }));
            }
        }
        Ok(App { topology: Arc::new(topology), config, listener: None })
    }

    /// Deletes this instance's local state (`<state dir>/<application id>`: every task's
    /// stores and checkpoints), as Kafka Streams' `cleanUp`: the next start restores every
    /// store from the beginning of its changelog.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`] when another running instance holds the state directory, or
    /// a directory cannot be deleted.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    /// use streamz_core::runtime::{App, StreamsConfig};
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("words").group_by_key().count().to_stream().to("counts");
    /// let dir = std::env::temp_dir().join("streamz-doc-clean-up");
    /// let app = App::new(builder.build()?, StreamsConfig::new("word-count").state_dir(&dir))?;
    /// app.clean_up()?;
    /// assert!(!dir.join("word-count").join("0_0").exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clean_up(&self) -> Result<()> {
        StateDirectory::lock(self.config.store_env().dir())?.wipe()
    }

    /// Calls `listener(old, new)` on every state change.
    pub fn with_state_listener(mut self, listener: impl Fn(AppState, AppState) + Send + Sync + 'static) -> Self {
        self.listener = Some(Box::new(listener));
        self
    }

    /// Starts the application: connects to the cluster (or starts the embedded one), checks the
    /// input topics and their co-partitioning, creates internal topics, and starts the stream
    /// threads. Returns once the threads run; they join the group in the background.
    ///
    /// # Errors
    ///
    /// An unreachable cluster (after the startup timeout), a missing input topic, inputs that
    /// must be co-partitioned but are not, or internal topics that cannot be created.
    pub fn start(self) -> Result<RunningApp> {
        let state_dir = StateDirectory::lock(self.config.store_env().dir())?;
        let embedded = match &self.config.bootstrap_servers {
            Some(_) => None,
            None => Some(EmbeddedCluster::start()?),
        };
        let bootstrap = match (&self.config.bootstrap_servers, &embedded) {
            (Some(b), _) => b.clone(),
            (None, Some(cluster)) => cluster.bootstrap_servers().to_string(),
            (None, None) => return Err(StreamsError::Bug("no cluster to connect to".into())),
        };
        let admin = KafkaAdmin::new(&bootstrap, self.config.startup_timeout)?;
        let counts = admin.partition_counts()?;
        let plan = self.topology.plan(&self.config.application_id, |t| counts.get(t).copied())?;
        let plan = plan.with_cache(self.config.cache_max_bytes);
        if let Some(topic) = self.topology.sink_topics().into_iter().find(|t| !counts.contains_key(t)) {
            return Err(StreamsError::Topology(crate::TopologyError::UnknownTopic {
                topic,
                reason: "the topology writes to it but it does not exist (create it first)".into(),
            }));
        }
        let handle = embedded.as_ref().map(EmbeddedCluster::handle).or_else(|| self.config.embedded.clone());
        admin.ensure_internal_topics(&plan.internal_topics, self.config.replication_factor, handle.as_ref())?;
        let threads = self.config.num_stream_threads;
        let shared = Arc::new(AppShared {
            state: Mutex::new(AppState::Created),
            changed: Condvar::new(),
            listener: self.listener,
            shutdown: AtomicBool::new(false),
            errors: Mutex::new(Vec::new()),
            threads_running: Mutex::new(vec![false; threads]),
            metrics: Arc::new(Metrics::default()),
            state_dir: Mutex::new(state_dir),
            standbys: Default::default(),
        });
        shared.set_state(AppState::Rebalancing);
        let plan = Arc::new(plan);
        let stores = self.config.store_env();
        let (globals, global_thread) =
            super::global::start(&self.topology, &plan, &self.config, &bootstrap, &shared, &stores)?;
        let env = ThreadEnv {
            topology: self.topology.clone(),
            plan,
            config: self.config.clone().resolve_instance_id(),
            bootstrap: bootstrap.clone(),
            shared: shared.clone(),
            globals,
            stores,
        };
        let mut handles: Vec<JoinHandle<()>> = global_thread.into_iter().collect();
        for index in 0..threads {
            let env = env.clone();
            let handle = std::thread::Builder::new()
                .name(format!("{}-StreamThread-{}", self.config.application_id, index + 1))
                .spawn(move || thread::run(index, env))
                .map_err(|e| StreamsError::Bug(format!("cannot start a stream thread: {e}")))?;
            handles.push(handle);
        }
        if self.config.num_standby_replicas > 0 {
            let handle = std::thread::Builder::new()
                .name(format!("{}-StandbyThread", self.config.application_id))
                .spawn(move || super::standby::run(env))
                .map_err(|e| StreamsError::Bug(format!("cannot start the standby thread: {e}")))?;
            handles.push(handle);
        }
        Ok(RunningApp { shared, threads: handles, bootstrap, _embedded: embedded })
    }
}

/// A started application.
#[must_use = "an application stops with `close`"]
pub struct RunningApp {
    shared: Arc<AppShared>,
    threads: Vec<JoinHandle<()>>,
    bootstrap: String,
    _embedded: Option<EmbeddedCluster>,
}

impl std::fmt::Debug for RunningApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningApp").field("state", &self.state()).field("bootstrap", &self.bootstrap).finish()
    }
}

impl RunningApp {
    /// The current state.
    pub fn state(&self) -> AppState {
        *lock(&self.shared.state)
    }

    /// The bootstrap servers the application uses (the embedded cluster's when it runs one).
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// Waits up to `timeout` until the state is `state`; returns whether it is.
    pub fn wait_for_state(&self, state: AppState, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut current = lock(&self.shared.state);
        while *current != state {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || matches!(*current, AppState::Error | AppState::NotRunning) {
                return *current == state;
            }
            current = self.shared.changed.wait_timeout(current, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        true
    }

    /// Counters: `records-processed`, `commits`, `restored-records`, `standby-records`
    /// (changelog records applied to standby replicas), `aborted-transactions`,
    /// `committed-transactions` and `fenced-producers` (exactly-once), `recovery-retries`
    /// (attempts to start again from the last commit that failed with an error that may pass,
    /// e.g. while the cluster was unreachable), `dropped-records` and its breakdown.
    pub fn metrics(&self) -> BTreeMap<String, u64> {
        self.shared.metrics.snapshot()
    }

    /// The errors that stopped the application's threads, as text.
    pub fn errors(&self) -> Vec<String> {
        lock(&self.shared.errors).iter().map(ToString::to_string).collect()
    }

    /// Stops the application: each thread finishes its work, commits, closes its tasks and
    /// leaves the group.
    ///
    /// # Errors
    ///
    /// The first error that stopped a thread, if any.
    pub fn close(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        self.shared.set_state(AppState::PendingShutdown);
        self.shared.shutdown.store(true, Ordering::SeqCst);
        for handle in self.threads.drain(..) {
            if handle.join().is_err() {
                lock(&self.shared.errors).push(StreamsError::Bug("a stream thread panicked".into()));
            }
        }
        let mut errors = lock(&self.shared.errors);
        if errors.is_empty() {
            drop(errors);
            self.shared.set_state(AppState::NotRunning);
            Ok(())
        } else {
            let first = errors.remove(0);
            drop(errors);
            self.shared.set_state(AppState::Error);
            Err(first)
        }
    }

    /// Runs until SIGINT (Ctrl-C) or SIGTERM, or until a thread fails, then closes.
    ///
    /// # Errors
    ///
    /// As [`RunningApp::close`], or when the signal handlers cannot be installed.
    pub fn run_until_shutdown_signal(self) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StreamsError::Bug(format!("cannot start the signal runtime: {e}")))?;
        let shared = self.shared.clone();
        runtime.block_on(async move {
            #[cfg(unix)]
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| StreamsError::Bug(format!("cannot listen for SIGTERM: {e}")))?;
            let mut failed = tokio::time::interval(Duration::from_millis(200));
            loop {
                #[cfg(unix)]
                let terminated = term.recv();
                #[cfg(not(unix))]
                let terminated = std::future::pending::<Option<()>>();
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => break,
                    _ = terminated => break,
                    _ = failed.tick() => if shared.is_shutting_down() { break },
                }
            }
            Ok::<(), StreamsError>(())
        })?;
        tracing::info!("shutting down");
        self.close()
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            let _ = self.shutdown();
        }
    }
}
