//! The Unix programs of Charrua: `charruad` (the server daemon) and `charrua` (tools).
//!
//! Everything here does IO on behalf of the pure crates: sockets, files, signals, clocks.
//! The operating-system calls the standard library lacks sit in one module, `sys`, with
//! every `unsafe` block of the project.

mod capture;
pub mod client;
pub mod daemon;
pub mod decode;
pub mod perf;
mod sys;
