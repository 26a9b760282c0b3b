//! What the client hands back — packets and events — and how its messages are built.

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;
use core::time::Duration;

use charrua_wire::options::ClientId;
use charrua_wire::{DhcpOption, Flags, Message, MessageType, Op};

use crate::config::{ANONYMOUS_PARAMETERS, Config};
use crate::lease::Lease;

/// Where a message goes. The caller frames it: from 0.0.0.0 to 255.255.255.255 (and the
/// broadcast hardware address) until the client has an address, port 68 to port 67.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// To every host on the link.
    Broadcast,
    /// To one server, from the client's own address.
    Unicast(Ipv4Addr),
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The message.
    pub message: Message,
    /// Where it goes.
    pub destination: Destination,
}

/// Why the client stopped holding an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossReason {
    /// The lease ran out in REBINDING.
    Expired,
    /// A server answered a renewal with DHCPNAK.
    Refused,
}

/// Something the caller acts on: configure or remove an address, and the like.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a few events per lease; boxing would only add indirection for the caller"
)]
pub enum Event {
    /// A lease was granted; configure the address (after probing it, if the caller does).
    LeaseAcquired(Lease),
    /// The lease on the same address was extended, possibly with new parameters.
    LeaseRenewed(Lease),
    /// A server granted a different address than the one held; move to the new one.
    LeaseChanged {
        /// The lease given up.
        old: Lease,
        /// The lease granted.
        new: Lease,
    },
    /// The address may no longer be used; remove it.
    LeaseLost {
        /// The lease given up.
        lease: Lease,
        /// Why.
        reason: LossReason,
    },
    /// A DHCPDECLINE for this address went out; remove it.
    Declined(Ipv4Addr),
    /// A DHCPRELEASE for this address went out; remove it.
    Released(Ipv4Addr),
    /// The answer to a DHCPINFORM: the options of the DHCPACK.
    Informed(Vec<DhcpOption>),
}

/// What one call to the client produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// Messages to send, in order.
    pub transmits: Vec<Transmit>,
    /// Events, in order.
    pub events: Vec<Event>,
}

impl Output {
    pub(crate) fn send(&mut self, message: Message, destination: Destination) {
        self.transmits.push(Transmit {
            message,
            destination,
        });
    }

    pub(crate) fn event(&mut self, event: Event) {
        self.events.push(event);
    }
}

/// The client holds no lease, so there is nothing to decline or release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoLease;

impl fmt::Display for NoLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no lease: the client holds no address")
    }
}

#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
impl std::error::Error for NoLease {}

/// The header fields and addressing options that differ from message to message.
pub(crate) struct Fields {
    pub(crate) kind: MessageType,
    pub(crate) xid: u32,
    /// Seconds since the exchange began.
    pub(crate) secs: u16,
    pub(crate) ciaddr: Ipv4Addr,
    pub(crate) requested: Option<Ipv4Addr>,
    pub(crate) server: Option<Ipv4Addr>,
}

/// `secs` for a message sent at `now` in an exchange that began at `start`, saturating.
pub(crate) fn secs_since(start: Duration, now: Duration) -> u16 {
    let elapsed = now.saturating_sub(start).as_secs();
    u16::try_from(elapsed).unwrap_or(u16::MAX)
}

/// Builds a client message with the options `config` allows for its kind.
///
/// DHCPDECLINE and DHCPRELEASE carry only the message type, the addressing options and the
/// client identifier (RFC 2131 table 5). With the anonymity profile, every message carries
/// only what RFC 7844 §3 lists for it, in code order (§3.1), and DHCPDISCOVER no requested
/// address (§3.3).
pub(crate) fn build(config: &Config, fields: Fields) -> Message {
    let anonymous = config.anonymity;
    let mut options = alloc::vec![DhcpOption::MessageType(fields.kind)];
    let requested = fields
        .requested
        .filter(|_| !(anonymous && fields.kind == MessageType::DISCOVER));
    options.extend(requested.map(DhcpOption::RequestedAddress));
    options.extend(fields.server.map(DhcpOption::ServerIdentifier));
    let client_id = match &config.client_id {
        Some(_) if anonymous => Some(ClientId {
            kind: config.htype.0,
            id: config.hardware.as_bytes().to_vec(),
        }),
        other => other.clone(),
    };
    options.extend(client_id.map(DhcpOption::ClientIdentifier));

    let full = matches!(
        fields.kind,
        MessageType::DISCOVER | MessageType::REQUEST | MessageType::INFORM
    );
    if full && anonymous {
        options.push(DhcpOption::ParameterRequestList(
            ANONYMOUS_PARAMETERS.to_vec(),
        ));
    } else if full {
        if fields.kind != MessageType::INFORM {
            options.extend(config.lease_time.map(DhcpOption::LeaseTime));
        }
        if fields.kind == MessageType::DISCOVER && config.uses_rapid_commit() {
            options.push(DhcpOption::RapidCommit);
        }
        options.extend(config.hostname.clone().map(DhcpOption::HostName));
        options.extend(config.fqdn.clone().map(DhcpOption::ClientFqdn));
        options.extend(
            config
                .vendor_class
                .clone()
                .map(DhcpOption::VendorClassIdentifier),
        );
        if !config.parameters.is_empty() {
            options.push(DhcpOption::ParameterRequestList(config.parameters.clone()));
        }
        options.extend(config.max_message_size.map(DhcpOption::MaxMessageSize));
        options.extend(config.extra_options.iter().cloned());
    }
    if anonymous {
        options.sort_by_key(DhcpOption::code);
    }

    let broadcast = config.broadcast && fields.ciaddr.is_unspecified() && full;
    Message {
        op: Op::BOOTREQUEST,
        htype: config.htype,
        xid: fields.xid,
        secs: fields.secs,
        flags: if broadcast {
            Flags::BROADCAST
        } else {
            Flags::default()
        },
        ciaddr: fields.ciaddr,
        chaddr: config.hardware,
        options,
        ..Message::default()
    }
}
