//! What the caller decides: identity, options to send, timing choices, and randomness.

use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::time::Duration;

use charrua_wire::options::{ClientFqdn, ClientId};
use charrua_wire::{DhcpOption, HardwareAddress, HardwareType, OptionCode, Text};

/// A source of random numbers, owned by the caller.
///
/// The client draws from it for transaction ids and for the ±1 s jitter of retransmissions
/// (RFC 2131 §4.1). A seeded generator makes a run reproducible.
pub trait Rng {
    /// A uniformly distributed 32-bit value.
    fn next_u32(&mut self) -> u32;
}

/// The parameter request list sent by default: subnet mask, routers, DNS servers, host name,
/// domain name, MTU, broadcast address, NTP servers, lease time, server identifier, T1, T2,
/// domain search and classless static routes.
pub const DEFAULT_PARAMETERS: [OptionCode; 14] = [
    OptionCode::SUBNET_MASK,
    OptionCode::ROUTERS,
    OptionCode::DOMAIN_NAME_SERVERS,
    OptionCode::HOST_NAME,
    OptionCode::DOMAIN_NAME,
    OptionCode::INTERFACE_MTU,
    OptionCode::BROADCAST_ADDRESS,
    OptionCode(42),
    OptionCode::LEASE_TIME,
    OptionCode::SERVER_IDENTIFIER,
    OptionCode::RENEWAL_TIME,
    OptionCode::REBINDING_TIME,
    OptionCode::DOMAIN_SEARCH,
    OptionCode::CLASSLESS_STATIC_ROUTES,
];

/// The parameter request list of the anonymity profile: a short list, in code order, the
/// same for every client that uses the profile (RFC 7844 §3.6).
pub const ANONYMOUS_PARAMETERS: [OptionCode; 6] = [
    OptionCode::SUBNET_MASK,
    OptionCode::ROUTERS,
    OptionCode::DOMAIN_NAME_SERVERS,
    OptionCode::DOMAIN_NAME,
    OptionCode::DOMAIN_SEARCH,
    OptionCode::CLASSLESS_STATIC_ROUTES,
];

/// How the client identifies itself and paces its exchanges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `htype`.
    pub htype: HardwareType,
    /// `chaddr`: the interface's hardware address.
    pub hardware: HardwareAddress,
    /// Client identifier (option 61). With the anonymity profile, any value here is replaced
    /// by one made of `htype` and `hardware` (RFC 7844 §3.5); `None` sends none either way.
    pub client_id: Option<ClientId>,
    /// Host name (option 12). Never sent with the anonymity profile (RFC 7844 §3.7).
    pub hostname: Option<Text>,
    /// Client FQDN (option 81). Never sent with the anonymity profile (RFC 7844 §3.8).
    pub fqdn: Option<ClientFqdn>,
    /// Vendor class identifier (option 60). Never sent with the anonymity profile
    /// (RFC 7844 §3.10).
    pub vendor_class: Option<Vec<u8>>,
    /// Parameter request list (option 55), in order of preference. Replaced by
    /// [`ANONYMOUS_PARAMETERS`] with the anonymity profile.
    pub parameters: Vec<OptionCode>,
    /// Maximum DHCP message size (option 57), IP and UDP headers included. Not sent with
    /// the anonymity profile.
    pub max_message_size: Option<u16>,
    /// Lease time to ask for (option 51), in seconds. Not sent with the anonymity profile.
    pub lease_time: Option<u32>,
    /// An address to ask for in DHCPDISCOVER (option 50), and to prefer among offers. Not
    /// sent with the anonymity profile (RFC 7844 §3.3), but still preferred.
    pub requested_address: Option<Ipv4Addr>,
    /// Further options for DHCPDISCOVER, DHCPREQUEST and DHCPINFORM (user class, say).
    /// Not sent with the anonymity profile.
    pub extra_options: Vec<DhcpOption>,
    /// Ask servers to broadcast their replies (the `flags` broadcast bit): for clients that
    /// cannot receive unicast before their address is configured.
    pub broadcast: bool,
    /// Send a rapid commit option (RFC 4039) in DHCPDISCOVER and accept a DHCPACK with one
    /// while selecting. Off with the anonymity profile, which sends no such option.
    pub rapid_commit: bool,
    /// The anonymity profile of RFC 7844 §3: send only what it allows.
    pub anonymity: bool,
    /// How long to keep collecting offers after the first one arrives.
    pub offer_window: Duration,
    /// How many times a DHCPREQUEST is sent in REQUESTING or REBOOTING before the client
    /// gives up and returns to INIT.
    pub request_attempts: u32,
    /// How long to wait in INIT after a DHCPNAK before sending a DHCPDISCOVER.
    pub nak_delay: Duration,
    /// How long to wait in INIT after a DHCPDECLINE before sending a DHCPDISCOVER.
    pub decline_delay: Duration,
}

impl Config {
    /// A configuration for an Ethernet interface, with the defaults: no client identifier,
    /// [`DEFAULT_PARAMETERS`], a 1 s offer window, 4 request attempts, 10 s after a NAK or
    /// a decline.
    pub fn ethernet(mac: [u8; 6]) -> Self {
        Config {
            htype: HardwareType::ETHERNET,
            hardware: HardwareAddress::ethernet(mac),
            client_id: None,
            hostname: None,
            fqdn: None,
            vendor_class: None,
            parameters: DEFAULT_PARAMETERS.to_vec(),
            max_message_size: None,
            lease_time: None,
            requested_address: None,
            extra_options: Vec::new(),
            broadcast: false,
            rapid_commit: false,
            anonymity: false,
            offer_window: Duration::from_secs(1),
            request_attempts: 4,
            nak_delay: Duration::from_secs(10),
            decline_delay: Duration::from_secs(10),
        }
    }

    /// Whether a rapid commit option goes in DHCPDISCOVER.
    pub(crate) fn uses_rapid_commit(&self) -> bool {
        self.rapid_commit && !self.anonymity
    }
}
