//! What can be wrong with bytes on the wire, and with a message asked to be emitted.

use core::fmt;

use crate::options::OptionCode;

/// Why bytes could not be read as a frame or a DHCP message.
///
/// Every variant names the byte offset where the problem was found, counted from the start of
/// the buffer given to the parser (the Ethernet header for a frame, the `op` byte for a bare
/// message). Display text reads "what: detail at offset N".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before a fixed-size header does.
    Truncated {
        /// Which header: "ethernet header", "vlan tag", "ipv4 header", "udp header",
        /// "bootp header".
        what: &'static str,
        /// Where that header starts.
        offset: usize,
        /// Bytes the header needs.
        needed: usize,
        /// Bytes that were there.
        available: usize,
    },
    /// The Ethernet type is not IPv4 (0x0800), after any VLAN tags.
    NotIpv4 {
        /// The Ethernet type found.
        ethertype: u16,
        /// Offset of the Ethernet type field.
        offset: usize,
    },
    /// The IP version nibble is not 4.
    BadIpVersion {
        /// The version found.
        version: u8,
        /// Offset of the IPv4 header.
        offset: usize,
    },
    /// The IPv4 header length (IHL) is under 5 words or runs past the packet.
    BadIpHeaderLength {
        /// Header length in bytes (IHL × 4).
        header_len: usize,
        /// Offset of the IPv4 header.
        offset: usize,
    },
    /// The IPv4 total length is shorter than its header or longer than the bytes captured.
    BadIpLength {
        /// Total length from the header.
        total_len: usize,
        /// Bytes present from the start of the IPv4 header.
        available: usize,
        /// Offset of the IPv4 header.
        offset: usize,
    },
    /// The IPv4 header checksum does not add up.
    BadIpChecksum {
        /// Checksum in the header.
        found: u16,
        /// Checksum the header should carry.
        expected: u16,
        /// Offset of the checksum field.
        offset: usize,
    },
    /// The packet is a fragment; DHCP messages are never reassembled here.
    Fragmented {
        /// Offset of the IPv4 header.
        offset: usize,
    },
    /// The IP protocol is not UDP (17).
    NotUdp {
        /// The protocol number found.
        protocol: u8,
        /// Offset of the IPv4 header.
        offset: usize,
    },
    /// The UDP length is under 8 or longer than the IP payload.
    BadUdpLength {
        /// Length from the UDP header.
        udp_len: usize,
        /// Bytes of IP payload.
        available: usize,
        /// Offset of the UDP header.
        offset: usize,
    },
    /// The UDP checksum does not add up.
    BadUdpChecksum {
        /// Checksum in the header.
        found: u16,
        /// Checksum the datagram should carry.
        expected: u16,
        /// Offset of the checksum field.
        offset: usize,
    },
    /// `hlen` claims a hardware address longer than the 16-byte `chaddr` field.
    HlenTooLong {
        /// The `hlen` byte.
        hlen: u8,
        /// Offset of the `hlen` byte.
        offset: usize,
    },
    /// The four bytes after the BOOTP header are not 99.130.83.99 (RFC 2131 §3).
    BadMagicCookie {
        /// The bytes found, big-endian.
        found: u32,
        /// Offset of the cookie.
        offset: usize,
    },
    /// An option's length byte, or its data, runs past the end of its area.
    OptionOverrun {
        /// The option code.
        code: OptionCode,
        /// Offset of the option's code byte.
        offset: usize,
        /// Length the option claims (`None` when the length byte itself is missing).
        len: Option<u8>,
        /// Bytes left in the area after the length byte.
        remaining: usize,
    },
    /// An option's data has a length its definition does not allow.
    BadOptionLength {
        /// The option code.
        code: OptionCode,
        /// Offset of the (first) option's code byte.
        offset: usize,
        /// Length of the data (all instances joined, RFC 3396).
        len: usize,
        /// What the definition allows.
        expected: Expected,
    },
    /// An option's data has the right length but a value its definition does not allow.
    BadOptionValue {
        /// The option code.
        code: OptionCode,
        /// Offset of the (first) option's code byte.
        offset: usize,
        /// What is wrong, e.g. "compression pointer loops".
        reason: &'static str,
    },
}

