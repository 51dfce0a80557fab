//! A store for tests that notes what is restored into it and its commits.

use std::sync::{Arc, Mutex};

use crate::task::{RestoreFn, StoreControl, StoreEntry};
use crate::Result;

/// A store that notes the records restored into it and its commits.
#[derive(Default)]
pub(crate) struct Noted {
    pub(crate) records: Mutex<u64>,
    pub(crate) commits: Mutex<Vec<Option<i64>>>,
}

impl StoreControl for Noted {
    fn flush(&self) -> Result<()> {
        Ok(())
    }
    fn commit(&self, checkpoint: Option<i64>) -> Result<()> {
        self.commits.lock().unwrap().push(checkpoint);
        Ok(())
    }
    fn checkpoint(&self) -> Option<i64> {
        None
    }
    fn clear(&self) -> Result<()> {
        Ok(())
    }
}

/// A logged store entry whose records and commits `noted` notes.
pub(crate) fn entry(noted: &Arc<Noted>) -> StoreEntry {
    let counted = noted.clone();
    let restore: RestoreFn = Arc::new(move |_: &[u8], _: Option<&[u8]>| {
        *counted.records.lock().unwrap() += 1;
        Ok(())
    });
    StoreEntry {
        typed: Arc::new(()),
        control: noted.clone(),
        changelog: Some(("store-changelog".into(), restore)),
        cache: None,
    }
}
