//! `charruad`: the DHCP server daemon.
//!
//! Start-up runs in a fixed order: arguments and configuration, logging, sockets, privilege
//! drop, signal handlers, lease journal, then the event loop. The loop drains the sockets in
//! batches and runs the pure [`charrua_server::input`] on each request. Replies that promise
//! nothing durable (offers, NAKs) leave at once; the batch's lease records are appended to
//! the journal, and the replies that promise them go to the [`syncer`] threads, which send
//! them once a sync has made the records durable. Compaction of the journal also runs on a
//! thread of its own, so the loop waits neither for the disk nor for a rewrite.

mod args;
mod counters;
mod outbox;
mod syncer;
mod syslog;

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use charrua_server::{
    ConfError, Destination, Incoming, Lease, LeaseState, Leases, Outcome, Policy, Reply, Warning,
    conf, input,
};
use charrua_store::{Compacted, Journal, LeaseStore, SnapshotFeed, StoreError};
use charrua_wire::{
    CLIENT_PORT, Checksums, MacAddr, Message, MessageType, Packet, SERVER_PORT, parse_ethernet,
};
use tracing::{debug, error, info, warn};

use crate::sys::{self, FrameBatch, Interface, Mmsg, PacketSocket};
use counters::Counters;
use outbox::{Replies, Sender, Target};
use syncer::{Report, Syncer, Ticket};

/// Requests taken from one socket in one system call (and, for packet sockets, before
/// moving on, so no socket starves the others).
const BATCH: usize = 64;
/// Receive calls on the UDP socket in one batch: up to 256 requests share one append.
const UDP_RECEIVES_PER_BATCH: usize = 4;
/// Socket buffer asked for, each way: a burst of thousands of requests waits rather than
/// being dropped while a batch is synced.
const SOCKET_BUFFER: usize = 8 << 20;
/// How often the journal is compacted even when it has not grown much.
const COMPACT_EVERY: Duration = Duration::from_secs(3600);
/// How long after a failed compaction the next is tried.
const COMPACT_RETRY: Duration = Duration::from_secs(10);
/// Blank space kept written ahead of the journal's records, so that a sync need not commit
/// a new file size (see [`Journal::set_reserve`]); it is topped up a quarter of a megabyte
/// at a time, which the next sync writes out with the records.
const JOURNAL_RESERVE: u64 = 512 << 10;
/// Leases copied for a compaction between two batches: a few milliseconds of work.
const SNAPSHOT_STEP: usize = 4096;

/// Runs `charruad` with the process arguments; returns its exit status.
pub fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => return ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("charruad: {message}");
            return ExitCode::from(2);
        }
    };
    if args.test {
        return check_config(&args.config);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            error!("{message}");
            eprintln!("charruad: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `-t`: prints every problem and says whether the configuration is valid.
fn check_config(path: &Path) -> ExitCode {
    match load_config(path) {
        Ok((_, warnings)) => {
            for warning in &warnings {
                println!("{warning}");
            }
            println!("{}: configuration is valid", path.display());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for error in &errors {
                println!("{error}");
            }
            println!(
                "{}: {} problem(s), configuration is not valid",
                path.display(),
                errors.len()
            );
            ExitCode::FAILURE
        }
    }
}

/// Reads and parses the configuration, with `include` relative to its directory.
fn load_config(path: &Path) -> Result<(Policy, Vec<Warning>), Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![format!("{}: cannot read: {e}", path.display())])?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = path.display().to_string();
    match conf::parse_with(&name, &text, &mut System { dir }) {
        Ok((config, warnings)) => Ok((Policy::from_config(&config), warnings)),
        Err(errors) => Err(errors.iter().map(ConfError::to_string).collect()),
    }
}

/// What the configuration parser may ask of the system: included files, read relative to
/// the configuration's directory, and host names, resolved as the system resolves them
/// (once, when the configuration is read, as ISC dhcpd does).
struct System {
    dir: PathBuf,
}

