//! `charrua`: command-line tools built on the Charrua crates.
//!
//! `charrua decode` reads packet captures and hex dumps and prints the DHCP messages in them;
//! `charrua perf` loads a DHCP server with simulated clients; `charrua client` gets and keeps
//! a lease on an interface.

use std::process::ExitCode;

use charrua_unix::{client, decode, perf};

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
    /// Load a DHCP server with simulated clients, as a relay agent over UDP or in frames.
    ///
    /// Runs full DORA exchanges (optionally renew and release) for N distinct clients, at a
    /// fixed rate or as fast as the server answers with a bounded number in flight, and
    /// reports exchanges per second, drops per stage, latency percentiles and its own CPU
    /// time. With --interface (as root) it sends each client's messages in Ethernet frames
    /// from the client's own MAC address, as clients on the link would.
    Perf(perf::Args),
    /// Get and keep a DHCP lease on an interface.
    ///
    /// Runs a DHCPv4 client over a packet socket: broadcasts until it holds an address, then
    /// renews (unicast to the server), rebinds and starts over on expiry, until SIGTERM or
    /// SIGINT (or, with --once, until bound). Prints one line per event (JSON with --json),
    /// and with --script runs a hook with the lease in its environment, or with --configure
    /// applies it to the interface with `ip`.
    Client(client::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decode(args) => decode::run(&args),
        Command::Perf(args) => perf::run(&args),
        Command::Client(args) => client::run(&args),
    }
}
