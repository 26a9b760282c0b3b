//! Test networks: network namespaces joined by veth pairs, and processes started in them
//! that are stopped by PID when the test ends, however it ends.
//!
//! Only 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 198.18.0.0/15 are used; nothing
//! touches the root namespace's interfaces.

#![allow(dead_code, reason = "each test file uses a part of the harness")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// True when network namespace tests are asked for (`scripts/test` sets this as root).
pub(crate) fn enabled() -> bool {
    std::env::var_os("CHARRUA_NETNS_TESTS").is_some()
}

/// Skips the calling test, saying why, unless namespace tests are enabled.
#[macro_export]
macro_rules! require_netns {
    () => {
        if !common::enabled() {
            eprintln!("skipped: set CHARRUA_NETNS_TESTS=1 as root (scripts/test does)");
            return;
        }
    };
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A name unique to this process and call: `chr-PID-N-what`, at most 15 bytes for links.
pub(crate) fn unique(what: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("c{}{}{}", std::process::id() % 100_000, what, n)
}

/// Runs a command and fails the test if it fails.
pub(crate) fn sh(program: &str, args: &[&str]) -> Output {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A network namespace, deleted on drop.
pub(crate) struct Netns {
    pub(crate) name: String,
}

impl Netns {
    pub(crate) fn new(what: &str) -> Netns {
        let name = unique(what);
        sh("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.run(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    /// Runs a command in the namespace and fails the test if it fails.
    pub(crate) fn run(&self, command: &[&str]) -> Output {
        let mut args = vec!["netns", "exec", &self.name];
        args.extend_from_slice(command);
        sh("ip", &args)
    }

    /// A command to run in the namespace.
    pub(crate) fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Starts a process in the namespace; it is killed by PID when the handle drops.
    pub(crate) fn spawn(&self, program: &str, args: &[&str], log: &Path) -> Proc {
        let file = std::fs::File::create(log).expect("log file");
        let child = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        Proc {
            child: Some(child),
            log: log.to_path_buf(),
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Joins two namespaces with a veth pair and gives each end an address (`a.b.c.d/len`).
/// Returns the interface names (first end, second end).
pub(crate) fn link(a: &Netns, a_addr: &str, b: &Netns, b_addr: &str) -> (String, String) {
    let (ea, eb) = (unique("a"), unique("b"));
    sh(
        "ip",
        &[
            "link", "add", &ea, "netns", &a.name, "type", "veth", "peer", "name", &eb, "netns",
            &b.name,
        ],
    );
    for (ns, dev, addr) in [(a, &ea, a_addr), (b, &eb, b_addr)] {
        if !addr.is_empty() {
            ns.run(&["ip", "addr", "add", addr, "dev", dev]);
        }
        ns.run(&["ip", "link", "set", dev, "up"]);
        // Checksums filled in by a NIC never are on veth: have the kernel write them.
        let _ = ns
            .command("ethtool")
            .args(["-K", dev, "tx", "off"])
            .output();
    }
    (ea, eb)
}

/// A process started by a test, killed by its PID when dropped.
pub(crate) struct Proc {
    child: Option<Child>,
    pub(crate) log: PathBuf,
}

impl Proc {
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends a signal by PID.
    pub(crate) fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status();
    }

    /// Waits up to `limit` for the process to exit; its status, if it did.
    pub(crate) fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Kills the process now (SIGKILL) and reaps it.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The log so far.
    pub(crate) fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` every 50 ms until it is true or `limit` passes.
pub(crate) fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A fresh temporary directory for one test, removed on drop.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(what: &str) -> TempDir {
        let dir = std::env::temp_dir().join(unique(what));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        TempDir(dir)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("CHARRUA_KEEP_TMP").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The `charruad` binary built for these tests.
pub(crate) fn charruad() -> &'static str {
    env!("CARGO_BIN_EXE_charruad")
}
