//! `charrua client IFACE`: a DHCPv4 client on one interface, running the `charrua-client`
//! state machine over a packet socket.
//!
//! Frames go out from UDP port 68 to port 67: broadcast from 0.0.0.0 to 255.255.255.255
//! until the client holds an address; renewals and releases unicast to the server from the
//! leased address, to the hardware address the server's last DHCPACK came from (broadcast
//! when none is known yet). Replies are received on a packet socket filtered to UDP port 68,
//! so the interface needs no address for them to arrive.
//!
//! With `--once` the program exits 0 when bound (1 when no lease came within `--timeout`);
//! otherwise it keeps the lease (renewing, rebinding, starting over on expiry) until SIGTERM
//! or SIGINT. `--release` sends a DHCPRELEASE before exiting.
//!
//! On every event it prints a line (or a JSON object with `--json`), applies the lease to the
//! interface with `--configure` (address, routes and MTU through `ip`, DNS to the file of
//! `--resolv-conf`), and runs the `--script` hook, which gets the lease in its environment:
//!
//! | variable | value |
//! |---|---|
//! | `CHARRUA_EVENT` | `bound`, `renewed`, `changed`, `lost`, `released` or `declined` |
//! | `CHARRUA_INTERFACE` | the interface name |
//! | `CHARRUA_ADDRESS` | the leased address |
//! | `CHARRUA_PREFIX` | prefix length of the subnet (from the mask, else the address class) |
//! | `CHARRUA_NETMASK` | the subnet mask, dotted |
//! | `CHARRUA_SERVER` | the server identifier |
//! | `CHARRUA_LEASE_TIME` | lease time in seconds, or `infinite` |
//! | `CHARRUA_RENEWAL_TIME`, `CHARRUA_REBINDING_TIME` | T1 and T2 in seconds, when finite |
//! | `CHARRUA_ROUTERS` | routers (option 3), space-separated |
//! | `CHARRUA_DNS` | DNS servers (option 6), space-separated |
//! | `CHARRUA_DOMAIN` | domain name (option 15) |
//! | `CHARRUA_SEARCH` | domain search list (option 119), space-separated |
//! | `CHARRUA_MTU` | interface MTU (option 26) |
//! | `CHARRUA_ROUTES` | classless routes (option 121, or 249), space-separated `DEST/LEN,ROUTER` |
//! | `CHARRUA_OPTION_<code>` | every other option of the DHCPACK, its payload in hex |
//! | `CHARRUA_OLD_ADDRESS` | with `changed`: the address given up |
//! | `CHARRUA_REASON` | with `lost`: `expired` or `refused` |
//!
//! Values are passed with [`Command::env`], never through a shell; NUL bytes are removed, and
//! the hook inherits no other `CHARRUA_` variable. A variable is absent when the lease has no
//! such value.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use charrua_client::{Client, Config, Destination, Event, Lease, LossReason, Output, Rng};
use charrua_wire::options::{ClasslessRoute, ClientId};
use charrua_wire::{
    CLIENT_PORT, DhcpOption, EmitOptions, MacAddr, OptionCode, Packet, SERVER_PORT, Text,
};
use serde_json::{Value, json};

use crate::sys::{self, PacketSocket};

