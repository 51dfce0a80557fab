//! Tuples of up to four [`Data`] types, each element length-prefixed.

use std::fmt;
use std::sync::Arc;

use super::{require_bytes, Data, Serde, SerdeRef};
use crate::error::SerdeError;

const CODEC: &str = "tuple";
const NULL: i32 = -1;

/// Appends element `index` of a tuple: its length (or -1), then its bytes.
fn write_element<T: 'static>(
    index: usize,
    serde: &dyn Serde<T>,
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), SerdeError> {
    let at = out.len();
    out.extend_from_slice(&NULL.to_be_bytes());
    let written = serde.serialize(value, out).and_then(|non_null| {
        if !non_null {
            return Ok(NULL);
        }
        i32::try_from(out.len() - at - 4).map_err(|_| SerdeError::new(serde.name(), "more than 2^31 - 1 bytes"))
    });
    match written {
        Ok(len) => {
            out[at..at + 4].copy_from_slice(&len.to_be_bytes());
            Ok(())
        }
        Err(e) => {
            out.truncate(at);
            Err(SerdeError::new(CODEC, format!("element {index}: {e}")))
        }
    }
}

/// Decodes element `index` of a tuple from the front of `rest`, advancing it.
fn read_element<T: 'static>(index: usize, serde: &dyn Serde<T>, rest: &mut &[u8]) -> Result<T, SerdeError> {
    let fail = |message: String| SerdeError::new(CODEC, format!("element {index}: {message}"));
    let Some((len, tail)) = rest.split_first_chunk::<4>() else {
        return Err(fail(format!("expected a 4-byte length, got {} bytes", rest.len())));
    };
    let bytes = match i32::from_be_bytes(*len) {
        NULL => None,
        len => {
            let len = usize::try_from(len).map_err(|_| fail(format!("invalid length {len}")))?;
            if len > tail.len() {
                let message = format!("length {len} exceeds the {} bytes left", tail.len());
                return Err(fail(message));
            }
            Some(&tail[..len])
        }
    };
    *rest = &tail[bytes.map_or(0, <[u8]>::len)..];
    serde.deserialize(bytes).map_err(|e| fail(e.to_string()))
}

macro_rules! tuple_serde {
    ($name:ident, $arity:literal; $($T:ident $t:ident $i:tt),+) => {
        #[doc = concat!("A tuple of ", $arity, " elements.")]
        ///
        /// Layout: the elements in order, each as a 4-byte big-endian signed length followed by
        /// that many bytes, or the length -1 and no bytes for a null element (such as `()` or
        /// `None`), so `(Option<A>, B)` round-trips. The tuple itself is never null. For
        /// example `("ab", 1)` of type `(String, i32)` is `[0,0,0,2, b'a',b'b', 0,0,0,4, 0,0,0,1]`.
        pub struct $name<$($T),+> {
            serdes: ($(SerdeRef<$T>,)+),
        }

        impl<$($T),+> $name<$($T),+> {
            /// A tuple serde over the serdes of its elements.
            pub fn new($($t: SerdeRef<$T>),+) -> Self {
                $name { serdes: ($($t,)+) }
            }
        }

        impl<$($T: Data),+> Default for $name<$($T),+> {
            /// Over the elements' default serdes.
            fn default() -> Self {
                $name::new($($T::default_serde()),+)
            }
        }

        impl<$($T),+> Clone for $name<$($T),+> {
            fn clone(&self) -> Self {
                $name { serdes: ($(Arc::clone(&self.serdes.$i),)+) }
            }
        }

        impl<$($T: 'static),+> fmt::Debug for $name<$($T),+> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name))$(.field(&self.serdes.$i.name()))+.finish()
            }
        }

        impl<$($T: 'static),+> Serde<($($T,)+)> for $name<$($T),+> {
            fn name(&self) -> &'static str {
                CODEC
            }

            fn serialize(&self, value: &($($T,)+), out: &mut Vec<u8>) -> Result<bool, SerdeError> {
                let at = out.len();
                let written = (|| {
                    $(write_element($i, &*self.serdes.$i, &value.$i, out)?;)+
                    Ok(())
                })();
                if written.is_err() {
                    out.truncate(at);
                }
                written.map(|()| true)
            }

            fn deserialize(&self, bytes: Option<&[u8]>) -> Result<($($T,)+), SerdeError> {
                let mut rest = require_bytes::<($($T,)+)>(CODEC, bytes)?;
                let value = ($(read_element($i, &*self.serdes.$i, &mut rest)?,)+);
                if !rest.is_empty() {
                    let message = format!("{} trailing bytes after the last element", rest.len());
                    return Err(SerdeError::new(CODEC, message));
                }
                Ok(value)
            }
        }

        impl<$($T: Data),+> Data for ($($T,)+) {
            fn default_serde() -> SerdeRef<Self> {
                Arc::new($name::<$($T),+>::default())
            }
        }
    };
}

