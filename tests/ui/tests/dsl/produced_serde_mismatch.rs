// The serdes given to `to_with` must encode the stream's key and value types: after
// `map_values` the values are `i64`, so a `String` value serde does not fit.
use streamz::prelude::*;

fn main() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("words")
        .map_values(|w| w.len() as i64)
        .to_with("lengths", Produced::with(String::default_serde(), String::default_serde()));
}
