//! `charruad` under load, under repeated SIGKILL, and under malformed traffic, on test
//! networks of namespaces joined by veth pairs.
//!
//! - [`serves_relayed_traffic_from_perfdhcp`]: Kea's `perfdhcp`, acting as a relay, runs
//!   DORA exchanges against the daemon's UDP socket; nearly all complete and the journal
//!   holds the leases.
//! - [`keeps_every_acked_lease_across_sigkill`]: the daemon is killed with SIGKILL at random
//!   moments under `perfdhcp` load and restarted on the same journal; every DHCPACK seen on
//!   the wire must still be in the journal, and no address ever goes to two clients.
//! - [`survives_malformed_frames_and_keeps_answering`]: bursts of malformed frames and
//!   messages, with a real client (`busybox udhcpc`) getting a lease between them.
//!
//! Each test needs root and `CHARRUA_NETNS_TESTS=1` (`scripts/test` sets it) and is skipped
//! otherwise. Together they take about 25 seconds (5 s of perfdhcp, about 12 s of kills,
//! 2 s of malformed traffic, and the set-up); the random schedules print their seed, and
//! `CHARRUA_LOAD_SEED=N` replays one.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use charrua_server::leases::{Lease, LeaseState};
use charrua_wire::{Checksums, DhcpOption, Message, MessageType, parse_ethernet};
use common::{Netns, Proc, TempDir, charruad, link, wait_until};

/// The server's address on the load test network, and the relay's (perfdhcp's).
const SERVER: &str = "198.18.0.1";
const RELAY: &str = "198.18.0.2";
/// The pool the load tests lease from.
const LOAD_LOW: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 0);
const LOAD_HIGH: Ipv4Addr = Ipv4Addr::new(198, 19, 254, 255);
/// The lease time the load tests configure.
const LOAD_LEASE: u64 = 600;

/// A server namespace and a client namespace joined by one veth pair.
struct Network {
    server: Netns,
    client: Netns,
    server_if: String,
    client_if: String,
}

impl Network {
    fn new(server_addr: &str, client_addr: &str) -> Network {
        let server = Netns::new("s");
        let client = Netns::new("c");
        let (server_if, client_if) = link(&server, server_addr, &client, client_addr);
        Network {
            server,
            client,
            server_if,
            client_if,
        }
    }
}

fn load_config(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.path("dhcpd.conf");
    let text = format!(
        "default-lease-time {LOAD_LEASE};\nmax-lease-time {LOAD_LEASE};\n\
         subnet 198.18.0.0 netmask 255.254.0.0 {{\n  range {LOAD_LOW} {LOAD_HIGH};\n}}\n"
    );
    std::fs::write(&path, text).expect("writing the configuration");
    path
}

