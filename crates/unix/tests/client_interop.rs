//! `charrua client` getting leases from real DHCP servers: dnsmasq, Kea, ISC `dhcpd` and
//! `charruad` each hand out an address with the options they were configured with, which
//! show up in the hook's environment; with `charruad`, the client also renews (unicast) and
//! releases, configures the interface and writes a resolv.conf, and comes back with
//! INIT-REBOOT from its lease file.
//!
//! Every test builds its own pair of network namespaces, named after the process id, and
//! keeps configurations, leases and logs in its own temporary directory:
//!
//! ```text
//! CHARRUA_NETNS_TESTS=1 cargo test -p charrua-unix --test client_interop -- --test-threads=1
//! ```

#[allow(
    unreachable_pub,
    reason = "the harness is shared by several test files"
)]
mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Netns, Proc, TempDir, charruad, link, wait_until};

/// The server's address; clients get addresses from `POOL`.
const SERVER: &str = "192.0.2.1";
const POOL: (&str, &str) = ("192.0.2.100", "192.0.2.150");
/// The client's MAC address.
const MAC: &str = "02:00:00:00:0c:01";
/// How long a client may take to get a lease, or a server to start.
const WAIT: Duration = Duration::from_secs(20);
/// How long a process may take to exit once told to.
const EXIT_WAIT: Duration = Duration::from_secs(5);

/// What every server is configured to send, as the hook sees it.
const EXPECTED: [(&str, &str); 5] = [
    ("CHARRUA_ROUTERS", SERVER),
    ("CHARRUA_DNS", SERVER),
    ("CHARRUA_DOMAIN", "example.org"),
    ("CHARRUA_SEARCH", "example.org lab.example.org"),
    ("CHARRUA_MTU", "1400"),
];

/// The `charrua` binary built for these tests.
fn charrua() -> &'static str {
    env!("CARGO_BIN_EXE_charrua")
}

/// A server namespace and a client namespace joined by a veth pair, the server end at
/// 192.0.2.1/24 and the client end without an address. On drop, anything still running in
/// them is killed by PID, then the namespaces are deleted.
struct Net {
    server: Netns,
    client: Netns,
    server_dev: String,
    client_dev: String,
    dir: TempDir,
}

impl Net {
    fn new() -> Net {
        let server = Netns::new("s");
        let client = Netns::new("c");
        let (server_dev, client_dev) = link(&server, &format!("{SERVER}/24"), &client, "");
        client.run(&["ip", "link", "set", "dev", &client_dev, "address", MAC]);
        let dir = TempDir::new("ci");
        let hook = format!(
            "#!/bin/sh\nenv | grep '^CHARRUA_' | sort > '{dir}/env.tmp'\n\
             mv '{dir}/env.tmp' \"{dir}/env.$CHARRUA_EVENT\"\nexit 0\n",
            dir = dir.0.display()
        );
        write_executable(&dir.path("hook"), &hook);
        Net {
            server,
            client,
            server_dev,
            client_dev,
            dir,
        }
    }

    fn file(&self, name: &str) -> String {
        self.dir.path(name).display().to_string()
    }

    /// Starts `charrua client` on the client end with `--script HOOK` and `args`.
    fn client(&self, args: &[&str], log: &str) -> Proc {
        let hook = self.file("hook");
        let mut all = vec!["client", self.client_dev.as_str(), "--script", &hook];
        all.extend_from_slice(args);
        self.client.spawn(charrua(), &all, &self.dir.path(log))
    }

    /// Runs `charrua client --once` with `args` and returns its output once it exited 0.
    fn client_once(&self, args: &[&str], log: &str, server: &Proc) -> String {
        let mut all = vec!["--once", "--timeout", "15"];
        all.extend_from_slice(args);
        let mut client = self.client(&all, log);
        let status = client.wait(WAIT);
        assert!(
            status.is_some_and(|s| s.success()),
            "charrua client --once: {status:?}\n{}\nserver:\n{}",
            client.output(),
            server.output()
        );
        client.output()
    }