/// The environment of the hook, for `--help`.
const HOOK_HELP: &str = "\
Hook environment (--script): CHARRUA_EVENT (bound, renewed, changed, lost, released,
declined), CHARRUA_INTERFACE, CHARRUA_ADDRESS, CHARRUA_PREFIX, CHARRUA_NETMASK,
CHARRUA_SERVER, CHARRUA_LEASE_TIME (seconds or \"infinite\"), CHARRUA_RENEWAL_TIME,
CHARRUA_REBINDING_TIME, CHARRUA_ROUTERS (space-separated), CHARRUA_DNS, CHARRUA_DOMAIN,
CHARRUA_SEARCH, CHARRUA_MTU, CHARRUA_ROUTES (space-separated DEST/LEN,ROUTER),
CHARRUA_OPTION_<code> (every other option of the DHCPACK, payload in hex),
CHARRUA_OLD_ADDRESS (changed), CHARRUA_REASON (lost: expired or refused). Values are
passed as environment variables, never through a shell; NUL bytes are removed.

Exit status: 0 when bound (--once) or stopped by SIGTERM/SIGINT; 1 when no lease came
within --timeout (--once); 2 on errors.";

/// How long one wait lasts at most, so that a signal is noticed soon.
const MAX_WAIT: Duration = Duration::from_millis(500);
/// How long a hook may run before it is killed.
const HOOK_LIMIT: Duration = Duration::from_secs(30);
/// DHCP messages are padded to this many bytes, for servers and relays that want BOOTP's
/// minimum.
const MIN_MESSAGE_LEN: usize = 300;
/// Options whose values have variables of their own (or none: the message type).
const NAMED_OPTIONS: [OptionCode; 12] = [
    OptionCode::SUBNET_MASK,
    OptionCode::ROUTERS,
    OptionCode::DOMAIN_NAME_SERVERS,
    OptionCode::DOMAIN_NAME,
    OptionCode::INTERFACE_MTU,
    OptionCode::LEASE_TIME,
    OptionCode::MESSAGE_TYPE,
    OptionCode::SERVER_IDENTIFIER,
    OptionCode::RENEWAL_TIME,
    OptionCode::REBINDING_TIME,
    OptionCode::DOMAIN_SEARCH,
    OptionCode::CLASSLESS_STATIC_ROUTES,
];

/// Arguments of `charrua client`.
#[derive(clap::Args, Debug)]
#[command(after_help = HOOK_HELP)]
pub struct Args {
    /// The interface to get a lease for.
    interface: String,
    /// Exit once bound (with --release: after releasing the lease again).
    #[arg(short = '1', long)]
    once: bool,
    /// With --once: seconds to wait for a lease before giving up with status 1.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
    /// Send a DHCPRELEASE before exiting (after --once, or on SIGTERM/SIGINT).
    #[arg(long)]
    release: bool,
    /// Host name to send (option 12).
    #[arg(long, value_name = "NAME")]
    hostname: Option<String>,
    /// Client identifier (option 61) in hex, type byte first [default: 01 and the MAC].
    #[arg(long, value_name = "HEX", value_parser = parse_hex)]
    client_id: Option<Hex>,
    /// Vendor class identifier to send (option 60).
    #[arg(long, value_name = "TEXT")]
    vendor_class: Option<String>,
    /// Address to ask for in DHCPDISCOVER (option 50), and to prefer among offers.
    #[arg(long, value_name = "A.B.C.D")]
    request_address: Option<Ipv4Addr>,
    /// Keep the lease in this file (JSON) after each bind, and start with INIT-REBOOT when
    /// it holds an unexpired lease for this interface.
    #[arg(long, value_name = "PATH")]
    lease_file: Option<PathBuf>,
    /// Send only what the anonymity profile of RFC 7844 allows.
    #[arg(long)]
    anonymous: bool,
    /// Ask for rapid commit (RFC 4039): a DHCPACK straight away, without DHCPOFFER.
    #[arg(long)]
    rapid_commit: bool,
    /// Run this program on every event, with the lease in its environment (see below).
    #[arg(long, value_name = "PATH")]
    script: Option<PathBuf>,
    /// Apply the lease to the interface: address, routes and MTU, with `ip`.
    #[arg(long)]
    configure: bool,
    /// With --configure: write the DNS servers and search list to this file.
    #[arg(long, value_name = "PATH", requires = "configure")]
    resolv_conf: Option<PathBuf>,
    /// Print events as JSON objects, one per line.
    #[arg(long)]
    json: bool,
}

/// Bytes given in hex on the command line.
#[derive(Debug, Clone)]
struct Hex(Vec<u8>);

fn parse_hex(text: &str) -> Result<Hex, String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ':' | '-')).collect();
    if digits.is_empty() || digits.len() % 2 != 0 {
        return Err("an even number of hex digits is needed".into());
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            digits
                .get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("not hex: {text}"))
        })
        .collect::<Result<Vec<u8>, String>>()
        .map(Hex)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A xorshift64 generator, seeded from the time and the process id: enough for transaction
/// ids and retransmission jitter, which need to differ between clients, not to be secret.
struct XorShift(u64);

impl XorShift {
    fn seeded() -> Self {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let time = since.as_secs().wrapping_mul(1_000_000_007) ^ u64::from(since.subsec_nanos());
        let pid = u64::from(std::process::id());
        // One splitmix64 step spreads the few bits that differ over the whole state.
        let mut z = (time ^ pid.rotate_left(32)).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        XorShift(if z == 0 { 0x2545_f491_4f6c_dd1d } else { z })
    }
}