impl conf::Environment for System {
    fn include(&mut self, name: &str) -> Result<String, String> {
        let file = if Path::new(name).is_absolute() {
            PathBuf::from(name)
        } else {
            self.dir.join(name)
        };
        std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))
    }

    fn resolve(&mut self, name: &str) -> Result<Vec<Ipv4Addr>, String> {
        use std::net::ToSocketAddrs;
        let found = (name, 0)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve: {e}"))?;
        let addresses: Vec<Ipv4Addr> = found
            .filter_map(|a| match a {
                SocketAddr::V4(a) => Some(*a.ip()),
                SocketAddr::V6(_) => None,
            })
            .collect();
        if addresses.is_empty() {
            return Err("no IPv4 address".into());
        }
        Ok(addresses)
    }
}

/// Configuration warnings: ignored statements are notes, the rest warnings.
fn log_warnings(warnings: &[Warning]) {
    for warning in warnings {
        if warning.ignored {
            info!("{warning}");
        } else {
            warn!("{warning}");
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Logs to standard error in the foreground, to the system log once detached.
fn init_logging(args: &Args) {
    let level = if args.debug { "debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if args.foreground || args.debug {
        builder
            .with_writer(io::stderr)
            .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
            .init();
    } else {
        builder
            .with_writer(syslog::Syslog::connect())
            .with_ansi(false)
            .without_time()
            .init();
    }
}

use args::Args;

/// An interface served through a packet socket.
struct Link {
    interface: Interface,
    /// Our address on it that lies in a configured subnet.
    address: Ipv4Addr,
    socket: Arc<PacketSocket>,
}

/// A compaction in progress: the thread writing the new journal and, while the loop is
/// still handing it the leases a step at a time, the feed and where the next step begins.
struct Compaction {
    thread: JoinHandle<Result<Compacted, StoreError>>,
    feed: Option<(SnapshotFeed, usize)>,
}

/// Signals, set by handlers and read by the loop.
struct Signals {
    stop: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
    report: Arc<AtomicBool>,
}

impl Signals {
    fn install() -> io::Result<Signals> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
        let signals = Signals {
            stop: Arc::new(AtomicBool::new(false)),
            reload: Arc::new(AtomicBool::new(false)),
            report: Arc::new(AtomicBool::new(false)),
        };
        signal_hook::flag::register(SIGTERM, Arc::clone(&signals.stop))?;
        signal_hook::flag::register(SIGINT, Arc::clone(&signals.stop))?;
        signal_hook::flag::register(SIGHUP, Arc::clone(&signals.reload))?;
        signal_hook::flag::register(SIGUSR1, Arc::clone(&signals.report))?;
        Ok(signals)
    }
}

struct Server {
    config_path: PathBuf,
    policy: Policy,
    leases: Leases,
    journal: Journal,
    links: Vec<Link>,
    udp: Option<UdpSocket>,
    /// Our address towards each relay, found once through the routing table.
    local_for: HashMap<Ipv4Addr, Ipv4Addr>,
    counters: Counters,
    /// Batches for the UDP socket and the packet sockets: one system call receives up to
    /// `BATCH`.
    inbox: Mmsg,
    frames: FrameBatch,
    /// Sends the replies that need no sync, from the loop itself.
    sender: Sender,
    /// Sends the others once their records are durable.
    syncer: Option<Syncer>,
    /// The batch being answered: replies that leave at once, replies that wait for the
    /// sync, and the lease records to append.
    now: Replies,
    later: Replies,
    durable: Vec<Lease>,
    /// Reply buffers back from the syncer, for the next batches.
    spare: Vec<Replies>,
    /// The journal file's generation, counted up each time a compaction replaces it.
    generation: u64,
    /// The compaction in progress, if any.
    compaction: Option<Compaction>,
    /// When the last compaction started or failed.
    last_compaction: Instant,
    /// True from a failed append or sync until a compaction has rewritten the journal.
    journal_broken: bool,
}

fn run(args: &Args) -> Result<(), String> {
    let (policy, warnings) = load_config(&args.config).map_err(|errors| errors.join("\n"))?;
    if !args.foreground && !args.debug {
        sys::daemonize().map_err(|e| format!("cannot detach: {e}"))?;
    }
    init_logging(args);
    log_warnings(&warnings);
    if !args.quiet {
        info!("charruad {} starting", env!("CARGO_PKG_VERSION"));
    }

    let links = if args.no_raw {
        Vec::new()
    } else {
        open_links(&policy, &args.interfaces)?
    };
    let udp_address = match (args.udp, links.is_empty()) {
        (Some(address), _) => Some(address),
        (None, false) => Some(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, SERVER_PORT)),
        (None, true) => None,
    };
    if links.is_empty() && udp_address.is_none() {
        return Err(
            "nothing to serve: no interface has an address in a configured subnet, \
                    and no --udp address was given"
                .into(),
        );
    }
    let udp = match udp_address {
        Some(address) => {
            let socket =
                UdpSocket::bind(address).map_err(|e| format!("cannot bind UDP {address}: {e}"))?;
            socket.set_nonblocking(true).map_err(|e| e.to_string())?;
            socket.set_broadcast(true).map_err(|e| e.to_string())?;
            sys::enlarge_buffers(&socket, SOCKET_BUFFER);
            info!("listening for relayed traffic on UDP {address}");
            Some(socket)
        }
        None => None,
    };

    let leases_path = drop_privileges(args)?;
    // Handlers go in before the journal loads, which takes seconds for millions of leases:
    // a signal meanwhile is acted on once the loop starts.
    let signals = Signals::install().map_err(|e| format!("cannot handle signals: {e}"))?;
    let mut journal =
        Journal::open(&leases_path).map_err(|e| format!("cannot open the lease journal: {e}"))?;
    journal.set_reserve(JOURNAL_RESERVE);
    let loaded = journal
        .load()
        .map_err(|e| format!("cannot load leases: {e}"))?;
    for problem in &loaded.problems {
        warn!("{problem}");
    }
    // Anyone on the network chooses the client identifiers the lease indexes hash: key the
    // hash with a secret, drawn by std from the operating system.
    let random = std::collections::hash_map::RandomState::new();
    let seed = std::hash::BuildHasher::hash_one(&random, 0u8);
    let mut leases = Leases::with_seed(seed);
    let (ranges, reserved) = policy.ranges_and_reservations();
    leases.set_ranges(&ranges, &reserved);
    let count = loaded.leases.len();
    leases.extend(loaded.leases);
    info!("loaded {count} leases from {}", leases_path.display());

    if let Some(pid_file) = &args.pid_file {
        std::fs::write(pid_file, format!("{}\n", std::process::id()))
            .map_err(|e| format!("cannot write {}: {e}", pid_file.display()))?;
    }

    let sockets = |udp: &Option<UdpSocket>| -> Result<Sender, String> {
        let udp = match udp {
            Some(socket) => Some(socket.try_clone().map_err(|e| e.to_string())?),
            None => None,
        };
        let frames = links
            .iter()
            .map(|l| (l.interface.name.clone(), Arc::clone(&l.socket)))
            .collect();
        Ok(Sender::new(udp, frames))
    };
    let sender = sockets(&udp)?;
    let lane_senders = [sockets(&udp)?, sockets(&udp)?];
    let syncer =
        Syncer::spawn(lane_senders).map_err(|e| format!("cannot start the syncer threads: {e}"))?;
    let mut server = Server {
        config_path: args.config.clone(),
        policy,
        leases,
        journal,
        links,
        udp,
        local_for: HashMap::new(),
        counters: Counters::default(),
        inbox: Mmsg::new(BATCH),
        frames: FrameBatch::new(BATCH),
        sender,
        syncer: Some(syncer),
        now: Replies::default(),
        later: Replies::default(),
        durable: Vec::new(),
        spare: Vec::new(),
        generation: 0,
        compaction: None,
        last_compaction: Instant::now(),
        journal_broken: false,
    };
    // The journal is rewritten at start, as ISC dhcpd does, but while serving.
    server.start_compaction();
    let result = server.serve(&signals);
    server.shut_down();
    info!(
        "{}",
        server
            .counters
            .report(&server.policy, &server.leases, now())
    );
    if let Some(pid_file) = &args.pid_file {
        let _ = std::fs::remove_file(pid_file);
    }
    result
}

/// Opens a packet socket on every interface (or every named one) with an address inside a
/// configured subnet.
fn open_links(policy: &Policy, wanted: &[String]) -> Result<Vec<Link>, String> {
    let interfaces = sys::interfaces().map_err(|e| format!("cannot list interfaces: {e}"))?;
    for name in wanted {
        if !interfaces.iter().any(|i| &i.name == name) {
            return Err(format!(
                "interface {name}: not found, or it has no IPv4 address"
            ));
        }
    }
    let mut links = Vec::new();
    for interface in interfaces {
        if !wanted.is_empty() && !wanted.contains(&interface.name) {
            continue;
        }
        let served = interface
            .addresses
            .iter()
            .find(|a| policy.locate(a.address).is_some());
        let Some(address) = served.map(|a| a.address) else {
            if !wanted.is_empty() {
                return Err(format!(
                    "interface {}: no address in a configured subnet",
                    interface.name
                ));
            }
            continue;
        };
        if interface.name == "lo" && wanted.is_empty() {
            continue;
        }
        let socket = PacketSocket::open(interface.index)
            .map_err(|e| format!("cannot open a packet socket on {}: {e}", interface.name))?;
        info!("serving {} as {address}", interface.name);
        links.push(Link {
            interface,
            address,
            socket: Arc::new(socket),
        });
    }
    Ok(links)
}

/// Drops root when asked; returns the lease journal's path as seen afterwards.
fn drop_privileges(args: &Args) -> Result<PathBuf, String> {
    let Some(user) = &args.user else {
        if args.chroot {
            return Err("-chroot needs -user: a chroot kept as root can be left".into());
        }
        return Ok(args.leases.clone());
    };
    let (uid, user_gid) = sys::lookup_user(user).map_err(|e| e.to_string())?;
    let gid = match &args.group {
        Some(group) => sys::lookup_group(group).map_err(|e| e.to_string())?,
        None => user_gid,
    };
    let mut path = args.leases.clone();
    let dir = args
        .leases
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf);
    let jail = if args.chroot {
        let dir = dir.unwrap_or_else(|| PathBuf::from("."));
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        path = Path::new("/").join(args.leases.file_name().unwrap_or_default());
        Some(dir)
    } else {
        None
    };
    sys::drop_privileges(uid, gid, jail.as_deref())
        .map_err(|e| format!("cannot switch to user {user}: {e}; refusing to run as root"))?;
    info!("running as {user} (uid {uid}, gid {gid})");
    Ok(path)
}

