//! What the programs need from the operating system that the standard library does not give:
//! packet sockets with a BPF filter, interface addresses, and dropping privileges.
//!
//! Every `unsafe` block is here, each with the guarantee it relies on.

use std::ffi::CString;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// `sll_pkttype` of a frame this host sent.
const PACKET_OUTGOING: u8 = 4;

/// `ETH_P_IP` in network byte order, as packet sockets take it.
const ETH_P_IP_BE: u16 = 0x0800u16.to_be();

/// An IPv4 address configured on an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InterfaceAddress {
    /// The address.
    pub(crate) address: Ipv4Addr,
    /// Its netmask.
    pub(crate) netmask: Ipv4Addr,
}

/// A network interface with its IPv4 addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Interface {
    /// Its name, `eth0`.
    pub(crate) name: String,
    /// Its index.
    pub(crate) index: i32,
    /// Its MAC address.
    pub(crate) mac: [u8; 6],
    /// Its IPv4 addresses, in the order the kernel lists them.
    pub(crate) addresses: Vec<InterfaceAddress>,
}

fn sockaddr_ipv4(sa: *const libc::sockaddr) -> Option<Ipv4Addr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: `sa` is non-null and points to a sockaddr getifaddrs filled in; its family is
    // read first, and it is read as sockaddr_in only when the family says AF_INET.
    unsafe {
        if i32::from((*sa).sa_family) != libc::AF_INET {
            return None;
        }
        let sin = &*sa.cast::<libc::sockaddr_in>();
        Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)))
    }
}

/// Every interface with at least one IPv4 address.
pub(crate) fn interfaces() -> io::Result<Vec<Interface>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head into `head`; on success the list is freed below
    // with freeifaddrs and not used afterwards.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found: Vec<Interface> = Vec::new();
    let mut cursor = head;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a non-null node of the list getifaddrs returned, which stays
        // valid until freeifaddrs; ifa_name is a NUL-terminated string.
        let (name, address, netmask, next) = unsafe {
            let entry = &*cursor;
            let name = std::ffi::CStr::from_ptr(entry.ifa_name)
                .to_string_lossy()
                .into_owned();
            (
                name,
                sockaddr_ipv4(entry.ifa_addr),
                sockaddr_ipv4(entry.ifa_netmask),
                entry.ifa_next,
            )
        };
        cursor = next;
        let (Some(address), Some(netmask)) = (address, netmask) else {
            continue;
        };
        let entry = InterfaceAddress { address, netmask };
        match found.iter_mut().find(|i| i.name == name) {
            Some(interface) => interface.addresses.push(entry),
            None => {
                let index = read_sys(&name, "ifindex")?.trim().parse().unwrap_or(0);
                let mac = parse_mac(read_sys(&name, "address")?.trim()).unwrap_or_default();
                found.push(Interface {
                    name,
                    index,
                    mac,
                    addresses: vec![entry],
                });
            }
        }
    }
    // SAFETY: `head` came from a successful getifaddrs and nothing points into it any more.
    unsafe { libc::freeifaddrs(head) };
    Ok(found)
}

/// The index and MAC address of interface `name`, whether or not it has an address.
pub(crate) fn interface_link(name: &str) -> io::Result<(i32, [u8; 6])> {
    if name.is_empty() || name.contains(['/', '\0']) || name == "." || name == ".." {
        return Err(io::Error::other(format!("not an interface name: {name:?}")));
    }
    let index = read_sys(name, "ifindex")
        .map_err(|e| io::Error::new(e.kind(), format!("no interface {name}: {e}")))?
        .trim()
        .parse()
        .map_err(|_| io::Error::other(format!("{name}: unreadable interface index")))?;
    let mac = parse_mac(read_sys(name, "address")?.trim())
        .ok_or_else(|| io::Error::other(format!("{name}: not an Ethernet interface")))?;
    Ok((index, mac))
}

