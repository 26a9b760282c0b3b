//! Relay agent information (RFC 3046) and its sub-options.

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use super::kinds::{at_least, show_bytes, show_hex, show_list};
use super::{Codec, Reader, Sink, ValueError};

/// The sub-options a relay agent added, in the order it added them (RFC 3046 §2.0).
///
/// A server echoes this option back unchanged (RFC 3046 §2.2); keeping unknown sub-options
/// and the order is what makes that possible.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(transparent)
)]
pub struct RelayAgentInformation(pub Vec<RelaySubOption>);

/// Vendor data for one enterprise, as in RFC 4243's vendor-specific sub-option.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VendorData {
    /// IANA enterprise number.
    pub enterprise: u32,
    /// The vendor's data, at most 255 bytes.
    pub data: Vec<u8>,
}

/// One relay agent sub-option.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum RelaySubOption {
    /// 1: the circuit the request came in on (RFC 3046 §3.1).
    CircuitId(Vec<u8>),
    /// 2: the remote end of the circuit (RFC 3046 §3.2).
    RemoteId(Vec<u8>),
    /// 5: the subnet to allocate from, apart from giaddr (RFC 3527).
    LinkSelection(Ipv4Addr),
    /// 6: subscriber identifier (RFC 3993).
    SubscriberId(Vec<u8>),
    /// 9: vendor-specific information per enterprise (RFC 4243). Vendors that would take the
    /// sub-option past 255 bytes are not emitted.
    VendorSpecific(Vec<VendorData>),
    /// 10: relay agent flags; bit 0x80 means the client's request was unicast (RFC 5010).
    Flags(u8),
    /// 11: the address the server should use as its identifier (RFC 5107).
    ServerIdOverride(Ipv4Addr),
    /// 151: virtual subnet selection: a type byte and its data (RFC 6607).
    VirtualSubnetSelection {
        /// VSS type: 0 NVT ASCII VPN identifier, 1 RFC 2685 VPN-ID, 255 global.
        kind: u8,
        /// The VSS information.
        data: Vec<u8>,
    },
    /// 152: virtual subnet selection control, always empty (RFC 6607).
    VirtualSubnetSelectionControl,
    /// Any other sub-option, kept as code and bytes.
    Other {
        /// Sub-option code.
        code: u8,
        /// Sub-option data.
        data: Vec<u8>,
    },
}

impl RelaySubOption {
    /// The sub-option code.
    pub fn code(&self) -> u8 {
        match self {
            RelaySubOption::CircuitId(_) => 1,
            RelaySubOption::RemoteId(_) => 2,
            RelaySubOption::LinkSelection(_) => 5,
            RelaySubOption::SubscriberId(_) => 6,
            RelaySubOption::VendorSpecific(_) => 9,
            RelaySubOption::Flags(_) => 10,
            RelaySubOption::ServerIdOverride(_) => 11,
            RelaySubOption::VirtualSubnetSelection { .. } => 151,
            RelaySubOption::VirtualSubnetSelectionControl => 152,
            RelaySubOption::Other { code, .. } => *code,
        }
    }

    fn decode(code: u8, data: &[u8]) -> Result<Self, ValueError> {
        let address = |what| -> Result<Ipv4Addr, ValueError> {
            let b: [u8; 4] = data.try_into().map_err(|_| ValueError::Value(what))?;
            Ok(Ipv4Addr::from(b))
        };
        Ok(match code {
            1 => RelaySubOption::CircuitId(data.to_vec()),
            2 => RelaySubOption::RemoteId(data.to_vec()),
            5 => RelaySubOption::LinkSelection(address("link selection is not 4 bytes")?),
            6 => RelaySubOption::SubscriberId(data.to_vec()),
            9 => {
                let short = ValueError::Value("vendor-specific sub-option runs past the end");
                let mut r = Reader::new(data);
                let mut vendors = Vec::new();
                while !r.is_empty() {
                    let enterprise = r.u32(short)?;
                    let len = r.u8(short)?;
                    vendors.push(VendorData {
                        enterprise,
                        data: r.take(usize::from(len), short)?.to_vec(),
                    });
                }
                RelaySubOption::VendorSpecific(vendors)
            }
            10 => match data {
                [flags] => RelaySubOption::Flags(*flags),
                _ => return Err(ValueError::Value("flags sub-option is not 1 byte")),
            },
            11 => RelaySubOption::ServerIdOverride(address("server id override is not 4 bytes")?),
            151 => match data.split_first() {
                Some((&kind, rest)) => RelaySubOption::VirtualSubnetSelection {
                    kind,
                    data: rest.to_vec(),
                },
                None => return Err(ValueError::Value("virtual subnet selection is empty")),
            },
            152 if data.is_empty() => RelaySubOption::VirtualSubnetSelectionControl,
            152 => {
                return Err(ValueError::Value(
                    "virtual subnet selection control is not empty",
                ));
            }
            _ => RelaySubOption::Other {
                code,
                data: data.to_vec(),
            },
        })
    }

