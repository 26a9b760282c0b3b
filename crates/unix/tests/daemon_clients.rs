//! `charruad` serving real DHCP clients over packet sockets: ISC `dhclient`, BusyBox
//! `udhcpc` and `dhcpcd` each get a lease with the configured options, renew it, keep it
//! across a server restart (INIT-REBOOT) and release it; one server serves two subnets on
//! two interfaces; `charruad` taking over ISC `dhcpd`'s configuration and lease file keeps
//! every address `dhcpd` gave; a request for a foreign address is answered with DHCPNAK; an
//! address declined by a client is abandoned.
//!
//! Every test builds its own network namespaces, whose names carry the process id, and
//! keeps the clients' lease, pid and hook files in its own temporary directory, so the
//! tests do not interfere and could run side by side. They wait on real clients' timers,
//! though, and are meant to run one at a time on small machines:
//!
//! ```text
//! CHARRUA_NETNS_TESTS=1 cargo test -p charrua-unix --test daemon_clients -- --test-threads=1
//! ```
//!
//! `dhcpcd` keeps its state in compiled-in directories (`/run/dhcpcd`, `/var/lib/dhcpcd`):
//! it runs in a private mount namespace where both are bind-mounted from the temporary
//! directory, and its control commands are sent from inside the same namespaces.

#[allow(
    unreachable_pub,
    reason = "the harness is shared by several test files"
)]
mod common;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Netns, Proc, TempDir, charruad, link, wait_until};

/// Lease time in the configurations of the tests that renew: short, so that `dhclient`,
/// which renews only at T1, does so within seconds.
const SHORT_LEASE: u32 = 20;
/// T1 sent with short leases (`option dhcp-renewal-time`).
const RENEWAL: u32 = 5;
/// Lease time when nothing should renew by itself during the test.
const LONG_LEASE: u32 = 300;
/// First and last address of each subnet's range (last octet).
const RANGE: (u8, u8) = (100, 150);

/// How long a client may take to get a lease.
const BIND_WAIT: Duration = Duration::from_secs(30);
/// How long a client may take to renew, once asked (or, for `dhclient`, once bound).
const RENEW_WAIT: Duration = Duration::from_secs(20);
/// How long a process may take to exit once told to.
const EXIT_WAIT: Duration = Duration::from_secs(5);

/// The namespaces of one test. On drop, anything still running in them (children of the
/// processes the test started) is killed by PID, then the namespaces are deleted.
struct Net {
    server: Netns,
    clients: Vec<Netns>,
}

impl Net {
    fn new(clients: usize) -> Net {
        Net {
            server: Netns::new("s"),
            clients: (0..clients).map(|_| Netns::new("c")).collect(),
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in std::iter::once(&self.server).chain(&self.clients) {
            let Ok(out) = Command::new("ip")
                .args(["netns", "pids", &ns.name])
                .output()
            else {
                continue;
            };
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
    }
}

/// Gives `dev` in `ns` a fixed MAC address.
fn set_mac(ns: &Netns, dev: &str, mac: &str) {
    ns.run(&["ip", "link", "set", "dev", dev, "address", mac]);
}

/// One `subnet` block: `PREFIX.0/24`, range `PREFIX.100`–`PREFIX.150`, the server
/// (`PREFIX.1`) as router and first DNS server, and T1 when `renewal` is given.
fn subnet(prefix: &str, renewal: Option<u32>) -> String {
    let (first, last) = RANGE;
    let renewal = renewal
        .map(|t| format!("  option dhcp-renewal-time {t};\n"))
        .unwrap_or_default();
    format!(
        "subnet {prefix}.0 netmask 255.255.255.0 {{
  range {prefix}.{first} {prefix}.{last};
  option routers {prefix}.1;
  option domain-name-servers {prefix}.1, {prefix}.2;
  option domain-name \"example.org\";
  option domain-search \"example.org\", \"lab.example.org\";
  option interface-mtu 1400;
{renewal}}}
"
    )
}

/// A dhcpd.conf that both ISC `dhcpd` and `charruad` read.
fn config(lease: u32, renewal: Option<u32>, prefixes: &[&str]) -> String {
    let mut text = format!(
        "authoritative;
ddns-update-style none;
ping-check false;
default-lease-time {lease};
max-lease-time {lease};
"
    );
    for prefix in prefixes {
        text.push_str(&subnet(prefix, renewal));
    }
    text
}

