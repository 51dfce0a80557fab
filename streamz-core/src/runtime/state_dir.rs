//! The state directory of an application instance: `<state dir>/<application id>`, locked
//! by one running instance, with one sub-directory per task whose stores live there.

use std::collections::HashMap;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::task::TaskId;
use crate::{Result, StreamsError};

/// The file an instance locks for as long as it runs.
const LOCK_FILE: &str = ".lock";

/// A locked application state directory and what it knows of its task directories.
#[derive(Debug)]
pub(crate) struct StateDirectory {
    dir: PathBuf,
    /// Held (locked) until dropped; the operating system releases it if the process dies.
    _lock: File,
    /// Task directories and when their task was last open here (`None`: open now).
    tasks: HashMap<String, Option<Instant>>,
}

fn state_error(dir: &Path, message: impl std::fmt::Display) -> StreamsError {
    StreamsError::State { store: dir.display().to_string(), message: message.to_string() }
}

/// Whether `name` is a task directory (`<sub-topology>_<partition>`).
fn is_task_dir(name: &str) -> bool {
    let Some((sub, partition)) = name.split_once('_') else { return false };
    sub.parse::<u32>().is_ok() && partition.parse::<i32>().is_ok()
}

impl StateDirectory {
    /// Creates and locks `dir`.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`] naming the directory when another running instance holds it
    /// (two instances on one machine need different state directories), or it cannot be
    /// created.
    pub(crate) fn lock(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| state_error(dir, format!("cannot create the state directory: {e}")))?;
        let path = dir.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| state_error(dir, format!("cannot open {}: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(state_error(
                    dir,
                    "the state directory is locked by another running instance of this application \
                     (give each instance on one machine its own `state_dir`)",
                ))
            }
            Err(TryLockError::Error(e)) => {
                return Err(state_error(dir, format!("cannot lock {}: {e}", path.display())))
            }
        }
        let now = Instant::now();
        let mut tasks = HashMap::new();
        for name in Self::task_dirs(dir)? {
            tasks.insert(name, Some(now));
        }
        Ok(StateDirectory { dir: dir.to_path_buf(), _lock: file, tasks })
    }

    fn task_dirs(dir: &Path) -> Result<Vec<String>> {
        let entries = std::fs::read_dir(dir).map_err(|e| state_error(dir, format!("cannot list: {e}")))?;
        let mut names = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_task_dir(&name) && entry.path().is_dir() {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// Task `id` is open on this instance: its directory is kept.
    pub(crate) fn opened(&mut self, id: TaskId) {
        self.tasks.insert(id.to_string(), None);
    }

    /// Whether task `id` is open on this instance (active, or a standby).
    pub(crate) fn is_open(&self, id: TaskId) -> bool {
        self.tasks.get(&id.to_string()).is_some_and(Option::is_none)
    }

    /// Task `id` was closed here now.
    pub(crate) fn closed(&mut self, id: TaskId) {
        self.tasks.insert(id.to_string(), Some(Instant::now()));
    }

    /// Deletes the directories of tasks not open here for longer than `delay`; returns
    /// their names.
    pub(crate) fn clean(&mut self, delay: Duration) -> Vec<String> {
        let doomed: Vec<String> = self
            .tasks
            .iter()
            .filter(|(_, closed)| closed.is_some_and(|at| at.elapsed() >= delay))
            .map(|(name, _)| name.clone())
            .collect();
        let mut deleted = Vec::new();
        for name in doomed {
            self.tasks.remove(&name);
            match std::fs::remove_dir_all(self.dir.join(&name)) {
                Ok(()) => deleted.push(name),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(dir = %self.dir.join(&name).display(), error = %e, "cannot delete the state of a task that moved away")
                }
            }
        }
        deleted
    }

    /// Deletes every task directory (no task may be open).
    pub(crate) fn wipe(&mut self) -> Result<()> {
        for name in Self::task_dirs(&self.dir)?.into_iter().chain(["global".to_string()]) {
            match std::fs::remove_dir_all(self.dir.join(&name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(state_error(&self.dir, format!("cannot delete {name}: {e}")))
                }
                _ => {}
            }
        }
        self.tasks.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_instance_cannot_lock_the_same_directory() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateDirectory::lock(dir.path()).unwrap();
        let err = StateDirectory::lock(dir.path()).unwrap_err().to_string();
        assert!(err.contains("locked by another running instance"), "{err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        drop(first);
        StateDirectory::lock(dir.path()).unwrap();
    }

    #[test]
    fn directories_of_tasks_closed_longer_than_the_delay_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["0_0", "0_1", "1_0", "global", "notes"] {
            std::fs::create_dir_all(dir.path().join(name).join("store")).unwrap();
        }
        let mut state = StateDirectory::lock(dir.path()).unwrap();
        state.opened(TaskId { subtopology: 0, partition: 0 });
        state.closed(TaskId { subtopology: 1, partition: 0 });
        // Found at start and never opened: kept for the delay too.
        assert!(state.clean(Duration::from_secs(60)).is_empty());
        let mut deleted = state.clean(Duration::ZERO);
        deleted.sort();
        assert_eq!(deleted, ["0_1", "1_0"]);
        for (name, exists) in [("0_0", true), ("0_1", false), ("1_0", false), ("global", true), ("notes", true)] {
            assert_eq!(dir.path().join(name).exists(), exists, "{name}");
        }
        state.wipe().unwrap();
        assert!(!dir.path().join("0_0").exists() && !dir.path().join("global").exists());
        assert!(dir.path().join("notes").exists());
    }
}