impl Rng for XorShift {
    fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        u32::try_from(x >> 32).unwrap_or(0)
    }
}

/// Runs `charrua client`.
pub fn run(args: &Args) -> ExitCode {
    match run_client(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("charrua client: {error}");
            ExitCode::from(2)
        }
    }
}

fn config(args: &Args, mac: [u8; 6]) -> Config {
    let mut config = Config::ethernet(mac);
    config.client_id = Some(match &args.client_id {
        Some(Hex(bytes)) => ClientId {
            kind: bytes.first().copied().unwrap_or(0),
            id: bytes.get(1..).unwrap_or_default().to_vec(),
        },
        None => ClientId::ethernet(mac),
    });
    config.hostname = args.hostname.as_deref().map(Text::from);
    config.vendor_class = args.vendor_class.as_ref().map(|v| v.as_bytes().to_vec());
    config.requested_address = args.request_address;
    config.anonymity = args.anonymous;
    config.rapid_commit = args.rapid_commit;
    config.max_message_size = Some(1500);
    config
}

fn run_client(args: &Args) -> io::Result<ExitCode> {
    let (index, mac) = sys::interface_link(&args.interface)?;
    let socket = PacketSocket::open_client(index)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let config = config(args, mac);
    let epoch = Instant::now();
    let remembered = args
        .lease_file
        .as_deref()
        .and_then(|path| load_lease(path, &args.interface));
    let client = match remembered {
        Some(lease) => {
            eprintln!(
                "charrua client: asking to keep {} (INIT-REBOOT)",
                lease.address
            );
            Client::reboot(config, lease, Duration::ZERO)
        }
        None => Client::new(config, Duration::ZERO),
    };
    let mut runner = Runner {
        args,
        socket,
        mac,
        client,
        rng: XorShift::seeded(),
        epoch,
        server_mac: None,
        lease: None,
        buf: vec![0; 65_536],
    };
    let limit = args.once.then(|| Duration::from_secs(args.timeout));
    loop {
        if stop.load(Ordering::Relaxed) || (args.once && runner.lease.is_some()) {
            break;
        }
        let now = runner.now();
        if limit.is_some_and(|limit| now >= limit) {
            eprintln!(
                "charrua client: no lease on {} within {} s",
                args.interface, args.timeout
            );
            return Ok(ExitCode::from(1));
        }
        let deadline = runner.client.next_deadline();
        if deadline.is_some_and(|d| d <= now) {
            let out = runner.client.on_timeout(now, &mut runner.rng);
            runner.handle(out);
            continue;
        }
        let wait = deadline.map_or(MAX_WAIT, |d| d.saturating_sub(now).min(MAX_WAIT));
        let wait_ms = i32::try_from(wait.as_millis())
            .unwrap_or(0)
            .saturating_add(1);
        let readable = sys::wait_readable(&[runner.socket.as_raw_fd()], wait_ms)?;
        if readable.first() == Some(&true) {
            runner.receive()?;
        }
    }
    if args.release {
        let rng = &mut runner.rng;
        if let Ok(out) = runner.client.release(rng) {
            runner.handle(out);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The client, its socket, and what it remembers between events.
struct Runner<'a> {
    args: &'a Args,
    socket: PacketSocket,
    mac: [u8; 6],
    client: Client,
    rng: XorShift,
    /// The start of the client's clock.
    epoch: Instant,
    /// Where the frame with the last DHCPACK came from: the next hop to the server.
    server_mac: Option<[u8; 6]>,
    /// The lease held, as last reported.
    lease: Option<Lease>,
    buf: Vec<u8>,
}

impl Runner<'_> {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Reads every waiting frame and hands the DHCP replies in it to the client.
    fn receive(&mut self) -> io::Result<()> {
        while let Some(n) = self.socket.recv(&mut self.buf)? {
            let Some(frame) = self.buf.get(..n) else {
                continue;
            };
            let Ok(packet) = Packet::parse(frame) else {
                continue;
            };
            let to_us = packet.dst_mac == MacAddr(self.mac) || packet.dst_mac == MacAddr::BROADCAST;
            if !to_us || packet.src_port != SERVER_PORT || packet.dst_port != CLIENT_PORT {
                continue;
            }
            let now = self.now();
            let out = self.client.on_packet(now, &packet.message, &mut self.rng);
            let bound = out.events.iter().any(|e| {
                matches!(
                    e,
                    Event::LeaseAcquired(_) | Event::LeaseRenewed(_) | Event::LeaseChanged { .. }
                )
            });
            if bound {
                self.server_mac = Some(packet.src_mac.0);
            }
            self.handle(out);
        }
        Ok(())
    }

    /// Sends what the client asks to, then acts on its events.
    fn handle(&mut self, out: Output) {
        for transmit in &out.transmits {
            let (dst_ip, dst_mac) = match transmit.destination {
                Destination::Broadcast => (Ipv4Addr::BROADCAST, MacAddr::BROADCAST),
                Destination::Unicast(server) => {
                    (server, self.server_mac.map_or(MacAddr::BROADCAST, MacAddr))
                }
            };
            let packet = Packet {
                src_mac: MacAddr(self.mac),
                dst_mac,
                src_ip: transmit.message.ciaddr,
                dst_ip,
                src_port: CLIENT_PORT,
                dst_port: SERVER_PORT,
                message: transmit.message.clone(),
            };
            let settings = EmitOptions {
                min_len: MIN_MESSAGE_LEN,
                ..EmitOptions::default()
            };
            let sent = packet
                .to_bytes(&settings)
                .map_err(io::Error::other)
                .and_then(|frame| self.socket.send(&frame, dst_mac.0));
            if let Err(error) = sent {
                eprintln!(
                    "charrua client: cannot send on {}: {error}",
                    self.args.interface
                );
            }
        }
        for event in out.events {
            self.event(event);
        }
    }

    fn event(&mut self, event: Event) {
        let held = self.lease.take();
        let report = match event {
            Event::LeaseAcquired(lease) => Report::new("bound", lease),
            Event::LeaseRenewed(lease) => Report::new("renewed", lease),
            Event::LeaseChanged { old, new } => Report {
                old: Some(old),
                ..Report::new("changed", new)
            },
            Event::LeaseLost { lease, reason } => Report {
                reason: Some(match reason {
                    LossReason::Expired => "expired",
                    LossReason::Refused => "refused",
                }),
                ..Report::new("lost", lease)
            },
            Event::Declined(address) => Report::new("declined", held_or(held, address)),
            Event::Released(address) => Report::new("released", held_or(held, address)),
            Event::Informed(_) => return,
        };
        let interface = &self.args.interface;
        if self.args.json {
            println!("{}", report.json(interface));
        } else {
            println!("{}", report.line());
        }
        let gained = matches!(report.event, "bound" | "renewed" | "changed");
        if self.args.configure {
            configure(interface, &report, self.args.resolv_conf.as_deref());
        }
        if let Some(script) = &self.args.script {
            run_hook(script, &report.environment(interface));
        }
        if let Some(path) = &self.args.lease_file {
            let saved = if gained {
                save_lease(path, interface, &report.lease, self.epoch)
            } else {
                std::fs::remove_file(path).or_else(|e| match e.kind() {
                    io::ErrorKind::NotFound => Ok(()),
                    _ => Err(e),
                })
            };
            if let Err(error) = saved {
                eprintln!("charrua client: lease file {}: {error}", path.display());
            }
        }
        self.lease = gained.then_some(report.lease);
    }
}

/// The lease held, or one made of the bare address if none is known.
fn held_or(held: Option<Lease>, address: Ipv4Addr) -> Lease {
    held.filter(|l| l.address == address)
        .unwrap_or_else(|| Lease::bare(address, Ipv4Addr::UNSPECIFIED, Duration::ZERO))
}

/// One event, with the lease it concerns.
struct Report {
    event: &'static str,
    lease: Lease,
    old: Option<Lease>,
    reason: Option<&'static str>,
}

/// Removes NUL bytes, which no environment variable or file line may hold.
fn clean(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "")
    } else {
        text
    }
}