/// Starts `charruad` in the foreground in `ns`, logging to `log`.
fn start_daemon(ns: &Netns, config: &Path, journal: &Path, extra: &[&str], log: &Path) -> Proc {
    let mut args = vec![
        "-f".to_owned(),
        "-cf".to_owned(),
        config.display().to_string(),
        "-lf".to_owned(),
        journal.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ns.spawn(charruad(), &args, log)
}

/// True once process `pid` catches SIGTERM and SIGUSR1: the daemon installs its handlers
/// last, after loading the journal, and until then those signals end it.
fn catches_signals(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let caught = status
        .lines()
        .find_map(|line| line.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .unwrap_or(0);
    let bit = |signal: libc::c_int| 1u64 << (signal - 1);
    caught & bit(libc::SIGTERM) != 0 && caught & bit(libc::SIGUSR1) != 0
}

/// Waits until the daemon's log says `what` and it handles signals; fails the test with the
/// log if that takes over ten seconds.
fn wait_serving(daemon: &Proc, what: &str) {
    let ready = wait_until(Duration::from_secs(10), || {
        daemon.output().contains(what) && catches_signals(daemon.pid())
    });
    assert!(ready, "charruad did not start:\n{}", daemon.output());
}

/// The leases in a journal file, last record of each address winning.
fn journal_leases(journal: &Path) -> (Vec<Lease>, usize) {
    let bytes = std::fs::read(journal).expect("reading the lease journal");
    let loaded = charrua_store::read_bytes(&bytes);
    for problem in &loaded.problems {
        eprintln!("journal: {problem}");
    }
    (loaded.leases, loaded.problems.len())
}

fn in_load_range(address: Ipv4Addr) -> bool {
    (LOAD_LOW..=LOAD_HIGH).contains(&address)
}

/// One `***Statistics for: NAME***` section of perfdhcp's report.
#[derive(Debug, Default, Clone, Copy)]
struct Exchange {
    sent: u64,
    received: u64,
    drops: u64,
}

/// Reads the DISCOVER-OFFER and REQUEST-ACK sections of perfdhcp's report.
fn perfdhcp_stats(report: &str) -> (Exchange, Exchange) {
    let mut sections: HashMap<&str, Exchange> = HashMap::new();
    let mut current = None;
    for line in report.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("***Statistics for: ") {
            current = Some(name.trim_end_matches('*'));
            continue;
        }
        let Some(name) = current else { continue };
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let Ok(value) = value.trim().parse::<u64>() else {
            continue;
        };
        let entry = sections.entry(name).or_default();
        match key {
            "sent packets" => entry.sent = value,
            "received packets" => entry.received = value,
            "drops" => entry.drops = value,
            _ => {}
        }
    }
    let get = |name| sections.get(name).copied().unwrap_or_default();
    (get("DISCOVER-OFFER"), get("REQUEST-ACK"))
}

/// perfdhcp, as a relay at 198.18.0.2, runs 200 exchanges a second for five seconds among a
/// thousand clients; nearly all complete, and the journal holds their leases, all in range.
#[test]
fn serves_relayed_traffic_from_perfdhcp() {
    require_netns!();
    let dir = TempDir::new("perf");
    let net = Network::new(&format!("{SERVER}/15"), &format!("{RELAY}/15"));
    let config = load_config(&dir);
    let journal = dir.path("dhcpd.leases");
    let udp = format!("{SERVER}:67");
    let mut daemon = start_daemon(
        &net.server,
        &config,
        &journal,
        &["--no-raw", "--udp", &udp],
        &dir.path("charruad.log"),
    );
    wait_serving(&daemon, "listening for relayed traffic");

    let started = Instant::now();
    let output = net
        .client
        .command("timeout")
        .args([
            "30", "perfdhcp", "-4", "-r", "200", "-R", "1000", "-p", "5", "-l", RELAY, SERVER,
        ])
        .output()
        .expect("running perfdhcp");
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!(
        "perfdhcp ({:?}, {}):\n{report}",
        started.elapsed(),
        output.status
    );
    let (offers, acks) = perfdhcp_stats(&report);
    assert!(
        offers.sent >= 100,
        "perfdhcp sent too few DISCOVERs: {offers:?}\n{report}"
    );
    assert!(
        offers.received * 100 >= offers.sent * 95 && offers.drops * 20 <= offers.sent,
        "too many DISCOVERs unanswered: {offers:?}"
    );
    assert!(
        acks.sent * 100 >= offers.received * 95,
        "too few REQUESTs: {acks:?}"
    );
    assert!(
        acks.received * 100 >= acks.sent * 95 && acks.drops * 20 <= acks.sent,
        "too many REQUESTs unanswered: {acks:?}"
    );

    daemon.signal("TERM");
    let status = daemon.wait(Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "charruad: {status:?}\n{}",
        daemon.output()
    );
    let (leases, _) = journal_leases(&journal);
    let active: Vec<&Lease> = leases
        .iter()
        .filter(|l| l.state == LeaseState::Active)
        .collect();
    eprintln!("journal: {} leases, {} active", leases.len(), active.len());
    assert!(
        active.len() * 2
            >= usize::try_from(acks.received)
                .unwrap_or(usize::MAX)
                .min(1000),
        "{} active leases for {} ACKs",
        active.len(),
        acks.received
    );
    for lease in &active {
        assert!(
            in_load_range(lease.address),
            "lease outside the range: {lease:?}"
        );
        assert!(
            lease.hardware.is_some(),
            "lease without a client: {lease:?}"
        );
    }
}

/// A small xorshift generator: enough for schedules and noise, and replayable from its seed.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let seed = std::env::var("CHARRUA_LOAD_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                now.as_secs() ^ u64::from(now.subsec_nanos()) ^ u64::from(std::process::id())
            });
        eprintln!("random seed: {seed} (CHARRUA_LOAD_SEED={seed} replays it)");
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    fn byte(&mut self) -> u8 {
        self.next().to_le_bytes()[0]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
}

/// One frame from a classic pcap file: its time in seconds and its bytes.
struct Captured {
    time: f64,
    data: Vec<u8>,
}

