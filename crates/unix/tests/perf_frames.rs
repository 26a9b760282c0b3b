//! `charrua perf --interface` against `charruad` serving a link through its packet socket:
//! two network namespaces joined by a veth pair, the daemon on one end, the load generator
//! on the other sending each simulated client's messages in its own Ethernet frames.
//!
//! - [`completes_dora_and_renewal_in_frames_for_distinct_clients`]: every exchange and
//!   every unicast renewal completes, and the journal holds one active lease per client.
//! - [`releases_in_frames_free_the_leases`]: unicast releases reach the daemon, and the
//!   journal ends with every lease given back.
//!
//! Both need root and `CHARRUA_NETNS_TESTS=1` (`scripts/test` sets it) and are skipped
//! otherwise; each takes about two seconds.

mod common;

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use charrua_server::leases::{Lease, LeaseState};
use common::{Netns, Proc, TempDir, charruad, link, wait_until};

/// The daemon's address on the test link.
const SERVER: &str = "198.18.0.1/15";
/// The pool it leases from.
const LOW: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 0);
const HIGH: Ipv4Addr = Ipv4Addr::new(198, 19, 254, 255);
/// Clients simulated, and exchanges started per second: well below what a loaded 2-core
/// machine sustains, so that no message times out.
const CLIENTS: u64 = 400;
const RATE: &str = "400";

/// The `charrua` binary built for these tests.
fn charrua() -> &'static str {
    env!("CARGO_BIN_EXE_charrua")
}

/// A daemon serving the server end of a veth pair, and the namespace at the other end.
struct Bench {
    _dir: TempDir,
    journal: PathBuf,
    daemon: Proc,
    client: Netns,
    client_if: String,
    _server: Netns,
}

impl Bench {
    fn start(what: &str) -> Bench {
        let dir = TempDir::new(what);
        let server = Netns::new("s");
        let client = Netns::new("c");
        // The load generator's end has no address: its clients have none until leased.
        let (server_if, client_if) = link(&server, SERVER, &client, "");
        let config = dir.path("dhcpd.conf");
        std::fs::write(
            &config,
            format!(
                "default-lease-time 600;\nmax-lease-time 600;\n\
                 subnet 198.18.0.0 netmask 255.254.0.0 {{\n  range {LOW} {HIGH};\n}}\n"
            ),
        )
        .expect("writing the configuration");
        let journal = dir.path("dhcpd.leases");
        let args = [
            "-f",
            "-cf",
            &config.display().to_string(),
            "-lf",
            &journal.display().to_string(),
            &server_if,
        ]
        .map(str::to_owned);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let daemon = server.spawn(charruad(), &args, &dir.path("charruad.log"));
        let serving = format!("serving {server_if}");
        let ready = wait_until(Duration::from_secs(10), || {
            daemon.output().contains(&serving) && journal.exists()
        });
        assert!(ready, "charruad did not start:\n{}", daemon.output());
        Bench {
            _dir: dir,
            journal,
            daemon,
            client,
            client_if,
            _server: server,
        }
    }

    /// Runs `charrua perf --interface` with `extra` arguments; its JSON summary.
    fn perf(&self, extra: &[&str]) -> serde_json::Value {
        let clients = CLIENTS.to_string();
        let mut args = vec![
            "perf",
            "--interface",
            &self.client_if,
            "-R",
            &clients,
            "-r",
            RATE,
            "--timeout",
            "3000",
            "--json",
        ];
        args.extend_from_slice(extra);
        let output = self
            .client
            .command("timeout")
            .arg("60")
            .arg(charrua())
            .args(&args)
            .output()
            .expect("running charrua perf");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "charrua perf failed: {}\n{stdout}",
            String::from_utf8_lossy(&output.stderr)
        );
        eprintln!("charrua perf: {stdout}");
        serde_json::from_str(stdout.trim()).expect("charrua perf's JSON summary")
    }

    /// Stops the daemon with SIGTERM (it syncs the journal and exits 0).
    fn stop(&mut self) {
        self.daemon.signal("TERM");
        let status = self.daemon.wait(Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "charruad did not stop cleanly ({status:?}):\n{}",
            self.daemon.output()
        );
    }
}

/// The last record of each address in a journal.
fn journal_leases(journal: &Path) -> Vec<Lease> {
    let bytes = std::fs::read(journal).expect("reading the lease journal");
    let loaded = charrua_store::read_bytes(&bytes);
    assert!(loaded.problems.is_empty(), "journal: {:?}", loaded.problems);
    loaded.leases
}

/// The MAC address of a lease's client.
fn mac(lease: &Lease) -> Option<Vec<u8>> {
    lease
        .hardware
        .as_ref()
        .map(|(_, address)| address.as_bytes().to_vec())
}

#[test]
fn completes_dora_and_renewal_in_frames_for_distinct_clients() {
    require_netns!();
    let mut bench = Bench::start("pfd");
    let summary = bench.perf(&["--renew"]);
    assert_eq!(summary["mode"], "frames");
    assert_eq!(summary["exchanges"], CLIENTS, "{summary}");
    assert_eq!(summary["received"]["renew_ack"], CLIENTS, "{summary}");
    for stage in ["discover", "request", "renew", "send_errors"] {
        assert_eq!(summary["dropped"][stage], 0, "{stage}: {summary}");
    }
    bench.stop();

    let leases = journal_leases(&bench.journal);
    let active: Vec<&Lease> = leases
        .iter()
        .filter(|l| l.state == LeaseState::Active)
        .collect();
    let macs: HashSet<Vec<u8>> = active.iter().filter_map(|l| mac(l)).collect();
    let addresses: HashSet<Ipv4Addr> = active.iter().map(|l| l.address).collect();
    let expected = usize::try_from(CLIENTS).unwrap();
    assert_eq!(active.len(), expected, "active leases");
    assert_eq!(macs.len(), expected, "distinct client MAC addresses");
    assert_eq!(addresses.len(), expected, "distinct addresses");
    assert!(addresses.iter().all(|a| (LOW..=HIGH).contains(a)));
    // Every client is one perf simulates: a locally administered address, 02:01:… for seed 1.
    assert!(macs.iter().all(|m| m.len() == 6 && m[..2] == [0x02, 0x01]));
}

#[test]
fn releases_in_frames_free_the_leases() {
    require_netns!();
    let mut bench = Bench::start("pfr");
    let summary = bench.perf(&["--release"]);
    assert_eq!(summary["exchanges"], CLIENTS, "{summary}");
    assert_eq!(summary["sent"]["release"], CLIENTS, "{summary}");
    // A release has no answer: give the daemon a moment to read the last ones.
    std::thread::sleep(Duration::from_millis(300));
    bench.stop();

    let leases = journal_leases(&bench.journal);
    let ours: Vec<&Lease> = leases
        .iter()
        .filter(|l| mac(l).is_some_and(|m| m[..2] == [0x02, 0x01]))
        .collect();
    assert_eq!(ours.len(), usize::try_from(CLIENTS).unwrap(), "leases");
    let held: Vec<&&Lease> = ours
        .iter()
        .filter(|l| matches!(l.state, LeaseState::Active | LeaseState::Offered))
        .collect();
    assert!(held.is_empty(), "leases not released: {held:?}");
}
