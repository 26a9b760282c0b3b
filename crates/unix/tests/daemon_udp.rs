//! `charruad` on loopback over UDP, without namespaces: the configuration check (`-t`),
//! the pid file, reloading on SIGHUP (a bad configuration keeps the old one), a clean exit
//! on SIGTERM, and, as root, dropping privileges to another user.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use charrua_wire::{DhcpOption, EmitOptions, HardwareAddress, Message, MessageType, Op};

const CHARRUAD: &str = env!("CARGO_BIN_EXE_charruad");

struct Dir(PathBuf);

impl Dir {
    fn new(what: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("charruad-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        Dir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The daemon, killed by PID if the test ends before it exits.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(args: &[&str], log: &Path) -> Daemon {
        let file = std::fs::File::create(log).expect("log file");
        let child = Command::new(CHARRUAD)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("charruad starts");
        Daemon {
            child,
            log: log.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the log to contain `text`, up to five seconds.
    fn wait_for(&self, text: &str) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if self.log().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no {text:?} in the log:\n{}", self.log());
    }

    fn exit_status(&mut self) -> std::process::ExitStatus {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("charruad did not exit:\n{}", self.log());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(lease_time: u32) -> String {
    format!(
        "authoritative;\ndefault-lease-time {lease_time};\n\
         subnet 127.0.0.0 netmask 255.0.0.0 {{\n  range 127.0.2.1 127.0.2.50;\n}}\n"
    )
}

fn free_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("a free port");
    socket.local_addr().expect("address").port()
}

/// Runs DISCOVER and REQUEST as a relay on 127.0.0.1; returns the ACK.
fn lease(server: u16, client: u8) -> Message {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("client socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, server);
    let send = |kind, extra: Vec<DhcpOption>| {
        let mut options = vec![DhcpOption::MessageType(kind)];
        options.extend(extra);
        let m = Message {
            op: Op::BOOTREQUEST,
            xid: 7,
            giaddr: Ipv4Addr::LOCALHOST,
            chaddr: HardwareAddress::ethernet([2, 0, 0, 0, 0, client]),
            options,
            ..Message::default()
        };
        socket
            .send_to(&m.to_bytes(&EmitOptions::default()).unwrap(), to)
            .expect("send");
        let mut buf = [0u8; 1500];
        let n = socket.recv(&mut buf).expect("an answer within 3 s");
        Message::parse(&buf[..n]).expect("a valid answer")
    };
    let offer = send(MessageType::DISCOVER, vec![]);
    assert_eq!(offer.message_type(), Some(MessageType::OFFER));
    let ack = send(
        MessageType::REQUEST,
        vec![
            DhcpOption::RequestedAddress(offer.yiaddr),
            DhcpOption::ServerIdentifier(offer.server_identifier().expect("server id")),
        ],
    );
    assert_eq!(ack.message_type(), Some(MessageType::ACK));
    ack
}

fn lease_time(message: &Message) -> Option<u32> {
    message.options.iter().find_map(|o| match o {
        DhcpOption::LeaseTime(t) => Some(*t),
        _ => None,
    })
}

#[test]
fn check_mode_lists_every_problem_with_its_position() {
    let dir = Dir::new("check");
    let bad = dir.file("bad.conf");
    std::fs::write(
        &bad,
        "default-lease-time 600\nsubnet 10.0.0.0 netmask 255.0.0.0 {\n  class \"x\" { }\n}\n",
    )
    .unwrap();
    let output = Command::new(CHARRUAD)
        .args(["-t", "-cf"])
        .arg(&bad)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("bad.conf:2:1: expected ';' after \"default-lease-time 600\""),
        "{text}"
    );
    assert!(
        text.contains("bad.conf:3:3: not supported: class"),
        "{text}"
    );
    assert!(text.contains("configuration is not valid"), "{text}");

    let good = dir.file("good.conf");
    // Host names are resolved when the configuration is read, as ISC dhcpd does.
    let with_name = config(600).replace("{\n", "{\n  option domain-name-servers localhost;\n");
    std::fs::write(&good, with_name).unwrap();
    let output = Command::new(CHARRUAD)
        .args(["-t", "-cf"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("configuration is valid"));
}

#[test]
fn reloads_on_sighup_keeps_the_old_configuration_when_the_new_one_is_bad() {
    let dir = Dir::new("reload");
    let conf = dir.file("dhcpd.conf");
    let pid_file = dir.file("charruad.pid");
    std::fs::write(&conf, config(600)).unwrap();
    let port = free_port();
    let udp = format!("127.0.0.1:{port}");
    let mut daemon = Daemon::start(
        &[
            "-f",
            "--no-raw",
            "--udp",
            &udp,
            "-cf",
            conf.to_str().unwrap(),
            "-lf",
            dir.file("dhcpd.leases").to_str().unwrap(),
            "-pf",
            pid_file.to_str().unwrap(),
        ],
        &dir.file("log"),
    );
    daemon.wait_for("loaded 0 leases");
    let pid = std::fs::read_to_string(&pid_file).expect("pid file written");
    assert_eq!(pid.trim(), daemon.child.id().to_string());
    assert_eq!(lease_time(&lease(port, 1)), Some(600));

    std::fs::write(&conf, "default-lease-time 900\nsubnet oops {\n").unwrap();
    daemon.signal("HUP");
    daemon.wait_for("keeping the old one");
    assert_eq!(lease_time(&lease(port, 2)), Some(600));

    std::fs::write(&conf, config(900)).unwrap();
    daemon.signal("HUP");
    daemon.wait_for("configuration reloaded");
    assert_eq!(lease_time(&lease(port, 3)), Some(900));

    daemon.signal("USR1");
    daemon.wait_for("counters: received [DHCPDISCOVER 3, DHCPREQUEST 3]");
    daemon.signal("TERM");
    assert!(daemon.exit_status().success());
    assert!(!pid_file.exists(), "the pid file is removed at exit");
    let journal = std::fs::read_to_string(dir.file("dhcpd.leases")).unwrap();
    assert_eq!(
        journal.matches("binding state active;").count(),
        3,
        "{journal}"
    );
}

#[test]
fn drops_root_for_the_given_user() {
    if !Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
    {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = Dir::new("user");
    // The journal's directory must be the unprivileged user's to write.
    let status = Command::new("chmod")
        .arg("1777")
        .arg(&dir.0)
        .status()
        .unwrap();
    assert!(status.success());
    let conf = dir.file("dhcpd.conf");
    std::fs::write(&conf, config(600)).unwrap();
    let port = free_port();
    let udp = format!("127.0.0.1:{port}");
    let mut daemon = Daemon::start(
        &[
            "-f",
            "--no-raw",
            "--udp",
            &udp,
            "-user",
            "nobody",
            "-cf",
            conf.to_str().unwrap(),
            "-lf",
            dir.file("dhcpd.leases").to_str().unwrap(),
        ],
        &dir.file("log"),
    );
    daemon.wait_for("running as nobody");
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.child.id())).unwrap();
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_owned();
    assert!(
        !uid_line.split_whitespace().skip(1).any(|id| id == "0"),
        "{uid_line}"
    );
    assert_eq!(lease_time(&lease(port, 1)), Some(600));
    daemon.signal("TERM");
    assert!(daemon.exit_status().success());

    let refused = Command::new(CHARRUAD)
        .args([
            "-f",
            "--no-raw",
            "--udp",
            "127.0.0.1:0",
            "-user",
            "no-such-user-here",
            "-cf",
        ])
        .arg(&conf)
        .arg("-lf")
        .arg(dir.file("other.leases"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no such user"));
}