    /// The hook's environment at its last `event`.
    fn hook_env(&self, event: &str) -> HashMap<String, String> {
        let text = std::fs::read_to_string(self.dir.path(&format!("env.{event}")))
            .unwrap_or_else(|e| panic!("no hook run for {event}: {e}"));
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// Waits until something listens on UDP port 67 in the server namespace, then a
    /// little longer for packet sockets.
    fn wait_for_server(&self, server: &mut Proc) {
        let listening = wait_until(WAIT, || {
            self.server
                .command("ss")
                .args(["-Hlnu", "sport = :67"])
                .output()
                .is_ok_and(|o| !o.stdout.is_empty())
        });
        if !listening || server.wait(Duration::ZERO).is_some() {
            server.kill();
            panic!("the server did not start:\n{}", server.output());
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in [&self.server, &self.client] {
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

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// The address of the `bound` line in a client's output.
fn bound_address(output: &str) -> String {
    let line = output
        .lines()
        .find(|l| l.starts_with("bound "))
        .unwrap_or_else(|| panic!("no bound line:\n{output}"));
    let address = line.split([' ', '/']).nth(1).unwrap_or_default();
    address.to_owned()
}

fn in_pool(address: &str) -> bool {
    let last = |a: &str| {
        a.rsplit('.')
            .next()
            .and_then(|o| o.parse::<u8>().ok())
            .unwrap_or(0)
    };
    address.starts_with("192.0.2.") && (last(POOL.0)..=last(POOL.1)).contains(&last(address))
}

/// Checks the hook's `bound` environment against what every server sends, and more.
fn check_bound(net: &Net, output: &str, extra: &[(&str, &str)]) -> String {
    let address = bound_address(output);
    assert!(
        in_pool(&address),
        "{address} is not from the pool\n{output}"
    );
    let env = net.hook_env("bound");
    let mut wanted: Vec<(&str, &str)> = vec![
        ("CHARRUA_EVENT", "bound"),
        ("CHARRUA_INTERFACE", &net.client_dev),
        ("CHARRUA_ADDRESS", &address),
        ("CHARRUA_PREFIX", "24"),
        ("CHARRUA_NETMASK", "255.255.255.0"),
        ("CHARRUA_SERVER", SERVER),
    ];
    wanted.extend_from_slice(&EXPECTED);
    wanted.extend_from_slice(extra);
    for (name, value) in wanted {
        assert_eq!(
            env.get(name).map(String::as_str),
            Some(value),
            "{name} in the hook's environment: {env:#?}"
        );
    }
    assert!(env.contains_key("CHARRUA_LEASE_TIME"), "{env:#?}");
    address
}

/// Option 121 as every third-party server sends it: 198.51.100.0/24 and the default route,
/// both through the server.
const ROUTES: (&str, &str) = (
    "CHARRUA_ROUTES",
    "198.51.100.0/24,192.0.2.1 0.0.0.0/0,192.0.2.1",
);
/// NTP servers (option 42), which has no variable of its own.
const NTP: (&str, &str) = ("CHARRUA_OPTION_42", "c0000201");

/// Starts dnsmasq on `net`'s server end, with its leases in `dnsmasq.leases` and `extra`
/// arguments; returns once it serves.
fn start_dnsmasq(net: &Net, extra: &[&str]) -> Proc {
    let mut args = vec![
        "--no-daemon".to_owned(),
        "--conf-file=/dev/null".to_owned(),
        "--no-hosts".to_owned(),
        "--no-resolv".to_owned(),
        "--port=0".to_owned(),
        "--no-ping".to_owned(),
        "--bind-interfaces".to_owned(),
        format!("--interface={}", net.server_dev),
        "--user=root".to_owned(),
        "--group=root".to_owned(),
        format!("--dhcp-leasefile={}", net.file("dnsmasq.leases")),
        format!("--pid-file={}", net.file("dnsmasq.pid")),
        "--log-dhcp".to_owned(),
        "--log-facility=-".to_owned(),
        "--dhcp-authoritative".to_owned(),
        format!("--dhcp-range={},{},255.255.255.0,120s", POOL.0, POOL.1),
        format!("--dhcp-option=option:router,{SERVER}"),
        format!("--dhcp-option=option:dns-server,{SERVER}"),
        "--dhcp-option=option:domain-name,example.org".to_owned(),
        "--dhcp-option=option:domain-search,example.org,lab.example.org".to_owned(),
        format!("--dhcp-option=option:ntp-server,{SERVER}"),
        "--dhcp-option=option:mtu,1400".to_owned(),
        format!(
            "--dhcp-option=option:classless-static-route,\
             198.51.100.0/24,{SERVER},0.0.0.0/0,{SERVER}"
        ),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut server = net
        .server
        .spawn("dnsmasq", &args, &net.dir.path("dnsmasq.log"));
    net.wait_for_server(&mut server);
    server
}

#[test]
fn gets_a_lease_from_dnsmasq_and_releases_it() {
    require_netns!();
    let net = Net::new();
    let leases = net.file("dnsmasq.leases");
    let server = start_dnsmasq(&net, &[]);

    let output = net.client_once(&["--release"], "client.log", &server);
    let address = check_bound(&net, &output, &[ROUTES, NTP]);
    assert!(output.contains(&format!("released {address}")), "{output}");
    assert_eq!(net.hook_env("released")["CHARRUA_ADDRESS"], address);
    // dnsmasq drops a released lease from its file.
    let gone = wait_until(EXIT_WAIT, || {
        std::fs::read_to_string(&leases).is_ok_and(|t| !t.contains(&format!(" {address} ")))
    });
    assert!(gone, "dnsmasq kept the lease\n{}", server.output());
}

#[test]
fn gets_a_lease_from_kea() {
    require_netns!();
    let net = Net::new();
    let dir = net.dir.0.display().to_string();
    let config = format!(
        r#"{{
  "Dhcp4": {{
    "interfaces-config": {{ "interfaces": [ "{dev}" ], "dhcp-socket-type": "raw" }},
    "lease-database": {{
      "type": "memfile", "persist": true, "name": "{dir}/kea-leases4.csv", "lfc-interval": 0
    }},
    "authoritative": true,
    "valid-lifetime": 300,
    "subnet4": [ {{
      "id": 1,
      "subnet": "192.0.2.0/24",
      "pools": [ {{ "pool": "{first} - {last}" }} ],
      "option-data": [
        {{ "name": "routers", "data": "{SERVER}" }},
        {{ "name": "domain-name-servers", "data": "{SERVER}" }},
        {{ "name": "domain-name", "data": "example.org" }},
        {{ "name": "domain-search", "data": "example.org, lab.example.org" }},
        {{ "name": "ntp-servers", "data": "{SERVER}" }},
        {{ "name": "interface-mtu", "data": "1400" }},
        {{ "code": 121, "space": "dhcp4", "csv-format": false,
           "data": "18C63364C000020100C0000201" }}
      ]
    }} ],
    "loggers": [ {{
      "name": "kea-dhcp4",
      "output_options": [ {{ "output": "{dir}/kea-dhcp4.out" }} ],
      "severity": "INFO"
    }} ]
  }}
}}
"#,
        dev = net.server_dev,
        first = POOL.0,
        last = POOL.1,
    );
    let conf = net.file("kea-dhcp4.json");
    std::fs::write(&conf, config).expect("kea configuration");
    let pid_dir = format!("KEA_PIDFILE_DIR={dir}");
    let lock_dir = format!("KEA_LOCKFILE_DIR={dir}");
    let args = [pid_dir.as_str(), &lock_dir, "kea-dhcp4", "-c", &conf];
    let mut server = net.server.spawn("env", &args, &net.dir.path("kea.log"));
    net.wait_for_server(&mut server);

    let args = [
        "--request-address",
        "192.0.2.120",
        "--client-id",
        "ff:00:00:00:01:00:01:c3:5e",
        "--vendor-class",
        "charrua-test",
    ];
    let output = net.client_once(&args, "client.log", &server);
    let address = check_bound(&net, &output, &[ROUTES, NTP]);
    assert_eq!(address, "192.0.2.120", "{output}");
    let log = std::fs::read_to_string(net.dir.path("kea-dhcp4.out")).unwrap_or_default();
    assert!(log.contains("cid=[ff:00:00:00:01:00:01:c3:5e]"), "{log}");
}

#[test]
fn gets_a_lease_from_isc_dhcpd() {
    require_netns!();
    let net = Net::new();
    let config = format!(
        "authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 300;
max-lease-time 300;
option rfc3442-classless-static-routes code 121 = array of integer 8;
subnet 192.0.2.0 netmask 255.255.255.0 {{
  range {first} {last};
  option routers {SERVER};
  option domain-name-servers {SERVER};
  option domain-name \"example.org\";
  option domain-search \"example.org\", \"lab.example.org\";
  option ntp-servers {SERVER};
  option interface-mtu 1400;
  option rfc3442-classless-static-routes 24, 198, 51, 100, 192, 0, 2, 1, 0, 192, 0, 2, 1;
}}
",
        first = POOL.0,
        last = POOL.1,
    );
    let (conf, leases, pid) = (
        net.file("dhcpd.conf"),
        net.file("dhcpd.leases"),
        net.file("dhcpd.pid"),
    );
    std::fs::write(&conf, config).expect("dhcpd.conf");
    std::fs::write(&leases, "").expect("dhcpd.leases"); // dhcpd wants the file to exist
    let args = [
        "-4",
        "-f",
        "-d",
        "-cf",
        &conf,
        "-lf",
        &leases,
        "-pf",
        &pid,
        &net.server_dev,
    ];
    let mut server = net.server.spawn("dhcpd", &args, &net.dir.path("dhcpd.log"));
    net.wait_for_server(&mut server);

    let output = net.client_once(&["--hostname", "charrua-test"], "client.log", &server);
    check_bound(&net, &output, &[ROUTES, NTP]);
    assert!(
        server.output().contains("charrua-test"),
        "dhcpd did not see the host name\n{}",
        server.output()
    );
}

/// A dhcpd.conf for `charruad`: a lease of `lease` seconds with T1 `renewal`.
fn charruad_config(lease: u32, renewal: u32) -> String {
    format!(
        "authoritative;
ddns-update-style none;
ping-check false;
default-lease-time {lease};
max-lease-time {lease};
subnet 192.0.2.0 netmask 255.255.255.0 {{
  range {first} {last};
  option routers {SERVER};
  option domain-name-servers {SERVER};
  option domain-name \"example.org\";
  option domain-search \"example.org\", \"lab.example.org\";
  option interface-mtu 1400;
  option dhcp-renewal-time {renewal};
}}
",
        first = POOL.0,
        last = POOL.1,
    )
}

/// Starts `charruad` on `net`'s server end with `config`; returns once it serves.
fn start_charruad(net: &Net, config: &str) -> Proc {
    let (conf, leases, pid) = (
        net.file("dhcpd.conf"),
        net.file("charruad.leases"),
        net.file("charruad.pid"),
    );
    std::fs::write(&conf, config).expect("dhcpd.conf");
    let args = ["-f", "-d", "-cf", &conf, "-lf", &leases, "-pf", &pid];
    let mut server = net
        .server
        .spawn(charruad(), &args, &net.dir.path("charruad.log"));
    let own = format!("{}\n", server.pid());
    let ready = wait_until(WAIT, || {
        std::fs::read_to_string(&pid).is_ok_and(|text| text == own)
    });
    if !ready {
        server.kill();
        panic!("charruad did not start:\n{}", server.output());
    }
    server
}

/// The binding state of the last record of `address` in a dhcpd.leases-format journal.
fn journal_state(path: &str, address: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let (mut current, mut last) = (None, None);
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("lease ") {
            current = (rest.trim_end_matches('{').trim() == address).then(String::new);
        } else if line == "}" {
            last = current.take().or(last);
        } else if let (Some(state), Some(value)) =
            (current.as_mut(), line.strip_prefix("binding state "))
        {
            value.trim_end_matches(';').clone_into(state);
        }
    }
    last
}

#[test]
fn gets_a_lease_from_charruad_and_comes_back_with_init_reboot() {
    require_netns!();
    let net = Net::new();
    let server = start_charruad(&net, &charruad_config(300, 150));
    let lease_file = net.file("client.lease");

    let output = net.client_once(&["--lease-file", &lease_file], "client.log", &server);
    let address = check_bound(&net, &output, &[("CHARRUA_RENEWAL_TIME", "150")]);
    let discovers = server.output().matches("DHCPDISCOVER").count();
    assert!(discovers > 0, "{}", server.output());

    // Started again with its lease file, the client asks for its address straight away.
    let mut again = net.client(
        &[
            "--once",
            "--timeout",
            "15",
            "--lease-file",
            &lease_file,
            "--json",
        ],
        "client-2.log",
    );
    let status = again.wait(WAIT);
    let output = again.output();
    assert!(status.is_some_and(|s| s.success()), "{status:?}\n{output}");
    assert!(output.contains("INIT-REBOOT"), "{output}");
    let event: serde_json::Value = output
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON event:\n{output}"));
    assert_eq!(event["event"], "bound", "{event}");
    assert_eq!(event["address"], address.as_str(), "{event}");
    assert_eq!(event["mtu"], 1400, "{event}");
    assert_eq!(
        server.output().matches("DHCPDISCOVER").count(),
        discovers,
        "not INIT-REBOOT\n{}",
        server.output()
    );
}

#[test]
fn configures_renews_and_releases_with_charruad() {
    require_netns!();
    let net = Net::new();
    let server = start_charruad(&net, &charruad_config(30, 3));
    let resolv = net.file("resolv.conf");
    let mut client = net.client(
        &["--configure", "--resolv-conf", &resolv, "--release"],
        "client.log",
    );
    // The line is printed before the hook runs: wait for both.
    let hooked = |event: &str| net.dir.path(&format!("env.{event}")).exists();
    let bound = wait_until(WAIT, || {
        client.output().contains("bound ") && hooked("bound")
    });
    assert!(bound, "not bound\n{}\n{}", client.output(), server.output());
    let address = check_bound(&net, &client.output(), &[("CHARRUA_RENEWAL_TIME", "3")]);

    // --configure: the address, the default route, the MTU and resolv.conf.
    let shown = |what: &[&str]| {
        let out = net.client.run(what);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let dev = net.client_dev.as_str();
    let addr = shown(&["ip", "-4", "addr", "show", "dev", dev]);
    assert!(addr.contains(&format!("inet {address}/24")), "{addr}");
    assert!(addr.contains("mtu 1400"), "{addr}");
    let route = shown(&["ip", "-4", "route", "show", "default"]);
    assert!(
        route.contains(&format!("via {SERVER} dev {dev}")),
        "{route}"
    );
    let conf = std::fs::read_to_string(&resolv).expect("resolv.conf written");
    assert!(
        conf.contains("search example.org lab.example.org\n"),
        "{conf}"
    );
    assert!(conf.contains(&format!("nameserver {SERVER}\n")), "{conf}");

    // Renewal at T1 (3 s): unicast DHCPREQUEST, DHCPACK.
    let renewed = wait_until(WAIT, || {
        client.output().contains("renewed ") && hooked("renewed")
    });
    assert!(
        renewed,
        "no renewal\n{}\nserver:\n{}",
        client.output(),
        server.output()
    );
    assert_eq!(net.hook_env("renewed")["CHARRUA_ADDRESS"], address);

    // SIGTERM: DHCPRELEASE, the address removed, exit 0.
    client.signal("TERM");
    let status = client.wait(EXIT_WAIT);
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}\n{}",
        client.output()
    );
    assert!(
        client.output().contains(&format!("released {address}")),
        "{}",
        client.output()
    );
    let journal = net.file("charruad.leases");
    let released = wait_until(EXIT_WAIT, || {
        journal_state(&journal, &address).is_some_and(|s| s == "released" || s == "free")
    });
    assert!(
        released,
        "not released: {:?}\n{}",
        journal_state(&journal, &address),
        server.output()
    );
    let addr = shown(&["ip", "-4", "addr", "show", "dev", dev]);
    assert!(!addr.contains(&address), "{addr}");
}

#[test]
fn gives_up_after_its_timeout_without_a_server() {
    require_netns!();
    let net = Net::new();
    let mut client = net.client(&["--once", "--timeout", "2"], "client.log");
    let status = client.wait(WAIT);
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(1),
        "{}",
        client.output()
    );
    assert!(client.output().contains("no lease"), "{}", client.output());
}

#[test]
fn asks_dnsmasq_for_rapid_commit_and_hides_with_the_anonymity_profile() {
    require_netns!();
    let net = Net::new();
    let server = start_dnsmasq(&net, &["--dhcp-rapid-commit"]);

    let args = [
        "--rapid-commit",
        "--hostname",
        "charrua-visible",
        "--release",
    ];
    let output = net.client_once(&args, "client.log", &server);
    check_bound(&net, &output, &[ROUTES, NTP]);
    let log = server.output();
    assert!(log.contains("charrua-visible"), "{log}");
    assert!(
        !log.contains("DHCPOFFER"),
        "rapid commit, yet an offer:\n{log}"
    );

    // RFC 7844: no host name, no rapid commit; an offer and a request again.
    let args = ["--anonymous", "--hostname", "charrua-hidden"];
    let output = net.client_once(&args, "client-2.log", &server);
    bound_address(&output);
    let log = server.output();
    assert!(!log.contains("charrua-hidden"), "{log}");
    assert!(log.contains("DHCPOFFER"), "{log}");
}