impl Server {
    fn serve(&mut self, signals: &Signals) -> Result<(), String> {
        let fds: Vec<RawFd> = self
            .links
            .iter()
            .map(|l| l.socket.as_raw_fd())
            .chain(self.udp.iter().map(AsRawFd::as_raw_fd))
            .collect();
        while !signals.stop.load(Ordering::Relaxed) {
            if signals.reload.swap(false, Ordering::Relaxed) {
                self.reload();
            }
            if signals.report.swap(false, Ordering::Relaxed) {
                info!(
                    "{}",
                    self.counters.report(&self.policy, &self.leases, now())
                );
            }
            // While a compaction's snapshot is being handed over, the loop does not sleep.
            let feeding = self.compaction.as_ref().is_some_and(|c| c.feed.is_some());
            let timeout = if feeding { 0 } else { 1000 };
            let ready = sys::wait_readable(&fds, timeout).map_err(|e| format!("poll: {e}"))?;
            for (i, _) in ready.iter().enumerate().filter(|(_, r)| **r) {
                if i < self.links.len() {
                    self.drain_link(i);
                } else {
                    self.drain_udp();
                }
            }
            self.finish_batch();
            self.read_reports();
            self.tend_compaction();
        }
        info!("stopping");
        Ok(())
    }

    /// Appends the batch's lease records to the journal and hands the replies that promise
    /// them to the syncer; sends the others at once. On a journal failure the waiting
    /// replies are dropped, since they would promise leases that are not on disk.
    fn finish_batch(&mut self) {
        let pending = if self.durable.is_empty() {
            Ok(None)
        } else if self.journal_broken {
            Err(None)
        } else {
            self.journal.append(&self.durable).map_err(Some)
        };
        self.durable.clear();
        match pending {
            Ok(pending) if pending.is_some() || !self.later.is_empty() => {
                let spare = self.spare.pop().unwrap_or_default();
                let ticket = Ticket {
                    pending,
                    generation: self.generation,
                    replies: std::mem::replace(&mut self.later, spare),
                };
                let refused = self.syncer.as_ref().map(|s| s.submit(ticket));
                if let Some(Err(ticket)) = refused {
                    error!(
                        "the syncer is gone; {} replies dropped",
                        ticket.replies.len()
                    );
                    self.count_drops("journal write failed", ticket.replies.len());
                }
            }
            Ok(_) => {}
            Err(e) => {
                if let Some(e) = e {
                    error!(
                        "cannot write the lease journal, {} replies dropped: {e}",
                        self.later.len()
                    );
                    self.journal_broken = true;
                }
                self.count_drops("journal write failed", self.later.len());
                self.later.clear();
            }
        }
        if !self.now.is_empty() {
            let sent = self.sender.send([&self.now]);
            self.count_drops("send failed", sent.failed);
            self.now.clear();
        }
    }