/// Reads a classic pcap file of Ethernet frames, in either byte order and either time
/// resolution.
fn read_pcap(path: &Path) -> Vec<Captured> {
    let bytes = std::fs::read(path).expect("reading the capture");
    assert!(
        bytes.len() >= 24,
        "capture too short: {} bytes",
        bytes.len()
    );
    let magic = [bytes[0], bytes[1], bytes[2], bytes[3]];
    let (little, nanos) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (true, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (false, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (true, true),
        [0xa1, 0xb2, 0x3c, 0x4d] => (false, true),
        _ => panic!("not a classic pcap file: magic {magic:02x?}"),
    };
    let word = |at: usize| {
        let b = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    assert_eq!(word(20), 1, "capture link type is not Ethernet");
    let mut frames = Vec::new();
    let mut at = 24;
    // A record cut short by the capture's end (the writer was stopped mid-record) is ignored.
    while at + 16 <= bytes.len() {
        let (seconds, fraction) = (f64::from(word(at)), f64::from(word(at + 4)));
        let length = usize::try_from(word(at + 8)).expect("record length");
        let start = at + 16;
        let Some(data) = bytes.get(start..start + length) else {
            break;
        };
        let time = seconds + fraction / if nanos { 1e9 } else { 1e6 };
        frames.push(Captured {
            time,
            data: data.to_vec(),
        });
        at = start + length;
    }
    frames
}

/// A DHCPACK seen on the wire, from the server.
#[derive(Debug, Clone)]
struct Ack {
    time: f64,
    address: Ipv4Addr,
    chaddr: Vec<u8>,
    client_id: Option<Vec<u8>>,
    lease: u64,
}

/// The DHCPACKs the server sent in a capture, in capture order.
fn acks_in(frames: &[Captured], server: Ipv4Addr) -> Vec<Ack> {
    let mut acks = Vec::new();
    for frame in frames {
        let Ok(datagram) = parse_ethernet(&frame.data, Checksums::Ignore) else {
            continue;
        };
        if datagram.src_ip != server {
            continue;
        }
        let Ok(message) = Message::parse(datagram.payload) else {
            continue;
        };
        if message.message_type() != Some(MessageType::ACK) || message.yiaddr.is_unspecified() {
            continue;
        }
        let lease = message.options.iter().find_map(|o| match o {
            DhcpOption::LeaseTime(t) => Some(u64::from(*t)),
            _ => None,
        });
        acks.push(Ack {
            time: frame.time,
            address: message.yiaddr,
            chaddr: message.chaddr.as_bytes().to_vec(),
            client_id: message.client_id().map(|id| {
                let mut bytes = vec![id.kind];
                bytes.extend_from_slice(&id.id);
                bytes
            }),
            lease: lease.expect("an ACK with an address carries a lease time"),
        });
    }
    acks
}

/// Under perfdhcp load, charruad is killed with SIGKILL at random moments and restarted on
/// the same journal. Every DHCPACK captured on the wire must still be in the final journal,
/// bound to the same client until at least the ACK's time plus its lease time, and no
/// address may have been acknowledged to two clients at overlapping times.
#[test]
fn keeps_every_acked_lease_across_sigkill() {
    require_netns!();
    const KILLS: usize = 12;
    /// Seconds a journal's `ends` may fall short of the ACK's time plus its lease time: the
    /// server truncates its clock to seconds, and the capture stamps the frame later.
    const SLACK: f64 = 3.0;

    let mut rng = Rng::seeded();
    let dir = TempDir::new("kill");
    let net = Network::new(&format!("{SERVER}/15"), &format!("{RELAY}/15"));
    let config = load_config(&dir);
    let journal = dir.path("dhcpd.leases");
    let udp = format!("{SERVER}:67");
    let extra = ["--no-raw", "--udp", udp.as_str()];

    let capture = dir.path("load.pcap");
    let capture_arg = capture.display().to_string();
    let mut tcpdump = net.client.spawn(
        "tcpdump",
        &[
            "-n",
            "-U",
            "-i",
            &net.client_if,
            "-w",
            &capture_arg,
            "udp port 67 or udp port 68",
        ],
        &dir.path("tcpdump.log"),
    );
    let listening = wait_until(Duration::from_secs(10), || {
        tcpdump.output().contains("listening")
    });
    assert!(listening, "tcpdump did not start:\n{}", tcpdump.output());

    let mut daemon = start_daemon(
        &net.server,
        &config,
        &journal,
        &extra,
        &dir.path("charruad-0.log"),
    );
    wait_serving(&daemon, "listening for relayed traffic");
    let mut perfdhcp = net.client.spawn(
        "perfdhcp",
        &[
            "-4", "-r", "300", "-R", "2000", "-p", "60", "-l", RELAY, SERVER,
        ],
        &dir.path("perfdhcp.log"),
    );

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut kills = 0;
    while kills < KILLS && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(rng.between(200, 1500)));
        daemon.kill();
        kills += 1;
        let log = dir.path(&format!("charruad-{kills}.log"));
        daemon = start_daemon(&net.server, &config, &journal, &extra, &log);
    }
    // A last stretch of load, then a last kill: the journal is read as a crash left it.
    std::thread::sleep(Duration::from_millis(rng.between(500, 1500)));
    daemon.kill();
    kills += 1;
    perfdhcp.signal("INT");
    let _ = perfdhcp.wait(Duration::from_secs(5));
    eprintln!("perfdhcp:\n{}", perfdhcp.output());
    // tcpdump writes each frame as it reads it: stop it once the capture stops growing.
    let mut size = 0;
    let _ = wait_until(Duration::from_secs(5), || {
        std::thread::sleep(Duration::from_millis(400));
        let now = std::fs::metadata(&capture).map_or(0, |m| m.len());
        std::mem::replace(&mut size, now) == now
    });
    tcpdump.signal("INT");
    let _ = tcpdump.wait(Duration::from_secs(5));
    tcpdump.kill();
    eprintln!("tcpdump:\n{}", tcpdump.output());

    let server: Ipv4Addr = SERVER.parse().expect("address");
    let frames = read_pcap(&capture);
    let acks = acks_in(&frames, server);
    let (leases, problems) = journal_leases(&journal);
    let by_address: HashMap<Ipv4Addr, &Lease> = leases.iter().map(|l| (l.address, l)).collect();
    eprintln!(
        "{kills} kills; {} frames captured, {} ACKs for {} addresses; journal: {} leases, \
         {problems} problems",
        frames.len(),
        acks.len(),
        acks.iter()
            .map(|a| a.address)
            .collect::<std::collections::HashSet<_>>()
            .len(),
        leases.len()
    );
    assert!(kills > KILLS, "only {kills} kills before the deadline");
    assert!(
        acks.len() >= 100,
        "too few ACKs captured to judge: {}",
        acks.len()
    );

    // No address goes to two clients at overlapping times, across the whole capture.
    let mut per_address: BTreeMap<Ipv4Addr, Vec<&Ack>> = BTreeMap::new();
    for ack in &acks {
        per_address.entry(ack.address).or_default().push(ack);
    }
    for (address, list) in &mut per_address {
        list.sort_by(|a, b| a.time.total_cmp(&b.time));
        for pair in list.windows(2) {
            let (earlier, later) = (pair[0], pair[1]);
            if earlier.chaddr != later.chaddr {
                // The earlier lease must have ended before the address went to another client.
                assert!(
                    later.time + SLACK >= earlier.time + earlier.lease as f64,
                    "{address} acknowledged to two clients at once: {earlier:?} then {later:?}"
                );
            }
        }
    }

    let repeated = per_address.values().filter(|list| list.len() > 1).count();
    eprintln!("{repeated} addresses acknowledged more than once");

    // Every ACK's lease is in the journal: the address's last ACK says what must be there,
    // since any earlier one went to the same client and ends no later.
    let mut checked = 0;
    for (address, list) in &per_address {
        let last = list.last().expect("at least one ACK per address");
        let lease = by_address
            .get(address)
            .unwrap_or_else(|| panic!("{address} was acknowledged but is not in the journal"));
        assert_eq!(
            lease.state,
            LeaseState::Active,
            "{address}: {lease:?} after {last:?}"
        );
        let hardware = lease.hardware.as_ref().map(|(_, h)| h.as_bytes().to_vec());
        assert_eq!(
            hardware.as_deref(),
            Some(last.chaddr.as_slice()),
            "{address}: bound to another client: {lease:?} after {last:?}"
        );
        if let (Some(ours), Some(theirs)) = (&lease.client_id, &last.client_id) {
            assert_eq!(
                ours.as_slice(),
                theirs.as_slice(),
                "{address}: another client id: {lease:?} after {last:?}"
            );
        }
        let wanted = last.time + last.lease as f64 - SLACK;
        assert!(
            lease.ends as f64 >= wanted,
            "{address}: ends {} before the ACK's promise {wanted:.0}: {lease:?} after {last:?}",
            lease.ends
        );
        checked += list.len();
    }
    eprintln!("{checked} ACKs checked against the journal");

    // The daemon itself starts on the journal the last crash left, loads every lease, and
    // stops cleanly.
    let mut daemon = start_daemon(
        &net.server,
        &config,
        &journal,
        &extra,
        &dir.path("charruad-last.log"),
    );
    wait_serving(&daemon, "loaded ");
    let loaded = format!("loaded {} leases", leases.len());
    assert!(
        daemon.output().contains(&loaded),
        "wanted {loaded:?}:\n{}",
        daemon.output()
    );
    daemon.signal("TERM");
    let status = daemon.wait(Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "charruad: {status:?}\n{}",
        daemon.output()
    );
}

