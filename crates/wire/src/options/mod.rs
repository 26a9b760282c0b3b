//! DHCP options: codes, typed values, and the reading and writing of their payloads.
//!
//! Every option in RFC 2132 and every option in common use since has a typed variant of
//! [`DhcpOption`]. Anything else is kept as [`DhcpOption::Other`] with its code and bytes and
//! is emitted again unchanged. Typed decoding is strict: a fixed-size option with the wrong
//! length, or a structured option whose structure does not hold, is an error naming the code
//! and offset, never a silent skip.
//!
//! Payloads are the *joined* value of an option (RFC 3396): the parser concatenates every
//! instance of a code before decoding it, and the emitter splits any payload over 255 bytes.

mod kinds;
mod name;
mod relay;
mod types;

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

pub use kinds::Text;
pub use name::{DomainName, NameError};
pub use relay::{RelayAgentInformation, RelaySubOption, VendorData};
pub use types::{
    Authentication, ClasslessRoute, ClientFqdn, ClientId, ClientNdi, FqdnName, Isns, MachineId,
    MessageType, SipServers, SlpDirectoryAgent, SlpServiceScope, UserClass, VendorClass,
    VendorOptions,
};

use crate::error::Expected;
use kinds::{Bytes, Codes, Flag, I32, Ip, IpPairs, Ips, Ips0, Str, U8, U16, U16s, U32};
use name::DomainList;

/// An option code: one byte, named by its IANA registration where it has one.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(transparent)
)]
pub struct OptionCode(pub u8);

impl OptionCode {
    /// Pad (RFC 2132 §3.1): a single zero byte with no length.
    pub const PAD: OptionCode = OptionCode(0);
    /// Subnet mask (RFC 2132 §3.3).
    pub const SUBNET_MASK: OptionCode = OptionCode(1);
    /// Routers (RFC 2132 §3.5).
    pub const ROUTERS: OptionCode = OptionCode(3);
    /// Domain name servers (RFC 2132 §3.8).
    pub const DOMAIN_NAME_SERVERS: OptionCode = OptionCode(6);
    /// Host name (RFC 2132 §3.14).
    pub const HOST_NAME: OptionCode = OptionCode(12);
    /// Domain name (RFC 2132 §3.17).
    pub const DOMAIN_NAME: OptionCode = OptionCode(15);
    /// Interface MTU (RFC 2132 §5.1).
    pub const INTERFACE_MTU: OptionCode = OptionCode(26);
    /// Broadcast address (RFC 2132 §5.3).
    pub const BROADCAST_ADDRESS: OptionCode = OptionCode(28);
    /// Vendor-specific information (RFC 2132 §8.4).
    pub const VENDOR_SPECIFIC: OptionCode = OptionCode(43);
    /// Requested IP address (RFC 2132 §9.1).
    pub const REQUESTED_ADDRESS: OptionCode = OptionCode(50);
    /// IP address lease time (RFC 2132 §9.2).
    pub const LEASE_TIME: OptionCode = OptionCode(51);
    /// Option overload (RFC 2132 §9.3): `sname` and/or `file` carry options.
    pub const OVERLOAD: OptionCode = OptionCode(52);
    /// DHCP message type (RFC 2132 §9.6).
    pub const MESSAGE_TYPE: OptionCode = OptionCode(53);
    /// Server identifier (RFC 2132 §9.7).
    pub const SERVER_IDENTIFIER: OptionCode = OptionCode(54);
    /// Parameter request list (RFC 2132 §9.8).
    pub const PARAMETER_REQUEST_LIST: OptionCode = OptionCode(55);
    /// Message (RFC 2132 §9.9).
    pub const MESSAGE: OptionCode = OptionCode(56);
    /// Maximum DHCP message size (RFC 2132 §9.10).
    pub const MAX_MESSAGE_SIZE: OptionCode = OptionCode(57);
    /// Renewal (T1) time (RFC 2132 §9.11).
    pub const RENEWAL_TIME: OptionCode = OptionCode(58);
    /// Rebinding (T2) time (RFC 2132 §9.12).
    pub const REBINDING_TIME: OptionCode = OptionCode(59);
    /// Vendor class identifier (RFC 2132 §9.13).
    pub const VENDOR_CLASS_IDENTIFIER: OptionCode = OptionCode(60);
    /// Client identifier (RFC 2132 §9.14, RFC 4361).
    pub const CLIENT_IDENTIFIER: OptionCode = OptionCode(61);
    /// Rapid commit (RFC 4039).
    pub const RAPID_COMMIT: OptionCode = OptionCode(80);
    /// Client FQDN (RFC 4702).
    pub const CLIENT_FQDN: OptionCode = OptionCode(81);
    /// Relay agent information (RFC 3046).
    pub const RELAY_AGENT_INFORMATION: OptionCode = OptionCode(82);
    /// Subnet selection (RFC 3011).
    pub const SUBNET_SELECTION: OptionCode = OptionCode(118);
    /// Domain search (RFC 3397).
    pub const DOMAIN_SEARCH: OptionCode = OptionCode(119);
    /// Classless static routes (RFC 3442).
    pub const CLASSLESS_STATIC_ROUTES: OptionCode = OptionCode(121);
    /// End (RFC 2132 §3.2): a single 255 byte that closes an options area.
    pub const END: OptionCode = OptionCode(255);

