//! Forwarding what a record cache flushed: one change per key (and window) since the last
//! flush, from the value before the first update to the latest, with the latest record's
//! timestamp and headers.

use std::sync::Arc;

use crate::processor::ProcessorContext;
use crate::record::{Change, Record, Timestamped};
use crate::state::{CacheLink, Flushed};
use crate::time::{Timestamp, Window, Windowed};
use crate::Result;

/// The link of a cached key-value store of timestamped values.
pub(crate) type KvLink<K, V> = Arc<CacheLink<K, Timestamped<V>>>;
/// The link of a cached window store of timestamped values.
pub(crate) type WindowLink<K, V> = Arc<CacheLink<(K, Timestamp), Timestamped<V>>>;

/// The change and timestamp of a flushed entry: the new value's timestamp, or for a deletion
/// the deleting record's.
fn change<A, V>(f: Flushed<A, Timestamped<V>>) -> (A, Change<V>, Timestamp, crate::record::Headers) {
    let timestamp = f.new.as_ref().map_or(f.timestamp, |n| n.timestamp);
    let change = Change::new(f.new.map(|n| n.value), f.old.map(|o| o.value));
    (f.at, change, timestamp, f.headers)
}

/// Forwards what the key-value store behind `link` flushed.
pub(crate) fn forward_kv<K: Clone, V: Clone>(
    link: &KvLink<K, V>,
    ctx: &mut ProcessorContext<'_, K, Change<V>>,
) -> Result<()> {
    for f in link.take() {
        let (key, value, timestamp, headers) = change(f);
        ctx.forward(Record { key, value, timestamp, headers })?;
    }
    Ok(())
}

/// Forwards what the window store behind `link` flushed, as windows of `size_ms`.
pub(crate) fn forward_windows<K: Clone, V: Clone>(
    link: &WindowLink<K, V>,
    size_ms: i64,
    ctx: &mut ProcessorContext<'_, Windowed<K>, Change<V>>,
) -> Result<()> {
    for f in link.take() {
        let ((key, start), value, timestamp, headers) = change(f);
        let window = Window::new(start.0, start.0.saturating_add(size_ms));
        ctx.forward(Record { key: Windowed { key, window }, value, timestamp, headers })?;
    }
    Ok(())
}