/// The ones' complement sum of 16-bit words, as IPv4 and UDP checksums use it.
fn ones_sum(data: &[u8], mut sum: u32) -> u32 {
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], chunk.get(1).copied().unwrap_or(0)]);
        sum += u32::from(word);
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !u16::try_from(sum).unwrap_or(0xffff)
}

/// What to build a frame from; each field can be spoiled on its own.
#[derive(Clone)]
struct FrameSpec {
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
    src_ip: Ipv4Addr,
    dst_ip: Ipv4Addr,
    dst_port: u16,
    payload: Vec<u8>,
    /// Replaces the IPv4 total length.
    ip_length: Option<u16>,
    /// Replaces the UDP length.
    udp_length: Option<u16>,
    /// Flips the IPv4 header checksum.
    bad_ip_checksum: bool,
    /// Flips the UDP checksum.
    bad_udp_checksum: bool,
    /// Replaces the version and header length byte.
    version_ihl: Option<u8>,
    /// Sets the more-fragments flag.
    more_fragments: bool,
}

impl FrameSpec {
    fn new(src_mac: [u8; 6], dst_mac: [u8; 6], dst_ip: Ipv4Addr, payload: Vec<u8>) -> Self {
        FrameSpec {
            dst_mac,
            src_mac,
            src_ip: Ipv4Addr::UNSPECIFIED,
            dst_ip,
            dst_port: 67,
            payload,
            ip_length: None,
            udp_length: None,
            bad_ip_checksum: false,
            bad_udp_checksum: false,
            version_ihl: None,
            more_fragments: false,
        }
    }

