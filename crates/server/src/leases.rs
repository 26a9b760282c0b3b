//! The lease database as a value: who holds which address until when.
//!
//! The records live in one vector of slots. Three hash indexes find a record by address, by
//! client identifier and by hardware address. An index entry is 8 bytes, a slot number and
//! the key's 32-bit hash, and no copy of the key: a lookup compares the key it is asked for
//! with the one in the record, and only when the hashes agree; an index grows by the hashes
//! alone, without reading the records. A removed record's slot is reused by the next new
//! address.
//!
//! Finding a free address never walks a pool, whatever its size: a /8 pool (16 million
//! addresses) is a normal case. Two ordered structures make that possible:
//!
//! - the set of addresses that have ever been bound (or are reserved), kept as merged runs,
//!   so the lowest never-used address of a range is one lookup away;
//! - for each configured range, its leases ordered by when they end, so the address that has
//!   been free the longest is the first entry.
//!
//! A free address is taken never-used first, then longest-expired first: a client that comes
//! back after its lease ran out finds its old address still unused in most cases, as with
//! ISC dhcpd.
//!
//! Client identifiers and hardware addresses are chosen by whoever sends the packets, so the
//! indexes use a keyed hash (foldhash) and the caller supplies the key through
//! [`Leases::with_seed`]: this crate draws no random numbers. [`Leases::new`] uses a fixed
//! key, which suits tests and tools; a server facing untrusted clients should pass a random
//! one. A secret key stops sets of colliding identifiers computed in advance; foldhash does
//! not claim to stop an attacker who times many lookups to learn the key.
//!
//! Memory: a record takes 96 bytes (a client identifier of up to 22 bytes is kept inline, a
//! host name is allocated apart), an index entry 8 bytes and a control byte at a load of at
//! most 7/8, and the entry by end time 8 bytes and its share of the tree: about 175 bytes a
//! lease in all at a million leases.

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
use foldhash::SharedSeed;
use foldhash::fast::FoldHasher;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

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
    /// [`end_key`]s of the range's leases.
    by_end: BTreeSet<u64>,
}

/// The time in an [`end_key`] of every lease free from this second (7 February 2106) on, or
/// never: their records tell them apart.
const FAR: u32 = u32::MAX;

/// A lease's key in its range's order by end: the second it is free from, saturated at
/// [`FAR`], then its address, in one number.
fn end_key(free_at: Time, address: u32) -> u64 {
    let time = u32::try_from(free_at).unwrap_or(FAR);
    (u64::from(time) << 32) | u64::from(address)
}

/// The time and the address in an [`end_key`].
#[allow(
    clippy::cast_possible_truncation,
    reason = "the key is two 32-bit halves"
)]
fn end_key_parts(key: u64) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

/// The configured range that hands out `address`, if any: a reserved address is in none.
fn range_of(ranges: &[RangeIndex], reserved: &BTreeSet<u32>, address: u32) -> Option<usize> {
    let i = ranges
        .partition_point(|r| r.low <= address)
        .checked_sub(1)?;
    (ranges[i].high >= address && !reserved.contains(&address)).then_some(i)
}

/// The key [`Leases::new`] hashes with.
const DEFAULT_SEED: u64 = 0x6368_6172_7275_6131;

/// The keyed hash of the indexes.
#[derive(Clone)]
struct Keys {
    seed: u64,
    shared: SharedSeed,
}

impl Keys {
    fn new(seed: u64) -> Self {
        Keys {
            seed,
            shared: SharedSeed::from_u64(seed),
        }
    }

    fn hasher(&self) -> FoldHasher<'_> {
        FoldHasher::with_seed(self.seed, &self.shared)
    }

    fn address(&self, address: u32) -> u32 {
        let mut h = self.hasher();
        h.write_u32(address);
        high_half(h.finish())
    }

    fn id(&self, id: &[u8]) -> u32 {
        let mut h = self.hasher();
        h.write(id);
        high_half(h.finish())
    }

    fn hardware(&self, htype: HardwareType, hardware: &HardwareAddress) -> u32 {
        let mut h = self.hasher();
        h.write_u8(htype.0);
        h.write(hardware.as_bytes());
        high_half(h.finish())
    }
}

impl fmt::Debug for Keys {
    /// Leaves the key out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys(..)")
    }
}

/// The upper 32 bits of a 64-bit hash.
fn high_half(hash: u64) -> u32 {
    // After the shift the value fits.
    u32::try_from(hash >> 32).unwrap_or_default()
}

/// An index entry: a slot, and the 32-bit hash of the key its record has, so that an index
/// grows without reading the records and tells most other keys apart before reading one.
#[derive(Debug, Clone, Copy)]
struct Pointer {
    slot: u32,
    hash: u32,
}

impl Pointer {
    fn place(&self) -> u64 {
        place(self.hash)
    }
}

/// The 64-bit hash hashbrown places a key by, made of its 32-bit hash: the low bits choose
/// the bucket and the top seven are the tag kept for it, different bits of the 32 in tables
/// of up to 2^25 buckets (29 million entries); in larger ones, lookups compare more keys.
fn place(hash: u32) -> u64 {
    (u64::from(hash) << 32) | u64::from(hash)
}

