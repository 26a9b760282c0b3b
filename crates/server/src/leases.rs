//! The lease database as a value: who holds which address until when.
//!
//! Every lookup and every search for a free address costs O(log n) in the number of leases,
//! whatever the size of the pools: a /8 pool (16 million addresses) is a normal case. Two
//! structures make that possible without ever walking a pool:
//!
//! - the set of addresses that have ever been bound (or are reserved), kept as merged runs,
//!   so the lowest never-used address of a range is one lookup away;
//! - for each configured range, its leases ordered by when they end, so the address that has
//!   been free the longest is the first entry.
//!
//! A free address is taken never-used first, then longest-expired first: a client that comes
//! back after its lease ran out finds its old address still unused in most cases, as with
//! ISC dhcpd.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::net::Ipv4Addr;
use core::ops::Deref;

use charrua_wire::{HardwareAddress, HardwareType, Text};

/// Seconds since the Unix epoch, the time unit of leases.
pub type Time = u64;

/// A lease end that never comes.
pub const INFINITE: Time = Time::MAX;

/// Where a lease stands, in the terms of ISC dhcpd's `binding state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseState {
    /// Offered and held for the client until `ends`; not yet acknowledged.
    Offered,
    /// Acknowledged: the client holds the address until `ends`.
    Active,
    /// Given back by the client (DHCPRELEASE).
    Released,
    /// Ran out without being renewed.
    Expired,
    /// Declined by a client (address in use) or found in use: kept out of use until `ends`.
    Abandoned,
    /// Free, with a record kept so the last client can have it back.
    Free,
}

/// The longest byte string [`SmallBytes`] keeps inline.
const INLINE: usize = 22;

/// A short byte string, such as a client identifier: kept inline when it is at most 22 bytes
/// long, boxed when longer, so that a typical identifier needs no allocation. It takes 24
/// bytes, and so does an `Option` of it.
///
/// It compares, orders and hashes as the byte slice it holds.
#[derive(Clone)]
pub struct SmallBytes(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Boxed(Box<[u8]>),
}

impl SmallBytes {
    /// A copy of `bytes`.
    pub fn new(bytes: &[u8]) -> Self {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE => {
                let mut inline = [0; INLINE];
                inline[..bytes.len()].copy_from_slice(bytes);
                SmallBytes(Repr::Inline { len, bytes: inline })
            }
            _ => SmallBytes(Repr::Boxed(bytes.into())),
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            // `len` is at most INLINE: `new` checked it.
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Boxed(bytes) => bytes,
        }
    }
}

impl Deref for SmallBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for SmallBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for SmallBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(bytes: &[u8]) -> Self {
        SmallBytes::new(bytes)
    }
}