    /// Data bytes of this sub-option, before any cut to 255.
    fn data_len(&self) -> usize {
        match self {
            RelaySubOption::CircuitId(d)
            | RelaySubOption::RemoteId(d)
            | RelaySubOption::SubscriberId(d)
            | RelaySubOption::Other { data: d, .. } => d.len(),
            RelaySubOption::LinkSelection(_) | RelaySubOption::ServerIdOverride(_) => 4,
            RelaySubOption::VendorSpecific(v) => vendors_fitting(v).1,
            RelaySubOption::Flags(_) => 1,
            RelaySubOption::VirtualSubnetSelection { data, .. } => 1 + data.len(),
            RelaySubOption::VirtualSubnetSelectionControl => 0,
        }
    }

    /// Writes code, length and data. Sub-options hold at most 255 bytes (RFC 3046 §2.0);
    /// data past that is not written, so the length byte always matches.
    fn encode<S: Sink>(&self, out: &mut S) {
        let len = self.data_len().min(255);
        out.put_u8(self.code());
        out.put_u8(super::len_byte(len)); // capped at 255 above
        let cut = |d: &[u8], room: usize| -> usize { d.len().min(room) };
        match self {
            RelaySubOption::CircuitId(d)
            | RelaySubOption::RemoteId(d)
            | RelaySubOption::SubscriberId(d)
            | RelaySubOption::Other { data: d, .. } => out.put(&d[..cut(d, 255)]),
            RelaySubOption::LinkSelection(ip) | RelaySubOption::ServerIdOverride(ip) => {
                out.put_ip(*ip);
            }
            RelaySubOption::VendorSpecific(vendors) => {
                for vendor in vendors.iter().take(vendors_fitting(vendors).0) {
                    let n = cut(&vendor.data, 255);
                    out.put_u32(vendor.enterprise);
                    out.put_u8(super::len_byte(n)); // at most 255
                    out.put(&vendor.data[..n]);
                }
            }
            RelaySubOption::Flags(flags) => out.put_u8(*flags),
            RelaySubOption::VirtualSubnetSelection { kind, data } => {
                out.put_u8(*kind);
                out.put(&data[..cut(data, 254)]);
            }
            RelaySubOption::VirtualSubnetSelectionControl => {}
        }
    }
}

/// How many of the leading vendors fit in one sub-option, and the bytes they take.
fn vendors_fitting(vendors: &[VendorData]) -> (usize, usize) {
    super::fitting(vendors.iter().map(|d| 5 + d.data.len().min(255)))
}

impl fmt::Display for RelaySubOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelaySubOption::CircuitId(d) => {
                f.write_str("circuit-id ")?;
                show_bytes(d, f)
            }
            RelaySubOption::RemoteId(d) => {
                f.write_str("remote-id ")?;
                show_bytes(d, f)
            }
            RelaySubOption::LinkSelection(ip) => write!(f, "link-selection {ip}"),
            RelaySubOption::SubscriberId(d) => {
                f.write_str("subscriber-id ")?;
                show_bytes(d, f)
            }
            RelaySubOption::VendorSpecific(vendors) => {
                f.write_str("vendor-specific ")?;
                show_list(vendors, f, |v, f| {
                    write!(f, "enterprise {} ", v.enterprise)?;
                    show_hex(&v.data, f)
                })
            }
            RelaySubOption::Flags(flags) => write!(f, "flags {flags:#04x}"),
            RelaySubOption::ServerIdOverride(ip) => write!(f, "server-id-override {ip}"),
            RelaySubOption::VirtualSubnetSelection { kind, data } => {
                write!(f, "vss type {kind} ")?;
                show_bytes(data, f)
            }
            RelaySubOption::VirtualSubnetSelectionControl => f.write_str("vss-control"),
            RelaySubOption::Other { code, data } => {
                write!(f, "sub-option {code} ")?;
                show_hex(data, f)
            }
        }
    }
}

impl RelayAgentInformation {
    /// The first sub-option with `code`, if any.
    pub fn get(&self, code: u8) -> Option<&RelaySubOption> {
        self.0.iter().find(|s| s.code() == code)
    }

    /// The link selection address (sub-option 5), if present.
    pub fn link_selection(&self) -> Option<Ipv4Addr> {
        self.0.iter().find_map(|s| match s {
            RelaySubOption::LinkSelection(ip) => Some(*ip),
            _ => None,
        })
    }

    /// The server identifier override address (sub-option 11), if present.
    pub fn server_id_override(&self) -> Option<Ipv4Addr> {
        self.0.iter().find_map(|s| match s {
            RelaySubOption::ServerIdOverride(ip) => Some(*ip),
            _ => None,
        })
    }
}

impl Codec for RelayAgentInformation {
    type Value = RelayAgentInformation;
    fn decode(data: &[u8]) -> Result<RelayAgentInformation, ValueError> {
        at_least(data, 2)?;
        let short = ValueError::Value("sub-option runs past the end");
        let mut r = Reader::new(data);
        let mut subs = Vec::new();
        while !r.is_empty() {
            let code = r.u8(short)?;
            let len = r.u8(short)?;
            subs.push(RelaySubOption::decode(
                code,
                r.take(usize::from(len), short)?,
            )?);
        }
        Ok(RelayAgentInformation(subs))
    }
    fn encode<S: Sink>(v: &RelayAgentInformation, out: &mut S) {
        for sub in &v.0 {
            sub.encode(out);
        }
    }
    fn show(v: &RelayAgentInformation, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_list(&v.0, f, |s, f| write!(f, "{s}"))
    }
}
