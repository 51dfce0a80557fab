//! Nullable keys and values: `Option<T>`.

use std::fmt;
use std::sync::Arc;

use super::{Data, Serde, SerdeRef};
use crate::error::SerdeError;
use crate::time::Timestamp;

/// `Option<T>` over the serde of `T`: `None` is a null key or value.
///
/// `Some(v)` is encoded by the inner serde, so `Some(String::new())` is zero bytes, which is
/// not null. When the inner serde itself writes null (as [`UnitSerde`](super::UnitSerde) does),
/// `Some(v)` becomes null too and decodes as `None`. Error messages are the inner serde's.
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::{to_bytes, Data, Serde};
///
/// let serde = Option::<i32>::default_serde();
/// assert_eq!(to_bytes(&*serde, &None).unwrap(), None);
/// assert_eq!(to_bytes(&*serde, &Some(1)).unwrap(), Some(vec![0, 0, 0, 1]));
/// assert_eq!(serde.deserialize(None).unwrap(), None);
/// assert_eq!(serde.deserialize(Some(&[0, 0, 0, 2])).unwrap(), Some(2));
/// ```
pub struct OptionSerde<T> {
    inner: SerdeRef<T>,
}

impl<T> OptionSerde<T> {
    /// `Option<T>` over `inner`.
    pub fn new(inner: SerdeRef<T>) -> Self {
        OptionSerde { inner }
    }
}

impl<T: Data> Default for OptionSerde<T> {
    /// Over `T`'s default serde.
    fn default() -> Self {
        OptionSerde::new(T::default_serde())
    }
}

impl<T> Clone for OptionSerde<T> {
    fn clone(&self) -> Self {
        OptionSerde { inner: Arc::clone(&self.inner) }
    }
}

impl<T: 'static> fmt::Debug for OptionSerde<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OptionSerde").field(&self.inner.name()).finish()
    }
}

impl<T: 'static> Serde<Option<T>> for OptionSerde<T> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn serialize(&self, value: &Option<T>, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        match value {
            Some(value) => self.inner.serialize(value, out),
            None => Ok(false),
        }
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<Option<T>, SerdeError> {
        match bytes {
            Some(bytes) => self.inner.deserialize(Some(bytes)).map(Some),
            None => Ok(None),
        }
    }
}

impl<T: Data> Data for Option<T> {
    fn default_serde() -> SerdeRef<Self> {
        Arc::new(OptionSerde::<T>::default())
    }

    fn is_null(&self) -> bool {
        self.is_none()
    }

    /// The inner value's event time; `None` for `None`.
    fn event_time(&self) -> Option<Timestamp> {
        self.as_ref().and_then(T::event_time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::to_bytes;

    #[test]
    fn empty_string_is_not_null() {
        let serde = Option::<String>::default_serde();
        assert_eq!(to_bytes(&*serde, &Some(String::new())).unwrap(), Some(vec![]));
        assert_eq!(serde.deserialize(Some(&[])).unwrap(), Some(String::new()));
        assert!(None::<String>.is_null());
        assert!(!Some(String::new()).is_null());
    }

    #[test]
    fn inner_errors_pass_through() {
        let serde = Option::<i64>::default_serde();
        assert_eq!(serde.name(), "i64");
        let err = serde.deserialize(Some(&[1])).unwrap_err();
        assert_eq!(err.to_string(), "i64: expected 8 bytes, got 1");
    }

    #[test]
    fn debug_names_the_inner_codec() {
        assert_eq!(format!("{:?}", OptionSerde::<bool>::default()), "OptionSerde(\"bool\")");
    }
}