/// The record in `slot`, if the slot holds one.
fn record(slots: &[Option<Lease>], slot: u32) -> Option<&Lease> {
    slots.get(slot as usize)?.as_ref()
}

/// A slot for a new record: a free one, else one more.
fn vacant_slot(slots: &mut Vec<Option<Lease>>, free: &mut Vec<u32>) -> u32 {
    if let Some(slot) = free.pop() {
        return slot;
    }
    // A slot holds the record of one address and free slots are taken before the vector
    // grows, so slot numbers stay below 2^32.
    let slot = u32::try_from(slots.len()).expect("no more slots than IPv4 addresses");
    slots.push(None);
    slot
}

/// Makes an index entry, found or new, `pointer`.
fn point(entry: Entry<'_, Pointer>, pointer: Pointer) {
    match entry {
        Entry::Occupied(mut entry) => *entry.get_mut() = pointer,
        Entry::Vacant(entry) => {
            entry.insert(pointer);
        }
    }
}

/// The lease database.
///
/// Lookups by address and by client are hash lookups, O(1) expected; recording and removing
/// a lease also costs O(log n) in the ordered structures. The [module docs](self) say which
/// key the hash takes and how much memory a lease takes.
#[derive(Debug, Clone)]
pub struct Leases {
    /// The records; a slot emptied by [`Leases::remove`] waits in `free` for a new address.
    slots: Vec<Option<Lease>>,
    free: Vec<u32>,
    /// Slot numbers by their record's address: one entry per record.
    by_address: HashTable<Pointer>,
    /// Slot numbers by client identifier: for each identifier, the record applied last with
    /// it, until that record is replaced or removed.
    by_id: HashTable<Pointer>,
    /// Slot numbers by hardware type and address, as `by_id` is by identifier.
    by_hardware: HashTable<Pointer>,
    keys: Keys,
    /// Addresses with a lease record, or reserved.
    used: Runs,
    /// Addresses reserved for hosts: never handed out dynamically.
    reserved: BTreeSet<u32>,
    /// Configured ranges, sorted by `low`, not overlapping.
    ranges: Vec<RangeIndex>,
}

impl Default for Leases {
    fn default() -> Self {
        Self::new()
    }
}

impl Leases {
    /// An empty database with no ranges, whose indexes hash with a fixed key: a server that
    /// faces untrusted clients should use [`Leases::with_seed`].
    pub fn new() -> Self {
        Self::with_seed(DEFAULT_SEED)
    }

    /// An empty database with no ranges, whose indexes hash with the key `seed`. Client
    /// identifiers and hardware addresses come from the network: with a random, secret
    /// `seed`, nobody can work out in advance a set of them that collide in the indexes.
    pub fn with_seed(seed: u64) -> Self {
        Leases {
            slots: Vec::new(),
            free: Vec::new(),
            by_address: HashTable::new(),
            by_id: HashTable::new(),
            by_hardware: HashTable::new(),
            keys: Keys::new(seed),
            used: Runs::default(),
            reserved: BTreeSet::new(),
            ranges: Vec::new(),
        }
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
        self.rebuild_ordered();
    }

    /// Builds the runs of used addresses and each range's order by end afresh from the
    /// records: sorted once and built in bulk, O(n log n) with small constants.
    fn rebuild_ordered(&mut self) {
        let mut used: Vec<u32> = self.reserved.iter().copied().collect();
        let mut ends: Vec<(usize, u64)> = Vec::with_capacity(self.by_address.len());
        for lease in self.slots.iter().flatten() {
            let address = num(lease.address);
            used.push(address);
            if let Some(i) = range_of(&self.ranges, &self.reserved, address) {
                ends.push((i, end_key(lease.free_at(), address)));
            }
        }
        used.sort_unstable();
        used.dedup();
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for address in used {
            match runs.last_mut() {
                Some(last) if last.1.checked_add(1) == Some(address) => last.1 = address,
                _ => runs.push((address, address)),
            }
        }
        self.used = Runs(runs.into_iter().collect());
        ends.sort_unstable();
        for (i, range) in self.ranges.iter_mut().enumerate() {
            let first = ends.partition_point(|&(r, _)| r < i);
            let last = ends.partition_point(|&(r, _)| r <= i);
            range.by_end = ends[first..last].iter().map(|&(_, key)| key).collect();
        }
    }

    /// Records many leases, as when loading a journal: the same as [`Leases::apply`] on
    /// each in turn, but the ordered structures are built once at the end, in bulk, rather
    /// than entry by entry.
    pub fn extend(&mut self, leases: impl IntoIterator<Item = Lease>) {
        let leases = leases.into_iter();
        self.reserve(leases.size_hint().0);
        for lease in leases {
            let slot = self.place_record(lease);
            self.index_hashed(slot);
        }
        self.rebuild_ordered();
    }

