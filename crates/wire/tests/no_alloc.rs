//! Emission allocates nothing: a counting global allocator watches `Message::emitted_len`,
//! `Message::emit` and `Packet::emit` writing into buffers on the stack.
//!
//! A global allocator serves the whole test binary, so this file holds allocation tests only.
//! Allocations are counted per thread, so tests running side by side do not see each other's.

use charrua_wire::options::{
    ClasslessRoute, ClientFqdn, ClientId, DomainName, FqdnName, RelayAgentInformation,
    RelaySubOption, SipServers, UserClass, VendorClass, VendorData, VendorOptions,
};
use charrua_wire::{
    DhcpOption, EmitError, EmitOptions, HardwareAddress, MacAddr, Message, MessageType, Op,
    OptionCode, Packet, Text,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::Ipv4Addr;

/// The system allocator, counting allocations made on threads that are watching.
struct Counting;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the thread-locals may be gone while a thread shuts down.
    if WATCHING.try_with(Cell::get).unwrap_or(false) {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every call is passed on unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: `ptr` came from this allocator, that is from System, with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from System, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result and the number of allocations it made on this thread.
fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    COUNT.with(|c| c.set(0));
    WATCHING.with(|w| w.set(true));
    let out = f();
    WATCHING.with(|w| w.set(false));
    (out, COUNT.with(Cell::get))
}

fn name(text: &str) -> DomainName {
    DomainName::from_dotted(text).unwrap()
}

/// A message with options of every shape, compressed names and a split value among them.
fn rich_message() -> Message {
    let ip = Ipv4Addr::new;
    Message {
        op: Op::BOOTREPLY,
        xid: 0xfeed_f00d,
        yiaddr: ip(192, 0, 2, 10),
        chaddr: HardwareAddress::ethernet([0, 1, 2, 3, 4, 5]),
        sname: Text::from("server"),
        options: vec![
            DhcpOption::MessageType(MessageType::ACK),
            DhcpOption::ServerIdentifier(ip(192, 0, 2, 1)),
            DhcpOption::LeaseTime(3600),
            DhcpOption::Routers(vec![ip(192, 0, 2, 1), ip(192, 0, 2, 2)]),
            DhcpOption::DomainName(Text::from("example.com")),
            DhcpOption::DomainSearch(vec![
                name("eng.example.com"),
                name("example.com"),
                name("sales.eng.example.com"),
                name("example.org"),
            ]),
            DhcpOption::SipServers(SipServers::Names(vec![name("a.sip"), name("b.sip")])),
            DhcpOption::ClasslessStaticRoutes(vec![ClasslessRoute {
                destination: ip(10, 229, 0, 128),
                prefix_len: 25,
                router: ip(192, 0, 2, 254),
            }]),
            DhcpOption::ClientIdentifier(ClientId::ethernet([0, 1, 2, 3, 4, 5])),
            DhcpOption::ClientFqdn(ClientFqdn {
                flags: ClientFqdn::FLAG_S | ClientFqdn::FLAG_E,
                rcode1: 255,
                rcode2: 255,
                name: FqdnName::Wire(name("host.example.com")),
            }),
            DhcpOption::RelayAgentInformation(RelayAgentInformation(vec![
                RelaySubOption::CircuitId(b"eth0".to_vec()),
                RelaySubOption::VendorSpecific(vec![VendorData {
                    enterprise: 9,
                    data: vec![1],
                }]),
                RelaySubOption::VirtualSubnetSelection {
                    kind: 0,
                    data: b"red".to_vec(),
                },
            ])),
            DhcpOption::UserClass(UserClass::Instances(vec![b"iPXE".to_vec()])),
            DhcpOption::VendorIdentifyingClass(vec![VendorClass {
                enterprise: 3561,
                data: vec![b"class".to_vec()],
            }]),
            DhcpOption::VendorIdentifyingInfo(vec![VendorOptions {
                enterprise: 3561,
                options: vec![(1, vec![2; 10])],
            }]),
            DhcpOption::VendorSpecific(vec![7; 600]),
            DhcpOption::Other {
                code: OptionCode(224),
                data: vec![1, 2, 3],
            },
        ],
        ..Message::default()
    }
}

#[test]
fn counts_allocations_it_watches() {
    let (v, count) = allocations_during(|| vec![1u8; 100]);
    assert_eq!(v.len(), 100);
    assert!(count >= 1);
}

#[test]
fn message_emit_allocates_nothing() {
    let message = rich_message();
    let settings = EmitOptions {
        min_len: 300,
        ..EmitOptions::default()
    };
    let mut buf = [0u8; 2048];
    let (result, count) = allocations_during(|| {
        let len = message.emitted_len(&settings)?;
        let written = message.emit(&mut buf, &settings)?;
        Ok::<_, EmitError>((len, written))
    });
    let (len, written) = result.unwrap();
    assert_eq!(count, 0, "allocations during emit");
    assert_eq!(len, written);
    assert_eq!(Message::parse(&buf[..written]).unwrap(), message);
}

#[test]
fn message_emit_with_overload_allocates_nothing() {
    let mut message = rich_message();
    message.sname = Text::default();
    message
        .options
        .retain(|o| o.code() != OptionCode::VENDOR_SPECIFIC);
    message
        .options
        .push(DhcpOption::VendorSpecific(vec![7; 150]));
    let settings = EmitOptions {
        max_len: Some(576),
        overload: true,
        min_len: 0,
    };
    let mut buf = [0u8; 576];
    let (written, count) = allocations_during(|| message.emit(&mut buf, &settings));
    let written = written.unwrap();
    assert_eq!(count, 0, "allocations during emit");
    assert_eq!(
        buf[240],
        OptionCode::OVERLOAD.0,
        "the message is overloaded"
    );
    assert_eq!(Message::parse(&buf[..written]).unwrap(), message);
}

#[test]
fn message_emit_errors_allocate_nothing() {
    let message = rich_message();
    let mut small = [0u8; 100];
    let (result, count) = allocations_during(|| {
        let too_small = message.emit(&mut small, &EmitOptions::default());
        let too_large = message.emit(
            &mut small,
            &EmitOptions {
                max_len: Some(300),
                overload: false,
                min_len: 0,
            },
        );
        (too_small, too_large)
    });
    assert_eq!(count, 0);
    assert!(matches!(result.0, Err(EmitError::BufferTooSmall { .. })));
    assert!(matches!(result.1, Err(EmitError::TooLarge { .. })));
}

#[test]
fn packet_emit_allocates_nothing() {
    let packet = Packet {
        src_mac: MacAddr([2, 0, 0, 0, 0, 1]),
        dst_mac: MacAddr::BROADCAST,
        src_ip: Ipv4Addr::new(192, 0, 2, 1),
        dst_ip: Ipv4Addr::BROADCAST,
        src_port: 67,
        dst_port: 68,
        message: rich_message(),
    };
    let settings = EmitOptions::default();
    let mut buf = [0u8; 2048];
    let (written, count) = allocations_during(|| {
        let len = packet.emitted_len(&settings)?;
        let written = packet.emit(&mut buf, &settings)?;
        Ok::<_, EmitError>((len, written))
    });
    let (len, written) = written.unwrap();
    assert_eq!(count, 0, "allocations during emit");
    assert_eq!(len, written);
    assert_eq!(Packet::parse(&buf[..written]).unwrap(), packet);
}