    /// Ethernet, IPv4 and UDP around the payload, with correct checksums unless spoiled.
    fn build(&self) -> Vec<u8> {
        let udp_len = u16::try_from(8 + self.payload.len()).expect("payload fits a datagram");
        let ip_len = udp_len + 20;
        let mut frame = Vec::with_capacity(14 + usize::from(ip_len));
        frame.extend_from_slice(&self.dst_mac);
        frame.extend_from_slice(&self.src_mac);
        frame.extend_from_slice(&[0x08, 0x00]);
        let mut ip = [0u8; 20];
        ip[0] = self.version_ihl.unwrap_or(0x45);
        ip[2..4].copy_from_slice(&self.ip_length.unwrap_or(ip_len).to_be_bytes());
        ip[6] = if self.more_fragments { 0x20 } else { 0 };
        ip[8] = 64;
        ip[9] = 17;
        ip[12..16].copy_from_slice(&self.src_ip.octets());
        ip[16..20].copy_from_slice(&self.dst_ip.octets());
        let mut check = fold(ones_sum(&ip, 0));
        if self.bad_ip_checksum {
            check ^= 0x5a5a;
        }
        ip[10..12].copy_from_slice(&check.to_be_bytes());
        frame.extend_from_slice(&ip);
        let mut udp = Vec::with_capacity(usize::from(udp_len));
        udp.extend_from_slice(&68u16.to_be_bytes());
        udp.extend_from_slice(&self.dst_port.to_be_bytes());
        udp.extend_from_slice(&self.udp_length.unwrap_or(udp_len).to_be_bytes());
        udp.extend_from_slice(&[0, 0]);
        udp.extend_from_slice(&self.payload);
        let mut pseudo = Vec::with_capacity(12);
        pseudo.extend_from_slice(&self.src_ip.octets());
        pseudo.extend_from_slice(&self.dst_ip.octets());
        pseudo.extend_from_slice(&[0, 17]);
        pseudo.extend_from_slice(&udp_len.to_be_bytes());
        let mut check = fold(ones_sum(&udp, ones_sum(&pseudo, 0)));
        if check == 0 {
            check = 0xffff;
        }
        if self.bad_udp_checksum {
            check ^= 0x0101;
        }
        udp[6..8].copy_from_slice(&check.to_be_bytes());
        frame.extend_from_slice(&udp);
        frame
    }
}

/// A BOOTREQUEST: header, magic cookie, `options` as given, and an end option.
fn bootp(
    xid: u32,
    chaddr: &[u8],
    hlen: u8,
    ciaddr: Ipv4Addr,
    giaddr: Ipv4Addr,
    options: &[u8],
) -> Vec<u8> {
    let mut m = vec![0u8; 236];
    m[0] = 1;
    m[1] = 1;
    m[2] = hlen;
    m[4..8].copy_from_slice(&xid.to_be_bytes());
    m[10] = 0x80; // broadcast flag
    m[12..16].copy_from_slice(&ciaddr.octets());
    m[24..28].copy_from_slice(&giaddr.octets());
    let n = chaddr.len().min(16);
    m[28..28 + n].copy_from_slice(&chaddr[..n]);
    m.extend_from_slice(&[99, 130, 83, 99]);
    m.extend_from_slice(options);
    m.push(255);
    m
}

/// A one-option TLV.
fn tlv(code: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![
        code,
        u8::try_from(data.len()).expect("option data fits a byte"),
    ];
    out.extend_from_slice(data);
    out
}

/// A DHCPDISCOVER's options followed by `more`.
fn discover_with(more: &[u8]) -> Vec<u8> {
    let mut out = tlv(53, &[1]);
    out.extend_from_slice(more);
    out
}

