//! Derive macros for streamz.
//!
//! Use them through the `streamz` crate (`streamz::Data`); the generated code refers to
//! `::streamz`, so a crate that depends on `streamz-core` alone cannot use them.

use proc_macro::TokenStream;

mod data;

/// Derives `streamz::Data` for a struct or enum: its default serde and, optionally, the field
/// that holds its event time.
///
/// The type must also implement `Clone`, `Debug`, `serde::Serialize` and
/// `serde::Deserialize` (derive them too), and be `Send + Sync + 'static`.
///
/// # Attributes
///
/// - `#[streamz(codec = "json")]` on the type (the default): keys or values are JSON
///   (`streamz::serdes::JsonSerde`).
/// - `#[streamz(codec = "bincode")]` on the type: compact bincode
///   (`streamz::serdes::BincodeSerde`).
/// - `#[streamz(timestamp)]` on one field of a struct, of type `i64` (milliseconds) or
///   `streamz::Timestamp`: `event_time()` returns it, for the field timestamp extractor.
///   (`Timestamp` serializes as its milliseconds.) Another field type fails to compile with
///   an error at that type.
///
/// Any other attribute, value or placement is a compile error pointing at it.
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use streamz::serdes::{to_bytes, Data};
/// use streamz::Timestamp;
///
/// #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, streamz::Data)]
/// struct Trade {
///     player: String,
///     amount: i64,
///     #[streamz(timestamp)]
///     at: i64,
/// }
///
/// #[derive(Clone, Debug, Serialize, Deserialize, streamz::Data)]
/// #[streamz(codec = "bincode")]
/// enum Alert {
///     Suspicious { player: String },
///     Cleared,
/// }
///
/// let trade = Trade { player: "ann".into(), amount: 5, at: 1_000 };
/// let bytes = to_bytes(&*Trade::default_serde(), &trade).unwrap().unwrap();
/// assert_eq!(bytes, br#"{"player":"ann","amount":5,"at":1000}"#);
/// assert_eq!(trade.event_time(), Some(Timestamp::from_millis(1_000)));
/// assert_eq!(Alert::default_serde().name(), "bincode");
/// ```
#[proc_macro_derive(Data, attributes(streamz))]
pub fn derive_data(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    data::expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}