    fn count_drops(&mut self, reason: &'static str, count: usize) {
        for _ in 0..count {
            self.counters.drop_reason(reason);
        }
    }

    /// Takes in what the syncer did: failed sends and syncs are counted, and a failed sync
    /// marks the journal for rewriting.
    fn read_reports(&mut self) {
        let reports: Vec<Report> = match &self.syncer {
            Some(syncer) => syncer.reports().collect(),
            None => return,
        };
        for report in reports {
            self.take_report(report);
        }
    }

    fn take_report(&mut self, report: Report) {
        self.count_drops("send failed", report.sent.failed);
        self.count_drops("journal write failed", report.unsynced);
        if let Some((generation, _)) = report.failure {
            if generation == self.generation {
                self.journal_broken = true;
            }
        }
        if self.spare.len() < 4 {
            self.spare.push(report.spare);
        }
    }

    /// Starts a compaction when one is due and none is running, hands the running one its
    /// next step of leases, and completes one that has finished writing.
    fn tend_compaction(&mut self) {
        if let Some(compaction) = &mut self.compaction {
            feed_step(compaction, &self.leases);
        }
        if self
            .compaction
            .as_ref()
            .is_some_and(|c| c.thread.is_finished())
        {
            self.complete_compaction();
        }
        if self.compaction.is_some() {
            return;
        }
        let due = if self.journal_broken {
            self.last_compaction.elapsed() >= COMPACT_RETRY
        } else {
            self.last_compaction.elapsed() >= COMPACT_EVERY
                || self.journal.should_compact(self.leases.len())
        };
        if due {
            self.start_compaction();
        }
    }