/// Whether `address` lies in the configured range of subnet `prefix`.
fn in_range(address: &str, prefix: &str) -> bool {
    let Ok(address) = address.parse::<Ipv4Addr>() else {
        return false;
    };
    let [a, b, c, d] = address.octets();
    format!("{a}.{b}.{c}") == prefix && (RANGE.0..=RANGE.1).contains(&d)
}

/// A `charruad` serving from `dir`'s `dhcpd.conf` and the lease file `leases`.
struct Charruad<'a> {
    ns: &'a Netns,
    dir: &'a TempDir,
    leases: PathBuf,
}

impl Charruad<'_> {
    /// Starts it, logging to `log` in the temporary directory; returns once it serves.
    fn start(&self, log: &str) -> Proc {
        let (conf, pid) = (self.dir.path("dhcpd.conf"), self.dir.path("charruad.pid"));
        let [conf, leases, pid_file] = [&conf, &self.leases, &pid].map(|p| p.display().to_string());
        let args = ["-f", "-d", "-cf", &conf, "-lf", &leases, "-pf", &pid_file];
        let mut server = self.ns.spawn(charruad(), &args, &self.dir.path(log));
        // The pid file is written once the sockets are open and the leases loaded.
        let own = format!("{}\n", server.pid());
        let ready = wait_until(Duration::from_secs(10), || {
            std::fs::read_to_string(&pid).is_ok_and(|text| text == own)
        });
        if !ready {
            server.kill();
            panic!("charruad did not start:\n{}", server.output());
        }
        server
    }

    /// Stops it with SIGTERM and checks that it exits with status 0, soon.
    fn stop(server: &mut Proc) {
        server.signal("TERM");
        let status = server.wait(EXIT_WAIT);
        assert!(
            status.is_some_and(|s| s.success()),
            "charruad did not exit cleanly on SIGTERM ({status:?}):\n{}",
            server.output()
        );
    }

    /// The last record of `address` in the lease file.
    fn record(&self, address: &str) -> Option<Record> {
        journal_record(&self.leases, address)
    }
}

/// The fields of a lease record that the tests look at.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Record {
    state: String,
    ends: String,
    hardware: String,
}

/// The last record of `address` in a dhcpd.leases-format file; the last one is in force.
fn journal_record(path: &Path, address: &str) -> Option<Record> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut last = None;
    let mut current: Option<Record> = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("lease ") {
            current = (rest.trim_end_matches('{').trim() == address).then(Record::default);
        } else if line == "}" {
            last = current.take().or(last);
        } else if let Some(record) = current.as_mut() {
            let value = |key: &str| line.strip_prefix(key).map(|v| v.trim_end_matches(';'));
            if let Some(v) = value("binding state ") {
                record.state = v.to_owned();
            } else if let Some(v) = value("ends ") {
                record.ends = v.to_owned();
            } else if let Some(v) = value("hardware ethernet ") {
                record.hardware = v.to_owned();
            }
        }
    }
    last
}

/// Counts `DHCPREQUEST -> DHCPACK` lines of `mac` for `address` in a `charruad` log.
fn acks_for(log: &str, mac: &str, address: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("DHCPREQUEST -> DHCPACK"))
        .filter(|l| l.contains(&format!("client={mac}")))
        .filter(|l| l.contains(&format!("address={address} ")))
        .count()
}

/// A real DHCP client program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dhclient,
    Udhcpc,
    Dhcpcd,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Dhclient => "dhclient",
            Kind::Udhcpc => "udhcpc",
            Kind::Dhcpcd => "dhcpcd",
        }
    }

    /// The hook environment variable that carries `what`: `ip`, `routers`, `dns`,
    /// `domain`, `search` or `mtu`.
    fn variable(self, what: &str) -> &'static str {
        let udhcpc = self == Kind::Udhcpc;
        match what {
            "ip" if udhcpc => "ip",
            "ip" => "new_ip_address",
            "routers" if udhcpc => "router",
            "routers" => "new_routers",
            "dns" if udhcpc => "dns",
            "dns" => "new_domain_name_servers",
            "domain" if udhcpc => "domain",
            "domain" => "new_domain_name",
            "search" if udhcpc => "search",
            "search" => "new_domain_search",
            "mtu" if udhcpc => "mtu",
            "mtu" => "new_interface_mtu",
            other => panic!("no hook variable for {other}"),
        }
    }

    /// The hook event of a client started again with its old lease, once it has it back.
    fn reboot_event(self) -> &'static str {
        match self {
            // udhcpc has no INIT-REBOOT: -r asks for the address in its DISCOVER.
            Kind::Udhcpc => "BOUND",
            Kind::Dhclient | Kind::Dhcpcd => "REBOOT",
        }
    }
}