/// Malformed DHCP messages: each is well framed, but its BOOTP or DHCP content is wrong.
fn bad_messages(rng: &mut Rng, mac: [u8; 6]) -> Vec<(&'static str, Vec<u8>)> {
    let none = Ipv4Addr::UNSPECIFIED;
    let xid = u32::from_be_bytes([rng.byte(), rng.byte(), rng.byte(), rng.byte()]);
    let req = |opts: Vec<u8>| bootp(xid, &mac, 6, none, none, &opts);
    let long_label = {
        let mut name = vec![64u8];
        name.extend_from_slice(&[b'a'; 64]);
        name.extend_from_slice(&[3, b'c', b'o', b'm', 0]);
        let mut data = vec![0x05, 0, 0];
        data.extend_from_slice(&name);
        data
    };
    let mut split_fqdn = tlv(81, &long_label[..30]);
    split_fqdn.extend_from_slice(&tlv(81, &long_label[30..]));
    let mut split_hostname = tlv(12, b"split-");
    split_hostname.extend_from_slice(&tlv(12, b"hostname"));
    let mut overrun = discover_with(&[]);
    overrun.extend_from_slice(&[12, 200, b'x', b'y']);
    let mut no_end = req(discover_with(&tlv(12, b"noend")));
    no_end.pop();
    let mut bad_cookie = req(discover_with(&[]));
    bad_cookie[236..240].copy_from_slice(&[99, 130, 83, 98]);
    let mut truncated = req(discover_with(&[]));
    truncated.truncate(150);
    let random_len = usize::try_from(rng.between(0, 600)).unwrap_or(0);
    vec![
        ("client id of 0 bytes", req(discover_with(&tlv(61, &[])))),
        ("client id of 1 byte", req(discover_with(&tlv(61, &[1])))),
        (
            "client id of 255 bytes",
            req(discover_with(&tlv(61, &[7; 255]))),
        ),
        ("option overrunning the options", req(overrun)),
        (
            "FQDN label over 63 bytes",
            req(discover_with(&tlv(81, &long_label))),
        ),
        (
            "FQDN split, label over 63 bytes",
            req(discover_with(&split_fqdn)),
        ),
        (
            "host name split in two",
            req(discover_with(&split_hostname)),
        ),
        ("empty host name", req(discover_with(&tlv(12, &[])))),
        ("message type of 0 bytes", req(tlv(53, &[]))),
        ("message type 0", req(tlv(53, &[0]))),
        ("message type 255", req(tlv(53, &[255]))),
        (
            "overload of 3 bytes",
            req(discover_with(&tlv(52, &[1, 2, 3]))),
        ),
        (
            "requested address of 3 bytes",
            req(discover_with(&tlv(50, &[192, 0, 2]))),
        ),
        ("no end option", no_end),
        (
            "hlen 17",
            bootp(xid, &mac, 17, none, none, &discover_with(&[])),
        ),
        ("bad magic cookie", bad_cookie),
        ("truncated BOOTP header", truncated),
        ("random bytes", {
            // hlen stays valid, so "hlen 17" is the only message here with a bad one.
            let mut m = rng.bytes(random_len);
            if let Some(hlen) = m.get_mut(2) {
                *hlen %= 17;
            }
            m
        }),
        ("random bytes after a cookie", {
            let mut m = req(Vec::new());
            m.pop();
            m.extend(rng.bytes(64));
            m
        }),
    ]
}

/// Requests that are well formed but that no subnet here serves.
fn stray_requests(mac: [u8; 6]) -> Vec<(&'static str, Vec<u8>)> {
    let none = Ipv4Addr::UNSPECIFIED;
    let request = {
        let mut o = tlv(53, &[3]);
        o.extend_from_slice(&tlv(
            61,
            &[1, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]],
        ));
        o
    };
    vec![
        (
            "unicast REQUEST for an unknown subnet",
            bootp(7, &mac, 6, Ipv4Addr::new(203, 0, 113, 7), none, &request),
        ),
        (
            "DISCOVER relayed from no subnet",
            bootp(
                8,
                &mac,
                6,
                none,
                Ipv4Addr::new(198, 51, 100, 1),
                &discover_with(&[]),
            ),
        ),
        (
            "REQUEST relayed from no subnet",
            bootp(9, &mac, 6, none, Ipv4Addr::new(198, 51, 100, 1), &request),
        ),
    ]
}

/// Frames spoiled below DHCP: Ethernet, IPv4 and UDP.
fn bad_frames(rng: &mut Rng, base: &FrameSpec) -> Vec<(&'static str, Vec<u8>)> {
    let spoil = |f: &dyn Fn(&mut FrameSpec)| {
        let mut spec = base.clone();
        f(&mut spec);
        spec.build()
    };
    let whole = base.build();
    let ip_len = u16::try_from(whole.len() - 14).expect("frame length");
    let random_len = usize::try_from(rng.between(14, 400)).unwrap_or(14);
    let mut random_ipv4 = rng.bytes(random_len);
    random_ipv4[12..14].copy_from_slice(&[0x08, 0x00]);
    vec![
        (
            "frame shorter than an Ethernet header",
            whole[..10].to_vec(),
        ),
        ("IPv4 header cut short", whole[..24].to_vec()),
        ("UDP header cut short", whole[..38].to_vec()),
        (
            "frame cut inside the message",
            whole[..whole.len() / 2].to_vec(),
        ),
        (
            "bad IPv4 header checksum",
            spoil(&|s| s.bad_ip_checksum = true),
        ),
        ("bad UDP checksum", spoil(&|s| s.bad_udp_checksum = true)),
        (
            "IPv4 length past the frame",
            spoil(&|s| s.ip_length = Some(ip_len + 100)),
        ),
        (
            "IPv4 length inside the UDP header",
            spoil(&|s| s.ip_length = Some(24)),
        ),
        ("UDP length under 8", spoil(&|s| s.udp_length = Some(4))),
        (
            "UDP length past the datagram",
            spoil(&|s| s.udp_length = Some(ip_len)),
        ),
        (
            "IP version 6 in an IPv4 frame",
            spoil(&|s| s.version_ihl = Some(0x65)),
        ),
        ("first fragment", spoil(&|s| s.more_fragments = true)),
        ("random bytes as IPv4", random_ipv4),
    ]
}