    /// Starts a thread that writes the new journal; the loop hands it the leases a step at
    /// a time between batches.
    fn start_compaction(&mut self) {
        self.last_compaction = Instant::now();
        let (job, feed) = match self.journal.begin_compaction_in_pieces() {
            Ok(started) => started,
            Err(e) => {
                error!("cannot compact the lease journal: {e}");
                return;
            }
        };
        let spawned = std::thread::Builder::new()
            .name("compaction".into())
            .spawn(move || job.run());
        match spawned {
            Ok(thread) => {
                self.compaction = Some(Compaction {
                    thread,
                    feed: Some((feed, 0)),
                });
            }
            Err(e) => {
                error!("cannot start compacting the lease journal: {e}");
                let failed = StoreError {
                    path: self.journal.path().to_path_buf(),
                    action: "compact",
                    source: e,
                };
                let _ = self.journal.finish_compaction(Err(failed));
            }
        }
    }

    /// Puts the written journal in place of the old one, handing over first whatever of the
    /// snapshot is left.
    fn complete_compaction(&mut self) {
        let Some(mut compaction) = self.compaction.take() else {
            return;
        };
        while compaction.feed.is_some() {
            feed_step(&mut compaction, &self.leases);
        }
        let written = compaction.thread.join().unwrap_or_else(|_| {
            Err(StoreError {
                path: self.journal.path().to_path_buf(),
                action: "compact",
                source: io::Error::other("the compaction thread panicked"),
            })
        });
        match self.journal.finish_compaction(written) {
            Ok(()) => {
                self.generation += 1;
                if self.journal_broken {
                    info!("lease journal rewritten; replies flow again");
                }
                self.journal_broken = false;
                debug!("lease journal compacted: {} leases", self.leases.len());
            }
            Err(e) => {
                self.last_compaction = Instant::now();
                error!("cannot compact the lease journal: {e}");
            }
        }
    }

