//! Parse and emit benchmarks (filled in with the comparison against dhcproto).

fn main() {}
