//! The encoding of a suppress buffer entry ([`Buffered`]), as its changelog holds it.
//!
//! Layout (integers big-endian):
//!
//! ```text
//! time (8) ‖ timestamp (8) ‖ size (8)
//! ‖ new:   length (4, -1 = none) ‖ value bytes
//! ‖ prior: length (4, -1 = none) ‖ value bytes
//! ‖ header count (4) ‖ per header: name length (4) ‖ UTF-8 name ‖ value length (4, -1 = null) ‖ bytes
//! ```
//!
//! A value whose serde writes null is stored as none (`-1`).

use std::sync::Arc;

use super::suppress::Buffered;
use crate::error::SerdeError;
use crate::serdes::{require_bytes, Data, Serde, SerdeRef};
use crate::time::Timestamp;

const CODEC: &str = "suppress-buffer";

/// The serde of [`Buffered<V>`] over a serde of `V`.
pub(crate) struct BufferedSerde<V> {
    value: SerdeRef<V>,
}

fn put_bytes(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        Some(b) => {
            out.extend_from_slice(&(b.len() as i32).to_be_bytes());
            out.extend_from_slice(b);
        }
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

/// Reads the encoding front to back.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SerdeError> {
        if self.0.len() < n {
            return Err(SerdeError::new(CODEC, format!("truncated: wanted {n} more bytes, got {}", self.0.len())));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn i64(&mut self) -> Result<i64, SerdeError> {
        let b = self.take(8)?;
        Ok(i64::from_be_bytes(b.try_into().map_err(|_| SerdeError::new(CODEC, "bad i64"))?))
    }

    fn i32(&mut self) -> Result<i32, SerdeError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes(b.try_into().map_err(|_| SerdeError::new(CODEC, "bad i32"))?))
    }

    fn bytes(&mut self) -> Result<Option<&'a [u8]>, SerdeError> {
        match self.i32()? {
            -1 => Ok(None),
            n if n < 0 => Err(SerdeError::new(CODEC, format!("negative length {n}"))),
            n => self.take(n as usize).map(Some),
        }
    }
}

impl<V: 'static> BufferedSerde<V> {
    fn put_value(&self, out: &mut Vec<u8>, value: &Option<V>) -> Result<(), SerdeError> {
        let Some(v) = value else {
            put_bytes(out, None);
            return Ok(());
        };
        let mut bytes = Vec::new();
        let written = self.value.serialize(v, &mut bytes)?;
        put_bytes(out, written.then_some(&bytes[..]));
        Ok(())
    }

    fn value(&self, bytes: Option<&[u8]>) -> Result<Option<V>, SerdeError> {
        bytes.map(|b| self.value.deserialize(Some(b))).transpose()
    }
}

impl<V: 'static> Serde<Buffered<V>> for BufferedSerde<V> {
    fn name(&self) -> &'static str {
        CODEC
    }

    fn serialize(&self, entry: &Buffered<V>, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        let start = out.len();
        out.extend_from_slice(&entry.time.as_millis().to_be_bytes());
        out.extend_from_slice(&entry.timestamp.as_millis().to_be_bytes());
        out.extend_from_slice(&entry.size.to_be_bytes());
        let values = self.put_value(out, &entry.new).and_then(|()| self.put_value(out, &entry.prior));
        if let Err(e) = values {
            out.truncate(start);
            return Err(SerdeError::new(CODEC, format!("value: {e}")));
        }
        out.extend_from_slice(&(entry.headers.len() as i32).to_be_bytes());
        for (name, value) in &entry.headers {
            put_bytes(out, Some(name.as_bytes()));
            put_bytes(out, value.as_deref());
        }
        Ok(true)
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<Buffered<V>, SerdeError> {
        let mut r = Reader(require_bytes::<Buffered<V>>(CODEC, bytes)?);
        let (time, timestamp, size) = (Timestamp(r.i64()?), Timestamp(r.i64()?), r.i64()? as u64);
        let new = self.value(r.bytes()?).map_err(|e| SerdeError::new(CODEC, format!("value: {e}")))?;
        let prior = self.value(r.bytes()?).map_err(|e| SerdeError::new(CODEC, format!("value: {e}")))?;
        let count = r.i32()?.max(0) as usize;
        let mut headers = Vec::with_capacity(count.min(64));
        for _ in 0..count {
            let name = r.bytes()?.ok_or_else(|| SerdeError::new(CODEC, "a header without a name"))?;
            let name = String::from_utf8(name.to_vec()).map_err(|e| SerdeError::new(CODEC, e.to_string()))?;
            headers.push((name, r.bytes()?.map(<[u8]>::to_vec)));
        }
        if !r.0.is_empty() {
            return Err(SerdeError::new(CODEC, format!("{} trailing bytes", r.0.len())));
        }
        Ok(Buffered { new, prior, time, timestamp, headers, size })
    }
}

impl<V: Data> Data for Buffered<V> {
    fn default_serde() -> SerdeRef<Self> {
        Arc::new(BufferedSerde { value: V::default_serde() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::to_bytes;

    #[test]
    fn round_trips_values_nones_and_headers() {
        let serde = Buffered::<String>::default_serde();
        let entry = Buffered {
            new: Some("n".to_string()),
            prior: None,
            time: Timestamp(7),
            timestamp: Timestamp(9),
            headers: vec![("h".into(), Some(vec![1, 2])), ("e".into(), None)],
            size: 12,
        };
        let bytes = to_bytes(&*serde, &entry).unwrap().unwrap();
        assert_eq!(&bytes[..8], &7i64.to_be_bytes());
        assert_eq!(&bytes[24..29], &[0, 0, 0, 1, b'n']);
        assert_eq!(&bytes[29..33], &(-1i32).to_be_bytes());
        let back = serde.deserialize(Some(&bytes)).unwrap();
        assert_eq!((back.new, back.prior, back.time), (entry.new, entry.prior, entry.time));
        assert_eq!((back.timestamp, back.headers, back.size), (entry.timestamp, entry.headers, entry.size));
        assert!(serde.deserialize(Some(&bytes[..bytes.len() - 1])).unwrap_err().to_string().contains("truncated"));
    }
}
