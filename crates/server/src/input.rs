//! The server as a pure function: [`input`] takes the policy, the lease database, one
//! request and the time, and says what to send and which lease records to make durable.
//!
//! It reads no clock, opens no socket and keeps no state: the caller applies the returned
//! lease changes (after making them durable) and sends the reply. Rules follow RFC 2131
//! §4.3, and ISC dhcpd where the RFC leaves a choice.

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use charrua_wire::options::RelayAgentInformation;
use charrua_wire::{
    DhcpOption, EmitError, EmitOptions, Flags, HardwareAddress, HardwareType, Message, MessageType,
    Op, OptionCode, Text,
};

use crate::leases::{Client, INFINITE, Lease, LeaseState, Leases, Time};
use crate::policy::{Host, Policy, Settings, Subnet};

/// One request as it reached the server.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The decoded message.
    pub message: &'a Message,
    /// Our address on the interface the message arrived on, when it came straight from the
    /// client's link (a raw socket). `None` for messages that came through a UDP socket.
    pub link_address: Option<Ipv4Addr>,
    /// The address the message arrived at: the server identifier when the configuration sets
    /// none.
    pub local_address: Ipv4Addr,
}

/// Where a reply goes (RFC 2131 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// To the relay agent at `giaddr`, on the server port 67.
    Relay(Ipv4Addr),
    /// Unicast to the client's own address (`ciaddr`), on port 68.
    Client(Ipv4Addr),
    /// Broadcast on the client's link: 255.255.255.255 and ff:ff:ff:ff:ff:ff, port 68.
    Broadcast,
    /// Unicast to `yiaddr` at the client's hardware address, port 68: the client has no
    /// address yet and did not ask for broadcast.
    Hardware {
        /// The address being given.
        address: Ipv4Addr,
        /// The client's hardware address.
        hardware: HardwareAddress,
    },
}

/// A reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The message.
    pub message: Message,
    /// Where it goes.
    pub destination: Destination,
    /// How to emit it: the client's size limit, overload allowed, BOOTP's minimum length. The
    /// message is known to fit.
    pub settings: EmitOptions,
    /// Lease records to make durable and apply before the reply is sent.
    pub changes: Vec<Lease>,
    /// The network address of the subnet the client is on.
    pub subnet: Ipv4Addr,
}

/// Why a request gets no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Why {
    /// A BOOTREPLY, or an `op` that is not BOOTREQUEST.
    NotARequest,
    /// A BOOTP request without a DHCP message type.
    Bootp,
    /// A message type a server does not act on.
    UnexpectedType(MessageType),
    /// The client chose another server's offer.
    ForAnotherServer,
    /// No configured subnet for the client's link.
    NoSubnet(Option<Ipv4Addr>),
    /// The client matches no host declaration and unknown clients are denied.
    UnknownClient,
    /// No free address in the pools the client may use.
    NoFreeAddress,
    /// The client asked for an address on another network, and the server is not
    /// authoritative.
    WrongNetwork,
    /// The server has no record of the client's lease (RFC 2131 §4.3.2 INIT-REBOOT).
    NoRecord,
    /// A DHCPREQUEST with no server identifier, requested address or `ciaddr`.
    MalformedRequest,
    /// A DECLINE or RELEASE for an address the client does not hold.
    NotTheClientsLease,
    /// The reply does not fit in the client's maximum message size.
    TooLarge(EmitError),
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::NotARequest => f.write_str("not a BOOTREQUEST"),
            Why::Bootp => f.write_str("BOOTP request without a DHCP message type"),
            Why::UnexpectedType(t) => write!(f, "unexpected message type {t}"),
            Why::ForAnotherServer => f.write_str("for another server"),
            Why::NoSubnet(Some(a)) => write!(f, "no subnet for {a}"),
            Why::NoSubnet(None) => f.write_str("no subnet for the client's link"),
            Why::UnknownClient => f.write_str("unknown client, and unknown clients are denied"),
            Why::NoFreeAddress => f.write_str("no free address"),
            Why::WrongNetwork => f.write_str("address on another network, not authoritative"),
            Why::NoRecord => f.write_str("no record of the client's lease"),
            Why::MalformedRequest => {
                f.write_str("request without server identifier, requested address or ciaddr")
            }
            Why::NotTheClientsLease => f.write_str("address not leased to the client"),
            Why::TooLarge(e) => write!(f, "reply does not fit: {e}"),
        }
    }
}