    /// Makes room for `additional` more records without growing the indexes on the way, as
    /// before loading a journal.
    pub fn reserve(&mut self, additional: usize) {
        self.slots
            .reserve(additional.saturating_sub(self.free.len()));
        self.by_address.reserve(additional, Pointer::place);
        self.by_id.reserve(additional, Pointer::place);
        self.by_hardware.reserve(additional, Pointer::place);
    }

    /// Number of lease records.
    pub fn len(&self) -> usize {
        self.by_address.len()
    }

    /// True when there are no lease records.
    pub fn is_empty(&self) -> bool {
        self.by_address.is_empty()
    }

    /// Every lease record, by address. It takes one hash lookup for each record and for each
    /// reserved address; [`Leases::iter_unordered`] is faster where the order does not
    /// matter.
    pub fn iter(&self) -> impl Iterator<Item = &Lease> {
        self.used
            .0
            .iter()
            .flat_map(|(&start, &end)| start..=end)
            .filter_map(|address| self.lookup(address))
    }

    /// Every lease record, in no particular order, read straight from where they are kept.
    pub fn iter_unordered(&self) -> impl Iterator<Item = &Lease> {
        self.slots.iter().flatten()
    }

    /// A walk over every record in steps, in the order of [`Leases::iter_unordered`], that
    /// stays valid while records change between steps: the records of the next `count`
    /// places from `from` (0 to begin), and where the next step begins, `None` after the
    /// last. A record keeps its place while its address has one, so a record present all
    /// along is met exactly once; a record added or replaced meanwhile may be met or not.
    pub fn step(&self, from: usize, count: usize) -> (impl Iterator<Item = &Lease>, Option<usize>) {
        let end = from.saturating_add(count).min(self.slots.len());
        let next = (end < self.slots.len()).then_some(end);
        let records = self.slots.get(from..end).unwrap_or_default();
        (records.iter().flatten(), next)
    }

    /// The record for an address.
    pub fn get(&self, address: Ipv4Addr) -> Option<&Lease> {
        self.lookup(num(address))
    }

    fn lookup(&self, address: u32) -> Option<&Lease> {
        let slot = self.slot_of(self.keys.address(address), address)?;
        record(&self.slots, slot)
    }

    /// The slot holding the record for `address`, whose hash is `hash`.
    fn slot_of(&self, hash: u32, address: u32) -> Option<u32> {
        let slots = &self.slots;
        let holds = |p: &Pointer| {
            p.hash == hash && record(slots, p.slot).is_some_and(|l| num(l.address) == address)
        };
        self.by_address.find(place(hash), holds).map(|p| p.slot)
    }

    /// The client's most recent lease: by client identifier when it sends one, else by
    /// hardware address among leases recorded without an identifier.
    pub fn find_client(&self, client: &Client<'_>) -> Option<&Lease> {
        let slots = &self.slots;
        if let Some(id) = client.id {
            let hash = self.keys.id(id);
            let has_id = |p: &Pointer| {
                p.hash == hash
                    && record(slots, p.slot).is_some_and(|l| l.client_id.as_deref() == Some(id))
            };
            let found = self.by_id.find(place(hash), has_id);
            if let Some(lease) = found.and_then(|p| record(slots, p.slot)) {
                return Some(lease);
            }
        }
        let (htype, hardware) = client.hardware?;
        let hash = self.keys.hardware(htype, hardware);
        let has_hardware = |p: &Pointer| {
            p.hash == hash
                && record(slots, p.slot).is_some_and(|l| l.hardware == Some((htype, *hardware)))
        };
        let lease = self
            .by_hardware
            .find(place(hash), has_hardware)
            .and_then(|p| record(slots, p.slot))?;
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
            .filter_map(|r| self.longest_free(r, low, high, now))
            .min()
            .map(|(_, address)| Ipv4Addr::from(address))
    }

    /// The address of range `r` in `low..=high` that has been free the longest at `now`,
    /// and since when.
    fn longest_free(&self, r: &RangeIndex, low: u32, high: u32, now: Time) -> Option<(Time, u32)> {
        let whole = low <= r.low && r.high <= high;
        let mut far = None;
        for &key in &r.by_end {
            let (time, address) = end_key_parts(key);
            if time == FAR {
                far = Some(key);
                break;
            }
            if Time::from(time) > now {
                return None;
            }
            if whole || (low..=high).contains(&address) {
                return Some((Time::from(time), address));
            }
        }
        // What is left is free from FAR on, in the order of addresses: ask the records.
        if now < Time::from(FAR) {
            return None;
        }
        r.by_end
            .range(far?..)
            .map(|&key| end_key_parts(key).1)
            .filter(|address| (low..=high).contains(address))
            .filter_map(|address| Some((self.lookup(address)?.free_at(), address)))
            .filter(|&(free_at, _)| free_at <= now)
            .min()
    }

    /// Records a lease, replacing any record for its address: O(1) expected in the hash
    /// indexes, O(log n) in the ordered structures.
    pub fn apply(&mut self, lease: Lease) {
        let slot = self.place_record(lease);
        self.index_hashed(slot);
        self.index_ordered(slot);
    }