impl From<Vec<u8>> for SmallBytes {
    /// Keeps a long vector's buffer (shrunk to fit) rather than copying it.
    fn from(bytes: Vec<u8>) -> Self {
        if bytes.len() > INLINE {
            SmallBytes(Repr::Boxed(bytes.into_boxed_slice()))
        } else {
            SmallBytes::new(&bytes)
        }
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SmallBytes {}

impl PartialEq<[u8]> for SmallBytes {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialOrd for SmallBytes {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SmallBytes {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl Hash for SmallBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

/// One client's binding to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The address.
    pub address: Ipv4Addr,
    /// The client identifier (option 61: type byte then identifier), when the client sent one.
    pub client_id: Option<SmallBytes>,
    /// The client's hardware type and address.
    pub hardware: Option<(HardwareType, HardwareAddress)>,
    /// When the binding began.
    pub starts: Time,
    /// When it ends; [`INFINITE`] for never.
    pub ends: Time,
    /// The client's last transaction time.
    pub cltt: Time,
    /// The state.
    pub state: LeaseState,
    /// The host name the client sent, if any.
    pub hostname: Option<Text>,
}

impl Lease {
    /// True when the lease binds the address at `now`: offered or active and not yet ended,
    /// or abandoned and still in quarantine.
    pub fn holds(&self, now: Time) -> bool {
        match self.state {
            LeaseState::Offered | LeaseState::Active | LeaseState::Abandoned => now < self.ends,
            LeaseState::Released | LeaseState::Expired | LeaseState::Free => false,
        }
    }

    /// From when the address may go to another client: the end of an offer, a lease or a
    /// quarantine; for a released, expired or free record, the end it was given, or its last
    /// transaction when that end is infinite.
    pub fn free_at(&self) -> Time {
        match self.state {
            LeaseState::Offered | LeaseState::Active | LeaseState::Abandoned => self.ends,
            LeaseState::Released | LeaseState::Expired | LeaseState::Free => {
                if self.ends == INFINITE {
                    self.cltt
                } else {
                    self.ends
                }
            }
        }
    }

    /// True when the lease belongs to `client`: the identifiers match when both have one,
    /// otherwise the hardware addresses do (RFC 2131 §4.2, as ISC dhcpd matches).
    pub fn belongs_to(&self, client: &Client<'_>) -> bool {
        match (&self.client_id, client.id) {
            (Some(mine), Some(theirs)) => mine.as_slice() == theirs,
            (Some(_), None) => false,
            (None, _) => self.hardware.as_ref().is_some_and(|(t, hw)| {
                client
                    .hardware
                    .is_some_and(|(ct, chw)| *t == ct && hw == chw)
            }),
        }
    }
}

/// How a client names itself: by client identifier, by hardware address, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client<'a> {
    /// The client identifier bytes (type byte then identifier).
    pub id: Option<&'a [u8]>,
    /// Hardware type and address.
    pub hardware: Option<(HardwareType, &'a HardwareAddress)>,
}

/// Addresses as numbers, for ordering and arithmetic.
fn num(ip: Ipv4Addr) -> u32 {
    u32::from(ip)
}

/// A set of addresses kept as maximal runs `start → end` (inclusive), so that the lowest
/// address missing from a range is found with one lookup.
#[derive(Debug, Clone, Default)]
struct Runs(BTreeMap<u32, u32>);

impl Runs {
    /// The run holding `x`, if any.
    fn run_of(&self, x: u32) -> Option<(u32, u32)> {
        let (&start, &end) = self.0.range(..=x).next_back()?;
        (end >= x).then_some((start, end))
    }

    fn insert(&mut self, x: u32) {
        if self.run_of(x).is_some() {
            return;
        }
        let left = x.checked_sub(1).and_then(|p| self.run_of(p));
        let right = x
            .checked_add(1)
            .and_then(|n| self.0.get(&n).map(|&end| (n, end)));
        let start = left.map_or(x, |(s, _)| s);
        let end = match right {
            Some((s, e)) => {
                self.0.remove(&s);
                e
            }
            None => x,
        };
        self.0.insert(start, end);
    }

    fn remove(&mut self, x: u32) {
        let Some((start, end)) = self.run_of(x) else {
            return;
        };
        self.0.remove(&start);
        if start < x {
            self.0.insert(start, x - 1);
        }
        if x < end {
            self.0.insert(x + 1, end);
        }
    }

    /// The lowest address in `low..=high` that is not in the set.
    fn first_missing(&self, low: u32, high: u32) -> Option<u32> {
        let candidate = match self.run_of(low) {
            Some((_, end)) => end.checked_add(1)?,
            None => low,
        };
        (candidate <= high).then_some(candidate)
    }
}

/// One configured range and its leases by end time.
#[derive(Debug, Clone)]
struct RangeIndex {
    low: u32,
    high: u32,
    by_end: BTreeSet<(Time, u32)>,
}

/// The lease database.
#[derive(Debug, Clone, Default)]
pub struct Leases {
    by_address: BTreeMap<u32, Lease>,
    by_id: BTreeMap<Vec<u8>, u32>,
    by_hardware: BTreeMap<(u8, HardwareAddress), u32>,
    /// Addresses with a lease record, or reserved.
    used: Runs,
    /// Addresses reserved for hosts: never handed out dynamically.
    reserved: BTreeSet<u32>,
    /// Configured ranges, sorted by `low`, not overlapping.
    ranges: Vec<RangeIndex>,
}

impl Leases {
    /// An empty database with no ranges.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the ranges free addresses come from and the addresses reserved for hosts, and
    /// rebuilds the indexes for them: O(n log n), for start-up and configuration reloads.
    ///
    /// Overlapping ranges are merged into one.
    pub fn set_ranges(&mut self, ranges: &[(Ipv4Addr, Ipv4Addr)], reserved: &[Ipv4Addr]) {
        let mut spans: Vec<(u32, u32)> = ranges
            .iter()
            .map(|&(a, b)| (num(a).min(num(b)), num(a).max(num(b))))
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(spans.len());
        for (low, high) in spans {
            match merged.last_mut() {
                Some(last) if low <= last.1.saturating_add(1) => last.1 = last.1.max(high),
                _ => merged.push((low, high)),
            }
        }
        self.ranges = merged
            .into_iter()
            .map(|(low, high)| RangeIndex {
                low,
                high,
                by_end: BTreeSet::new(),
            })
            .collect();
        self.reserved = reserved.iter().map(|&ip| num(ip)).collect();
        self.used = Runs::default();
        for &address in self.by_address.keys().chain(self.reserved.iter()) {
            self.used.insert(address);
        }
        let entries: Vec<(Time, u32)> = self
            .by_address
            .values()
            .map(|l| (l.free_at(), num(l.address)))
            .collect();
        for (ends, address) in entries {
            if let Some(range) = self.range_mut(address) {
                range.by_end.insert((ends, address));
            }
        }
    }

    fn range_index(&self, address: u32) -> Option<usize> {
        let i = self
            .ranges
            .partition_point(|r| r.low <= address)
            .checked_sub(1)?;
        (self.ranges[i].high >= address && !self.reserved.contains(&address)).then_some(i)
    }

    fn range_mut(&mut self, address: u32) -> Option<&mut RangeIndex> {
        let i = self.range_index(address)?;
        self.ranges.get_mut(i)
    }

    /// Number of lease records.
    pub fn len(&self) -> usize {
        self.by_address.len()
    }

    /// True when there are no lease records.
    pub fn is_empty(&self) -> bool {
        self.by_address.is_empty()
    }

    /// Every lease record, by address.
    pub fn iter(&self) -> impl Iterator<Item = &Lease> {
        self.by_address.values()
    }

    /// The record for an address.
    pub fn get(&self, address: Ipv4Addr) -> Option<&Lease> {
        self.by_address.get(&num(address))
    }

    /// The client's most recent lease: by client identifier when it sends one, else by
    /// hardware address among leases recorded without an identifier.
    pub fn find_client(&self, client: &Client<'_>) -> Option<&Lease> {
        if let Some(id) = client.id {
            if let Some(lease) = self.by_id.get(id).and_then(|a| self.by_address.get(a)) {
                return Some(lease);
            }
        }
        let (htype, hardware) = client.hardware?;
        let lease = self
            .by_hardware
            .get(&(htype.0, *hardware))
            .and_then(|a| self.by_address.get(a))?;
        lease.belongs_to(client).then_some(lease)
    }

    /// True when `address` could be bound to `client` at `now`: nobody else holds it and it
    /// is not reserved for a host. Whether it lies in a range is the caller's question.
    pub fn is_free_for(&self, address: Ipv4Addr, client: &Client<'_>, now: Time) -> bool {
        if self.reserved.contains(&num(address)) {
            return false;
        }
        match self.get(address) {
            None => true,
            Some(lease) if lease.state == LeaseState::Abandoned => !lease.holds(now),
            Some(lease) => !lease.holds(now) || lease.belongs_to(client),
        }
    }

    /// The lowest never-used address in `low..=high`, else the address in it that has been
    /// free the longest at `now`.
    ///
    /// O(log n) for each configured range that `low..=high` covers whole; a configured range
    /// that it covers only in part is searched entry by entry.
    pub fn find_free(&self, low: Ipv4Addr, high: Ipv4Addr, now: Time) -> Option<Ipv4Addr> {
        let (low, high) = (num(low), num(high));
        if let Some(fresh) = self.used.first_missing(low, high) {
            return Some(Ipv4Addr::from(fresh));
        }
        let first = self.ranges.partition_point(|r| r.high < low);
        self.ranges[first..]
            .iter()
            .take_while(|r| r.low <= high)
            .filter_map(|r| {
                let mut free = r.by_end.iter().take_while(|(free_at, _)| *free_at <= now);
                let found = if low <= r.low && r.high <= high {
                    free.next()
                } else {
                    free.find(|(_, a)| (low..=high).contains(a))
                };
                found.copied()
            })
            .min()
            .map(|(_, address)| Ipv4Addr::from(address))
    }

    /// Records a lease, replacing any record for its address. O(log n).
    pub fn apply(&mut self, lease: Lease) {
        let address = num(lease.address);
        if let Some(old) = self.by_address.remove(&address) {
            self.unindex(&old);
        }
        if let Some(id) = &lease.client_id {
            self.by_id.insert(id.to_vec(), address);
        }
        if let Some((htype, hardware)) = lease.hardware {
            self.by_hardware.insert((htype.0, hardware), address);
        }
        let free_at = lease.free_at();
        if let Some(range) = self.range_mut(address) {
            range.by_end.insert((free_at, address));
        }
        self.used.insert(address);
        self.by_address.insert(address, lease);
    }

    /// Deletes the record for an address.
    pub fn remove(&mut self, address: Ipv4Addr) -> Option<Lease> {
        let old = self.by_address.remove(&num(address))?;
        self.unindex(&old);
        if !self.reserved.contains(&num(address)) {
            self.used.remove(num(address));
        }
        Some(old)
    }

    fn unindex(&mut self, old: &Lease) {
        let address = num(old.address);
        if let Some(id) = &old.client_id {
            if self.by_id.get(id.as_slice()) == Some(&address) {
                self.by_id.remove(id.as_slice());
            }
        }
        if let Some((htype, hardware)) = old.hardware {
            if self.by_hardware.get(&(htype.0, hardware)) == Some(&address) {
                self.by_hardware.remove(&(htype.0, hardware));
            }
        }
        let free_at = old.free_at();
        if let Some(range) = self.range_mut(address) {
            range.by_end.remove(&(free_at, address));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use core::hash::BuildHasher;

    fn ip(n: u32) -> Ipv4Addr {
        Ipv4Addr::from(n)
    }

    fn mac(n: u8) -> HardwareAddress {
        HardwareAddress::ethernet([2, 0, 0, 0, 0, n])
    }

    fn lease(address: u32, client: u8, state: LeaseState, ends: Time) -> Lease {
        Lease {
            address: ip(address),
            client_id: None,
            hardware: Some((HardwareType::ETHERNET, mac(client))),
            starts: 0,
            ends,
            cltt: 0,
            state,
            hostname: None,
        }
    }

    fn by_mac(hw: &HardwareAddress) -> Client<'_> {
        Client {
            id: None,
            hardware: Some((HardwareType::ETHERNET, hw)),
        }
    }

    const BASE: u32 = 0xc000_0200; // 192.0.2.0

    #[test]
    fn hands_out_never_used_addresses_first_in_order() {
        let mut leases = Leases::new();
        leases.set_ranges(&[(ip(BASE + 10), ip(BASE + 20))], &[ip(BASE + 11)]);
        assert_eq!(
            leases.find_free(ip(BASE + 10), ip(BASE + 20), 100),
            Some(ip(BASE + 10))
        );
        leases.apply(lease(BASE + 10, 1, LeaseState::Active, 1000));
        // 11 is reserved for a host, so 12 is next.
        assert_eq!(
            leases.find_free(ip(BASE + 10), ip(BASE + 20), 100),
            Some(ip(BASE + 12))
        );
    }

    #[test]
    fn reuses_the_longest_expired_address_when_the_range_is_full() {
        let mut leases = Leases::new();
        leases.set_ranges(&[(ip(BASE + 1), ip(BASE + 3))], &[]);
        leases.apply(lease(BASE + 1, 1, LeaseState::Active, 500));
        leases.apply(lease(BASE + 2, 2, LeaseState::Active, 300));
        leases.apply(lease(BASE + 3, 3, LeaseState::Active, 900));
        assert_eq!(leases.find_free(ip(BASE + 1), ip(BASE + 3), 100), None);
        assert_eq!(
            leases.find_free(ip(BASE + 1), ip(BASE + 3), 600),
            Some(ip(BASE + 2))
        );
        assert_eq!(
            leases.find_free(ip(BASE + 1), ip(BASE + 3), 1000),
            Some(ip(BASE + 2))
        );
    }

    #[test]
    fn quarantines_an_abandoned_address_until_its_end() {
        let mut leases = Leases::new();
        leases.set_ranges(&[(ip(BASE + 1), ip(BASE + 1))], &[]);
        leases.apply(lease(BASE + 1, 1, LeaseState::Abandoned, 500));
        let hw = mac(1);
        assert!(!leases.is_free_for(ip(BASE + 1), &by_mac(&hw), 499));
        assert!(leases.is_free_for(ip(BASE + 1), &by_mac(&hw), 500));
        assert_eq!(leases.find_free(ip(BASE + 1), ip(BASE + 1), 499), None);
    }

    #[test]
    fn finds_a_client_by_identifier_before_hardware() {
        let mut leases = Leases::new();
        let mut with_id = lease(BASE + 5, 1, LeaseState::Active, 100);
        with_id.client_id = Some(vec![1, 2, 3].into());
        leases.apply(with_id);
        let hw = mac(1);
        let by_id = Client {
            id: Some(&[1, 2, 3]),
            hardware: Some((HardwareType::ETHERNET, &hw)),
        };
        assert_eq!(
            leases.find_client(&by_id).map(|l| l.address),
            Some(ip(BASE + 5))
        );
        // The same hardware without the identifier is another client.
        assert_eq!(leases.find_client(&by_mac(&hw)), None);
        let other_id = Client {
            id: Some(&[9]),
            hardware: Some((HardwareType::ETHERNET, &hw)),
        };
        assert_eq!(leases.find_client(&other_id), None);
    }

    #[test]
    fn finds_a_free_address_in_a_slash_8_without_walking_it() {
        let mut leases = Leases::new();
        let (low, high) = (0x0a00_0001, 0x0aff_fffe);
        leases.set_ranges(&[(ip(low), ip(high))], &[]);
        // Bind the first 100,000 addresses, then free one in the middle.
        for a in low..low + 100_000 {
            leases.apply(lease(a, 1, LeaseState::Active, 1_000));
        }
        assert_eq!(
            leases.find_free(ip(low), ip(high), 10),
            Some(ip(low + 100_000))
        );
        leases.remove(ip(low + 500));
        assert_eq!(leases.find_free(ip(low), ip(high), 10), Some(ip(low + 500)));
    }

    #[test]
    fn small_bytes_keep_up_to_22_bytes_inline_and_box_longer_ones() {
        assert_eq!(core::mem::size_of::<Option<SmallBytes>>(), 24);
        let short: Vec<u8> = (0..22).collect();
        let long: Vec<u8> = (0..23).collect();
        assert!(matches!(SmallBytes::new(&short).0, Repr::Inline { .. }));
        assert!(matches!(SmallBytes::from(long.clone()).0, Repr::Boxed(_)));
        assert_eq!(&*SmallBytes::from(short.clone()), &short[..]);
        assert_eq!(&*SmallBytes::new(&long), &long[..]);
        assert_eq!(&*SmallBytes::new(&[]), &[] as &[u8]);
        assert_eq!(SmallBytes::new(&long), SmallBytes::from(long.clone()));
        assert_ne!(SmallBytes::new(&long[..22]), SmallBytes::new(&long));
        let hash = hashbrown::DefaultHashBuilder::default();
        assert_eq!(
            hash.hash_one(SmallBytes::new(&long)),
            hash.hash_one(&long[..])
        );
        assert_eq!(alloc::format!("{:?}", SmallBytes::new(&[1, 2])), "[1, 2]");
    }
}
