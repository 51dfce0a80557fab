// Every key and value type of a topology must implement `Data` (derive it).
use streamz::prelude::*;

#[derive(Clone, Debug)]
struct Trade {
    amount: i64,
}

fn main() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, Trade>("trades").to("out");
}