    /// Puts a record in its address's slot (a new one for a new address), taking the one it
    /// replaces out of every index; returns the slot. The record itself is not indexed yet
    /// but by address.
    fn place_record(&mut self, lease: Lease) -> u32 {
        let address = num(lease.address);
        let hash = self.keys.address(address);
        let slots = &self.slots;
        let holds = |p: &Pointer| {
            p.hash == hash && record(slots, p.slot).is_some_and(|l| num(l.address) == address)
        };
        let (slot, replaced) = match self.by_address.entry(place(hash), holds, Pointer::place) {
            Entry::Occupied(entry) => (entry.get().slot, true),
            Entry::Vacant(entry) => {
                let slot = vacant_slot(&mut self.slots, &mut self.free);
                entry.insert(Pointer { slot, hash });
                (slot, false)
            }
        };
        let place = self.slots.get_mut(slot as usize);
        if let Some(old) = place
            .and_then(|place| place.replace(lease))
            .filter(|_| replaced)
        {
            self.unindex(slot, &old);
        }
        slot
    }

    /// Points the client indexes at the record in `slot`.
    fn index_hashed(&mut self, slot: u32) {
        let Leases {
            slots,
            by_id,
            by_hardware,
            keys,
            ..
        } = self;
        let Some(lease) = record(slots, slot) else {
            return;
        };
        if let Some(id) = lease.client_id.as_deref() {
            let hash = keys.id(id);
            let has_id = |p: &Pointer| {
                p.hash == hash
                    && record(slots, p.slot).is_some_and(|l| l.client_id.as_deref() == Some(id))
            };
            let entry = by_id.entry(place(hash), has_id, Pointer::place);
            point(entry, Pointer { slot, hash });
        }
        if let Some((htype, hardware)) = lease.hardware {
            let hash = keys.hardware(htype, &hardware);
            let has_hardware = |p: &Pointer| {
                p.hash == hash
                    && record(slots, p.slot).is_some_and(|l| l.hardware == Some((htype, hardware)))
            };
            let entry = by_hardware.entry(place(hash), has_hardware, Pointer::place);
            point(entry, Pointer { slot, hash });
        }
    }

    /// Enters the record in `slot` in the ordered structures.
    fn index_ordered(&mut self, slot: u32) {
        let Leases {
            slots,
            used,
            reserved,
            ranges,
            ..
        } = self;
        let Some(lease) = record(slots, slot) else {
            return;
        };
        let address = num(lease.address);
        if let Some(i) = range_of(ranges, reserved, address) {
            ranges[i].by_end.insert(end_key(lease.free_at(), address));
        }
        used.insert(address);
    }

    /// Deletes the record for an address.
    pub fn remove(&mut self, address: Ipv4Addr) -> Option<Lease> {
        let address = num(address);
        let hash = self.keys.address(address);
        let slots = &self.slots;
        let holds = |p: &Pointer| {
            p.hash == hash && record(slots, p.slot).is_some_and(|l| num(l.address) == address)
        };
        let found = self.by_address.find_entry(place(hash), holds).ok()?;
        let (Pointer { slot, .. }, _) = found.remove();
        let old = self.slots.get_mut(slot as usize).and_then(Option::take)?;
        self.free.push(slot);
        self.unindex(slot, &old);
        if !self.reserved.contains(&address) {
            self.used.remove(address);
        }
        Some(old)
    }