/// The lengths an option definition allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Exactly this many bytes.
    Exactly(usize),
    /// At least this many bytes.
    AtLeast(usize),
    /// At least `min` bytes, in whole multiples of `unit`.
    Multiple {
        /// Smallest length allowed.
        min: usize,
        /// The length must be a multiple of this.
        unit: usize,
    },
    /// `fixed` bytes, then any number of `unit`-byte items.
    FixedPlus {
        /// Bytes of the fixed part.
        fixed: usize,
        /// Size of each item after it.
        unit: usize,
    },
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Expected::Exactly(n) => write!(f, "exactly {n}"),
            Expected::AtLeast(n) => write!(f, "at least {n}"),
            Expected::Multiple { min, unit } => write!(f, "a multiple of {unit}, at least {min}"),
            Expected::FixedPlus { fixed, unit } => write!(f, "{fixed} plus a multiple of {unit}"),
        }
    }
}

impl Error {
    /// The byte offset the error points at.
    pub fn offset(&self) -> usize {
        match *self {
            Error::Truncated { offset, .. }
            | Error::NotIpv4 { offset, .. }
            | Error::BadIpVersion { offset, .. }
            | Error::BadIpHeaderLength { offset, .. }
            | Error::BadIpLength { offset, .. }
            | Error::BadIpChecksum { offset, .. }
            | Error::Fragmented { offset }
            | Error::NotUdp { offset, .. }
            | Error::BadUdpLength { offset, .. }
            | Error::BadUdpChecksum { offset, .. }
            | Error::HlenTooLong { offset, .. }
            | Error::BadMagicCookie { offset, .. }
            | Error::OptionOverrun { offset, .. }
            | Error::BadOptionLength { offset, .. }
            | Error::BadOptionValue { offset, .. } => offset,
        }
    }

    /// The same error with its offset moved by `base`, for a message found inside a frame.
    pub fn shifted(mut self, base: usize) -> Error {
        match &mut self {
            Error::Truncated { offset, .. }
            | Error::NotIpv4 { offset, .. }
            | Error::BadIpVersion { offset, .. }
            | Error::BadIpHeaderLength { offset, .. }
            | Error::BadIpLength { offset, .. }
            | Error::BadIpChecksum { offset, .. }
            | Error::Fragmented { offset }
            | Error::NotUdp { offset, .. }
            | Error::BadUdpLength { offset, .. }
            | Error::BadUdpChecksum { offset, .. }
            | Error::HlenTooLong { offset, .. }
            | Error::BadMagicCookie { offset, .. }
            | Error::OptionOverrun { offset, .. }
            | Error::BadOptionLength { offset, .. }
            | Error::BadOptionValue { offset, .. } => *offset += base,
        }
        self
    }

