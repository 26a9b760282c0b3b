//! DHCPv4 wire codec: BOOTP/DHCP messages, their options, and the Ethernet, IPv4 and UDP
//! headers around them.
//!
//! Two layers, as in most protocol codebases that hold up:
//!
//! - **Views** check lengths once and then read fields in place without copying:
//!   [`MessageView`] over a message, [`RawOptions`] over its option instances, and
//!   [`Datagram`] for the headers of a frame.
//! - **Owned types** carry meaning: [`Message`] with its [`DhcpOption`]s, and [`Packet`] for
//!   a message in a frame. Parsing goes view → owned and rejects what does not hold;
//!   emitting computes the exact length first, then writes into the caller's buffer without
//!   allocating.
//!
//! ```
//! use charrua_wire::{DhcpOption, EmitOptions, Message, MessageType, Op};
//!
//! let mut discover = Message { op: Op::BOOTREQUEST, xid: 0x1234, ..Message::default() };
//! discover.options.push(DhcpOption::MessageType(MessageType::DISCOVER));
//! let bytes = discover.to_bytes(&EmitOptions::default()).unwrap();
//! assert_eq!(Message::parse(&bytes).unwrap(), discover);
//! ```
//!
//! What the codec guarantees:
//!
//! - No input makes any function panic. A malformed input is an [`Error`] that names what is
//!   wrong and the byte offset.
//! - Unknown message types, hardware types and option codes keep their numbers; unknown
//!   options are kept as bytes and emitted again unchanged, in their order.
//! - Every instance of an option is joined before decoding, across the options field, `file`
//!   and `sname` when option overload says so (RFC 3396); long values are split on emission,
//!   and overload is used when the options would not fit otherwise.
//!
//! What it does not do: it reads no clock and opens no socket, it does not reassemble IP
//! fragments, and it does not decide what a server or client should answer. `no_std` with
//! `alloc`; the `std` feature (on by default) adds `std::error::Error` impls and the `serde`
//! feature adds `Serialize` and `Deserialize` for the owned types.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod display;
mod error;
mod frame;
mod message;
pub mod options;

pub use error::{EmitError, Error, Expected};
pub use frame::{
    CLIENT_PORT, Checksums, Datagram, HEADERS_LEN, MacAddr, Packet, SERVER_PORT, parse_ethernet,
    parse_ipv4,
};
pub use message::{
    BOOTP_MIN_LEN, EmitOptions, Flags, HEADER_LEN, HardwareAddress, HardwareType, MAGIC_COOKIE,
    MIN_OPTIONS_LEN, Message, MessageView, Op, RawOption, RawOptions,
};
pub use options::{DhcpOption, MessageType, OptionCode, Text};