    /// Takes `old`, the record just taken out of `slot`, out of the client indexes where
    /// they still point at the slot, and out of its range's order by end.
    fn unindex(&mut self, slot: u32, old: &Lease) {
        let here = |p: &Pointer| p.slot == slot;
        if let Some(id) = old.client_id.as_deref() {
            if let Ok(entry) = self.by_id.find_entry(place(self.keys.id(id)), here) {
                entry.remove();
            }
        }
        if let Some((htype, hardware)) = &old.hardware {
            let hash = self.keys.hardware(*htype, hardware);
            if let Ok(entry) = self.by_hardware.find_entry(place(hash), here) {
                entry.remove();
            }
        }
        let address = num(old.address);
        if let Some(i) = range_of(&self.ranges, &self.reserved, address) {
            self.ranges[i]
                .by_end
                .remove(&end_key(old.free_at(), address));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use proptest::prelude::*;

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
    fn extending_gives_what_applying_one_by_one_gives() {
        let ranges = [
            (ip(BASE + 1), ip(BASE + 40)),
            (ip(BASE + 60), ip(BASE + 90)),
        ];
        let reserved = [ip(BASE + 5), ip(BASE + 70)];
        let records: Vec<Lease> = (0..200u32)
            .map(|n| {
                // Addresses repeat (a later record replaces an earlier one), some lie
                // outside every range, some are reserved; clients and states vary.
                let address = BASE + 1 + (n * 37) % 120;
                let state = match n % 4 {
                    0 => LeaseState::Active,
                    1 => LeaseState::Released,
                    2 => LeaseState::Abandoned,
                    _ => LeaseState::Expired,
                };
                let client = u8::try_from(n % 50).unwrap();
                let mut l = lease(address, client, state, 100 + Time::from(n));
                if n % 3 == 0 {
                    l.client_id = Some(SmallBytes::new(&[1, u8::try_from(n % 30).unwrap()]));
                }
                l
            })
            .collect();
        let mut one_by_one = Leases::new();
        one_by_one.set_ranges(&ranges, &reserved);
        let mut bulk = one_by_one.clone();
        for l in records.clone() {
            one_by_one.apply(l);
        }
        let (first, rest) = records.split_at(50);
        for l in first.iter().cloned() {
            bulk.apply(l);
        }
        bulk.extend(rest.iter().cloned());
        assert_eq!(
            one_by_one.iter().collect::<Vec<_>>(),
            bulk.iter().collect::<Vec<_>>()
        );
        assert_eq!(one_by_one.used.0, bulk.used.0);
        for (a, b) in one_by_one.ranges.iter().zip(&bulk.ranges) {
            assert_eq!(a.by_end, b.by_end);
        }
        for now in [0, 150, 250, 400] {
            for (low, high) in ranges {
                assert_eq!(
                    one_by_one.find_free(low, high, now),
                    bulk.find_free(low, high, now)
                );
            }
        }
        for n in 0..50u8 {
            let hw = mac(n);
            let id = [1, n % 30];
            let client = Client {
                id: Some(&id),
                hardware: Some((HardwareType::ETHERNET, &hw)),
            };
            assert_eq!(one_by_one.find_client(&client), bulk.find_client(&client));
            assert_eq!(
                one_by_one.find_client(&by_mac(&hw)),
                bulk.find_client(&by_mac(&hw))
            );
        }
    }

    #[test]
    fn steps_meet_every_record_present_all_along_once() {
        let mut leases = Leases::new();
        leases.set_ranges(&[(ip(BASE + 1), ip(BASE + 200))], &[]);
        for n in 1..=100 {
            leases.apply(lease(BASE + n, 1, LeaseState::Active, 1000));
        }
        let (mut seen, mut next) = (Vec::new(), Some(0));
        while let Some(from) = next {
            let (records, after) = leases.step(from, 7);
            seen.extend(records.map(|l| u32::from(l.address)));
            next = after;
            // Changes between steps: one record removed, one added, one replaced.
            if let Some(n) = after.and_then(|a| u32::try_from(a).ok()) {
                leases.remove(ip(BASE + 1 + (n * 13) % 100));
                leases.apply(lease(BASE + 100 + n, 2, LeaseState::Active, 1000));
                leases.apply(lease(
                    BASE + 50,
                    3,
                    LeaseState::Active,
                    2000 + Time::from(n),
                ));
            }
        }
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "a record met twice");
        // Every record present from the start to the end was met.
        for lease in leases.iter() {
            let a = u32::from(lease.address);
            if a <= BASE + 100 {
                assert!(seen.contains(&a), "{a:#x} missed");
            }
        }
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

    fn with_id(address: u32, id: &[u8], client: u8) -> Lease {
        Lease {
            client_id: Some(id.into()),
            ..lease(address, client, LeaseState::Active, 1_000)
        }
    }

    fn by_id(id: &[u8]) -> Client<'_> {
        Client {
            id: Some(id),
            hardware: None,
        }
    }

    fn addresses(leases: &Leases) -> Vec<u32> {
        leases.iter().map(|l| num(l.address)).collect()
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
        let keys = Keys::new(1);
        let mut h = keys.hasher();
        SmallBytes::new(&long).hash(&mut h);
        let mut g = keys.hasher();
        long[..].hash(&mut g);
        assert_eq!(h.finish(), g.finish());
        assert_eq!(alloc::format!("{:?}", SmallBytes::new(&[1, 2])), "[1, 2]");
    }

    #[test]
    fn a_record_takes_96_bytes() {
        assert_eq!(core::mem::size_of::<Option<Lease>>(), 96);
    }

    #[test]
    fn orders_ends_past_2106_by_their_records() {
        let far = Time::from(FAR);
        let mut leases = Leases::new();
        leases.set_ranges(&[(ip(BASE + 1), ip(BASE + 3))], &[]);
        leases.apply(lease(BASE + 1, 1, LeaseState::Active, far + 20));
        leases.apply(lease(BASE + 2, 2, LeaseState::Active, far + 10));
        leases.apply(lease(BASE + 3, 3, LeaseState::Active, INFINITE));
        let find = |leases: &Leases, now| leases.find_free(ip(BASE + 1), ip(BASE + 3), now);
        assert_eq!(find(&leases, far + 9), None);
        assert_eq!(find(&leases, far + 15), Some(ip(BASE + 2)));
        assert_eq!(find(&leases, far + 30), Some(ip(BASE + 2)));
        leases.apply(lease(BASE + 2, 2, LeaseState::Active, far + 40));
        assert_eq!(find(&leases, far + 15), None);
        assert_eq!(find(&leases, far + 30), Some(ip(BASE + 1)));
        assert_eq!(
            leases.find_free(ip(BASE + 3), ip(BASE + 3), INFINITE - 1),
            None
        );
    }

    #[test]
    fn reuses_the_slot_of_a_removed_record() {
        let mut leases = Leases::new();
        for a in 1..=3 {
            leases.apply(lease(BASE + a, 1, LeaseState::Active, 100));
        }
        assert_eq!(
            leases.remove(ip(BASE + 2)).map(|l| l.address),
            Some(ip(BASE + 2))
        );
        assert_eq!(leases.remove(ip(BASE + 2)), None);
        assert_eq!(leases.len(), 2);
        assert_eq!(leases.get(ip(BASE + 2)), None);
        leases.apply(lease(BASE + 9, 9, LeaseState::Active, 100));
        assert_eq!(leases.slots.len(), 3);
        assert!(leases.free.is_empty());
        assert_eq!(leases.len(), 3);
        assert_eq!(addresses(&leases), [BASE + 1, BASE + 3, BASE + 9]);
        assert_eq!(
            leases.get(ip(BASE + 9)).map(|l| l.address),
            Some(ip(BASE + 9))
        );
        let hw = mac(9);
        assert_eq!(
            leases.find_client(&by_mac(&hw)).map(|l| l.address),
            Some(ip(BASE + 9))
        );
    }

    #[test]
    fn follows_a_record_whose_client_identifier_changes() {
        let mut leases = Leases::new();
        leases.apply(with_id(BASE + 1, b"first", 1));
        leases.apply(with_id(BASE + 1, b"second", 1));
        assert_eq!(leases.find_client(&by_id(b"first")), None);
        assert_eq!(
            leases.find_client(&by_id(b"second")).map(|l| l.address),
            Some(ip(BASE + 1))
        );
        // Without an identifier the record is found by hardware again.
        leases.apply(lease(BASE + 1, 1, LeaseState::Active, 100));
        assert_eq!(leases.find_client(&by_id(b"second")), None);
        let hw = mac(1);
        assert_eq!(
            leases.find_client(&by_mac(&hw)).map(|l| l.address),
            Some(ip(BASE + 1))
        );
        assert_eq!(leases.by_id.len(), 0);
        assert_eq!(leases.by_hardware.len(), 1);
    }

    #[test]
    fn follows_a_record_whose_hardware_address_changes() {
        let mut leases = Leases::new();
        leases.apply(lease(BASE + 1, 1, LeaseState::Active, 100));
        leases.apply(lease(BASE + 1, 2, LeaseState::Active, 100));
        let (old, new) = (mac(1), mac(2));
        assert_eq!(leases.find_client(&by_mac(&old)), None);
        assert_eq!(
            leases.find_client(&by_mac(&new)).map(|l| l.address),
            Some(ip(BASE + 1))
        );
        assert_eq!(leases.by_hardware.len(), 1);
    }

    #[test]
    fn a_client_index_points_at_the_record_applied_last() {
        let mut leases = Leases::new();
        leases.apply(with_id(BASE + 1, b"id", 1));
        leases.apply(with_id(BASE + 2, b"id", 1));
        let found = |leases: &Leases| leases.find_client(&by_id(b"id")).map(|l| l.address);
        assert_eq!(found(&leases), Some(ip(BASE + 2)));
        leases.apply(with_id(BASE + 1, b"id", 1));
        assert_eq!(found(&leases), Some(ip(BASE + 1)));
        // Replacing a record the index no longer points at leaves the index alone.
        leases.apply(with_id(BASE + 2, b"other", 1));
        assert_eq!(found(&leases), Some(ip(BASE + 1)));
        assert_eq!(
            leases.remove(ip(BASE + 2)).map(|l| l.address),
            Some(ip(BASE + 2))
        );
        assert_eq!(found(&leases), Some(ip(BASE + 1)));
    }

    /// Two different keys with the same 32-bit hash: every lookup of one compares the other's
    /// record.
    fn colliding<T: Copy + PartialEq>(
        candidates: impl Iterator<Item = T>,
        hash: impl Fn(T) -> u32,
    ) -> [T; 2] {
        let mut seen = BTreeMap::new();
        for key in candidates {
            match seen.insert(hash(key), key) {
                Some(other) if other != key => return [other, key],
                _ => {}
            }
        }
        panic!("no collision among the candidates");
    }

    /// The `n`th of a sequence of scattered numbers (splitmix64): keys that count up
    /// collide less often than chance in a multiplicative hash.
    fn scattered(n: u64) -> u64 {
        let mut z = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn compares_keys_when_client_identifiers_collide() {
        let mut leases = Leases::new();
        let id = |n| scattered(n).to_be_bytes();
        let [a, b] = colliding((0..1 << 18).map(id), |id| leases.keys.id(&id));
        leases.apply(with_id(BASE + 1, &a, 1));
        leases.apply(with_id(BASE + 2, &b, 2));
        let found = |leases: &Leases, id| leases.find_client(&by_id(id)).map(|l| l.address);
        assert_eq!(found(&leases, &a), Some(ip(BASE + 1)));
        assert_eq!(found(&leases, &b), Some(ip(BASE + 2)));
        leases.remove(ip(BASE + 1));
        assert_eq!(found(&leases, &a), None);
        assert_eq!(found(&leases, &b), Some(ip(BASE + 2)));
    }

    #[test]
    fn compares_keys_when_addresses_and_hardware_addresses_collide() {
        let mut leases = Leases::new();
        let [x, y] = colliding((0..1 << 18).map(|n| high_half(scattered(n))), |a| {
            leases.keys.address(a)
        });
        leases.apply(lease(x, 1, LeaseState::Active, 100));
        leases.apply(lease(y, 2, LeaseState::Active, 100));
        assert_eq!(leases.get(ip(x)).map(|l| l.address), Some(ip(x)));
        assert_eq!(leases.get(ip(y)).map(|l| l.address), Some(ip(y)));
        leases.remove(ip(x));
        assert_eq!(leases.get(ip(x)), None);
        assert_eq!(leases.get(ip(y)).map(|l| l.address), Some(ip(y)));

        let hardware = |n| {
            let [a, b, c, d, e, f, ..] = scattered(n).to_be_bytes();
            HardwareAddress::ethernet([a, b, c, d, e, f])
        };
        let [m, n] = colliding((0..1 << 18).map(hardware), |hw| {
            leases.keys.hardware(HardwareType::ETHERNET, &hw)
        });
        let mut leases = Leases::new();
        for (address, hw) in [(BASE + 1, m), (BASE + 2, n)] {
            leases.apply(Lease {
                hardware: Some((HardwareType::ETHERNET, hw)),
                ..lease(address, 0, LeaseState::Active, 100)
            });
        }
        let found = |hw| leases.find_client(&by_mac(hw)).map(|l| l.address);
        assert_eq!(found(&m), Some(ip(BASE + 1)));
        assert_eq!(found(&n), Some(ip(BASE + 2)));
    }

    #[test]
    fn iterates_by_address_whatever_the_order_of_arrival() {
        let mut leases = Leases::new();
        leases.set_ranges(
            &[(ip(BASE + 1), ip(BASE + 50))],
            &[ip(BASE + 20), ip(BASE + 60)],
        );
        for a in [30, 5, 60, 7, 6, 41, 20, 1] {
            leases.apply(lease(BASE + a, 1, LeaseState::Active, 100));
        }
        leases.remove(ip(BASE + 6));
        leases.remove(ip(BASE + 20));
        leases.apply(lease(BASE + 3, 1, LeaseState::Active, 100));
        let expected: Vec<u32> = [1, 3, 5, 7, 30, 41, 60].map(|a| BASE + a).to_vec();
        assert_eq!(addresses(&leases), expected);
        let mut unordered: Vec<u32> = leases.iter_unordered().map(|l| num(l.address)).collect();
        unordered.sort_unstable();
        assert_eq!(unordered, expected);
        assert_eq!(leases.len(), expected.len());
    }

    #[test]
    fn answers_the_same_whatever_the_seed() {
        let run = |mut leases: Leases| {
            leases.set_ranges(&[(ip(BASE + 1), ip(BASE + 40))], &[]);
            for a in 1..=40u8 {
                leases.apply(with_id(BASE + u32::from(a), &[a % 7], a % 5));
            }
            leases.remove(ip(BASE + 4));
            let found: Vec<_> = (0..7u8)
                .map(|id| leases.find_client(&by_id(&[id])).map(|l| l.address))
                .collect();
            (found, leases.iter().cloned().collect::<Vec<_>>())
        };
        assert_eq!(run(Leases::new()), run(Leases::with_seed(42)));
    }

    /// The database as it was kept before the hash indexes, as a model to check them
    /// against: every record by address, and each client key to the address of the record
    /// applied last with it.
    #[derive(Default)]
    struct Model {
        records: BTreeMap<u32, Lease>,
        ids: BTreeMap<Vec<u8>, u32>,
        hardware: BTreeMap<(u8, HardwareAddress), u32>,
        reserved: Vec<u32>,
        ranges: Vec<(u32, u32)>,
    }

    impl Model {
        fn apply(&mut self, lease: Lease) {
            let address = num(lease.address);
            self.remove(address);
            if let Some(id) = &lease.client_id {
                self.ids.insert(id.to_vec(), address);
            }
            if let Some((t, hw)) = lease.hardware {
                self.hardware.insert((t.0, hw), address);
            }
            self.records.insert(address, lease);
        }

        fn remove(&mut self, address: u32) {
            let Some(old) = self.records.remove(&address) else {
                return;
            };
            if let Some(id) = &old.client_id {
                if self.ids.get(id.as_slice()) == Some(&address) {
                    self.ids.remove(id.as_slice());
                }
            }
            if let Some((t, hw)) = old.hardware {
                if self.hardware.get(&(t.0, hw)) == Some(&address) {
                    self.hardware.remove(&(t.0, hw));
                }
            }
        }

        fn find_client(&self, client: &Client<'_>) -> Option<u32> {
            if let Some(address) = client.id.and_then(|id| self.ids.get(id)) {
                return Some(*address);
            }
            let (t, hw) = client.hardware?;
            let address = *self.hardware.get(&(t.0, *hw))?;
            self.records[&address].belongs_to(client).then_some(address)
        }

        /// `find_free` by looking at every address of the range.
        fn find_free(&self, low: u32, high: u32, now: Time) -> Option<u32> {
            let fresh =
                (low..=high).find(|a| !self.records.contains_key(a) && !self.reserved.contains(a));
            fresh.or_else(|| {
                self.records
                    .values()
                    .map(|l| (l.free_at(), num(l.address)))
                    .filter(|&(at, a)| {
                        at <= now
                            && (low..=high).contains(&a)
                            && !self.reserved.contains(&a)
                            && self.ranges.iter().any(|&(l, h)| (l..=h).contains(&a))
                    })
                    .min()
                    .map(|(_, a)| a)
            })
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Apply {
            address: u32,
            id: Option<u8>,
            hardware: Option<u8>,
            state: u8,
            ends: Time,
        },
        Remove(u32),
        SetRanges(bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (0..14u32, proptest::option::of(0..4u8), proptest::option::of(0..4u8), 0..6u8,
                ends())
                .prop_map(|(address, id, hardware, state, ends)| Op::Apply {
                    address, id, hardware, state, ends
                }),
            3 => (0..14u32).prop_map(Op::Remove),
            1 => any::<bool>().prop_map(Op::SetRanges),
        ]
    }

    /// Ends around now, around the last second an end key tells apart, and never.
    fn ends() -> impl Strategy<Value = Time> {
        let far = Time::from(FAR);
        prop_oneof![
            4 => 0..60u64,
            2 => far - 3..far + 3,
            1 => Just(INFINITE),
        ]
    }

    const STATES: [LeaseState; 6] = [
        LeaseState::Offered,
        LeaseState::Active,
        LeaseState::Released,
        LeaseState::Expired,
        LeaseState::Abandoned,
        LeaseState::Free,
    ];

    fn set_ranges(leases: &mut Leases, model: &mut Model, wide: bool) {
        let ranges = if wide {
            vec![(BASE + 1, BASE + 6), (BASE + 8, BASE + 12)]
        } else {
            vec![(BASE + 2, BASE + 9)]
        };
        let reserved = if wide {
            vec![BASE + 3]
        } else {
            vec![BASE + 5, BASE + 13]
        };
        let as_ips: Vec<_> = ranges.iter().map(|&(l, h)| (ip(l), ip(h))).collect();
        let reserved_ips: Vec<_> = reserved.iter().map(|&a| ip(a)).collect();
        leases.set_ranges(&as_ips, &reserved_ips);
        model.ranges = ranges;
        model.reserved = reserved;
    }

    proptest! {
        #[test]
        fn answers_as_the_ordered_maps_did(
            ops in proptest::collection::vec(op(), 1..80),
            seed in any::<u64>(),
        ) {
            let mut leases = Leases::with_seed(seed);
            let mut model = Model::default();
            set_ranges(&mut leases, &mut model, false);
            for op in ops {
                match op {
                    Op::Apply { address, id, hardware, state, ends } => {
                        let lease = Lease {
                            address: ip(BASE + address),
                            client_id: id.map(|id| SmallBytes::new(&[1, id])),
                            hardware: hardware.map(|n| (HardwareType::ETHERNET, mac(n))),
                            starts: 0,
                            ends,
                            cltt: ends / 2,
                            state: STATES[usize::from(state)],
                            hostname: None,
                        };
                        model.apply(lease.clone());
                        leases.apply(lease);
                    }
                    Op::Remove(address) => {
                        let expected = model.records.get(&(BASE + address)).cloned();
                        model.remove(BASE + address);
                        prop_assert_eq!(leases.remove(ip(BASE + address)), expected);
                    }
                    Op::SetRanges(wide) => set_ranges(&mut leases, &mut model, wide),
                }
                prop_assert_eq!(leases.len(), model.records.len());
                let all: Vec<&Lease> = leases.iter().collect();
                prop_assert_eq!(all, model.records.values().collect::<Vec<_>>());
                for address in 0..14 {
                    let a = BASE + address;
                    prop_assert_eq!(leases.get(ip(a)), model.records.get(&a));
                }
                let ids = [None, Some(0u8), Some(1), Some(2), Some(3)];
                let hws = [None, Some(0u8), Some(1), Some(2), Some(3)];
                for id in ids {
                    for hw in hws {
                        let id_bytes = id.map(|id| [1, id]);
                        let hw_address = hw.map(mac);
                        let client = Client {
                            id: id_bytes.as_ref().map(|b| &b[..]),
                            hardware: hw_address.as_ref().map(|h| (HardwareType::ETHERNET, h)),
                        };
                        prop_assert_eq!(
                            leases.find_client(&client).map(|l| num(l.address)),
                            model.find_client(&client)
                        );
                    }
                }
                let far = Time::from(FAR);
                for now in [0, 20, 40, 70, far - 1, far, far + 1, INFINITE / 2, INFINITE] {
                    for (low, high) in [(0, 14), (2, 9), (4, 11), (9, 9)] {
                        prop_assert_eq!(
                            leases.find_free(ip(BASE + low), ip(BASE + high), now).map(num),
                            model.find_free(BASE + low, BASE + high, now)
                        );
                    }
                }
            }
        }
    }
}
