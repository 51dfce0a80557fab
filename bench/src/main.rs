//! The benchmark harness of streamz.

fn main() {}