fn read_sys(interface: &str, file: &str) -> io::Result<String> {
    std::fs::read_to_string(format!("/sys/class/net/{interface}/{file}"))
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// A classic BPF program accepting IPv4 UDP datagrams to `port` that are not fragments.
fn udp_port_filter(port: u16) -> [libc::sock_filter; 11] {
    let op = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    [
        op(0x28, 0, 0, 12),          // ldh [12]: ethertype
        op(0x15, 0, 8, 0x0800),      // jeq IPv4, else drop
        op(0x30, 0, 0, 23),          // ldb [23]: IP protocol
        op(0x15, 0, 6, 17),          // jeq UDP, else drop
        op(0x28, 0, 0, 20),          // ldh [20]: flags and fragment offset
        op(0x45, 4, 0, 0x1fff),      // jset fragment offset: drop
        op(0xb1, 0, 0, 14),          // ldxb 4*([14]&0xf): IP header length
        op(0x48, 0, 0, 16),          // ldh [x+16]: UDP destination port
        op(0x15, 0, 1, port.into()), // jeq port, else drop
        op(0x06, 0, 0, 0x0004_0000), // accept
        op(0x06, 0, 0, 0),           // drop
    ]
}

/// A packet socket on one interface that receives DHCP traffic to one UDP port and sends
/// frames.
#[derive(Debug)]
pub(crate) struct PacketSocket {
    fd: OwnedFd,
    index: i32,
}

impl PacketSocket {
    /// Opens a non-blocking packet socket bound to interface `index`, filtered to UDP port 67:
    /// what a server receives.
    pub(crate) fn open(index: i32) -> io::Result<Self> {
        Self::open_port(index, 67)
    }

    /// Opens a non-blocking packet socket bound to interface `index`, filtered to UDP port 68:
    /// what a client receives.
    pub(crate) fn open_client(index: i32) -> io::Result<Self> {
        Self::open_port(index, 68)
    }

    fn open_port(index: i32, port: u16) -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                i32::from(ETH_P_IP_BE),
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        let filter = udp_port_filter(port);
        let program = libc::sock_fprog {
            len: u16::try_from(filter.len()).unwrap_or(0),
            filter: filter.as_ptr().cast_mut(),
        };
        // SAFETY: `program` points to `filter`, which outlives the call; the kernel copies it.
        let attached = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                (&raw const program).cast(),
                socklen::<libc::sock_fprog>(),
            )
        };
        if attached != 0 {
            return Err(io::Error::last_os_error());
        }

        let address = link_address(index, [0; 6]);
        // SAFETY: `address` is a valid sockaddr_ll for the duration of the call.
        let bound = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const address).cast(),
                socklen::<libc::sockaddr_ll>(),
            )
        };
        if bound != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PacketSocket { fd, index })
    }

    /// Receives one incoming frame into `buf`; `None` when nothing is waiting. Frames this
    /// host sent, which packet sockets also see, are skipped.
    pub(crate) fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        loop {
            let mut from = link_address(0, [0; 6]);
            let mut from_len = socklen::<libc::sockaddr_ll>();
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes and `from` for a
            // sockaddr_ll of `from_len` bytes, for the duration of the call.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    0,
                    (&raw mut from).cast(),
                    &mut from_len,
                )
            };
            match nonblocking(n)? {
                Some(_) if from.sll_pkttype == PACKET_OUTGOING => continue,
                other => return Ok(other),
            }
        }
    }

    /// Sends one Ethernet frame to `destination` on this socket's interface.
    pub(crate) fn send(&self, frame: &[u8], destination: [u8; 6]) -> io::Result<()> {
        let address = link_address(self.index, destination);
        // SAFETY: `frame` is valid for reads of its length and `address` is a valid
        // sockaddr_ll, both for the duration of the call.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&raw const address).cast(),
                socklen::<libc::sockaddr_ll>(),
            )
        };
        nonblocking(n).map(|_| ())
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn link_address(index: i32, mac: [u8; 6]) -> libc::sockaddr_ll {
    let mut addr = [0u8; 8];
    addr[..6].copy_from_slice(&mac);
    libc::sockaddr_ll {
        sll_family: u16::try_from(libc::AF_PACKET).unwrap_or(17),
        sll_protocol: ETH_P_IP_BE,
        sll_ifindex: index,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 6,
        sll_addr: addr,
    }
}

