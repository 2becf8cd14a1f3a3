//! Benchmark placeholder: replaced by the simulate benchmark.
fn main() {}