/// One client on one interface, with its files in its own directory. Its hook appends
/// `EVENT ADDRESS` to `events` (events in upper case) and writes its environment to
/// `env.EVENT`.
struct Client<'a> {
    kind: Kind,
    ns: &'a Netns,
    dev: String,
    dir: PathBuf,
    /// `udhcpc` only: probe the offered address with ARP and decline it if it is in use.
    arp_probe: bool,
}

impl<'a> Client<'a> {
    fn new(kind: Kind, ns: &'a Netns, dev: &str, parent: &TempDir) -> Client<'a> {
        let dir = parent.path(&format!("{}-{dev}", kind.name()));
        std::fs::create_dir_all(&dir).expect("client directory");
        let client = Client {
            kind,
            ns,
            dev: dev.to_owned(),
            dir,
            arp_probe: false,
        };
        client.write_files();
        client
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn write_files(&self) {
        let configure = match self.kind {
            Kind::Dhclient => {
                "case \"$reason\" in
  PREINIT) ip link set dev \"$interface\" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    ip addr replace \"$new_ip_address/$new_subnet_mask\" dev \"$interface\" ;;
  EXPIRE|FAIL|RELEASE|STOP)
    [ -z \"$old_ip_address\" ] ||
      ip addr del \"$old_ip_address/$old_subnet_mask\" dev \"$interface\" ;;
esac"
            }
            Kind::Udhcpc => {
                "reason=$(echo \"$1\" | tr '[:lower:]' '[:upper:]')
new_ip_address=$ip
case \"$1\" in
  deconfig) ip -4 addr flush dev \"$interface\" ;;
  bound|renew) ip addr replace \"$ip/$mask\" dev \"$interface\" ;;
esac"
            }
            // dhcpcd configures the interface itself.
            Kind::Dhcpcd => "",
        };
        let hook = format!(
            "#!/bin/sh\n{configure}\nenv > '{env}'.\"$reason\"\n\
             echo \"$reason $new_ip_address\" >> '{events}'\nexit 0\n",
            env = self.file("env"),
            events = self.file("events"),
        );
        write_executable(&self.dir.join("hook"), &hook);
        let conf = match self.kind {
            Kind::Dhclient => {
                "request subnet-mask, broadcast-address, routers, domain-name,
        domain-name-servers, domain-search, interface-mtu;\n"
            }
            Kind::Dhcpcd => {
                "clientid
option domain_name_servers, domain_name, domain_search, interface_mtu
require dhcp_server_identifier
ipv4only
noipv4ll
noarp\n"
            }
            Kind::Udhcpc => "",
        };
        std::fs::write(self.dir.join("client.conf"), conf).expect("client configuration");
        match self.kind {
            // dhclient refuses a lease file that does not exist.
            Kind::Dhclient => {
                std::fs::write(self.dir.join("dhclient.leases"), "").expect("dhclient lease file");
            }
            // Bind-mounted over /run and /var/lib/dhcpcd.
            Kind::Dhcpcd => {
                for name in ["run", "db"] {
                    std::fs::create_dir_all(self.dir.join(name)).expect("dhcpcd directory");
                }
            }
            Kind::Udhcpc => {}
        }
    }

    /// `dhclient`'s arguments before the interface, shared by the client and `-r`.
    fn dhclient_args(&self) -> Vec<String> {
        let mut args: Vec<String> = ["-4", "-v"].map(String::from).to_vec();
        for (flag, file) in [
            ("-cf", "client.conf"),
            ("-lf", "dhclient.leases"),
            ("-pf", "pid"),
            ("-sf", "hook"),
        ] {
            args.extend([flag.to_owned(), self.file(file)]);
        }
        args
    }

    /// Starts the client, logging to `log` in its directory; `udhcpc` asks for `address`.
    fn start(&self, log: &str, address: Option<&str>) -> Proc {
        let log = self.dir.join(log);
        match self.kind {
            Kind::Dhclient => {
                let mut args = vec!["-d".to_owned()];
                args.extend(self.dhclient_args());
                args.push(self.dev.clone());
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                self.ns.spawn("dhclient", &args, &log)
            }
            Kind::Udhcpc => {
                let (hook, pid) = (self.file("hook"), self.file("pid"));
                let mut args = vec!["udhcpc", "-f", "-i", &self.dev, "-s", &hook, "-p", &pid];
                args.extend(["-t", "5", "-T", "2", "-A", "2", "-O", "search", "-O", "mtu"]);
                if let Some(address) = address {
                    args.extend(["-r", address]);
                }
                if self.arp_probe {
                    args.push("-a");
                }
                self.ns.spawn("busybox", &args, &log)
            }
            Kind::Dhcpcd => {
                let script = "mount -n --bind \"$1/run\" /run && \
                              mount -n --bind \"$1/db\" /var/lib/dhcpcd && shift && exec \"$@\"";
                let dir = self.dir.display().to_string();
                let (conf, hook) = (self.file("client.conf"), self.file("hook"));
                let dhcpcd = [
                    "dhcpcd", "-4", "-B", "-d", "-f", &conf, "-c", &hook, "-t", "20",
                ];
                let mut args = vec!["-c", script, "sh", &dir];
                args.extend(dhcpcd);
                args.push(&self.dev);
                self.ns.spawn("sh", &args, &log)
            }
        }
    }

    /// The events so far: (event, address).
    fn events(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.dir.join("events")).unwrap_or_default();
        text.lines()
            .map(|line| {
                let (event, address) = line.split_once(' ').unwrap_or((line, ""));
                (event.to_owned(), address.trim().to_owned())
            })
            .collect()
    }

    /// How many times `event` happened so far.
    fn count(&self, event: &str) -> usize {
        self.events().iter().filter(|(e, _)| e == event).count()
    }

    /// Waits until `event` has happened more than `before` times; its latest address.
    fn wait_event(&self, event: &str, before: usize, limit: Duration, client: &Proc) -> String {
        let happened = wait_until(limit, || self.count(event) > before);
        assert!(
            happened,
            "{}: no {event} event\n{}",
            self.kind.name(),
            self.report(client)
        );
        let events = self.events();
        let (_, address) = events
            .iter()
            .rev()
            .find(|(e, _)| e == event)
            .expect("seen above");
        address.clone()
    }

    /// The hook environment of the latest `event`.
    fn env(&self, event: &str) -> HashMap<String, String> {
        let text =
            std::fs::read_to_string(self.dir.join(format!("env.{event}"))).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// The value of `what` (see [`Kind::variable`]) in a hook environment, with search
    /// domains written without their final dot.
    fn option(&self, env: &HashMap<String, String>, what: &str) -> String {
        let value = env
            .get(self.kind.variable(what))
            .cloned()
            .unwrap_or_default();
        value
            .split_whitespace()
            .map(|s| s.trim_end_matches('.'))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The client's events and log, for failure messages.
    fn report(&self, client: &Proc) -> String {
        let events = std::fs::read_to_string(self.dir.join("events")).unwrap_or_default();
        format!("events:\n{events}\nlog:\n{}", client.output())
    }

    /// Runs `dhcpcd ARG` inside the running `dhcpcd`'s namespaces, which hold its socket.
    fn dhcpcd_control(&self, client: &Proc, arg: &str) {
        let pid = client.pid().to_string();
        let conf = self.file("client.conf");
        let output = Command::new("timeout")
            .args([
                "10", "nsenter", "-t", &pid, "-m", "-n", "dhcpcd", "-4", "-f", &conf, arg,
            ])
            .arg(&self.dev)
            .output()
            .expect("running dhcpcd");
        assert!(
            output.status.success(),
            "dhcpcd {arg} failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            self.report(client)
        );
    }

    /// Asks for a renewal, which the client sends unicast to the server. `dhclient` has no
    /// such command: it renews at T1.
    fn renew(&self, client: &Proc) {
        match self.kind {
            Kind::Dhclient => {}
            Kind::Udhcpc => client.signal("USR1"),
            Kind::Dhcpcd => self.dhcpcd_control(client, "-N"),
        }
    }

    /// Releases the lease and stops the client.
    fn release(&self, client: &mut Proc) {
        match self.kind {
            Kind::Dhclient => {
                // -r sends DHCPRELEASE for the lease in the lease file and stops the running
                // dhclient through its pid file.
                let mut args = vec!["20", "ip", "netns", "exec", &self.ns.name, "dhclient", "-r"];
                let rest = self.dhclient_args();
                args.extend(rest.iter().map(String::as_str));
                args.push(&self.dev);
                let output = Command::new("timeout")
                    .args(&args)
                    .output()
                    .expect("dhclient -r");
                assert!(
                    output.status.success(),
                    "dhclient -r failed: {}\n{}",
                    String::from_utf8_lossy(&output.stderr),
                    self.report(client)
                );
            }
            Kind::Udhcpc => {
                let before = self.count("DECONFIG");
                client.signal("USR2");
                self.wait_event("DECONFIG", before, EXIT_WAIT, client);
                client.signal("TERM");
            }
            // With no interface left to manage, dhcpcd exits.
            Kind::Dhcpcd => self.dhcpcd_control(client, "-k"),
        }
        if client.wait(EXIT_WAIT).is_none() {
            client.kill();
        }
    }

    /// Stops the client without releasing its lease.
    fn stop(client: &mut Proc) {
        client.signal("TERM");
        if client.wait(EXIT_WAIT).is_none() {
            client.kill();
        }
    }
}

/// A client's events and log, then a server's log, for failure messages.
fn context(client: &Client<'_>, running: &Proc, server: &Proc) -> String {
    format!(
        "{}\nserver log:\n{}",
        client.report(running),
        server.output()
    )
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// The whole life of one lease with one client: DORA with the configured options, a
/// renewal, INIT-REBOOT after a server restart, and release.
fn gets_renews_keeps_and_releases(kind: Kind) {
    const MAC: &str = "02:00:00:00:00:11";
    let dir = TempDir::new("t");
    let net = Net::new(1);
    let (_, dev) = link(&net.server, "192.0.2.1/24", &net.clients[0], "");
    set_mac(&net.clients[0], &dev, MAC);
    std::fs::write(
        dir.path("dhcpd.conf"),
        config(SHORT_LEASE, Some(RENEWAL), &["192.0.2"]),
    )
    .expect("configuration");
    std::fs::write(dir.path("charruad.leases"), "").expect("lease file");
    let charruad = Charruad {
        ns: &net.server,
        dir: &dir,
        leases: dir.path("charruad.leases"),
    };
    let mut server = charruad.start("charruad-1.log");
    let client = Client::new(kind, &net.clients[0], &dev, &dir);
    let mut running = client.start("client-1.log", None);

    // DORA, with the configured options.
    let address = client.wait_event("BOUND", 0, BIND_WAIT, &running);
    assert!(
        in_range(&address, "192.0.2"),
        "{address} is outside the range\n{}",
        context(&client, &running, &server)
    );
    let env = client.env("BOUND");
    for (what, wanted) in [
        ("ip", address.as_str()),
        ("routers", "192.0.2.1"),
        ("dns", "192.0.2.1 192.0.2.2"),
        ("domain", "example.org"),
        ("search", "example.org lab.example.org"),
        ("mtu", "1400"),
    ] {
        assert_eq!(
            client.option(&env, what),
            wanted,
            "{what} (hook variable {}) in the BOUND event",
            kind.variable(what)
        );
    }
    let bound = charruad
        .record(&address)
        .expect("the lease is in the journal");
    assert_eq!(
        (bound.state.as_str(), bound.hardware.as_str()),
        ("active", MAC),
        "{bound:?}"
    );

    // Renewal: unicast DHCPREQUEST, DHCPACK, and the lease's end moves.
    let acks = acks_for(&server.output(), MAC, &address);
    std::thread::sleep(Duration::from_millis(1100)); // so that the new end differs
    let renewals = client.count("RENEW");
    client.renew(&running);
    let renewed = client.wait_event("RENEW", renewals, RENEW_WAIT, &running);
    assert_eq!(renewed, address, "{}", context(&client, &running, &server));
    assert!(
        acks_for(&server.output(), MAC, &address) > acks,
        "no renewal ACK\n{}",
        context(&client, &running, &server)
    );
    let moved = wait_until(EXIT_WAIT, || {
        charruad
            .record(&address)
            .is_some_and(|r| r.state == "active" && r.ends != bound.ends)
    });
    assert!(
        moved,
        "the journal's end did not move: {:?}",
        charruad.record(&address)
    );

    // Restart the server on the same journal; the client comes back with its lease.
    Client::stop(&mut running);
    Charruad::stop(&mut server);
    let mut server = charruad.start("charruad-2.log");
    let event = kind.reboot_event();
    let before = client.count(event);
    let mut running = client.start("client-2.log", Some(&address));
    let again = client.wait_event(event, before, BIND_WAIT, &running);
    assert_eq!(
        again,
        address,
        "a different address after restart\n{}",
        context(&client, &running, &server)
    );
    assert!(
        acks_for(&server.output(), MAC, &address) > 0,
        "no ACK\n{}",
        context(&client, &running, &server)
    );
    if kind != Kind::Udhcpc {
        // INIT-REBOOT: a REQUEST straight away, no DISCOVER.
        assert!(
            !server.output().contains("DHCPDISCOVER"),
            "not INIT-REBOOT\n{}",
            context(&client, &running, &server)
        );
    }

    // Release.
    client.release(&mut running);
    let released = wait_until(EXIT_WAIT, || {
        charruad
            .record(&address)
            .is_some_and(|r| r.state == "released" || r.state == "free")
    });
    let record = charruad.record(&address);
    assert!(
        released,
        "not released: {record:?}\ncharruad:\n{}",
        server.output()
    );
    Charruad::stop(&mut server);
}

#[test]
fn dhclient_gets_renews_keeps_and_releases_a_lease() {
    require_netns!();
    gets_renews_keeps_and_releases(Kind::Dhclient);
}

#[test]
fn udhcpc_gets_renews_keeps_and_releases_a_lease() {
    require_netns!();
    gets_renews_keeps_and_releases(Kind::Udhcpc);
}

#[test]
fn dhcpcd_gets_renews_keeps_and_releases_a_lease() {
    require_netns!();
    gets_renews_keeps_and_releases(Kind::Dhcpcd);
}

/// One `charruad` on two interfaces, each with an address in its own subnet: a client on
/// each gets an address, and the router, of its own subnet.
#[test]
fn serves_two_subnets_on_two_interfaces() {
    require_netns!();
    let prefixes = ["192.0.2", "198.51.100"];
    let dir = TempDir::new("t");
    let net = Net::new(prefixes.len());
    let devs: Vec<String> = net
        .clients
        .iter()
        .zip(prefixes)
        .map(|(ns, prefix)| link(&net.server, &format!("{prefix}.1/24"), ns, "").1)
        .collect();
    std::fs::write(dir.path("dhcpd.conf"), config(LONG_LEASE, None, &prefixes))
        .expect("configuration");
    std::fs::write(dir.path("charruad.leases"), "").expect("lease file");
    let charruad = Charruad {
        ns: &net.server,
        dir: &dir,
        leases: dir.path("charruad.leases"),
    };
    let mut server = charruad.start("charruad.log");
    assert_eq!(
        server.output().matches(" serving ").count(),
        2,
        "{}",
        server.output()
    );

    let clients: Vec<Client<'_>> = net
        .clients
        .iter()
        .zip(&devs)
        .map(|(ns, dev)| Client::new(Kind::Udhcpc, ns, dev, &dir))
        .collect();
    let running: Vec<Proc> = clients
        .iter()
        .map(|c| c.start("client.log", None))
        .collect();
    for ((client, running), prefix) in clients.iter().zip(&running).zip(prefixes) {
        let address = client.wait_event("BOUND", 0, BIND_WAIT, running);
        assert!(
            in_range(&address, prefix),
            "{address} is not from {prefix}\n{}",
            context(client, running, &server)
        );
        let router = client.option(&client.env("BOUND"), "routers");
        assert_eq!(
            router,
            format!("{prefix}.1"),
            "{}",
            context(client, running, &server)
        );
        let record = charruad.record(&address);
        assert!(
            record.is_some_and(|r| r.state == "active"),
            "not in the journal\n{}",
            context(client, running, &server)
        );
    }
    Charruad::stop(&mut server);
}

/// ISC `dhcpd` leases addresses to three clients on one bridged link; `charruad` then
/// takes over with the same dhcpd.conf and dhcpd.leases. A new client gets another address,
/// and each old client's unicast renewal is acknowledged for the address `dhcpd` gave it.
#[test]
fn migrates_from_isc_dhcpd_keeping_every_address() {
    require_netns!();
    const CLIENTS: usize = 3;
    let dir = TempDir::new("t");
    // The last client namespace is for the client that arrives after the migration.
    let net = Net::new(CLIENTS + 1);
    let bridge = common::unique("br");
    net.server
        .run(&["ip", "link", "add", &bridge, "type", "bridge"]);
    net.server
        .run(&["ip", "addr", "add", "192.0.2.1/24", "dev", &bridge]);
    net.server.run(&["ip", "link", "set", &bridge, "up"]);
    let _ = net
        .server
        .command("ethtool")
        .args(["-K", &bridge, "tx", "off"])
        .output();
    let mut clients = Vec::new();
    let mut macs = Vec::new();
    for (i, ns) in net.clients.iter().enumerate() {
        let (port, dev) = link(&net.server, "", ns, "");
        net.server
            .run(&["ip", "link", "set", &port, "master", &bridge]);
        let mac = format!("02:00:00:00:01:{:02x}", i + 1);
        set_mac(ns, &dev, &mac);
        macs.push(mac);
        clients.push(Client::new(Kind::Udhcpc, ns, &dev, &dir));
    }

    let conf = dir.path("dhcpd.conf");
    let leases = dir.path("dhcpd.leases");
    std::fs::write(&conf, config(LONG_LEASE, None, &["192.0.2"])).expect("configuration");
    std::fs::write(&leases, "").expect("lease file"); // dhcpd needs one to start
    let [conf_arg, leases_arg, pid_arg] =
        [&conf, &leases, &dir.path("dhcpd.pid")].map(|p| p.display().to_string());
    let args = [
        "-4",
        "-f",
        "-d",
        "-cf",
        &conf_arg,
        "-lf",
        &leases_arg,
        "-pf",
        &pid_arg,
        &bridge,
    ];
    let mut dhcpd = net.server.spawn("dhcpd", &args, &dir.path("dhcpd.log"));
    let started = wait_until(Duration::from_secs(10), || {
        dhcpd.output().contains("Server starting service")
    });
    assert!(started, "dhcpd did not start:\n{}", dhcpd.output());

    let running: Vec<Proc> = clients[..CLIENTS]
        .iter()
        .map(|c| c.start("client.log", None))
        .collect();
    let mut addresses = Vec::new();
    for ((client, running), mac) in clients.iter().zip(&running).zip(&macs) {
        let address = client.wait_event("BOUND", 0, BIND_WAIT, running);
        assert!(
            in_range(&address, "192.0.2"),
            "{address}\n{}",
            context(client, running, &dhcpd)
        );
        let acked = format!("DHCPACK on {address} to {mac}");
        assert!(
            dhcpd.output().contains(&acked),
            "dhcpd did not log {acked}\n{}",
            context(client, running, &dhcpd)
        );
        addresses.push(address);
    }
    dhcpd.signal("TERM");
    assert!(
        dhcpd.wait(EXIT_WAIT).is_some(),
        "dhcpd did not stop:\n{}",
        dhcpd.output()
    );

    let charruad = Charruad {
        ns: &net.server,
        dir: &dir,
        leases,
    };
    let mut server = charruad.start("charruad.log");
    for (address, mac) in addresses.iter().zip(&macs) {
        let record = charruad.record(address).unwrap_or_default();
        assert_eq!(
            (record.state.as_str(), record.hardware.as_str()),
            ("active", mac.as_str())
        );
    }
    // A new client, before the old ones renew: the loaded leases alone keep their addresses.
    let newcomer = &clients[CLIENTS];
    let late = newcomer.start("client.log", None);
    let address = newcomer.wait_event("BOUND", 0, BIND_WAIT, &late);
    assert!(
        in_range(&address, "192.0.2"),
        "{address}\n{}",
        server.output()
    );
    assert!(
        !addresses.contains(&address),
        "{address} was dhcpd's\n{}",
        server.output()
    );
    for ((client, running), (address, mac)) in clients
        .iter()
        .zip(&running)
        .zip(addresses.iter().zip(&macs))
    {
        let before = client.count("RENEW");
        client.renew(running);
        let renewed = client.wait_event("RENEW", before, RENEW_WAIT, running);
        assert_eq!(&renewed, address, "{}", context(client, running, &server));
        assert!(
            acks_for(&server.output(), mac, address) > 0,
            "no ACK\n{}",
            context(client, running, &server)
        );
    }

    Charruad::stop(&mut server);
}

/// An INIT-REBOOT request for an address outside every configured subnet is refused by an
/// authoritative server, and the client then gets an address the usual way.
#[test]
fn answers_a_request_for_a_foreign_address_with_nak_when_authoritative() {
    require_netns!();
    const MAC: &str = "02:00:00:00:00:21";
    let dir = TempDir::new("t");
    let net = Net::new(1);
    let (_, dev) = link(&net.server, "192.0.2.1/24", &net.clients[0], "");
    set_mac(&net.clients[0], &dev, MAC);
    std::fs::write(
        dir.path("dhcpd.conf"),
        config(LONG_LEASE, None, &["192.0.2"]),
    )
    .expect("configuration");
    std::fs::write(dir.path("charruad.leases"), "").expect("lease file");
    let charruad = Charruad {
        ns: &net.server,
        dir: &dir,
        leases: dir.path("charruad.leases"),
    };
    let mut server = charruad.start("charruad.log");

    // A remembered, unexpired lease on a network this server does not serve.
    let client = Client::new(Kind::Dhclient, &net.clients[0], &dev, &dir);
    let foreign = format!(
        "lease {{
  interface \"{dev}\";
  fixed-address 203.0.113.9;
  option subnet-mask 255.255.255.0;
  option dhcp-lease-time {LONG_LEASE};
  option dhcp-server-identifier 203.0.113.1;
  renew 4 2037/12/31 00:00:00;
  rebind 4 2037/12/31 00:00:00;
  expire 4 2037/12/31 00:00:00;
}}
"
    );
    std::fs::write(client.dir.join("dhclient.leases"), foreign).expect("dhclient lease file");
    let running = client.start("client.log", None);
    let address = client.wait_event("BOUND", 0, BIND_WAIT, &running);
    let report = context(&client, &running, &server);
    assert!(in_range(&address, "192.0.2"), "{address}\n{report}");
    let lines: Vec<&str> = report.lines().collect();
    let position = |what: &str| lines.iter().position(|l| l.contains(what));
    let nak = position("DHCPREQUEST -> DHCPNAK").unwrap_or_else(|| panic!("no NAK\n{report}"));
    assert!(lines[nak].contains(&format!("client={MAC}")), "{report}");
    let offer = position("DHCPDISCOVER -> DHCPOFFER").unwrap_or_else(|| panic!("{report}"));
    assert!(nak < offer, "the NAK did not come first\n{report}");
    assert!(
        charruad.record("203.0.113.9").is_none(),
        "the foreign address was recorded"
    );
    Charruad::stop(&mut server);
}