fn socklen<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(std::mem::size_of::<T>()).unwrap_or(0)
}

/// A byte count from a call that returns -1 and sets errno; `None` for "would block".
fn nonblocking(n: isize) -> io::Result<Option<usize>> {
    match usize::try_from(n) {
        Ok(n) => Ok(Some(n)),
        Err(_) => {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::WouldBlock {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

/// Waits until one of `fds` is readable or `timeout_ms` passes; returns which are readable.
pub(crate) fn wait_readable(fds: &[RawFd], timeout_ms: i32) -> io::Result<Vec<bool>> {
    wait(fds, libc::POLLIN, timeout_ms)
}

/// Waits until `fd` can take more data or `timeout_ms` passes.
pub(crate) fn wait_writable(fd: RawFd, timeout_ms: i32) -> io::Result<bool> {
    Ok(wait(&[fd], libc::POLLOUT, timeout_ms)?.first() == Some(&true))
}

fn wait(fds: &[RawFd], events: libc::c_short, timeout_ms: i32) -> io::Result<Vec<bool>> {
    let mut polls: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events,
            revents: 0,
        })
        .collect();
    let count = libc::nfds_t::try_from(polls.len()).unwrap_or(0);
    // SAFETY: `polls` holds `count` initialised pollfd entries, valid during the call.
    let n = unsafe { libc::poll(polls.as_mut_ptr(), count, timeout_ms) };
    if n < 0 {
        let error = io::Error::last_os_error();
        if error.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![false; fds.len()]);
        }
        return Err(error);
    }
    Ok(polls
        .iter()
        .map(|p| p.revents & (events | libc::POLLERR) != 0)
        .collect())
}

/// The user and group ids of a user name, and its primary group.
pub(crate) fn lookup_user(name: &str) -> io::Result<(u32, u32)> {
    let c = CString::new(name).map_err(|_| io::Error::other("user name has a NUL byte"))?;
    // SAFETY: getpwnam reads a NUL-terminated name; the returned record is read at once,
    // before any other call that could overwrite it.
    let record = unsafe { libc::getpwnam(c.as_ptr()) };
    if record.is_null() {
        return Err(io::Error::other(format!("no such user: {name}")));
    }
    // SAFETY: `record` is non-null and points to the static passwd record just returned.
    Ok(unsafe { ((*record).pw_uid, (*record).pw_gid) })
}

/// The group id of a group name.
pub(crate) fn lookup_group(name: &str) -> io::Result<u32> {
    let c = CString::new(name).map_err(|_| io::Error::other("group name has a NUL byte"))?;
    // SAFETY: as for getpwnam: a NUL-terminated name, and the record read at once.
    let record = unsafe { libc::getgrnam(c.as_ptr()) };
    if record.is_null() {
        return Err(io::Error::other(format!("no such group: {name}")));
    }
    // SAFETY: `record` is non-null and points to the static group record just returned.
    Ok(unsafe { (*record).gr_gid })
}

