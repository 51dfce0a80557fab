//! Sending records with a topic handle kept per topic.
//!
//! rust-rdkafka's `send` turns the topic's name into a new C string and has librdkafka look the
//! topic up by that name, for every record: about 600 instructions a record, 6 % of what a
//! stream thread spends on a record of the benchmark's stateless topology. [`Topics`] creates
//! each topic's handle once and sends with `rd_kafka_produceva`, the same call with the handle
//! instead of the name. Delivery reports are served as before (the record's opaque is a
//! `usize`, as the producer's context expects).

use std::ffi::{c_void, CString};
use std::sync::Arc;

use rdkafka::bindings as rd;
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::types::RDKafkaErrorCode;

use super::collector::DeliveryTracker;
use crate::record::Headers;

/// One record to send; the bytes are copied by the call.
pub(crate) struct Outgoing<'a> {
    pub(crate) partition: Option<i32>,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
    pub(crate) timestamp: i64,
    pub(crate) headers: &'a Headers,
    /// The delivery opaque the producer's context receives with the record's report.
    pub(crate) opaque: usize,
}

/// The topic handles of one producer, each created at the first record sent to its topic and
/// released when this is dropped (before the producer, which it keeps alive).
pub(crate) struct Topics {
    handles: Vec<(Box<str>, *mut rd::rd_kafka_topic_t)>,
    producer: Arc<BaseProducer<DeliveryTracker>>,
}

// SAFETY: librdkafka's topic handles are reference counted and may be used and released from
// any thread; `Topics` hands them to no one else.
unsafe impl Send for Topics {}

impl Topics {
    pub(crate) fn new(producer: Arc<BaseProducer<DeliveryTracker>>) -> Self {
        Topics { handles: Vec::new(), producer }
    }

    /// The handle of `topic`, created if new.
    fn handle(&mut self, topic: &str) -> Result<*mut rd::rd_kafka_topic_t, RDKafkaErrorCode> {
        if let Some((_, handle)) = self.handles.iter().find(|(name, _)| &**name == topic) {
            return Ok(*handle);
        }
        let name = CString::new(topic).map_err(|_| RDKafkaErrorCode::InvalidTopic)?;
        // SAFETY: the client is alive (held by `self`); a null configuration means the
        // producer's default topic configuration.
        let handle =
            unsafe { rd::rd_kafka_topic_new(self.producer.client().native_ptr(), name.as_ptr(), std::ptr::null_mut()) };
        if handle.is_null() {
            // SAFETY: reads the calling thread's last librdkafka error.
            return Err(unsafe { rd::rd_kafka_last_error() }.into());
        }
        self.handles.push((topic.into(), handle));
        Ok(handle)
    }

    /// Sends `record` to `topic`: queues a copy of it in the producer. On an error nothing is
    /// queued; [`RDKafkaErrorCode::QueueFull`] asks to serve delivery reports and try again.
    pub(crate) fn send(&mut self, topic: &str, record: &Outgoing<'_>) -> Result<(), RDKafkaErrorCode> {
        use rd::rd_kafka_vtype_t as T;
        let rkt = self.handle(topic)?;
        let headers = match record.headers.is_empty() {
            true => std::ptr::null_mut(),
            false => native_headers(record.headers),
        };
        let vus = [
            vu(T::RD_KAFKA_VTYPE_RKT, rd::rd_kafka_vu_s__bindgen_ty_1 { rkt }),
            vu(T::RD_KAFKA_VTYPE_PARTITION, rd::rd_kafka_vu_s__bindgen_ty_1 { i32_: record.partition.unwrap_or(-1) }),
            vu(T::RD_KAFKA_VTYPE_MSGFLAGS, rd::rd_kafka_vu_s__bindgen_ty_1 { i: rd::RD_KAFKA_MSG_F_COPY }),
            vu(T::RD_KAFKA_VTYPE_TIMESTAMP, rd::rd_kafka_vu_s__bindgen_ty_1 { i64_: record.timestamp }),
            vu(T::RD_KAFKA_VTYPE_OPAQUE, rd::rd_kafka_vu_s__bindgen_ty_1 { ptr: record.opaque as *mut c_void }),
            vu(T::RD_KAFKA_VTYPE_VALUE, memory(record.value)),
            vu(T::RD_KAFKA_VTYPE_KEY, memory(record.key)),
            vu(T::RD_KAFKA_VTYPE_HEADERS, rd::rd_kafka_vu_s__bindgen_ty_1 { headers }),
        ];
        let count = if headers.is_null() { vus.len() - 1 } else { vus.len() };
        // SAFETY: the client and the topic handle are alive; every pointer in `vus` is valid
        // for the call, which copies the key and value (`RD_KAFKA_MSG_F_COPY`).
        let error = unsafe { rd::rd_kafka_produceva(self.producer.client().native_ptr(), vus.as_ptr(), count) };
        if error.is_null() {
            // The headers now belong to the queued record.
            return Ok(());
        }
        // SAFETY: `error` is the call's, released once; on failure the headers are still ours.
        unsafe {
            let code = rd::rd_kafka_error_code(error);
            rd::rd_kafka_error_destroy(error);
            if !headers.is_null() {
                rd::rd_kafka_headers_destroy(headers);
            }
            Err(code.into())
        }
    }
}

impl Drop for Topics {
    fn drop(&mut self) {
        for (_, handle) in self.handles.drain(..) {
            // SAFETY: each handle was created by `handle` and is released once, while the
            // client (held by `self`) is alive.
            unsafe { rd::rd_kafka_topic_destroy(handle) };
        }
    }
}

fn vu(vtype: rd::rd_kafka_vtype_t, u: rd::rd_kafka_vu_s__bindgen_ty_1) -> rd::rd_kafka_vu_t {
    rd::rd_kafka_vu_t { vtype, u }
}

/// The bytes of a key or value (a null pointer for none).
fn memory(bytes: Option<&[u8]>) -> rd::rd_kafka_vu_s__bindgen_ty_1 {
    let (ptr, size) = match bytes {
        Some(b) => (b.as_ptr() as *mut c_void, b.len()),
        None => (std::ptr::null_mut(), 0),
    };
    rd::rd_kafka_vu_s__bindgen_ty_1 { mem: rd::rd_kafka_vu_s__bindgen_ty_1__bindgen_ty_1 { ptr, size } }
}

/// A librdkafka copy of `headers` (the caller owns it).
fn native_headers(headers: &Headers) -> *mut rd::rd_kafka_headers_t {
    // SAFETY: a new header list, filled with copies of the names and values.
    unsafe {
        let native = rd::rd_kafka_headers_new(headers.len());
        for (name, value) in headers {
            let (ptr, size) = match value {
                Some(v) => (v.as_ptr() as *const c_void, v.len() as isize),
                None => (std::ptr::null(), 0),
            };
            rd::rd_kafka_header_add(native, name.as_ptr().cast(), name.len() as isize, ptr, size);
        }
        native
    }
}