fn joined<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The prefix length of a lease's subnet: from its mask when the mask is contiguous, else
/// from the class of the address.
fn prefix(lease: &Lease) -> u32 {
    if let Some(mask) = lease.subnet_mask {
        let bits = mask.to_bits();
        if bits.leading_ones() + bits.trailing_zeros() == 32 {
            return bits.leading_ones();
        }
    }
    match lease.address.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        192..=223 => 24,
        _ => 32,
    }
}

fn netmask(prefix: u32) -> Ipv4Addr {
    Ipv4Addr::from_bits(u32::MAX.checked_shl(32 - prefix).unwrap_or(0))
}

/// `DEST/LEN` of a classless route, its destination cut to its length.
fn route_destination(route: &ClasslessRoute) -> String {
    let len = u32::from(route.prefix_len.min(32));
    let network = route.destination.to_bits() & netmask(len).to_bits();
    format!("{}/{len}", Ipv4Addr::from_bits(network))
}

fn seconds(d: Option<Duration>) -> Option<u64> {
    d.map(|d| d.as_secs())
}

impl Report {
    fn new(event: &'static str, lease: Lease) -> Report {
        Report {
            event,
            lease,
            old: None,
            reason: None,
        }
    }

    fn domain(&self) -> Option<String> {
        let name = self.lease.domain_name.as_ref()?.to_string_lossy();
        Some(clean(name))
    }