    /// A short name for the kind of error, without values: for counting drops by reason.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Truncated { .. } => "truncated",
            Error::NotIpv4 { .. } => "not ipv4",
            Error::BadIpVersion { .. } => "bad ip version",
            Error::BadIpHeaderLength { .. } => "bad ipv4 header length",
            Error::BadIpLength { .. } => "bad ipv4 total length",
            Error::BadIpChecksum { .. } => "bad ipv4 header checksum",
            Error::Fragmented { .. } => "ipv4 fragment",
            Error::NotUdp { .. } => "not udp",
            Error::BadUdpLength { .. } => "bad udp length",
            Error::BadUdpChecksum { .. } => "bad udp checksum",
            Error::HlenTooLong { .. } => "hlen too long",
            Error::BadMagicCookie { .. } => "bad magic cookie",
            Error::OptionOverrun { .. } => "option overruns its area",
            Error::BadOptionLength { .. } => "bad option length",
            Error::BadOptionValue { .. } => "bad option value",
        }
    }

    /// True when the bytes are not a DHCP message at all (not IPv4/UDP, or not BOOTP),
    /// as opposed to a DHCP message that is malformed.
    pub fn is_not_dhcp(&self) -> bool {
        matches!(
            self,
            Error::NotIpv4 { .. } | Error::NotUdp { .. } | Error::Fragmented { .. }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Truncated {
                what,
                offset,
                needed,
                available,
            } => write!(
                f,
                "truncated {what}: needs {needed} bytes, {available} present at offset {offset}"
            ),
            Error::NotIpv4 { ethertype, offset } => {
                write!(f, "not ipv4: ethertype {ethertype:#06x} at offset {offset}")
            }
            Error::BadIpVersion { version, offset } => {
                write!(f, "bad ip version: {version} at offset {offset}")
            }
            Error::BadIpHeaderLength { header_len, offset } => {
                write!(
                    f,
                    "bad ipv4 header length: {header_len} bytes at offset {offset}"
                )
            }
            Error::BadIpLength {
                total_len,
                available,
                offset,
            } => write!(
                f,
                "bad ipv4 total length: {total_len} with {available} bytes present \
                 at offset {offset}"
            ),
            Error::BadIpChecksum {
                found,
                expected,
                offset,
            } => write!(
                f,
                "bad ipv4 header checksum: {found:#06x}, expected {expected:#06x} \
                 at offset {offset}"
            ),
            Error::Fragmented { offset } => write!(f, "ipv4 fragment at offset {offset}"),
            Error::NotUdp { protocol, offset } => {
                write!(f, "not udp: ip protocol {protocol} at offset {offset}")
            }
            Error::BadUdpLength {
                udp_len,
                available,
                offset,
            } => write!(
                f,
                "bad udp length: {udp_len} with {available} bytes of ip payload at offset {offset}"
            ),
            Error::BadUdpChecksum {
                found,
                expected,
                offset,
            } => write!(
                f,
                "bad udp checksum: {found:#06x}, expected {expected:#06x} at offset {offset}"
            ),
            Error::HlenTooLong { hlen, offset } => {
                write!(
                    f,
                    "hlen too long: {hlen} (chaddr holds 16) at offset {offset}"
                )
            }
            Error::BadMagicCookie { found, offset } => write!(
                f,
                "bad magic cookie: {found:#010x}, expected 0x63825363 at offset {offset}"
            ),
            Error::OptionOverrun {
                code,
                offset,
                len: Some(len),
                remaining,
            } => write!(
                f,
                "option overruns its area: option {} claims {len} bytes, {remaining} left \
                 at offset {offset}",
                code.0
            ),
            Error::OptionOverrun {
                code,
                offset,
                len: None,
                ..
            } => write!(
                f,
                "option overruns its area: option {} has no length byte at offset {offset}",
                code.0
            ),
            Error::BadOptionLength {
                code,
                offset,
                len,
                expected,
            } => write!(
                f,
                "bad option length: option {} ({}) has {len} bytes, expected {expected} \
                 at offset {offset}",
                code.0,
                code.name(),
            ),
            Error::BadOptionValue {
                code,
                offset,
                reason,
            } => write!(
                f,
                "bad option value: option {} ({}): {reason} at offset {offset}",
                code.0,
                code.name(),
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// Why a message could not be emitted. Nothing has been written when this is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmitError {
    /// The message needs more bytes than the limit the caller gave, even using option overload
    /// where it was allowed.
    TooLarge {
        /// Bytes the message would need (counting what did not fit), or at least this many.
        needed: usize,
        /// The limit given.
        limit: usize,
    },
    /// A fixed-size field holds more than fits in it.
    FieldTooLong {
        /// "sname" or "file".
        field: &'static str,
        /// Bytes in the field.
        len: usize,
        /// Bytes the field holds.
        capacity: usize,
    },
    /// The output buffer is shorter than the emitted length.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        available: usize,
    },
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EmitError::TooLarge { needed, limit } => {
                write!(
                    f,
                    "message too large: needs {needed} bytes, limit is {limit}"
                )
            }
            EmitError::FieldTooLong {
                field,
                len,
                capacity,
            } => {
                write!(
                    f,
                    "field too long: {field} has {len} bytes, holds {capacity}"
                )
            }
            EmitError::BufferTooSmall { needed, available } => {
                write!(
                    f,
                    "buffer too small: needs {needed} bytes, {available} given"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for EmitError {}