    /// The option's name: ISC dhcpd's name where it has one, else the IANA description in the
    /// same style, else "unknown".
    pub fn name(self) -> &'static str {
        known_name(self.0)
            .or_else(|| untyped_name(self.0))
            .unwrap_or("unknown")
    }
}

impl fmt::Debug for OptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for OptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// Why a payload could not be decoded; the caller adds the code and offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueError {
    Length(Expected),
    Value(&'static str),
}

/// Where option payloads are written: a byte counter or a buffer that splits long options.
pub(crate) trait Sink {
    /// Appends bytes to the payload being written.
    fn put(&mut self, bytes: &[u8]);

    fn put_u8(&mut self, v: u8) {
        self.put(&[v]);
    }
    fn put_u16(&mut self, v: u16) {
        self.put(&v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.put(&v.to_be_bytes());
    }
    fn put_ip(&mut self, v: Ipv4Addr) {
        self.put(&v.octets());
    }
}

/// A length as a length byte. Callers cap lengths first; a value over 255 would give 255, so
/// a length byte never wraps around.
pub(crate) fn len_byte(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

/// How many of the leading items, of these sizes, fit together in 255 bytes, and the bytes
/// they take. Counting stops at the first item that does not fit.
///
/// RFC 3046 and RFC 3925 cap a sub-option or one vendor's data at 255 bytes; encoders write
/// the items this counts and a length byte of the total, so the two always agree.
pub(crate) fn fitting(sizes: impl IntoIterator<Item = usize>) -> (usize, usize) {
    let (mut count, mut total) = (0, 0);
    for size in sizes {
        if total + size > 255 {
            break;
        }
        count += 1;
        total += size;
    }
    (count, total)
}

/// Counts the bytes a payload would take.
#[derive(Default)]
pub(crate) struct Counter(pub(crate) usize);

impl Sink for Counter {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

/// Appends to a vector (tests and callers that want a payload on its own).
impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A cursor over one payload. Every read checks the length first; reading past the end is a
/// length error for the whole option, never a panic.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Takes `n` bytes, or fails with `short` when fewer are left.
    pub(crate) fn take(&mut self, n: usize, short: ValueError) -> Result<&'a [u8], ValueError> {
        if n > self.data.len() {
            return Err(short);
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self, short: ValueError) -> Result<u8, ValueError> {
        Ok(self.take(1, short)?[0])
    }

    pub(crate) fn u16(&mut self, short: ValueError) -> Result<u16, ValueError> {
        let b = self.take(2, short)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, short: ValueError) -> Result<u32, ValueError> {
        let b = self.take(4, short)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn ip(&mut self, short: ValueError) -> Result<Ipv4Addr, ValueError> {
        let b = self.take(4, short)?;
        Ok(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }
}

/// How one kind of payload is read, written and shown.
pub(crate) trait Codec {
    type Value;
    fn decode(data: &[u8]) -> Result<Self::Value, ValueError>;
    fn encode<S: Sink>(value: &Self::Value, out: &mut S);
    fn show(value: &Self::Value, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// Declares [`DhcpOption`] from one table: code, variant, value type, codec and name.
macro_rules! options {
    (
        $( $(#[$doc:meta])* $code:literal $variant:ident($ty:ty) = $codec:ty, $name:literal; )*
        @units
        $( $(#[$udoc:meta])* $ucode:literal $uvariant:ident, $uname:literal; )*
    ) => {
        /// One DHCP option with its value decoded.
        ///
        /// Variant documentation names the defining RFC section. The payload of every variant
        /// is the whole (joined) value; a value over 255 bytes is split on emission.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[non_exhaustive]
        pub enum DhcpOption {
            $( $(#[$doc])* $variant($ty), )*
            $( $(#[$udoc])* $uvariant, )*
            /// An option with no typed variant, kept as its code and bytes.
            ///
            /// Codes 0 (pad), 52 (overload) and 255 (end) are structure, not options: the
            /// emitter leaves an `Other` with one of those codes out.
            Other {
                /// The option code.
                code: OptionCode,
                /// The payload, all instances joined.
                data: Vec<u8>,
            },
        }

        impl DhcpOption {
            /// The option's code.
            pub fn code(&self) -> OptionCode {
                match self {
                    $( DhcpOption::$variant(_) => OptionCode($code), )*
                    $( DhcpOption::$uvariant => OptionCode($ucode), )*
                    DhcpOption::Other { code, .. } => *code,
                }
            }

            /// Decodes a joined payload for `code`.
            pub(crate) fn decode(code: OptionCode, data: &[u8]) -> Result<Self, ValueError> {
                Ok(match code.0 {
                    $( $code => DhcpOption::$variant(<$codec as Codec>::decode(data)?), )*
                    $( $ucode => {
                        if !data.is_empty() {
                            return Err(ValueError::Length(Expected::Exactly(0)));
                        }
                        DhcpOption::$uvariant
                    } )*
                    _ => DhcpOption::Other { code, data: data.to_vec() },
                })
            }

            /// Writes the payload (not the code or length).
            pub(crate) fn encode_payload<S: Sink>(&self, out: &mut S) {
                match self {
                    $( DhcpOption::$variant(v) => <$codec as Codec>::encode(v, out), )*
                    $( DhcpOption::$uvariant => {}, )*
                    DhcpOption::Other { data, .. } => out.put(data),
                }
            }

            /// Shows the value alone, as in `tcpdump -v`.
            pub(crate) fn show_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( DhcpOption::$variant(v) => <$codec as Codec>::show(v, f), )*
                    $( DhcpOption::$uvariant => Ok(()), )*
                    DhcpOption::Other { data, .. } => kinds::show_hex(data, f),
                }
            }
        }

        /// The name of a code that has a typed variant.
        const fn known_name(code: u8) -> Option<&'static str> {
            match code {
                $( $code => Some($name), )*
                $( $ucode => Some($uname), )*
                _ => None,
            }
        }
    };
}

options! {
    /// Subnet mask (RFC 2132 §3.3).
    1 SubnetMask(Ipv4Addr) = Ip, "subnet-mask";
    /// Time offset from UTC in seconds (RFC 2132 §3.4).
    2 TimeOffset(i32) = I32, "time-offset";
    /// Routers on the client's subnet, in order of preference (RFC 2132 §3.5).
    3 Routers(Vec<Ipv4Addr>) = Ips, "routers";
    /// RFC 868 time servers (RFC 2132 §3.6).
    4 TimeServers(Vec<Ipv4Addr>) = Ips, "time-servers";
    /// IEN 116 name servers (RFC 2132 §3.7).
    5 NameServers(Vec<Ipv4Addr>) = Ips, "ien116-name-servers";
    /// DNS servers (RFC 2132 §3.8).
    6 DomainNameServers(Vec<Ipv4Addr>) = Ips, "domain-name-servers";
    /// MIT-LCS UDP log servers (RFC 2132 §3.9).
    7 LogServers(Vec<Ipv4Addr>) = Ips, "log-servers";
    /// RFC 865 cookie servers (RFC 2132 §3.10).
    8 CookieServers(Vec<Ipv4Addr>) = Ips, "cookie-servers";
    /// LPR servers (RFC 2132 §3.11).
    9 LprServers(Vec<Ipv4Addr>) = Ips, "lpr-servers";
    /// Imagen Impress servers (RFC 2132 §3.12).
    10 ImpressServers(Vec<Ipv4Addr>) = Ips, "impress-servers";
    /// RFC 887 resource location servers (RFC 2132 §3.13).
    11 ResourceLocationServers(Vec<Ipv4Addr>) = Ips, "resource-location-servers";
    /// The client's host name (RFC 2132 §3.14).
    12 HostName(Text) = Str, "host-name";
    /// Boot file size in 512-byte blocks (RFC 2132 §3.15).
    13 BootSize(u16) = U16, "boot-size";
    /// Merit dump file path (RFC 2132 §3.16).
    14 MeritDump(Text) = Str, "merit-dump";
    /// The client's DNS domain name (RFC 2132 §3.17).
    15 DomainName(Text) = Str, "domain-name";
    /// Swap server (RFC 2132 §3.18).
    16 SwapServer(Ipv4Addr) = Ip, "swap-server";
    /// Root disk path (RFC 2132 §3.19).
    17 RootPath(Text) = Str, "root-path";
    /// Extensions file path (RFC 2132 §3.20).
    18 ExtensionsPath(Text) = Str, "extensions-path";
    /// IP forwarding enable (RFC 2132 §4.1).
    19 IpForwarding(bool) = Flag, "ip-forwarding";
    /// Non-local source routing enable (RFC 2132 §4.2).
    20 NonLocalSourceRouting(bool) = Flag, "non-local-source-routing";
    /// Policy filter: (address, mask) pairs (RFC 2132 §4.3).
    21 PolicyFilter(Vec<(Ipv4Addr, Ipv4Addr)>) = IpPairs, "policy-filter";
    /// Maximum datagram reassembly size (RFC 2132 §4.4).
    22 MaxDatagramReassembly(u16) = U16, "max-dgram-reassembly";
    /// Default IP time-to-live (RFC 2132 §4.5).
    23 DefaultIpTtl(u8) = U8, "default-ip-ttl";
    /// Path MTU aging timeout in seconds (RFC 2132 §4.6).
    24 PathMtuAgingTimeout(u32) = U32, "path-mtu-aging-timeout";
    /// Path MTU plateau table (RFC 2132 §4.7).
    25 PathMtuPlateauTable(Vec<u16>) = U16s, "path-mtu-plateau-table";
    /// Interface MTU (RFC 2132 §5.1).
    26 InterfaceMtu(u16) = U16, "interface-mtu";
    /// All subnets are local (RFC 2132 §5.2).
    27 AllSubnetsLocal(bool) = Flag, "all-subnets-local";
    /// Broadcast address (RFC 2132 §5.3).
    28 BroadcastAddress(Ipv4Addr) = Ip, "broadcast-address";
    /// Perform mask discovery (RFC 2132 §5.4).
    29 PerformMaskDiscovery(bool) = Flag, "perform-mask-discovery";
    /// Mask supplier (RFC 2132 §5.5).
    30 MaskSupplier(bool) = Flag, "mask-supplier";
    /// Perform router discovery (RFC 2132 §5.6).
    31 RouterDiscovery(bool) = Flag, "router-discovery";
    /// Router solicitation address (RFC 2132 §5.7).
    32 RouterSolicitationAddress(Ipv4Addr) = Ip, "router-solicitation-address";
    /// Classful static routes: (destination, router) pairs (RFC 2132 §5.8).
    33 StaticRoutes(Vec<(Ipv4Addr, Ipv4Addr)>) = IpPairs, "static-routes";
    /// Trailer encapsulation (RFC 2132 §6.1).
    34 TrailerEncapsulation(bool) = Flag, "trailer-encapsulation";
    /// ARP cache timeout in seconds (RFC 2132 §6.2).
    35 ArpCacheTimeout(u32) = U32, "arp-cache-timeout";
    /// Use IEEE 802.3 rather than Ethernet II encapsulation (RFC 2132 §6.3).
    36 Ieee8023Encapsulation(bool) = Flag, "ieee802-3-encapsulation";
    /// TCP default TTL (RFC 2132 §7.1).
    37 DefaultTcpTtl(u8) = U8, "default-tcp-ttl";
    /// TCP keepalive interval in seconds (RFC 2132 §7.2).
    38 TcpKeepaliveInterval(u32) = U32, "tcp-keepalive-interval";
    /// TCP keepalive garbage octet (RFC 2132 §7.3).
    39 TcpKeepaliveGarbage(bool) = Flag, "tcp-keepalive-garbage";
    /// NIS domain (RFC 2132 §8.1).
    40 NisDomain(Text) = Str, "nis-domain";
    /// NIS servers (RFC 2132 §8.2).
    41 NisServers(Vec<Ipv4Addr>) = Ips, "nis-servers";
    /// NTP servers (RFC 2132 §8.3).
    42 NtpServers(Vec<Ipv4Addr>) = Ips, "ntp-servers";
    /// Vendor-specific information, encapsulated per vendor (RFC 2132 §8.4).
    43 VendorSpecific(Vec<u8>) = Bytes, "vendor-encapsulated-options";
    /// NetBIOS over TCP/IP name servers (RFC 2132 §8.5).
    44 NetbiosNameServers(Vec<Ipv4Addr>) = Ips, "netbios-name-servers";
    /// NetBIOS datagram distribution servers (RFC 2132 §8.6).
    45 NetbiosDdServers(Vec<Ipv4Addr>) = Ips, "netbios-dd-server";
    /// NetBIOS node type: 1 B, 2 P, 4 M, 8 H (RFC 2132 §8.7).
    46 NetbiosNodeType(u8) = U8, "netbios-node-type";
    /// NetBIOS scope (RFC 2132 §8.8).
    47 NetbiosScope(Text) = Str, "netbios-scope";
    /// X Window font servers (RFC 2132 §8.9).
    48 FontServers(Vec<Ipv4Addr>) = Ips, "font-servers";
    /// X Window display managers (RFC 2132 §8.10).
    49 XDisplayManagers(Vec<Ipv4Addr>) = Ips, "x-display-manager";
    /// The address the client asks for (RFC 2132 §9.1).
    50 RequestedAddress(Ipv4Addr) = Ip, "dhcp-requested-address";
    /// Lease time in seconds; 0xffffffff is infinite (RFC 2132 §9.2).
    51 LeaseTime(u32) = U32, "dhcp-lease-time";
    /// DHCP message type (RFC 2132 §9.6).
    53 MessageType(MessageType) = MessageType, "dhcp-message-type";
    /// Server identifier (RFC 2132 §9.7).
    54 ServerIdentifier(Ipv4Addr) = Ip, "dhcp-server-identifier";
    /// Parameter request list, in the client's order of preference (RFC 2132 §9.8).
    55 ParameterRequestList(Vec<OptionCode>) = Codes, "dhcp-parameter-request-list";
    /// An error or explanation for the peer (RFC 2132 §9.9).
    56 Message(Text) = Str, "dhcp-message";
    /// Largest DHCP message the client accepts, IP and UDP headers included
    /// (RFC 2132 §9.10).
    57 MaxMessageSize(u16) = U16, "dhcp-max-message-size";
    /// Renewal time T1 in seconds (RFC 2132 §9.11).
    58 RenewalTime(u32) = U32, "dhcp-renewal-time";
    /// Rebinding time T2 in seconds (RFC 2132 §9.12).
    59 RebindingTime(u32) = U32, "dhcp-rebinding-time";
    /// Vendor class identifier (RFC 2132 §9.13).
    60 VendorClassIdentifier(Vec<u8>) = Bytes, "vendor-class-identifier";
    /// Client identifier (RFC 2132 §9.14, RFC 4361).
    61 ClientIdentifier(ClientId) = ClientId, "dhcp-client-identifier";
    /// NIS+ domain (RFC 2132 §8.11).
    64 NisPlusDomain(Text) = Str, "nisplus-domain";
    /// NIS+ servers (RFC 2132 §8.12).
    65 NisPlusServers(Vec<Ipv4Addr>) = Ips, "nisplus-servers";
    /// TFTP server name, when `sname` is used for options (RFC 2132 §9.4).
    66 TftpServerName(Text) = Str, "tftp-server-name";
    /// Boot file name, when `file` is used for options (RFC 2132 §9.5).
    67 BootfileName(Text) = Str, "bootfile-name";
    /// Mobile IP home agents; may be empty (RFC 2132 §8.13).
    68 MobileIpHomeAgents(Vec<Ipv4Addr>) = Ips0, "mobile-ip-home-agent";
    /// SMTP servers (RFC 2132 §8.14).
    69 SmtpServers(Vec<Ipv4Addr>) = Ips, "smtp-server";
    /// POP3 servers (RFC 2132 §8.15).
    70 Pop3Servers(Vec<Ipv4Addr>) = Ips, "pop-server";
    /// NNTP servers (RFC 2132 §8.16).
    71 NntpServers(Vec<Ipv4Addr>) = Ips, "nntp-server";
    /// WWW servers (RFC 2132 §8.17).
    72 WwwServers(Vec<Ipv4Addr>) = Ips, "www-server";
    /// Finger servers (RFC 2132 §8.18).
    73 FingerServers(Vec<Ipv4Addr>) = Ips, "finger-server";
    /// IRC servers (RFC 2132 §8.19).
    74 IrcServers(Vec<Ipv4Addr>) = Ips, "irc-server";
    /// StreetTalk servers (RFC 2132 §8.20).
    75 StreetTalkServers(Vec<Ipv4Addr>) = Ips, "streettalk-server";
    /// StreetTalk directory assistance servers (RFC 2132 §8.21).
    76 StreetTalkDirectoryAssistance(Vec<Ipv4Addr>) = Ips,
        "streettalk-directory-assistance-server";
    /// User class (RFC 3004).
    77 UserClass(UserClass) = UserClass, "user-class";
    /// SLP directory agents (RFC 2610 §3).
    78 SlpDirectoryAgent(SlpDirectoryAgent) = SlpDirectoryAgent, "slp-directory-agent";
    /// SLP service scope (RFC 2610 §4).
    79 SlpServiceScope(SlpServiceScope) = SlpServiceScope, "slp-service-scope";
    /// Client FQDN (RFC 4702).
    81 ClientFqdn(ClientFqdn) = ClientFqdn, "fqdn";
    /// Relay agent information (RFC 3046).
    82 RelayAgentInformation(RelayAgentInformation) = RelayAgentInformation,
        "relay-agent-information";
    /// Internet Storage Name Service (RFC 4174).
    83 Isns(Isns) = Isns, "isns";
    /// Novell Directory Services servers (RFC 2241).
    85 NdsServers(Vec<Ipv4Addr>) = Ips, "nds-servers";
    /// NDS tree name (RFC 2241).
    86 NdsTreeName(Text) = Str, "nds-tree-name";
    /// NDS context (RFC 2241).
    87 NdsContext(Text) = Str, "nds-context";
    /// BCMCS controller domain names (RFC 4280).
    88 BcmcsControllerNames(Vec<DomainName>) = DomainList, "bcms-controller-names";
    /// BCMCS controller addresses (RFC 4280).
    89 BcmcsControllerAddresses(Vec<Ipv4Addr>) = Ips, "bcms-controller-address";
    /// Authentication (RFC 3118).
    90 Authentication(Authentication) = Authentication, "authenticate";
    /// Client last transaction time, for leasequery (RFC 4388).
    91 ClientLastTransactionTime(u32) = U32, "client-last-transaction-time";
    /// Associated addresses, for leasequery (RFC 4388).
    92 AssociatedIp(Vec<Ipv4Addr>) = Ips, "associated-ip";
    /// PXE client system architectures (RFC 4578 §2.1).
    93 ClientArchitecture(Vec<u16>) = U16s, "pxe-system-type";
    /// PXE client network interface identifier (RFC 4578 §2.2).
    94 ClientNdi(ClientNdi) = ClientNdi, "pxe-interface-id";
    /// PXE client machine identifier, a UUID (RFC 4578 §2.3).
    97 ClientMachineId(MachineId) = MachineId, "pxe-client-id";
    /// User authentication protocol URLs (RFC 2485).
    98 UserAuthentication(Text) = Str, "uap-servers";
    /// Civic location (RFC 4776).
    99 GeoconfCivic(Vec<u8>) = Bytes, "geoconf-civic";
    /// POSIX time zone string (RFC 4833).
    100 PosixTimeZone(Text) = Str, "pcode";
    /// Time zone database name (RFC 4833).
    101 TzDatabaseTimeZone(Text) = Str, "tcode";
    /// IPv6-only preferred: seconds to stay without IPv4 (RFC 8925).
    108 Ipv6OnlyPreferred(u32) = U32, "v6-only-preferred";
    /// Captive portal URI (RFC 8910).
    114 CaptivePortal(Text) = Str, "v4-captive-portal";
    /// Auto-configure (RFC 2563).
    116 AutoConfigure(u8) = U8, "auto-config";
    /// Name service search order (RFC 2937).
    117 NameServiceSearch(Vec<u16>) = U16s, "name-service-search";
    /// Subnet selection: the subnet to allocate from (RFC 3011).
    118 SubnetSelection(Ipv4Addr) = Ip, "subnet-selection";
    /// Domain search list, names compressed as in DNS (RFC 3397).
    119 DomainSearch(Vec<DomainName>) = DomainList, "domain-search";
    /// SIP servers, by name or address (RFC 3361).
    120 SipServers(SipServers) = SipServers, "sip-server";
    /// Classless static routes (RFC 3442).
    121 ClasslessStaticRoutes(Vec<ClasslessRoute>) = ClasslessRoute, "classless-static-routes";
    /// Vendor-identifying vendor class (RFC 3925 §3).
    124 VendorIdentifyingClass(Vec<VendorClass>) = VendorClass, "vivco";
    /// Vendor-identifying vendor-specific information (RFC 3925 §4).
    125 VendorIdentifyingInfo(Vec<VendorOptions>) = VendorOptions, "vivso";
    /// PANA authentication agents (RFC 5192).
    136 PanaAgents(Vec<Ipv4Addr>) = Ips, "pana-agent";
    /// LoST server domain name (RFC 5223).
    137 LostServer(Vec<DomainName>) = DomainList, "v4-lost";
    /// CAPWAP access controllers (RFC 5417).
    138 CapwapAccessControllers(Vec<Ipv4Addr>) = Ips, "capwap-ac-v4";
    /// SIP user agent configuration service domains (RFC 6011).
    141 SipUaConfigDomains(Vec<DomainName>) = DomainList, "sip-ua-cs-domains";
    /// TFTP server addresses (RFC 5859).
    150 TftpServerAddresses(Vec<Ipv4Addr>) = Ips, "tftp-server-address";
    /// Captive portal URI under its first, deprecated code (RFC 7710).
    160 CaptivePortalLegacy(Text) = Str, "v4-captive-portal-legacy";
    /// Manufacturer usage description URL (RFC 8520).
    161 MudUrl(Text) = Str, "mud-url-v4";
    /// PXELINUX configuration file (RFC 5071).
    209 PxelinuxConfigFile(Text) = Str, "pxelinux-configfile";
    /// PXELINUX path prefix (RFC 5071).
    210 PxelinuxPathPrefix(Text) = Str, "pxelinux-pathprefix";
    /// PXELINUX reboot time in seconds (RFC 5071).
    211 PxelinuxRebootTime(u32) = U32, "pxelinux-reboottime";
    /// Access network domain name (RFC 5986).
    213 AccessDomain(Vec<DomainName>) = DomainList, "v4-access-domain";
    /// Classless static routes under Microsoft's private code (same format as 121).
    249 MsClasslessStaticRoutes(Vec<ClasslessRoute>) = ClasslessRoute,
        "ms-classless-static-routes";
    /// Web proxy auto-discovery URL.
    252 Wpad(Text) = Str, "wpad";
    @units
    /// Rapid commit: a two-message exchange (RFC 4039).
    80 RapidCommit, "rapid-commit";
}

/// Names for codes that are registered but have no typed variant.
const fn untyped_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "pad",
        52 => "dhcp-option-overload",
        62 => "nwip-domain",
        63 => "nwip-suboptions",
        84 => "unassigned-84",
        95 => "ldap",
        112 => "netinfo-server-address",
        113 => "netinfo-server-tag",
        122 => "ccc",
        123 => "geoconf",
        128..=135 => "pxe-vendor",
        139 => "mos-address",
        140 => "mos-fqdn",
        142 => "andsf-address",
        143 => "sztp-redirect",
        144 => "geoloc",
        145 => "forcerenew-nonce-capable",
        146 => "rdnss-selection",
        147 => "dots-ri",
        148 => "dots-address",
        151 => "bulk-lq-status-code",
        152 => "bulk-lq-base-time",
        153 => "bulk-lq-start-time-of-state",
        154 => "bulk-lq-query-start-time",
        155 => "bulk-lq-query-end-time",
        156 => "dhcp-state",
        157 => "data-source",
        158 => "pcp-server",
        159 => "v4-portparams",
        162 => "v4-dnr",
        175 => "etherboot",
        208 => "pxelinux-magic",
        212 => "option-6rd",
        220 => "subnet-allocation",
        221 => "virtual-subnet-selection",
        224..=254 => "site-specific",
        255 => "end",
        _ => return None,
    })
}

impl DhcpOption {
    /// The option's name (see [`OptionCode::name`]).
    pub fn name(&self) -> &'static str {
        self.code().name()
    }

    /// The length of the joined payload.
    pub fn payload_len(&self) -> usize {
        let mut counter = Counter::default();
        self.encode_payload(&mut counter);
        counter.0
    }

    /// The payload as bytes, as it would be written on the wire before any splitting.
    pub fn payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload_len());
        self.encode_payload(&mut out);
        out
    }

    /// Decodes an option from its code and joined payload, as the parser does.
    ///
    /// Codes 0, 52 and 255 give [`DhcpOption::Other`].
    pub fn from_payload(code: OptionCode, data: &[u8]) -> Result<Self, crate::Error> {
        DhcpOption::decode(code, data).map_err(|e| option_error(code, 0, data.len(), e))
    }
}

/// Shows `name (code): value`, as `tcpdump -v` does.
impl fmt::Display for DhcpOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code();
        write!(f, "{} ({})", code.name(), code.0)?;
        if self.payload_len() == 0 {
            return Ok(());
        }
        f.write_str(": ")?;
        self.show_value(f)
    }
}

/// Turns a payload error into a parse error at `offset`.
pub(crate) fn option_error(
    code: OptionCode,
    offset: usize,
    len: usize,
    error: ValueError,
) -> crate::Error {
    match error {
        ValueError::Length(expected) => crate::Error::BadOptionLength {
            code,
            offset,
            len,
            expected,
        },
        ValueError::Value(reason) => crate::Error::BadOptionValue {
            code,
            offset,
            reason,
        },
    }
}