    /// Lets the syncer send what it holds and a running compaction finish, and leaves the
    /// journal without its blank reserve, as ISC dhcpd would have left it.
    fn shut_down(&mut self) {
        if let Some(syncer) = self.syncer.take() {
            for report in syncer.finish() {
                self.take_report(report);
            }
        }
        self.complete_compaction();
        if let Err(e) = self.journal.trim_reserve() {
            warn!("{e}");
        }
    }

    fn reload(&mut self) {
        match load_config(&self.config_path) {
            Ok((policy, warnings)) => {
                log_warnings(&warnings);
                let (ranges, reserved) = policy.ranges_and_reservations();
                self.leases.set_ranges(&ranges, &reserved);
                self.policy = policy;
                info!("configuration reloaded from {}", self.config_path.display());
            }
            Err(errors) => {
                for e in &errors {
                    error!("{e}");
                }
                error!(
                    "configuration not reloaded: {} problem(s); keeping the old one",
                    errors.len()
                );
            }
        }
    }

    fn drain_link(&mut self, link: usize) {
        // The batch is taken out while its frames are answered, which needs `self`.
        let mut frames = std::mem::replace(&mut self.frames, FrameBatch::new(0));
        let count = match frames.recv(&self.links[link].socket) {
            Ok(count) => count,
            Err(e) => {
                warn!("receive on {}: {e}", self.links[link].interface.name);
                0
            }
        };
        for i in 0..count {
            if let Some(bytes) = frames.received(i) {
                self.answer_frame(link, bytes);
            }
        }
        self.frames = frames;
    }

    fn answer_frame(&mut self, link: usize, bytes: &[u8]) {
        let datagram = match parse_ethernet(bytes, Checksums::Verify) {
            Ok(d) if d.dst_port == SERVER_PORT => d,
            Ok(_) => return,
            Err(e) => {
                self.counters.drop_reason(e.kind());
                debug!(
                    "dropped a frame on {}: {e}",
                    self.links[link].interface.name
                );
                return;
            }
        };
        if self.udp.is_some() && relayed(datagram.payload) {
            return; // relayed: the UDP socket has it too, and answers or counts it
        }
        let message = match Message::parse(datagram.payload) {
            Ok(m) => m,
            Err(e) => {
                self.counters.drop_reason(e.kind());
                debug!("dropped a malformed message from {}: {e}", datagram.src_ip);
                return;
            }
        };
        let address = self.links[link].address;
        let incoming = Incoming {
            message: &message,
            link_address: Some(address),
            local_address: address,
        };
        if let Some((reply, waits)) = self.answer(&incoming) {
            self.queue_frame(link, reply, waits);
        }
    }

    fn drain_udp(&mut self) {
        let bound = socket_local(&self.udp);
        // The inbox is taken out while its datagrams are answered, which needs `self`.
        let mut inbox = std::mem::replace(&mut self.inbox, Mmsg::new(0));
        for _ in 0..UDP_RECEIVES_PER_BATCH {
            let received = match &self.udp {
                Some(socket) => inbox.recv(socket),
                None => Ok(0),
            };
            let count = match received {
                Ok(count) => count,
                Err(e) => {
                    warn!("receive on UDP: {e}");
                    0
                }
            };
            for i in 0..count {
                let (bytes, from) = inbox.received(i);
                self.answer_datagram(bytes, from, bound);
            }
            if count < inbox.capacity() {
                break;
            }
        }
        self.inbox = inbox;
    }