/// A packet socket bound to one interface, for sending whole frames.
struct FrameSender {
    fd: std::os::fd::OwnedFd,
}

impl FrameSender {
    fn open(interface: &str) -> FrameSender {
        use std::os::fd::{FromRawFd as _, OwnedFd};
        let name = std::ffi::CString::new(interface).expect("interface name");
        // SAFETY: `name` is a NUL-terminated string that outlives the call.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        assert_ne!(
            index,
            0,
            "no interface {interface}: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: plain socket(2) call; the result is checked before use. Protocol 0: this
        // socket only sends.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        assert!(
            raw >= 0,
            "packet socket: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: sockaddr_ll is plain data, valid when zeroed.
        let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        address.sll_family = u16::try_from(libc::AF_PACKET).expect("AF_PACKET");
        address.sll_ifindex = i32::try_from(index).expect("interface index");
        let size = u32::try_from(size_of::<libc::sockaddr_ll>()).expect("sockaddr size");
        // SAFETY: `address` is a valid sockaddr_ll of `size` bytes for the call.
        let bound = unsafe {
            libc::bind(
                std::os::fd::AsRawFd::as_raw_fd(&fd),
                (&raw const address).cast(),
                size,
            )
        };
        assert_eq!(
            bound,
            0,
            "bind packet socket: {}",
            std::io::Error::last_os_error()
        );
        FrameSender { fd }
    }

    /// Sends one frame as it is; frames the kernel refuses (too short) are skipped.
    fn send(&self, frame: &[u8]) {
        // SAFETY: `frame` is valid for reads of its length for the call.
        let _ = unsafe {
            libc::send(
                std::os::fd::AsRawFd::as_raw_fd(&self.fd),
                frame.as_ptr().cast(),
                frame.len(),
                0,
            )
        };
    }
}

/// Moves the calling thread into a network namespace made by `ip netns add`; sockets it
/// opens afterwards belong there.
fn enter_netns(ns: &Netns) {
    use std::os::fd::AsRawFd as _;
    let file = std::fs::File::open(format!("/run/netns/{}", ns.name)).expect("netns handle");
    // SAFETY: `file` is an open namespace handle; setns(2) changes only this thread's network
    // namespace, and the thread is one the test made for this.
    let entered = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(entered, 0, "setns: {}", std::io::Error::last_os_error());
}

/// The `dropped [...]` list of the daemon's last `counters:` line, as reason → count.
fn dropped_counts(log: &str) -> BTreeMap<String, u64> {
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains("counters:"))
        .unwrap_or_default();
    let list = line
        .split_once("dropped [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map_or("", |(list, _)| list);
    list.split(", ")
        .filter_map(|item| {
            let (reason, count) = item.rsplit_once(' ')?;
            Some((reason.to_owned(), count.parse().ok()?))
        })
        .collect()
}