tuple_serde!(Tuple2Serde, 2; A a 0, B b 1);
tuple_serde!(Tuple3Serde, 3; A a 0, B b 1, C c 2);
tuple_serde!(Tuple4Serde, 4; A a 0, B b 1, C c 2, D d 3);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::to_bytes;

    #[test]
    fn layout_is_length_prefixed() {
        let bytes = to_bytes(&*<(String, i32)>::default_serde(), &("ab".into(), 1)).unwrap();
        assert_eq!(bytes.unwrap(), [0, 0, 0, 2, b'a', b'b', 0, 0, 0, 4, 0, 0, 0, 1]);
    }

    #[test]
    fn null_elements_round_trip() {
        let serde = <(Option<String>, (), bool, Option<i8>)>::default_serde();
        let value = (None, (), true, Some(-1));
        let bytes = to_bytes(&*serde, &value).unwrap().unwrap();
        assert_eq!(bytes[..8], [0xff; 8]);
        assert_eq!(serde.deserialize(Some(&bytes)).unwrap(), value);
        let serde = <(Option<String>, String, u8)>::default_serde();
        let value = (Some(String::new()), "x".into(), 3);
        assert_eq!(serde.deserialize(Some(&to_bytes(&*serde, &value).unwrap().unwrap())).unwrap(), value);
    }

    #[test]
    fn bad_input_names_the_element() {
        let serde = <(String, i64)>::default_serde();
        let err = serde.deserialize(Some(&[0, 0, 0, 0, 0, 0])).unwrap_err();
        assert_eq!(err.to_string(), "tuple: element 1: expected a 4-byte length, got 2 bytes");
        let err = serde.deserialize(Some(&[0, 0, 0, 9, 1])).unwrap_err();
        assert_eq!(err.to_string(), "tuple: element 0: length 9 exceeds the 1 bytes left");
        let err = serde.deserialize(Some(&[0xff, 0xff, 0xff, 0xfe])).unwrap_err();
        assert_eq!(err.to_string(), "tuple: element 0: invalid length -2");
        let err = serde.deserialize(Some(&[0xff, 0xff, 0xff, 0xff])).unwrap_err();
        assert!(err.to_string().starts_with("tuple: element 0: utf-8: got a null"), "{err}");
        let err = serde.deserialize(Some(&[0, 0, 0, 0, 0, 0, 0, 1, 5, 0])).unwrap_err();
        assert_eq!(err.to_string(), "tuple: element 1: i64: expected 8 bytes, got 1");
        let mut bytes = to_bytes(&*serde, &("a".into(), 1)).unwrap().unwrap();
        bytes.push(0);
        let err = serde.deserialize(Some(&bytes)).unwrap_err();
        assert_eq!(err.to_string(), "tuple: 1 trailing bytes after the last element");
    }

    #[test]
    fn debug_lists_the_element_codecs() {
        let serde = Tuple3Serde::<String, u8, bool>::default();
        assert_eq!(format!("{serde:?}"), r#"Tuple3Serde("utf-8", "u8", "bool")"#);
    }
}