    fn search(&self) -> Vec<String> {
        let names = self.lease.search_list.iter();
        names.map(|n| clean(n.to_string())).collect()
    }

    /// `bound 192.0.2.100/24 from 192.0.2.1, lease 600 s, router 192.0.2.1, dns 192.0.2.1`.
    fn line(&self) -> String {
        let l = &self.lease;
        let mut line = format!("{} {}", self.event, l.address);
        if !matches!(self.event, "bound" | "renewed" | "changed") {
            if let Some(reason) = self.reason {
                let _ = write!(line, " ({reason})");
            }
            return line;
        }
        let _ = write!(line, "/{} from {}", prefix(l), l.server_identifier);
        match seconds(l.lease_time) {
            Some(s) => {
                let _ = write!(line, ", lease {s} s");
            }
            None => line.push_str(", lease infinite"),
        }
        if !l.routers.is_empty() {
            let _ = write!(line, ", router {}", joined(&l.routers));
        }
        if !l.dns_servers.is_empty() {
            let _ = write!(line, ", dns {}", joined(&l.dns_servers));
        }
        if let Some(domain) = self.domain() {
            let _ = write!(line, ", domain {}", domain.escape_debug());
        }
        if let Some(mtu) = l.mtu {
            let _ = write!(line, ", mtu {mtu}");
        }
        if let Some(old) = &self.old {
            let _ = write!(line, ", was {}", old.address);
        }
        line
    }

    fn json(&self, interface: &str) -> Value {
        let l = &self.lease;
        let routes: Vec<Value> = l
            .classless_routes
            .iter()
            .map(|r| json!({"destination": route_destination(r), "router": r.router}))
            .collect();
        json!({
            "event": self.event,
            "interface": interface,
            "address": l.address,
            "prefix": prefix(l),
            "server": l.server_identifier,
            "lease_time": seconds(l.lease_time),
            "renewal_time": seconds(l.renewal_time),
            "rebinding_time": seconds(l.rebinding_time),
            "routers": l.routers,
            "dns": l.dns_servers,
            "domain": self.domain(),
            "search": self.search(),
            "mtu": l.mtu,
            "routes": routes,
            "old_address": self.old.as_ref().map(|o| o.address),
            "reason": self.reason,
        })
    }

    /// The hook's variables, described in the module documentation.
    fn environment(&self, interface: &str) -> Vec<(String, String)> {
        let l = &self.lease;
        let mut env: Vec<(String, String)> = Vec::new();
        let mut set = |name: &str, value: String| {
            env.push((format!("CHARRUA_{name}"), clean(value)));
        };
        set("EVENT", self.event.to_owned());
        set("INTERFACE", interface.to_owned());
        set("ADDRESS", l.address.to_string());
        let prefix = prefix(l);
        set("PREFIX", prefix.to_string());
        set("NETMASK", netmask(prefix).to_string());
        if !l.server_identifier.is_unspecified() {
            set("SERVER", l.server_identifier.to_string());
        }
        match seconds(l.lease_time) {
            Some(s) => set("LEASE_TIME", s.to_string()),
            None if !l.options.is_empty() => set("LEASE_TIME", "infinite".to_owned()),
            None => {}
        }
        if let Some(t1) = seconds(l.renewal_time) {
            set("RENEWAL_TIME", t1.to_string());
        }
        if let Some(t2) = seconds(l.rebinding_time) {
            set("REBINDING_TIME", t2.to_string());
        }
        if !l.routers.is_empty() {
            set("ROUTERS", joined(&l.routers));
        }
        if !l.dns_servers.is_empty() {
            set("DNS", joined(&l.dns_servers));
        }
        if let Some(domain) = self.domain() {
            set("DOMAIN", domain);
        }
        let search = self.search();
        if !search.is_empty() {
            set("SEARCH", search.join(" "));
        }
        if let Some(mtu) = l.mtu {
            set("MTU", mtu.to_string());
        }
        if !l.classless_routes.is_empty() {
            let routes: Vec<String> = l
                .classless_routes
                .iter()
                .map(|r| format!("{},{}", route_destination(r), r.router))
                .collect();
            set("ROUTES", routes.join(" "));
        }
        for option in &l.options {
            let code = option.code();
            if !NAMED_OPTIONS.contains(&code) {
                set(&format!("OPTION_{}", code.0), hex(&option.payload()));
            }
        }
        if let Some(old) = &self.old {
            set("OLD_ADDRESS", old.address.to_string());
        }
        if let Some(reason) = self.reason {
            set("REASON", reason.to_owned());
        }
        env
    }
}