/// Bursts of malformed frames and messages from a client network, on a packet socket and
/// through UDP, with `busybox udhcpc` getting a lease between bursts. The daemon keeps
/// running, counts the drops by reason and exits 0 on SIGTERM.
#[test]
fn survives_malformed_frames_and_keeps_answering() {
    require_netns!();
    const BURSTS: usize = 4;
    let mut rng = Rng::seeded();
    let dir = TempDir::new("junk");
    let net = Network::new("192.0.2.1/24", "192.0.2.2/24");
    let config = dir.path("dhcpd.conf");
    std::fs::write(
        &config,
        "default-lease-time 600;\nmax-lease-time 600;\n\
         subnet 192.0.2.0 netmask 255.255.255.0 {\n  range 192.0.2.100 192.0.2.200;\n}\n",
    )
    .expect("writing the configuration");
    let journal = dir.path("dhcpd.leases");
    let log = dir.path("charruad.log");
    let server_if = net.server_if.clone();
    let mut daemon = start_daemon(&net.server, &config, &journal, &[&server_if], &log);
    wait_serving(&daemon, "serving");

    let mac_of = |ns: &Netns, interface: &str| {
        let out = ns.run(&["cat", &format!("/sys/class/net/{interface}/address")]);
        let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let mut mac = [0u8; 6];
        for (byte, part) in mac.iter_mut().zip(text.split(':')) {
            *byte = u8::from_str_radix(part, 16).expect("MAC address");
        }
        mac
    };
    let server_mac = mac_of(&net.server, &net.server_if);
    let client_mac = mac_of(&net.client, &net.client_if);
    let server_ip = Ipv4Addr::new(192, 0, 2, 1);
    let client_ip = Ipv4Addr::new(192, 0, 2, 2);

    let script = dir.path("udhcpc.sh");
    let events = dir.path("udhcpc.events");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1 $ip\" >> '{}'\n", events.display()),
    )
    .expect("writing the udhcpc script");
    make_executable(&script);
    let script_arg = script.display().to_string();

    let mut sent = 0usize;
    for burst in 0..BURSTS {
        // One burst: every malformation on the packet socket, broadcast and unicast, then
        // the BOOTP-level ones again through a UDP socket.
        let mut frames: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut datagrams: Vec<(&str, Vec<u8>, Ipv4Addr)> = Vec::new();
        let junk_mac = [2, 0, 0x5e, 0x10, 0, u8::try_from(burst).unwrap_or(0)];
        let mut messages = bad_messages(&mut rng, junk_mac);
        messages.extend(stray_requests(junk_mac));
        for (what, payload) in &messages {
            let broadcast =
                FrameSpec::new(client_mac, [0xff; 6], Ipv4Addr::BROADCAST, payload.clone());
            frames.push((what, broadcast.build()));
            let mut unicast = FrameSpec::new(client_mac, server_mac, server_ip, payload.clone());
            unicast.src_ip = client_ip;
            frames.push((what, unicast.build()));
            datagrams.push((what, payload.clone(), Ipv4Addr::new(192, 0, 2, 255)));
            datagrams.push((what, payload.clone(), server_ip));
        }
        let base = FrameSpec::new(client_mac, [0xff; 6], Ipv4Addr::BROADCAST, {
            let none = Ipv4Addr::UNSPECIFIED;
            bootp(
                1,
                &junk_mac,
                6,
                none,
                none,
                &discover_with(&tlv(12, b"framed")),
            )
        });
        frames.extend(bad_frames(&mut rng, &base));
        for _ in 0..20 {
            let len = usize::try_from(rng.between(0, 700)).unwrap_or(0);
            frames.push(("random frame", rng.bytes(len)));
        }
        sent += frames.len() + datagrams.len();
        if burst == 0 {
            let mut kinds: Vec<&str> = frames.iter().map(|(what, _)| *what).collect();
            kinds.dedup();
            eprintln!("each burst: {}", kinds.join("; "));
        }
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    enter_netns(&net.client);
                    let sender = FrameSender::open(&net.client_if);
                    let udp = UdpSocket::bind((client_ip, 68)).expect("UDP socket on port 68");
                    udp.set_broadcast(true).expect("SO_BROADCAST");
                    // Paced, so the daemon's socket buffers never overflow and every frame
                    // is counted.
                    let pause = Duration::from_micros(200);
                    for (_, frame) in &frames {
                        sender.send(frame);
                        std::thread::sleep(pause);
                    }
                    for (_, payload, to) in &datagrams {
                        let _ = udp.send_to(payload, (*to, 67));
                        std::thread::sleep(pause);
                    }
                })
                .join()
                .expect("the sending thread");
        });

        assert!(
            daemon.wait(Duration::from_millis(200)).is_none(),
            "charruad exited:\n{}",
            daemon.output()
        );
        let output = net
            .client
            .command("timeout")
            .args([
                "20", "busybox", "udhcpc", "-f", "-q", "-n", "-t", "3", "-T", "1",
            ])
            .args(["-i", &net.client_if, "-s", &script_arg])
            .output()
            .expect("running udhcpc");
        let got = std::fs::read_to_string(&events).unwrap_or_default();
        assert!(
            output.status.success()
                && got
                    .lines()
                    .filter(|l| l.starts_with("bound 192.0.2."))
                    .count()
                    > burst,
            "udhcpc got no lease after burst {burst}: {}\n{}\nevents: {got}\ncharruad:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            daemon.output()
        );
    }

    daemon.signal("USR1");
    let reported = wait_until(Duration::from_secs(5), || {
        daemon.output().contains("counters:")
    });
    assert!(reported, "no counters after SIGUSR1:\n{}", daemon.output());
    let dropped = dropped_counts(&daemon.output());
    eprintln!("{sent} malformed frames and datagrams sent; dropped: {dropped:?}");
    for reason in [
        "bad magic cookie",
        "truncated",
        "bad option length",
        "bad udp length",
    ] {
        assert!(
            dropped.get(reason).is_some_and(|&n| n > 0),
            "no {reason:?} drops: {dropped:?}"
        );
    }
    // Counted once each: one spoiled frame per burst, and four copies of the "hlen 17"
    // message (two frames, two datagrams), each seen by the packet socket and the UDP
    // socket alike but counted by one of them.
    let bursts = u64::try_from(BURSTS).expect("burst count");
    for (reason, wanted) in [
        ("bad udp checksum", bursts),
        ("bad ipv4 header checksum", bursts),
        ("hlen too long", 4 * bursts),
    ] {
        assert_eq!(
            dropped.get(reason).copied(),
            Some(wanted),
            "{reason}: {dropped:?}"
        );
    }

    daemon.signal("TERM");
    let status = daemon.wait(Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "charruad: {status:?}\n{}",
        daemon.output()
    );
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
