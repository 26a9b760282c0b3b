//! `charrua`: command-line tools built on the Charrua crates.

fn main() {}
