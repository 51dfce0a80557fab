// A predicate must take the stream's value type: the values are `i64`, not `String`.
use streamz::prelude::*;

fn main() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("amounts").filter(|_, v: &String| v.is_empty()).to("out");
}