/// Runs the hook with `env` added to the environment, waiting for it at most
/// [`HOOK_LIMIT`]; a hook still running then is killed.
fn run_hook(script: &Path, env: &[(String, String)]) {
    let mut command = Command::new(script);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CHARRUA_") {
            command.env_remove(&name);
        }
    }
    command
        .envs(env.iter().map(|(k, v)| (OsStr::new(k), OsStr::new(v))))
        .stdin(Stdio::null());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            eprintln!("charrua client: cannot run {}: {error}", script.display());
            return;
        }
    };
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() < HOOK_LIMIT => {
                std::thread::sleep(Duration::from_millis(10));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    match status {
        Some(status) if status.success() => {}
        Some(status) => eprintln!("charrua client: {} {status}", script.display()),
        None => eprintln!(
            "charrua client: {} killed after {} s",
            script.display(),
            HOOK_LIMIT.as_secs()
        ),
    }
}

/// Runs `ip` with `args`, reporting a failure unless `quiet`.
fn ip(args: &[&str], quiet: bool) {
    let output = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match output {
        Ok(out) if out.status.success() || quiet => {}
        Ok(out) => eprintln!(
            "charrua client: ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(error) => eprintln!("charrua client: cannot run ip: {error}"),
    }
}

/// The routes a lease asks for: its classless routes, else a default route through its
/// first router (RFC 3442 §3: with option 121, option 3 is ignored). Each is
/// (destination, router or `None` for on-link).
fn routes(lease: &Lease) -> Vec<(String, Option<Ipv4Addr>)> {
    if lease.classless_routes.is_empty() {
        let first = lease.routers.first();
        return first
            .map(|r| ("default".to_owned(), Some(*r)))
            .into_iter()
            .collect();
    }
    lease
        .classless_routes
        .iter()
        .map(|r| {
            (
                route_destination(r),
                Some(r.router).filter(|r| !r.is_unspecified()),
            )
        })
        .collect()
}

fn unconfigure(interface: &str, lease: &Lease) {
    for (destination, _) in routes(lease) {
        ip(&["route", "del", &destination, "dev", interface], true);
    }
    let address = format!("{}/{}", lease.address, prefix(lease));
    ip(&["addr", "del", &address, "dev", interface], true);
}

/// Applies an event to the interface: the address with the lease's lifetime, the MTU, the
/// routes, and the DNS configuration file; or removes what a lost lease had set.
fn configure(interface: &str, report: &Report, resolv_conf: Option<&Path>) {
    let lease = &report.lease;
    if let Some(old) = &report.old {
        unconfigure(interface, old);
    }
    if !matches!(report.event, "bound" | "renewed" | "changed") {
        unconfigure(interface, lease);
        if let Some(path) = resolv_conf {
            write_resolv_conf(
                path,
                interface,
                &Report::new("lost", held_or(None, lease.address)),
            );
        }
        return;
    }
    ip(&["link", "set", "dev", interface, "up"], false);
    if let Some(mtu) = lease.mtu.filter(|m| *m >= 68) {
        ip(
            &["link", "set", "dev", interface, "mtu", &mtu.to_string()],
            false,
        );
    }
    let address = format!("{}/{}", lease.address, prefix(lease));
    let lifetime = seconds(lease.lease_time).map_or("forever".to_owned(), |s| s.to_string());
    ip(
        &[
            "addr",
            "replace",
            &address,
            "broadcast",
            "+",
            "dev",
            interface,
            "valid_lft",
            &lifetime,
            "preferred_lft",
            &lifetime,
        ],
        false,
    );
    for (destination, router) in routes(lease) {
        let mut args = vec!["route", "replace", destination.as_str()];
        let via = router.map(|r| r.to_string());
        if let Some(via) = &via {
            args.extend(["via", via.as_str()]);
        }
        args.extend(["dev", interface]);
        ip(&args, false);
    }
    if let Some(path) = resolv_conf {
        write_resolv_conf(path, interface, report);
    }
}

/// Whether a domain name can go into resolv.conf as it is: letters, digits, `-`, `_` and
/// dots only, so that no server can add a line or an option of its own.
fn plain_domain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Writes the DNS servers and search list of a lease to `path`, replacing it whole.
fn write_resolv_conf(path: &Path, interface: &str, report: &Report) {
    let mut text = format!("# Written by charrua client for {interface}.\n");
    let mut search: Vec<String> = report.search();
    if search.is_empty() {
        search.extend(report.domain());
    }
    search.retain(|name| plain_domain(name));
    if !search.is_empty() {
        let _ = writeln!(text, "search {}", search.join(" "));
    }
    for server in report.lease.dns_servers.iter().take(3) {
        let _ = writeln!(text, "nameserver {server}");
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".charrua-new");
    let written = std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, path));
    if let Err(error) = written {
        eprintln!("charrua client: cannot write {}: {error}", path.display());
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Writes the lease to `path` as JSON: the address, the server, when the lease began (Unix
/// seconds) and every option of the DHCPACK as code and hex payload.
fn save_lease(path: &Path, interface: &str, lease: &Lease, epoch: Instant) -> io::Result<()> {
    let age = epoch.elapsed().saturating_sub(lease.start).as_secs();
    let options: Vec<Value> = lease
        .options
        .iter()
        .map(|o| json!({"code": o.code().0, "data": hex(&o.payload())}))
        .collect();
    let record = json!({
        "interface": interface,
        "address": lease.address,
        "server": lease.server_identifier,
        "started": unix_seconds().saturating_sub(age),
        "lease_time": seconds(lease.lease_time),
        "options": options,
    });
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".charrua-new");
    std::fs::write(&temporary, format!("{record}\n"))?;
    std::fs::rename(&temporary, path)
}

/// The lease remembered in `path` for `interface`, if there is one that has not expired.
/// Its times are not restored: INIT-REBOOT only asks for the address, and the DHCPACK to it
/// starts a new lease.
fn load_lease(path: &Path, interface: &str) -> Option<Lease> {
    let text = std::fs::read_to_string(path).ok()?;
    let record: Value = serde_json::from_str(&text).ok()?;
    if record.get("interface")?.as_str()? != interface {
        return None;
    }
    let started = record.get("started")?.as_u64()?;
    if let Some(time) = record.get("lease_time")?.as_u64() {
        if started.saturating_add(time) <= unix_seconds() {
            return None;
        }
    }
    let address: Ipv4Addr = record.get("address")?.as_str()?.parse().ok()?;
    let server: Ipv4Addr = record.get("server")?.as_str()?.parse().ok()?;
    let mut lease = held_or(None, address);
    lease.server_identifier = server;
    for option in record.get("options")?.as_array()? {
        let code = u8::try_from(option.get("code")?.as_u64()?).ok()?;
        let data = match option.get("data")?.as_str()? {
            "" => Vec::new(),
            text => parse_hex(text).ok()?.0,
        };
        let option = DhcpOption::from_payload(OptionCode(code), &data).ok()?;
        match &option {
            DhcpOption::SubnetMask(mask) => lease.subnet_mask = Some(*mask),
            DhcpOption::Routers(list) => lease.routers.clone_from(list),
            DhcpOption::DomainNameServers(list) => lease.dns_servers.clone_from(list),
            DhcpOption::DomainName(name) => lease.domain_name = Some(name.clone()),
            DhcpOption::DomainSearch(list) => lease.search_list.clone_from(list),
            DhcpOption::ClasslessStaticRoutes(r) => lease.classless_routes.clone_from(r),
            DhcpOption::InterfaceMtu(mtu) => lease.mtu = Some(*mtu),
            _ => {}
        }
        lease.options.push(option);
    }
    Some(lease)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease() -> Lease {
        let mut lease = held_or(None, Ipv4Addr::new(192, 0, 2, 100));
        lease.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
        lease.server_identifier = Ipv4Addr::new(192, 0, 2, 1);
        lease.routers = vec![Ipv4Addr::new(192, 0, 2, 1)];
        lease.dns_servers = vec![Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)];
        lease.domain_name = Some(Text::new(b"exa\0mple.org".to_vec()));
        lease.lease_time = Some(Duration::from_secs(600));
        lease.options = vec![
            DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)),
            DhcpOption::from_payload(OptionCode(42), &[192, 0, 2, 1]).expect("option 42"),
        ];
        lease
    }

    #[test]
    fn reads_hex_with_or_without_separators() {
        assert_eq!(parse_hex("01:02:0a").map(|h| h.0), Ok(vec![1, 2, 10]));
        assert_eq!(parse_hex("ff00").map(|h| h.0), Ok(vec![255, 0]));
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("zz").is_err());
    }

    #[test]
    fn prints_one_line_per_event() {
        let report = Report::new("bound", lease());
        assert_eq!(
            report.line(),
            "bound 192.0.2.100/24 from 192.0.2.1, lease 600 s, router 192.0.2.1, \
             dns 192.0.2.1 192.0.2.2, domain example.org"
        );
        let lost = Report {
            reason: Some("expired"),
            ..Report::new("lost", lease())
        };
        assert_eq!(lost.line(), "lost 192.0.2.100 (expired)");
    }

    #[test]
    fn passes_the_lease_without_nul_bytes() {
        let env = Report::new("bound", lease()).environment("eth0");
        let get = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(get("CHARRUA_EVENT"), Some("bound"));
        assert_eq!(get("CHARRUA_PREFIX"), Some("24"));
        assert_eq!(get("CHARRUA_NETMASK"), Some("255.255.255.0"));
        assert_eq!(get("CHARRUA_DNS"), Some("192.0.2.1 192.0.2.2"));
        assert_eq!(get("CHARRUA_DOMAIN"), Some("example.org"));
        assert_eq!(get("CHARRUA_OPTION_42"), Some("c0000201"));
        assert_eq!(get("CHARRUA_OPTION_1"), None);
        assert!(env.iter().all(|(_, v)| !v.contains('\0')));
    }

    #[test]
    fn keeps_odd_domains_out_of_resolv_conf() {
        assert!(plain_domain("lab.example.org"));
        assert!(!plain_domain("example.org\nnameserver 203.0.113.1"));
        assert!(!plain_domain("a b"));
        assert!(!plain_domain(""));
    }

    #[test]
    fn masks_route_destinations_and_falls_back_to_classes() {
        let route = ClasslessRoute {
            destination: Ipv4Addr::new(198, 51, 100, 77),
            prefix_len: 24,
            router: Ipv4Addr::new(192, 0, 2, 1),
        };
        assert_eq!(route_destination(&route), "198.51.100.0/24");
        let mut l = lease();
        l.subnet_mask = None;
        assert_eq!(prefix(&l), 24);
        assert_eq!(netmask(0), Ipv4Addr::UNSPECIFIED);
        assert_eq!(netmask(32), Ipv4Addr::BROADCAST);
    }

    #[test]
    fn remembers_a_lease_in_its_file() {
        let path = std::env::temp_dir().join(format!("charrua-lease-{}", std::process::id()));
        let mut original = lease();
        original.options.push(DhcpOption::InterfaceMtu(1400));
        original
            .options
            .push(DhcpOption::Routers(original.routers.clone()));
        save_lease(&path, "eth0", &original, Instant::now()).expect("saved");
        let loaded = load_lease(&path, "eth0");
        let other = load_lease(&path, "eth1");
        let _ = std::fs::remove_file(&path);
        let loaded = loaded.expect("loaded");
        assert_eq!(loaded.address, original.address);
        assert_eq!(loaded.server_identifier, original.server_identifier);
        assert_eq!(loaded.subnet_mask, original.subnet_mask);
        assert_eq!(loaded.routers, original.routers);
        assert_eq!(loaded.mtu, Some(1400));
        assert_eq!(loaded.options, original.options);
        assert!(other.is_none(), "a lease of another interface");
    }

    #[test]
    fn draws_different_numbers() {
        let mut rng = XorShift(1);
        let (a, b) = (rng.next_u32(), rng.next_u32());
        assert_ne!(a, b);
    }
}
