//! A DHCPv4 client as a pure state machine (RFC 2131 §4.4), with no IO of its own.
//!
//! [`Client`] walks the states of RFC 2131 figure 5 — INIT, SELECTING, REQUESTING, BOUND,
//! RENEWING, REBINDING, INIT-REBOOT and REBOOTING — and keeps each state's data in its own
//! type (see [`State`]). It reads no clock, opens no socket and draws no random number:
//!
//! - time comes in as `now`, a [`Duration`](core::time::Duration) since an epoch of the
//!   caller's choosing (a monotonic clock's start, say); every instant the client returns is
//!   on the same scale;
//! - randomness comes in through [`Rng`], used for transaction ids and the ±1 s jitter of
//!   retransmissions;
//! - what to send and what happened go out as data: an [`Output`] holds [`Transmit`]s (a
//!   [`Message`](charrua_wire::Message) and a [`Destination`]) and [`Event`]s.
//!
//! The caller's loop: send what [`Client::on_timeout`] and [`Client::on_packet`] return, and
//! call `on_timeout` again once [`Client::next_deadline`] has passed.
//!
//! ```
//! use core::time::Duration;
//! use charrua_client::{Client, Config, Destination, Rng};
//! use charrua_wire::MessageType;
//!
//! struct Fixed(u32);
//! impl Rng for Fixed {
//!     fn next_u32(&mut self) -> u32 {
//!         self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
//!         self.0
//!     }
//! }
//!
//! let mut rng = Fixed(1);
//! let start = Duration::from_secs(0);
//! let mut client = Client::new(Config::ethernet([2, 0, 0, 0, 0, 1]), start);
//! assert_eq!(client.next_deadline(), Some(start));
//! let out = client.on_timeout(start, &mut rng);
//! let discover = &out.transmits[0];
//! assert_eq!(discover.message.message_type(), Some(MessageType::DISCOVER));
//! assert_eq!(discover.destination, Destination::Broadcast);
//! // The first retransmission is due 4 s ± 1 s later (RFC 2131 §4.1).
//! let next = client.next_deadline().unwrap();
//! assert!(next >= Duration::from_secs(3) && next <= Duration::from_secs(5));
//! ```
//!
//! What it covers: discovery with an offer-collection window and a choice among offers;
//! requesting with RFC 2131 §4.1 retransmission (4, 8, 16, 32, 64 s, ±1 s); BOUND with T1
//! and T2 from the server or 0.5 and 0.875 of the lease; RENEWING unicast and REBINDING
//! broadcast with the §4.4.5 retransmission rule; expiry; INIT-REBOOT from a remembered
//! lease; DECLINE, RELEASE and INFORM; rapid commit (RFC 4039); the server identifier of the
//! last DHCPACK, so a relay's override (RFC 5107) is honoured; and the anonymity profile of
//! RFC 7844 §3 as a configuration flag.
//!
//! Choices where RFC 2131 leaves room:
//!
//! - A DHCPNAK in REQUESTING, RENEWING or REBINDING sends the client to INIT, which sends its
//!   DHCPDISCOVER after [`Config::nak_delay`] (10 s by default), so a server that offers and
//!   then refuses cannot drive a tight loop. A DHCPNAK in REBOOTING restarts at once: the
//!   remembered lease belongs to another network and nothing is wrong with this one.
//! - REQUESTING and REBOOTING give up after [`Config::request_attempts`] transmissions and
//!   go to INIT at once. A remembered lease is not kept when REBOOTING gets no answer: the
//!   client cannot tell whether it is still on the network the lease came from.
//! - After a DHCPDECLINE the client waits [`Config::decline_delay`] (10 s, RFC 2131 §3.1
//!   step 5) before its next DHCPDISCOVER.
//! - DHCPDISCOVER and DHCPINFORM are retransmitted without end, at 64 s once the backoff
//!   reaches its cap.
//!
//! What it does not do: it does not probe the offered address with ARP (the caller does,
//! and calls [`Client::decline`] on a conflict), does not configure interfaces or routes,
//! does not frame packets (a [`Transmit`] is broadcast from 0.0.0.0 until the client has an
//! address), does not randomise the hardware address for the anonymity profile, does not
//! check a remembered lease against the caller's clock before [`Client::reboot`], and does
//! not handle DHCPFORCERENEW (RFC 3203) or authentication (RFC 3118).
//!
//! `no_std` with `alloc`; the `std` feature (on by default) only passes `std` on to the
//! codec.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod client;
mod config;
mod lease;
mod messages;

pub use client::{
    Bound, Client, Exchange, Informing, Init, InitReboot, Offer, Rebinding, Rebooting, Renewing,
    Requesting, Selecting, State,
};
pub use config::{ANONYMOUS_PARAMETERS, Config, DEFAULT_PARAMETERS, Rng};
pub use lease::{Lease, Timers};
pub use messages::{Destination, Event, LossReason, NoLease, Output, Transmit};