    fn answer_datagram(&mut self, bytes: &[u8], from: SocketAddrV4, bound: Option<Ipv4Addr>) {
        if !self.links.is_empty() && !relayed(bytes) {
            // From a client on a served link: its packet socket has it too, and answers or
            // counts it.
            return;
        }
        let message = match Message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                self.counters.drop_reason(e.kind());
                debug!("dropped a malformed message from {from}: {e}");
                return;
            }
        };
        let local = self.local_address(&bound, *from.ip());
        let incoming = Incoming {
            message: &message,
            link_address: None,
            local_address: local,
        };
        let Some((reply, waits)) = self.answer(&incoming) else {
            return;
        };
        let to = match reply.destination {
            Destination::Relay(giaddr) if giaddr == *from.ip() => from,
            Destination::Relay(giaddr) => SocketAddrV4::new(giaddr, SERVER_PORT),
            Destination::Client(ciaddr) => SocketAddrV4::new(ciaddr, CLIENT_PORT),
            Destination::Broadcast | Destination::Hardware { .. } => from,
        };
        let (message, settings) = (&reply.message, &reply.settings);
        // Room for the largest datagram rather than the exact length, which would take a
        // second layout pass; what is not written is given back.
        let queued = self
            .queue(waits)
            .push(Target::Datagram(to), sys::DATAGRAM, |buf| {
                message.emit(buf, settings)
            });
        if let Err(e) = queued {
            warn!("cannot encode a reply: {e}");
        }
    }

    /// The replies that wait for the batch's sync, or those that leave at once.
    fn queue(&mut self, waits: bool) -> &mut Replies {
        if waits {
            &mut self.later
        } else {
            &mut self.now
        }
    }

    /// Our address towards a relay: the bound address, or the one the routing table picks.
    fn local_address(&mut self, bound: &Option<Ipv4Addr>, peer: Ipv4Addr) -> Ipv4Addr {
        if let Some(address) = bound.filter(|a| !a.is_unspecified()) {
            return address;
        }
        *self.local_for.entry(peer).or_insert_with(|| {
            UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
                .and_then(|s| s.connect((peer, SERVER_PORT)).map(|()| s))
                .and_then(|s| s.local_addr())
                .ok()
                .and_then(|a| match a {
                    SocketAddr::V4(a) => Some(*a.ip()),
                    SocketAddr::V6(_) => None,
                })
                .unwrap_or(Ipv4Addr::UNSPECIFIED)
        })
    }

    /// Runs the input function; applies its lease changes at once (later requests in the
    /// batch must see them) and queues the durable ones for the journal. Returns the reply
    /// (its changes taken out) and whether it waits for the batch's sync.
    fn answer(&mut self, incoming: &Incoming<'_>) -> Option<(Reply, bool)> {
        let request = incoming.message;
        self.counters.received(request.message_type());
        match input(&self.policy, &self.leases, incoming, now()) {
            Outcome::Reply(mut reply) => {
                log_exchange(request, &reply);
                self.counters.replied(reply.message.message_type());
                let waits = waits_for_sync(&reply);
                for lease in std::mem::take(&mut reply.changes) {
                    self.leases.apply(lease.clone());
                    if lease.state != LeaseState::Offered {
                        self.durable.push(lease);
                    }
                }
                Some((reply, waits))
            }
            Outcome::Update(update) => {
                for lease in update {
                    info!(
                        "{} {} from {} ({:?})",
                        kind_name(request),
                        lease.address,
                        request.chaddr,
                        lease.state
                    );
                    self.leases.apply(lease.clone());
                    if lease.state != LeaseState::Offered {
                        self.durable.push(lease);
                    }
                }
                None
            }
            Outcome::Silence(why) => {
                debug!(
                    "no answer to {} from {}: {why}",
                    kind_name(request),
                    request.chaddr
                );
                self.counters.drop_reason("not for this server");
                None
            }
            Outcome::Warning(why) => {
                info!(
                    "no answer to {} from {}: {why}",
                    kind_name(request),
                    request.chaddr
                );
                self.counters.drop_reason("refused");
                None
            }
        }
    }

    /// Frames a reply for a client on a served link and queues it.
    fn queue_frame(&mut self, link: usize, reply: Reply, waits: bool) {
        let here = &self.links[link];
        let chaddr = reply.message.chaddr.mac();
        let (dst_ip, dst_mac) = match reply.destination {
            Destination::Broadcast => (Ipv4Addr::BROADCAST, MacAddr::BROADCAST),
            Destination::Hardware { address, .. } => {
                (address, chaddr.map_or(MacAddr::BROADCAST, MacAddr))
            }
            Destination::Client(ciaddr) => (ciaddr, chaddr.map_or(MacAddr::BROADCAST, MacAddr)),
            Destination::Relay(_) => return, // relayed requests are answered over UDP
        };
        let (src_mac, src_ip) = (MacAddr(here.interface.mac), here.address);
        let target = Target::Frame(link);
        let Reply {
            message, settings, ..
        } = reply;
        let packet = Packet {
            src_mac,
            dst_mac,
            src_ip,
            dst_ip,
            src_port: SERVER_PORT,
            dst_port: CLIENT_PORT,
            message,
        };
        let queue = self.queue(waits);
        let queued = packet
            .emitted_len(&settings)
            .and_then(|len| queue.push(target, len, |buf| packet.emit(buf, &settings)));
        if let Err(e) = queued {
            warn!("cannot encode a reply: {e}");
        }
    }
}