/// What the caller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing: the request is not for this server, or needs no answer. Worth a debug line.
    Silence(Why),
    /// Make `changes` durable and apply them, then send the reply.
    Reply(Reply),
    /// Make these lease records durable and apply them; nothing is sent.
    Update(Vec<Lease>),
    /// The request cannot be served; worth a warning.
    Warning(Why),
}

/// What is known about the client sending a request.
struct Context<'a> {
    policy: &'a Policy,
    leases: &'a Leases,
    incoming: &'a Incoming<'a>,
    message: &'a Message,
    now: Time,
    client_id: Option<Vec<u8>>,
    hardware: (HardwareType, HardwareAddress),
    host: Option<&'a Host>,
    relay: Option<&'a RelayAgentInformation>,
}

/// Where an address comes from, which decides its parameters.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// A host's fixed address in this subnet.
    Fixed(&'a Subnet),
    /// A pool of this subnet.
    Pool(&'a Subnet, &'a crate::policy::Pool),
}

impl<'a> Source<'a> {
    fn subnet(self) -> &'a Subnet {
        match self {
            Source::Fixed(s) | Source::Pool(s, _) => s,
        }
    }
}

/// Answers one request. See the module documentation.
pub fn input(policy: &Policy, leases: &Leases, incoming: &Incoming<'_>, now: Time) -> Outcome {
    let message = incoming.message;
    if message.op != Op::BOOTREQUEST {
        return Outcome::Silence(Why::NotARequest);
    }
    let Some(kind) = message.message_type() else {
        return Outcome::Silence(Why::Bootp);
    };
    let client_id = message.client_id().map(|id| id.to_bytes());
    let hardware = (message.htype, message.chaddr);
    let host = policy.host(client_id.as_deref(), (hardware.0, &hardware.1));
    let relay = message.options.iter().find_map(|o| match o {
        DhcpOption::RelayAgentInformation(info) => Some(info),
        _ => None,
    });
    let ctx = Context {
        policy,
        leases,
        incoming,
        message,
        now,
        client_id,
        hardware,
        host,
        relay,
    };
    match kind {
        MessageType::DISCOVER => ctx.discover(),
        MessageType::REQUEST => ctx.request(),
        MessageType::DECLINE => ctx.decline(),
        MessageType::RELEASE => ctx.release(),
        MessageType::INFORM => ctx.inform(),
        other => Outcome::Silence(Why::UnexpectedType(other)),
    }
}

