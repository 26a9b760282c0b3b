//! DHCPv4 server logic without IO: the configuration a server answers from, and a parser for
//! ISC `dhcpd.conf`.
//!
//! - [`Config`] is the whole configuration as a value: global parameters, shared networks,
//!   subnets with their ranges and pools, groups and hosts. Build it in Rust with
//!   [`ConfigBuilder`], or parse an ISC `dhcpd.conf` with [`conf::parse`]. Building validates
//!   the topology (ranges inside their subnet, no overlapping subnets or ranges) and resolves
//!   every scope's parameters once, so [`Config::scope_for`] answers "which parameters apply
//!   here" without walking the scope chain.
//! - [`conf`] reads `dhcpd.conf`: declarations, parameters, `option` statements with ISC's value
//!   syntax, option definitions and vendor option spaces, and `include` through a loader the
//!   caller provides. Harmless statements (logging, file names, DNS updates turned off) are
//!   accepted with a [`Warning`]; anything the server does not implement, such as classes,
//!   conditionals, failover or DNS updates, is refused with a [`ConfError`] naming the file,
//!   line and column. Nothing is silently misread.
//!
//! - [`Policy`] is the configuration resolved for answering; [`Leases`] is the lease
//!   database (hash-indexed, about 170 bytes a lease); [`input()`] is the function that
//!   answers a packet: from the policy, the leases, the packet and the time to a reply and
//!   the lease changes to apply and store.
//!
//! What this crate does not do: it reads no file (includes come through a loader), resolves no
//! host name (a resolver may be passed in; without one only dotted quads are accepted), reads
//! no clock and draws no random number (the lease indexes take their hash key from the
//! caller).
//!
//! `no_std` with `alloc`; the `std` feature (on by default) adds `std::error::Error` impls.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod conf;
mod config;
mod diag;
pub mod input;
pub mod leases;
pub mod policy;

pub use config::{
    Access, Config, ConfigBuilder, Effective, Group, Host, Params, Permit, PermitKind, Pool, Range,
    Scope, SharedNetwork, Subnet, VendorSubOption,
};
pub use diag::{ConfError, Location, Warning};
pub use input::{Destination, Incoming, Outcome, Reply, Why, input};
pub use leases::{Lease, LeaseState, Leases};
pub use policy::Policy;