/// Changes root to `dir`, then gives up root for `uid`/`gid`, for good.
pub(crate) fn drop_privileges(
    uid: u32,
    gid: u32,
    chroot: Option<&std::path::Path>,
) -> io::Result<()> {
    if let Some(dir) = chroot {
        std::os::unix::fs::chroot(dir)?;
        std::env::set_current_dir("/")?;
    }
    let groups = [gid];
    // SAFETY: setgroups reads one gid from `groups`, valid during the call; setgid and
    // setuid take plain integers. Order matters: groups and gid while still root.
    unsafe {
        if libc::setgroups(1, groups.as_ptr()) != 0 || libc::setgid(gid) != 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::setuid(uid) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // Root must be gone for good: getting it back has to fail.
    // SAFETY: plain integer arguments.
    if uid != 0 && unsafe { libc::setuid(0) } == 0 {
        return Err(io::Error::other(
            "still able to become root after dropping privileges",
        ));
    }
    Ok(())
}

/// Detaches from the terminal: fork, let the parent exit, start a new session.
pub(crate) fn daemonize() -> io::Result<()> {
    // SAFETY: called before any thread is started, so the child inherits a consistent
    // process; the parent exits at once without running destructors.
    match unsafe { libc::fork() } {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        _ => std::process::exit(0),
    }
    // SAFETY: setsid takes no arguments; failure is reported.
    if unsafe { libc::setsid() } < 0 {
        return Err(io::Error::last_os_error());
    }
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..=2 {
        // SAFETY: dup2 onto the standard descriptors from a descriptor we own.
        if unsafe { libc::dup2(null.as_raw_fd(), fd) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Room for one datagram or frame in a batch: a DHCP message over UDP never needs more, nor
/// does an Ethernet frame with a 1,500-byte payload, its header and two VLAN tags.
const SLOT: usize = 1536;

/// Room for one datagram in an [`Mmsg`].
pub(crate) const DATAGRAM: usize = SLOT;

/// Buffers for sending or receiving many messages on one socket with one system call
/// (`sendmmsg`/`recvmmsg`), allocated once; `A` is the socket's address type.
pub(crate) struct Batch<A> {
    buffers: Vec<[u8; SLOT]>,
    lens: Vec<usize>,
    addresses: Vec<A>,
    iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
}

/// A batch of UDP datagrams.
pub(crate) type Mmsg = Batch<libc::sockaddr_in>;

// SAFETY: the raw pointers in `iovecs` and `headers` only ever point into the buffers and
// addresses of the same batch (heap memory that does not move with it), and they are set
// afresh before every system call; nothing is shared with another thread.
unsafe impl<A: Send> Send for Batch<A> {}

/// The address in a `sockaddr_in`, back from network byte order.
fn socket_address(a: &libc::sockaddr_in) -> std::net::SocketAddrV4 {
    std::net::SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
        u16::from_be(a.sin_port),
    )
}

fn sockaddr_in(address: std::net::SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: u16::try_from(libc::AF_INET).unwrap_or(2),
        sin_port: address.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*address.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

impl<A: Copy> Batch<A> {
    /// Buffers for `count` messages, every address set to `blank`.
    fn with_blank(count: usize, blank: A) -> Self {
        Batch {
            buffers: vec![[0; SLOT]; count],
            lens: vec![0; count],
            addresses: vec![blank; count],
            iovecs: (0..count)
                .map(|_| libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0,
                })
                .collect(),
            // SAFETY: mmsghdr is plain data for which all-zero bytes are a valid value.
            headers: (0..count).map(|_| unsafe { std::mem::zeroed() }).collect(),
        }
    }

    /// How many messages the buffers hold.
    pub(crate) fn capacity(&self) -> usize {
        self.buffers.len()
    }

    /// The buffer of slot `i`, to write a message into.
    pub(crate) fn buffer(&mut self, i: usize) -> &mut [u8; SLOT] {
        &mut self.buffers[i]
    }

    /// Points the headers of slots `start..end` at their buffers and addresses; `full`
    /// offers whole buffers (receiving) rather than the set lengths (sending).
    fn prepare(&mut self, start: usize, end: usize, full: bool) {
        for i in start..end.min(self.buffers.len()) {
            self.iovecs[i] = libc::iovec {
                iov_base: self.buffers[i].as_mut_ptr().cast(),
                iov_len: if full { SLOT } else { self.lens[i] },
            };
            let header = &mut self.headers[i];
            header.msg_hdr.msg_name = (&raw mut self.addresses[i]).cast();
            header.msg_hdr.msg_namelen = socklen::<A>();
            header.msg_hdr.msg_iov = &raw mut self.iovecs[i];
            header.msg_hdr.msg_iovlen = 1;
            header.msg_hdr.msg_control = std::ptr::null_mut();
            header.msg_hdr.msg_controllen = 0;
            header.msg_hdr.msg_flags = 0;
            header.msg_len = 0;
        }
    }

    /// Sends slots `start..end` on `socket` without waiting; returns how many went (a full
    /// socket buffer sends fewer, possibly none).
    fn send_slots(&mut self, socket: RawFd, start: usize, end: usize) -> io::Result<usize> {
        let end = end.min(self.buffers.len());
        if start >= end {
            return Ok(0);
        }
        self.prepare(start, end, false);
        let n = libc::c_uint::try_from(end - start).unwrap_or(libc::c_uint::MAX);
        // SAFETY: headers start..end point at buffers, iovecs and addresses owned by `self`,
        // which are neither moved nor resized during the call.
        let sent = unsafe {
            libc::sendmmsg(
                socket,
                self.headers[start..].as_mut_ptr(),
                n,
                libc::MSG_DONTWAIT,
            )
        };
        Ok(nonblocking(isize::try_from(sent).unwrap_or(-1))?.unwrap_or(0))
    }

    /// Receives up to the capacity from `socket` without waiting; returns how many came.
    fn recv_slots(&mut self, socket: RawFd) -> io::Result<usize> {
        let count = self.buffers.len();
        self.prepare(0, count, true);
        let n = libc::c_uint::try_from(count).unwrap_or(libc::c_uint::MAX);
        // SAFETY: as for send; the kernel writes at most SLOT bytes into each buffer and an
        // address of type `A` (the socket's own) into each address.
        let got = unsafe {
            libc::recvmmsg(
                socket,
                self.headers.as_mut_ptr(),
                n,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        let got = nonblocking(isize::try_from(got).unwrap_or(-1))?.unwrap_or(0);
        for i in 0..got {
            self.lens[i] = usize::try_from(self.headers[i].msg_len)
                .unwrap_or(0)
                .min(SLOT);
        }
        Ok(got)
    }
}

impl Mmsg {
    /// Buffers for `count` datagrams.
    pub(crate) fn new(count: usize) -> Mmsg {
        let blank = sockaddr_in(std::net::SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
        Batch::with_blank(count, blank)
    }

    /// Sets slot `i` to send its first `len` bytes to `to`.
    pub(crate) fn set(&mut self, i: usize, len: usize, to: std::net::SocketAddrV4) {
        self.lens[i] = len.min(SLOT);
        self.addresses[i] = sockaddr_in(to);
    }

    /// Slot `i` after a receive: the datagram and its sender.
    pub(crate) fn received(&self, i: usize) -> (&[u8], std::net::SocketAddrV4) {
        (
            &self.buffers[i][..self.lens[i]],
            socket_address(&self.addresses[i]),
        )
    }

    /// Sends slots `start..end` on `socket` without waiting; returns how many went (a full
    /// socket buffer sends fewer, possibly none).
    pub(crate) fn send(
        &mut self,
        socket: &impl AsRawFd,
        start: usize,
        end: usize,
    ) -> io::Result<usize> {
        self.send_slots(socket.as_raw_fd(), start, end)
    }

    /// Receives up to the capacity from `socket` without waiting; returns how many came.
    pub(crate) fn recv(&mut self, socket: &impl AsRawFd) -> io::Result<usize> {
        self.recv_slots(socket.as_raw_fd())
    }
}

/// Asks for socket buffers of `bytes` each way, so bursts wait in the kernel rather than
/// being dropped; root may go past the system's limit (`SO_RCVBUFFORCE`). Best effort: the
/// buffer actually granted may be smaller.
pub(crate) fn enlarge_buffers(socket: &impl AsRawFd, bytes: usize) {
    let size = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    for (force, plain) in [
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    ] {
        for option in [force, plain] {
            // SAFETY: `size` is a valid c_int for the duration of the call.
            let done = unsafe {
                libc::setsockopt(
                    socket.as_raw_fd(),
                    libc::SOL_SOCKET,
                    option,
                    (&raw const size).cast(),
                    socklen::<libc::c_int>(),
                )
            };
            if done == 0 {
                break;
            }
        }
    }
}

/// CPU time this process has used: user time, then system time.
pub(crate) fn cpu_times() -> (std::time::Duration, std::time::Duration) {
    // SAFETY: rusage is plain data; getrusage fills it in for RUSAGE_SELF.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        std::time::Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + std::time::Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    (time(usage.ru_utime), time(usage.ru_stime))
}

/// Waits until `fd` is readable or `timeout_ms` passes, allocating nothing; true when it is.
pub(crate) fn wait_readable_one(fd: RawFd, timeout_ms: i32) -> io::Result<bool> {
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `poll` is one initialised pollfd, valid during the call.
    let n = unsafe { libc::poll(&raw mut poll, 1, timeout_ms) };
    if n < 0 {
        let error = io::Error::last_os_error();
        if error.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(error);
    }
    Ok(poll.revents & (libc::POLLIN | libc::POLLERR) != 0)
}

impl PacketSocket {
    /// Opens a non-blocking packet socket bound to interface `index` that receives what
    /// clients receive (UDP port 68) whatever the frames' destination MAC address: the
    /// interface is in promiscuous mode for as long as the socket is open, so frames sent
    /// to hardware addresses other than the interface's own are received too.
    pub(crate) fn open_promiscuous_client(index: i32) -> io::Result<Self> {
        let socket = Self::open_client(index)?;
        let request = libc::packet_mreq {
            mr_ifindex: index,
            mr_type: u16::try_from(libc::PACKET_MR_PROMISC).unwrap_or(1),
            mr_alen: 0,
            mr_address: [0; 8],
        };
        // SAFETY: `request` is a valid packet_mreq for the duration of the call; the kernel
        // copies it.
        let done = unsafe {
            libc::setsockopt(
                socket.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_ADD_MEMBERSHIP,
                (&raw const request).cast(),
                socklen::<libc::packet_mreq>(),
            )
        };
        if done != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(socket)
    }
}

/// A batch of Ethernet frames on a [`PacketSocket`].
pub(crate) type FrameBatch = Batch<libc::sockaddr_ll>;

impl FrameBatch {
    /// Buffers for `count` frames.
    pub(crate) fn new(count: usize) -> FrameBatch {
        Batch::with_blank(count, link_address(0, [0; 6]))
    }

    /// Sets slot `i` to send its first `len` bytes; the frame goes to the destination MAC
    /// address written in its Ethernet header.
    pub(crate) fn set(&mut self, i: usize, len: usize) {
        self.lens[i] = len.min(SLOT);
    }

    /// Slot `i` after a receive: the frame, or `None` when it is one this host sent, which
    /// packet sockets see too.
    pub(crate) fn received(&self, i: usize) -> Option<&[u8]> {
        let frame = &self.buffers[i][..self.lens[i]];
        (self.addresses[i].sll_pkttype != PACKET_OUTGOING).then_some(frame)
    }

    /// Sends slots `start..end` on `socket`'s interface without waiting; returns how many
    /// went (a full socket buffer sends fewer, possibly none).
    pub(crate) fn send(
        &mut self,
        socket: &PacketSocket,
        start: usize,
        end: usize,
    ) -> io::Result<usize> {
        for i in start..end.min(self.buffers.len()) {
            let mut destination = [0u8; 6];
            destination.copy_from_slice(&self.buffers[i][..6]);
            self.addresses[i] = link_address(socket.index, destination);
        }
        self.send_slots(socket.as_raw_fd(), start, end)
    }

    /// Receives up to the capacity from `socket` without waiting; returns how many came.
    pub(crate) fn recv(&mut self, socket: &PacketSocket) -> io::Result<usize> {
        self.recv_slots(socket.as_raw_fd())
    }
}

/// Datagrams one segmented send carries at most: the kernel's limit since Linux 4.18.
pub(crate) const MAX_SEGMENTS: usize = 64;

impl Mmsg {
    /// The end of the longest run of slots from `start` (before `end`) that
    /// [`Mmsg::send_segmented`] takes in one send, and where they go: slots to one
    /// destination, all as long as the first but the last, which may be shorter, at most
    /// [`MAX_SEGMENTS`]. A run of one slot is any slot.
    pub(crate) fn segment_run(&self, start: usize, end: usize) -> (usize, std::net::SocketAddrV4) {
        let end = end.min(self.buffers.len()).min(start + MAX_SEGMENTS);
        let Some(first) = self.addresses.get(start).copied() else {
            return (start, std::net::SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
        };
        let destination = socket_address(&first);
        let segment = self.lens[start];
        let mut i = start + 1;
        while i < end {
            let a = &self.addresses[i];
            let same = a.sin_addr.s_addr == first.sin_addr.s_addr && a.sin_port == first.sin_port;
            if !same || self.lens[i] > segment {
                break;
            }
            i += 1;
            if self.lens[i - 1] < segment {
                // A shorter one can only be the last.
                break;
            }
        }
        (i, destination)
    }

    /// Sends slots `start..end` to `to` with one `sendmsg` as one UDP segmentation offload
    /// send (`UDP_SEGMENT`, Linux 4.18): the kernel carries them as one buffer as far as it
    /// can, then splits it into datagrams as long as the first slot. Every slot but the last
    /// must be as long as the first, the last at most that, and there are at most
    /// [`MAX_SEGMENTS`]; anything else is refused with `InvalidInput`. Returns how many
    /// went: all of them, or none when the socket buffer is full. Another error says the
    /// path cannot segment (no offload for its device, say) and `send` is the way.
    pub(crate) fn send_segmented(
        &mut self,
        socket: &impl AsRawFd,
        start: usize,
        end: usize,
        to: std::net::SocketAddrV4,
    ) -> io::Result<usize> {
        let end = end.min(self.buffers.len());
        if start >= end {
            return Ok(0);
        }
        let segment = self.lens[start];
        let (Ok(segment16), true) = (u16::try_from(segment), end - start <= MAX_SEGMENTS) else {
            return Err(io::ErrorKind::InvalidInput.into());
        };
        let last = end - 1;
        if self.lens[start..last].iter().any(|&l| l != segment) || self.lens[last] > segment {
            return Err(io::ErrorKind::InvalidInput.into());
        }
        self.prepare(start, end, false);
        let mut address = sockaddr_in(to);
        // Room for one control message of a u16, aligned as cmsghdr needs.
        let mut control = [0u64; 4];
        // SAFETY: CMSG_SPACE only computes a size.
        let space = unsafe { libc::CMSG_SPACE(2) };
        // SAFETY: msghdr is plain data for which all-zero bytes are a valid value.
        let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
        header.msg_name = (&raw mut address).cast();
        header.msg_namelen = socklen::<libc::sockaddr_in>();
        header.msg_iov = self.iovecs[start..end].as_mut_ptr();
        header.msg_iovlen = end - start;
        header.msg_control = control.as_mut_ptr().cast();
        header.msg_controllen = usize::try_from(space).unwrap_or(0).min(8 * control.len());
        // SAFETY: `header` points at `control`, which has room for one cmsghdr and its two
        // data bytes (CMSG_SPACE(2) is at most 24 bytes on every Linux target), so the first
        // header is non-null and in bounds; the data is written unaligned.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&raw const header);
            (*cmsg).cmsg_level = libc::SOL_UDP;
            (*cmsg).cmsg_type = libc::UDP_SEGMENT;
            (*cmsg).cmsg_len = usize::try_from(libc::CMSG_LEN(2)).unwrap_or(0);
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<u16>(), segment16);
        }
        // SAFETY: `header` points at `address`, `control` and the iovecs start..end, which
        // point at buffers owned by `self`; all outlive the call and none moves during it.
        let sent =
            unsafe { libc::sendmsg(socket.as_raw_fd(), &raw const header, libc::MSG_DONTWAIT) };
        Ok(nonblocking(sent)?.map_or(0, |_| end - start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mac_addresses_as_sysfs_writes_them() {
        assert_eq!(parse_mac("02:00:00:0a:ff:01"), Some([2, 0, 0, 10, 255, 1]));
        assert_eq!(parse_mac("02:00:00:0a:ff"), None);
        assert_eq!(parse_mac("02:00:00:0a:ff:01:02"), None);
    }

    #[test]
    fn lists_the_loopback_interface() {
        let all = interfaces().expect("getifaddrs");
        let lo = all
            .iter()
            .find(|i| i.name == "lo")
            .expect("a loopback interface");
        assert!(
            lo.addresses
                .iter()
                .any(|a| a.address == Ipv4Addr::LOCALHOST)
        );
        assert!(lo.index > 0);
    }

    #[test]
    fn a_segment_run_ends_at_another_destination_a_longer_slot_or_after_a_shorter_one() {
        use std::net::SocketAddrV4;
        let a = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1000);
        let b = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1001);
        let mut out = Mmsg::new(8);
        let slots = [
            (a, 300),
            (a, 300),
            (a, 100),
            (a, 300),
            (b, 300),
            (a, 10),
            (a, 20),
        ];
        for (i, &(to, len)) in slots.iter().enumerate() {
            out.set(i, len, to);
        }
        assert_eq!(out.segment_run(0, 7), (3, a));
        assert_eq!(out.segment_run(3, 7), (4, a));
        assert_eq!(out.segment_run(4, 7), (5, b));
        assert_eq!(out.segment_run(5, 7), (6, a));
        assert_eq!(out.segment_run(0, 2), (2, a));
    }

    #[test]
    fn a_segmented_send_arrives_as_separate_datagrams() {
        use std::net::{SocketAddrV4, UdpSocket};
        let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind");
        receiver
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        let to = match receiver.local_addr().expect("address") {
            std::net::SocketAddr::V4(a) => a,
            std::net::SocketAddr::V6(_) => unreachable!("bound to IPv4"),
        };
        let sender = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let mut out = Mmsg::new(4);
        for (i, len) in [300, 300, 120].into_iter().enumerate() {
            out.buffer(i)[..len].fill(u8::try_from(i + 1).unwrap());
            out.set(i, len, to);
        }
        // Lengths that cannot be segments are refused before anything is sent.
        out.set(3, 301, to);
        let refused = out.send_segmented(&sender, 2, 4, to).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::InvalidInput);

        // A kernel without UDP_SEGMENT (before 4.18) refuses it: nothing to check there.
        let Ok(sent) = out.send_segmented(&sender, 0, 3, to) else {
            return;
        };
        assert_eq!(sent, 3);
        let mut buf = [0u8; 2048];
        for (i, len) in [300, 300, 120].into_iter().enumerate() {
            let n = receiver.recv(&mut buf).expect("a datagram");
            assert_eq!(n, len, "datagram {i}");
            assert!(buf[..n].iter().all(|&b| usize::from(b) == i + 1));
        }
    }
}