impl<'a> Context<'a> {
    fn client(&self) -> Client<'_> {
        Client {
            id: self.client_id.as_deref(),
            hardware: Some((self.hardware.0, &self.hardware.1)),
        }
    }

    /// The address that names the client's link: relay link selection (RFC 3527), subnet
    /// selection (RFC 3011), the relay's `giaddr`, the receiving interface, or `ciaddr`.
    fn link_selector(&self) -> Option<Ipv4Addr> {
        let m = self.message;
        let relayed = !m.giaddr.is_unspecified();
        let link_selection = self
            .relay
            .and_then(|r| r.link_selection())
            .filter(|_| relayed);
        let subnet_selection = m.options.iter().find_map(|o| match o {
            DhcpOption::SubnetSelection(a) => Some(*a),
            _ => None,
        });
        link_selection
            .or(subnet_selection)
            .or(relayed.then_some(m.giaddr))
            .or(self.incoming.link_address)
            .or((!m.ciaddr.is_unspecified()).then_some(m.ciaddr))
    }

    /// The client's network, as (network index, subnet index) of the subnet that holds its
    /// link selector.
    fn network(&self) -> Result<(usize, usize), Why> {
        let selector = self.link_selector();
        selector
            .and_then(|a| self.policy.locate(a))
            .ok_or(Why::NoSubnet(selector))
    }

    fn subnets(&self, network: usize) -> &'a [Subnet] {
        &self.policy.networks()[network].subnets
    }

    /// Where `address` may come from for this client on this network, if anywhere: a fixed
    /// address of its host, or a pool it may use.
    fn source_of(&self, network: usize, address: Ipv4Addr) -> Option<Source<'a>> {
        let subnet = self.subnets(network).iter().find(|s| s.contains(address))?;
        if self
            .host
            .is_some_and(|h| h.fixed_addresses.contains(&address))
        {
            return Some(Source::Fixed(subnet));
        }
        let known = self.host.is_some();
        let pool = subnet.pools.iter().find(|p| {
            p.access.permits(known)
                && p.ranges
                    .iter()
                    .any(|&(lo, hi)| (lo..=hi).contains(&address))
        })?;
        (address != subnet.network && address != subnet.broadcast())
            .then_some(Source::Pool(subnet, pool))
    }

    /// The parameters for a client whose address comes from `source`.
    fn params(&self, source: Source<'_>) -> Settings {
        let base = match source {
            Source::Fixed(subnet) => &subnet.params,
            Source::Pool(_, pool) => &pool.params,
        };
        match self.host {
            Some(host) => base.overridden(&host.overrides),
            None => base.clone(),
        }
    }

    /// Whether the client may be served on this network at all.
    fn admitted(&self, network: usize, subnet: usize) -> bool {
        self.host.is_some() || self.subnets(network)[subnet].params.allow_unknown_clients
    }

    /// The server identifier to put in replies: the relay's override (RFC 5107), the
    /// configured one, or the address the request arrived at.
    fn server_id(&self, params: &Settings) -> Ipv4Addr {
        self.relay
            .and_then(|r| r.server_id_override())
            .or(params.server_identifier)
            .unwrap_or(self.incoming.local_address)
    }

    /// True when a server identifier in the request names this server.
    fn is_ours(&self, id: Ipv4Addr, network: Option<usize>) -> bool {
        if id == self.incoming.local_address
            || self.relay.and_then(|r| r.server_id_override()) == Some(id)
        {
            return true;
        }
        let configured = |s: &Subnet| {
            s.params.server_identifier == Some(id)
                || s.pools
                    .iter()
                    .any(|p| p.params.server_identifier == Some(id))
        };
        match network {
            Some(n) => self.subnets(n).iter().any(configured),
            None => self
                .policy
                .networks()
                .iter()
                .flat_map(|n| &n.subnets)
                .any(configured),
        }
    }

    /// DHCPDISCOVER (RFC 2131 §4.3.1): choose an address and offer it.
    fn discover(&self) -> Outcome {
        let (network, subnet) = match self.network() {
            Ok(found) => found,
            Err(why) => return Outcome::Warning(why),
        };
        if !self.admitted(network, subnet) {
            return Outcome::Silence(Why::UnknownClient);
        }
        let Some((address, source)) = self.choose(network) else {
            return Outcome::Warning(Why::NoFreeAddress);
        };
        let params = self.params(source);
        let lease_time = self.lease_time(&params);
        let rapid = params.rapid_commit && self.message.option(OptionCode::RAPID_COMMIT).is_some();
        let (kind, state, hold) = if rapid {
            (MessageType::ACK, LeaseState::Active, lease_time)
        } else {
            (
                MessageType::OFFER,
                LeaseState::Offered,
                params.offer_hold.min(lease_time),
            )
        };
        let mut changes = Vec::new();
        if let Source::Pool(..) = source {
            changes.push(self.lease(address, state, hold));
            if rapid {
                changes.extend(self.previous_lease(address));
            }
        }
        self.answer(
            kind,
            address,
            source.subnet(),
            &params,
            Some(lease_time),
            changes,
            rapid,
        )
    }

    /// The address to offer, in ISC dhcpd's order of preference: the host's fixed address,
    /// the client's current or last address, the address it asks for, any free address.
    fn choose(&self, network: usize) -> Option<(Ipv4Addr, Source<'a>)> {
        let client = self.client();
        if let Some(host) = self.host {
            for &address in &host.fixed_addresses {
                if let Some(source) = self.source_of(network, address) {
                    return Some((address, source));
                }
            }
        }
        let usable = |address: Ipv4Addr| {
            let source = self.source_of(network, address)?;
            self.leases
                .is_free_for(address, &client, self.now)
                .then_some((address, source))
        };
        let previous = self.leases.find_client(&client).map(|l| l.address);
        if let Some(found) = previous.and_then(usable) {
            return Some(found);
        }
        if let Some(found) = self.message.requested_address().and_then(usable) {
            return Some(found);
        }
        let known = self.host.is_some();
        for subnet in self.subnets(network) {
            for pool in subnet.pools.iter().filter(|p| p.access.permits(known)) {
                for &(low, high) in &pool.ranges {
                    let free = self.leases.find_free(low, high, self.now);
                    if let Some(found) = free.and_then(usable) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }

    /// DHCPREQUEST (RFC 2131 §4.3.2), in whichever client state it comes from.
    fn request(&self) -> Outcome {
        let m = self.message;
        let located = self.network();
        if let Some(id) = m.server_identifier() {
            return self.selecting(id, located.ok().map(|(n, _)| n));
        }
        let (network, subnet) = match located {
            Ok(found) => found,
            Err(why) => return Outcome::Silence(why),
        };
        if !self.admitted(network, subnet) {
            return Outcome::Silence(Why::UnknownClient);
        }
        let authoritative = self.subnets(network)[subnet].params.authoritative;
        match (m.requested_address(), m.ciaddr.is_unspecified()) {
            (Some(address), true) => self.confirm(network, address, authoritative, false),
            (_, false) => self.confirm(network, m.ciaddr, authoritative, true),
            (None, true) => Outcome::Warning(Why::MalformedRequest),
        }
    }

    /// SELECTING: the client answers an offer, ours or another server's.
    fn selecting(&self, id: Ipv4Addr, network: Option<usize>) -> Outcome {
        let client = self.client();
        if !self.is_ours(id, network) {
            // The client took another offer: let go of any address held for it.
            let held = self
                .leases
                .find_client(&client)
                .filter(|l| l.state == LeaseState::Offered && l.holds(self.now));
            return match held {
                Some(lease) => {
                    let mut freed = lease.clone();
                    freed.state = LeaseState::Free;
                    freed.ends = self.now;
                    Outcome::Update(alloc::vec![freed])
                }
                None => Outcome::Silence(Why::ForAnotherServer),
            };
        }
        let Some(network) = network else {
            return Outcome::Warning(Why::NoSubnet(self.link_selector()));
        };
        let m = self.message;
        let address = m
            .requested_address()
            .or((!m.ciaddr.is_unspecified()).then_some(m.ciaddr));
        let Some(address) = address else {
            return Outcome::Warning(Why::MalformedRequest);
        };
        match self.source_of(network, address) {
            Some(source) if self.leases.is_free_for(address, &client, self.now) => {
                self.acknowledge(address, source)
            }
            Some(source) => self.nak(source.subnet(), "requested address is not available"),
            None => match self.subnets(network).first() {
                Some(subnet) => self.nak(subnet, "requested address is not on this network"),
                None => Outcome::Silence(Why::NoSubnet(Some(address))),
            },
        }
    }

    /// INIT-REBOOT (`renewing` false: the address is in option 50), RENEWING and REBINDING
    /// (`renewing` true: the address is `ciaddr`).
    fn confirm(
        &self,
        network: usize,
        address: Ipv4Addr,
        authoritative: bool,
        renewing: bool,
    ) -> Outcome {
        let client = self.client();
        let subnets = self.subnets(network);
        let nak = |reason| match subnets.first() {
            Some(subnet) if authoritative => self.nak(subnet, reason),
            _ => Outcome::Silence(Why::WrongNetwork),
        };
        let Some(source) = self.source_of(network, address) else {
            return nak("address is not valid on this network");
        };
        let record = self.leases.get(address);
        let ours = record.is_some_and(|l| l.belongs_to(&client));
        let taken = !self.leases.is_free_for(address, &client, self.now);
        match source {
            Source::Fixed(_) => self.acknowledge(address, source),
            _ if taken => nak("address is leased to another client"),
            _ if ours || renewing => self.acknowledge(address, source),
            // INIT-REBOOT from a client this server has no record of: "the server MUST
            // remain silent" (RFC 2131 §4.3.2).
            _ => Outcome::Silence(Why::NoRecord),
        }
    }

    /// DHCPACK for `address`, with the lease record to make durable.
    fn acknowledge(&self, address: Ipv4Addr, source: Source<'_>) -> Outcome {
        let params = self.params(source);
        let lease_time = self.lease_time(&params);
        let mut changes = Vec::new();
        if let Source::Pool(..) = source {
            changes.push(self.lease(address, LeaseState::Active, lease_time));
            changes.extend(self.previous_lease(address));
        }
        self.answer(
            MessageType::ACK,
            address,
            source.subnet(),
            &params,
            Some(lease_time),
            changes,
            false,
        )
    }

    /// The client's earlier lease on another address, freed: one lease per client.
    fn previous_lease(&self, address: Ipv4Addr) -> Option<Lease> {
        let previous = self.leases.find_client(&self.client())?;
        if previous.address == address || !previous.holds(self.now) {
            return None;
        }
        let mut freed = previous.clone();
        freed.state = LeaseState::Free;
        freed.ends = self.now;
        Some(freed)
    }

    /// DHCPDECLINE (RFC 2131 §4.3.3): the address is in use; keep it out of use.
    fn decline(&self) -> Outcome {
        let m = self.message;
        if m.server_identifier()
            .is_some_and(|id| !self.is_ours(id, None))
        {
            return Outcome::Silence(Why::ForAnotherServer);
        }
        let Some(address) = m.requested_address() else {
            return Outcome::Warning(Why::MalformedRequest);
        };
        match self.leases.get(address) {
            Some(lease) if lease.belongs_to(&self.client()) => {
                let mut abandoned = lease.clone();
                abandoned.state = LeaseState::Abandoned;
                let probation = self.probation(address);
                abandoned.ends = self.now.saturating_add(Time::from(probation));
                abandoned.cltt = self.now;
                Outcome::Update(alloc::vec![abandoned])
            }
            _ => Outcome::Silence(Why::NotTheClientsLease),
        }
    }

    fn probation(&self, address: Ipv4Addr) -> u32 {
        let subnet = self
            .policy
            .locate(address)
            .map(|(n, s)| self.policy.subnet(n, s));
        subnet.map_or(Settings::default().decline_probation, |s| {
            s.params.decline_probation
        })
    }

    /// DHCPRELEASE (RFC 2131 §4.3.4): the client gives its address back.
    fn release(&self) -> Outcome {
        let m = self.message;
        if m.server_identifier()
            .is_some_and(|id| !self.is_ours(id, None))
        {
            return Outcome::Silence(Why::ForAnotherServer);
        }
        match self.leases.get(m.ciaddr) {
            Some(lease) if lease.belongs_to(&self.client()) && lease.holds(self.now) => {
                let mut released = lease.clone();
                released.state = LeaseState::Released;
                released.ends = self.now;
                released.cltt = self.now;
                Outcome::Update(alloc::vec![released])
            }
            _ => Outcome::Silence(Why::NotTheClientsLease),
        }
    }

    /// DHCPINFORM (RFC 2131 §4.3.5): parameters only, no lease, no `yiaddr`.
    fn inform(&self) -> Outcome {
        let m = self.message;
        let selector = (!m.ciaddr.is_unspecified())
            .then_some(m.ciaddr)
            .or(self.link_selector());
        let Some((network, subnet)) = selector.and_then(|a| self.policy.locate(a)) else {
            return Outcome::Silence(Why::NoSubnet(selector));
        };
        let subnet = &self.subnets(network)[subnet];
        let source = match self.source_of(network, m.ciaddr) {
            Some(source) => source,
            None => Source::Fixed(subnet),
        };
        let params = self.params(source);
        self.answer(
            MessageType::ACK,
            Ipv4Addr::UNSPECIFIED,
            subnet,
            &params,
            None,
            Vec::new(),
            false,
        )
    }

    /// The lease time: the client's request bounded by min and max, else the default.
    fn lease_time(&self, params: &Settings) -> u32 {
        let asked = self.message.options.iter().find_map(|o| match o {
            DhcpOption::LeaseTime(t) => Some(*t),
            _ => None,
        });
        let max = params.max_lease_time.max(params.min_lease_time);
        match asked {
            Some(t) => t.min(max).max(params.min_lease_time),
            None => params.default_lease_time.clamp(params.min_lease_time, max),
        }
    }

    /// A lease record for this client.
    fn lease(&self, address: Ipv4Addr, state: LeaseState, seconds: u32) -> Lease {
        let ends = if seconds == u32::MAX {
            INFINITE
        } else {
            self.now + Time::from(seconds)
        };
        let hostname = self.message.options.iter().find_map(|o| match o {
            DhcpOption::HostName(name) => Some(name.clone()),
            _ => None,
        });
        let previous = self
            .leases
            .get(address)
            .filter(|l| l.belongs_to(&self.client()));
        let starts = previous
            .filter(|l| l.holds(self.now))
            .map_or(self.now, |l| l.starts);
        Lease {
            address,
            client_id: self.client_id.as_deref().map(Into::into),
            hardware: Some(self.hardware),
            starts,
            ends,
            cltt: self.now,
            state,
            hostname,
        }
    }

    /// The reply's destination (RFC 2131 §4.1).
    fn destination(&self, kind: MessageType, yiaddr: Ipv4Addr) -> Destination {
        let m = self.message;
        if !m.giaddr.is_unspecified() {
            Destination::Relay(m.giaddr)
        } else if kind == MessageType::NAK {
            Destination::Broadcast
        } else if !m.ciaddr.is_unspecified() {
            Destination::Client(m.ciaddr)
        } else if m.flags.broadcast() || yiaddr.is_unspecified() {
            Destination::Broadcast
        } else {
            Destination::Hardware {
                address: yiaddr,
                hardware: m.chaddr,
            }
        }
    }

    /// The largest reply the client takes: option 57 less IP and UDP headers, at least the
    /// 576-byte datagram every host accepts (RFC 2132 §9.10).
    fn settings(&self) -> EmitOptions {
        let datagram = self
            .message
            .max_message_size()
            .map_or(576, |n| usize::from(n).max(576));
        EmitOptions {
            max_len: Some(datagram - 28),
            overload: true,
            min_len: 300,
        }
    }

    /// A DHCPNAK (RFC 2131 §4.3.2, table 3).
    fn nak(&self, subnet: &Subnet, reason: &str) -> Outcome {
        let m = self.message;
        let mut flags = m.flags;
        if !m.giaddr.is_unspecified() {
            flags = Flags(flags.0 | Flags::BROADCAST.0);
        }
        let mut options = alloc::vec![
            DhcpOption::MessageType(MessageType::NAK),
            DhcpOption::ServerIdentifier(self.server_id(&subnet.params)),
            DhcpOption::Message(Text::from(reason)),
        ];
        options.extend(self.echoed());
        let message = Message {
            op: Op::BOOTREPLY,
            htype: m.htype,
            xid: m.xid,
            flags,
            giaddr: m.giaddr,
            chaddr: m.chaddr,
            options,
            ..Message::default()
        };
        Outcome::Reply(Reply {
            message,
            destination: self.destination(MessageType::NAK, Ipv4Addr::UNSPECIFIED),
            settings: self.settings(),
            changes: Vec::new(),
            subnet: subnet.network,
        })
    }

    /// Options echoed from the request: the client identifier (RFC 6842) and the relay
    /// agent information (RFC 3046 §2.2), the latter last.
    fn echoed(&self) -> impl Iterator<Item = DhcpOption> + '_ {
        let id = self.message.option(OptionCode::CLIENT_IDENTIFIER).cloned();
        let relay = self.relay.cloned().map(DhcpOption::RelayAgentInformation);
        id.into_iter().chain(relay)
    }

    /// An OFFER or ACK: required options first, then what the client asked for in its order,
    /// cut from the end until the reply fits.
    #[allow(clippy::too_many_arguments, reason = "one call site per message kind")]
    fn answer(
        &self,
        kind: MessageType,
        address: Ipv4Addr,
        subnet: &Subnet,
        params: &Settings,
        lease_time: Option<u32>,
        changes: Vec<Lease>,
        rapid: bool,
    ) -> Outcome {
        let m = self.message;
        let mut head = alloc::vec![
            DhcpOption::MessageType(kind),
            DhcpOption::ServerIdentifier(self.server_id(params)),
        ];
        if let Some(t) = lease_time {
            head.push(DhcpOption::LeaseTime(t));
            if t != u32::MAX {
                let renewal = params.option(OptionCode::RENEWAL_TIME).cloned();
                let rebinding = params.option(OptionCode::REBINDING_TIME).cloned();
                // T1 and T2 default to 0.5 and 0.875 of the lease (RFC 2131 §4.4.5); 7t/8 is
                // taken in two parts so that 7t cannot overflow.
                head.push(renewal.unwrap_or(DhcpOption::RenewalTime(t / 2)));
                head.push(
                    rebinding.unwrap_or(DhcpOption::RebindingTime(t / 8 * 7 + t % 8 * 7 / 8)),
                );
            }
        }
        let mask = params.option(OptionCode::SUBNET_MASK).cloned();
        head.push(mask.unwrap_or(DhcpOption::SubnetMask(subnet.netmask)));
        if rapid {
            head.push(DhcpOption::RapidCommit);
        }

        let already = |code: OptionCode, list: &[DhcpOption]| list.iter().any(|o| o.code() == code);
        let mut wanted: Vec<DhcpOption> = Vec::new();
        let host_name = self
            .host
            .filter(|_| params.use_host_decl_names)
            .map(|h| DhcpOption::HostName(h.name.clone()));
        match m.parameter_request_list() {
            Some(list) => {
                for &code in list {
                    let option = match code {
                        OptionCode::HOST_NAME if params.option(code).is_none() => host_name.clone(),
                        _ => params.option(code).cloned(),
                    };
                    if let Some(option) = option {
                        if !already(code, &head) && !already(code, &wanted) {
                            wanted.push(option);
                        }
                    }
                }
            }
            None => {
                for option in params.options.iter().chain(host_name.as_ref()) {
                    if !already(option.code(), &head) && !already(option.code(), &wanted) {
                        wanted.push(option.clone());
                    }
                }
            }
        }

        let settings = self.settings();
        let mut message = Message {
            op: Op::BOOTREPLY,
            htype: m.htype,
            xid: m.xid,
            flags: m.flags,
            ciaddr: if kind == MessageType::ACK {
                m.ciaddr
            } else {
                Ipv4Addr::UNSPECIFIED
            },
            yiaddr: address,
            siaddr: params.next_server.unwrap_or(Ipv4Addr::UNSPECIFIED),
            giaddr: m.giaddr,
            chaddr: m.chaddr,
            sname: params.server_name.clone().unwrap_or_default(),
            file: params.filename.clone().unwrap_or_default(),
            options: Vec::new(),
            ..Message::default()
        };
        // Required options, then the wanted ones, then the echoed ones; wanted options are
        // taken out from the end until the reply fits.
        let required = head.len();
        let mut kept = wanted.len();
        message.options = head;
        message.options.append(&mut wanted);
        message.options.extend(self.echoed());
        loop {
            match message.emitted_len(&settings) {
                Ok(_) => break,
                Err(error) if kept == 0 => return Outcome::Warning(Why::TooLarge(error)),
                Err(_) => {
                    kept -= 1;
                    message.options.remove(required + kept);
                }
            }
        }
        Outcome::Reply(Reply {
            message,
            destination: self.destination(kind, address),
            settings,
            changes,
            subnet: subnet.network,
        })
    }
}
