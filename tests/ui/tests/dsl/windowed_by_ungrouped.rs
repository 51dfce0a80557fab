// Windowing needs a grouped stream: `windowed_by` is a method of `GroupedStream`, not `Stream`.
use std::time::Duration;
use streamz::prelude::*;

fn main() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("clicks").windowed_by(TimeWindows::tumbling(Duration::from_secs(60)));
}
