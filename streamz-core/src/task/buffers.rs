//! Byte buffers of the records a stream thread reads, used again once they are processed.
//!
//! A thread reads a batch of records (each key and value copied out of the client's fetch
//! buffers) and processes the batch afterwards, so thousands of buffers are allocated
//! together and freed together. The allocator serves that pattern slowly (most of its
//! per-thread cache misses). A processed record gives its buffers back here instead, and the
//! next batch copies into them.

use std::cell::RefCell;

/// The bytes of capacity a thread keeps at most.
const KEPT_BYTES: usize = 4 << 20;
/// Buffers of more capacity are freed, not kept.
const LARGEST_KEPT: usize = 4 << 10;

#[derive(Default)]
struct Free {
    buffers: Vec<Vec<u8>>,
    /// The capacity of `buffers`, together.
    bytes: usize,
}

thread_local! {
    static FREE: RefCell<Free> = RefCell::new(Free::default());
}

/// `bytes` in a buffer this thread gave back, when it has one (it grows if too small), else
/// in a new one.
pub(crate) fn copy_of(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() > LARGEST_KEPT {
        return bytes.to_vec();
    }
    let reused = FREE.with_borrow_mut(|free| {
        let buffer = free.buffers.pop()?;
        free.bytes -= buffer.capacity();
        Some(buffer)
    });
    match reused {
        Some(mut buffer) => {
            buffer.clear();
            buffer.extend_from_slice(bytes);
            buffer
        }
        None => bytes.to_vec(),
    }
}

/// Keeps `buffer` for [`copy_of`] on this thread, unless it is large or enough are kept.
pub(crate) fn give_back(buffer: Vec<u8>) {
    let capacity = buffer.capacity();
    if capacity == 0 || capacity > LARGEST_KEPT {
        return;
    }
    FREE.with_borrow_mut(|free| {
        if free.bytes + capacity <= KEPT_BYTES {
            free.bytes += capacity;
            free.buffers.push(buffer);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept() -> (usize, usize) {
        FREE.with_borrow(|free| (free.buffers.len(), free.bytes))
    }

    #[test]
    fn a_buffer_given_back_holds_the_next_copy() {
        let first = copy_of(b"first value");
        let address = first.as_ptr();
        give_back(first);
        assert_eq!(kept().0, 1);
        let second = copy_of(b"second");
        assert_eq!(second, b"second");
        assert_eq!(second.as_ptr(), address, "the same allocation");
        assert_eq!(kept(), (0, 0));
        let grown = {
            give_back(second);
            copy_of(&[7u8; 100])
        };
        assert_eq!(grown, vec![7u8; 100], "a small buffer grows for a larger copy");
    }

    #[test]
    fn large_and_empty_buffers_are_not_kept() {
        give_back(Vec::new());
        give_back(Vec::with_capacity(LARGEST_KEPT + 1));
        assert_eq!(kept(), (0, 0));
        let large = copy_of(&vec![1u8; LARGEST_KEPT + 1]);
        assert_eq!(large.len(), LARGEST_KEPT + 1);
    }

    #[test]
    fn a_thread_keeps_a_bounded_number_of_bytes() {
        for _ in 0..(KEPT_BYTES / LARGEST_KEPT + 10) {
            give_back(Vec::with_capacity(LARGEST_KEPT));
        }
        let (buffers, bytes) = kept();
        assert!(bytes <= KEPT_BYTES, "{bytes} bytes kept");
        assert_eq!(buffers, KEPT_BYTES / LARGEST_KEPT);
    }
}