/// A client that finds the acknowledged address already in use on the link declines it:
/// the server records the address as abandoned and gives the client another.
#[test]
fn udhcpc_declines_an_address_in_use_and_gets_another() {
    require_netns!();
    // The server hands out the lowest free address first: this one, which the server
    // namespace answers ARP for (through its loopback) though no DHCP client holds it.
    const IN_USE: &str = "192.0.2.100";
    let dir = TempDir::new("t");
    let net = Net::new(1);
    let (_, dev) = link(&net.server, "192.0.2.1/24", &net.clients[0], "");
    net.server
        .run(&["ip", "addr", "add", &format!("{IN_USE}/32"), "dev", "lo"]);
    std::fs::write(
        dir.path("dhcpd.conf"),
        config(LONG_LEASE, None, &["192.0.2"]),
    )
    .expect("configuration");
    std::fs::write(dir.path("charruad.leases"), "").expect("lease file");
    let charruad = Charruad {
        ns: &net.server,
        dir: &dir,
        leases: dir.path("charruad.leases"),
    };
    let mut server = charruad.start("charruad.log");

    let mut client = Client::new(Kind::Udhcpc, &net.clients[0], &dev, &dir);
    client.arp_probe = true;
    let running = client.start("client.log", None);
    let address = client.wait_event("BOUND", 0, BIND_WAIT, &running);
    let report = context(&client, &running, &server);
    assert!(
        in_range(&address, "192.0.2") && address != IN_USE,
        "{address}\n{report}"
    );
    assert!(
        report.contains(&format!("DHCPDECLINE {IN_USE} from")),
        "{report}"
    );
    let record = charruad.record(IN_USE).unwrap_or_default();
    assert_eq!(record.state, "abandoned", "{record:?}\n{report}");
    Charruad::stop(&mut server);
}