/// Hands a compaction the next step of leases, and ends the snapshot after the last.
fn feed_step(compaction: &mut Compaction, leases: &Leases) {
    let Some((feed, from)) = compaction.feed.take() else {
        return;
    };
    let (records, next) = leases.step(from, SNAPSHOT_STEP);
    feed.add(records.cloned().collect());
    match next {
        Some(next) => compaction.feed = Some((feed, next)),
        None => feed.finish(),
    }
}

/// True when a reply must wait for the batch's sync: a DHCPACK promises a lease, and any
/// reply that changed a durable record depends on it. Offers and NAKs leave at once.
fn waits_for_sync(reply: &Reply) -> bool {
    reply.message.message_type() == Some(MessageType::ACK)
        || reply.changes.iter().any(|l| l.state != LeaseState::Offered)
}

/// Where `giaddr` lies in a BOOTP message.
const GIADDR: std::ops::Range<usize> = 24..28;

/// True when a message, even one too malformed to parse, has a `giaddr` other than 0.0.0.0:
/// the test that decides which socket answers a message, so that each socket also counts
/// only the malformed messages it would have answered.
fn relayed(message: &[u8]) -> bool {
    message
        .get(GIADDR)
        .is_some_and(|giaddr| giaddr.iter().any(|&b| b != 0))
}

fn socket_local(udp: &Option<UdpSocket>) -> Option<Ipv4Addr> {
    match udp.as_ref()?.local_addr().ok()? {
        SocketAddr::V4(a) => Some(*a.ip()),
        SocketAddr::V6(_) => None,
    }
}

fn kind_name(message: &Message) -> String {
    message
        .message_type()
        .map_or_else(|| "BOOTP".into(), |t| t.to_string())
}

/// One info line per completed exchange (a debug line per offer): client, xid, message types,
/// address, lease time, relay.
fn log_exchange(request: &Message, reply: &Reply) {
    let lease = reply.message.options.iter().find_map(|o| match o {
        charrua_wire::DhcpOption::LeaseTime(t) => Some(*t),
        _ => None,
    });
    let relay = (!request.giaddr.is_unspecified()).then_some(request.giaddr);
    macro_rules! exchange {
        ($level:ident) => {
            $level!(
                client = %request.chaddr,
                xid = format_args!("{:#010x}", request.xid),
                address = %reply.message.yiaddr,
                lease = %lease.map(|t| t.to_string()).unwrap_or_default(),
                relay = %relay.map(|r| r.to_string()).unwrap_or_default(),
                "{} -> {}",
                kind_name(request),
                kind_name(&reply.message),
            )
        };
    }
    // An offer is half an exchange: the line that completes it comes with the DHCPACK.
    if reply.message.message_type() == Some(charrua_wire::MessageType::OFFER) {
        exchange!(debug);
    } else {
        exchange!(info);
    }
}
