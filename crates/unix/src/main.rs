//! `charrua`: command-line tools built on the Charrua crates.
//!
//! `charrua decode` reads packet captures and hex dumps and prints the DHCP messages in them;
//! `charrua perf` loads a DHCP server with simulated clients.

use std::process::ExitCode;

use charrua_unix::{decode, perf};

use clap::{Parser, Subcommand};

/// Charrua's DHCPv4 tools.
#[derive(Parser)]
#[command(name = "charrua", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the DHCP messages in pcap, pcapng or hex dump files.
    ///
    /// Every DHCP message is printed one field and one option per line (or as one JSON object
    /// per line with --json). Packets that are not DHCP are skipped and counted; a malformed
    /// DHCP message is reported with its reason and offset, and reading goes on. Exits 0 when
    /// every DHCP message decoded (and, with --verify, re-encoded to an equal message).
    Decode(decode::Args),
    /// Load a DHCP server with simulated clients, as a relay agent over UDP.
    ///
    /// Runs full DORA exchanges (optionally renew and release) for N distinct clients, at a
    /// fixed rate or as fast as the server answers with a bounded number in flight, and
    /// reports exchanges per second, drops per stage, latency percentiles and its own CPU
    /// time.
    Perf(perf::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decode(args) => decode::run(&args),
        Command::Perf(args) => perf::run(&args),
    }
}
