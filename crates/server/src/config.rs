//! The configuration model: scopes, their parameters, validation and resolution.
//!
//! Declarations live in flat lists ([`Config::subnets`], [`Config::pools`], …) and name their
//! enclosing scope with a [`Scope`]. Parameters are inherited from the enclosing scope; the
//! most specific declaration wins, in the order host > group > pool > subnet >
//! shared-network > global. [`ConfigBuilder::build`] checks the topology and resolves every
//! subnet, pool and host once, so [`Config::scope_for`] only picks precomputed layers.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use charrua_wire::{DhcpOption, MacAddr, OptionCode, Text};

use crate::diag::{ConfError, Location, Warning};

/// ISC dhcpd's lease time when no `default-lease-time` is given, in seconds.
const DEFAULT_LEASE_TIME: u32 = 43_200;
/// ISC dhcpd's maximum lease time when no `max-lease-time` is given, in seconds.
const DEFAULT_MAX_LEASE_TIME: u32 = 86_400;
/// ISC dhcpd's ping timeout when none is given, in seconds.
const DEFAULT_PING_TIMEOUT: u32 = 1;
/// Deepest nesting of scopes accepted; deeper (or cyclic) parent links are an error.
const MAX_DEPTH: usize = 64;

/// What the server does with a class of clients (`allow`, `deny`, `ignore`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Serve them.
    Allow,
    /// Do not give them addresses (ISC logs the refusal).
    Deny,
    /// Do not give them addresses and do not log it.
    Ignore,
}

/// Which clients a pool's permit list entry matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermitKind {
    /// Clients with a host declaration.
    KnownClients,
    /// Clients without a host declaration.
    UnknownClients,
    /// Every client.
    AllClients,
    /// BOOTP clients getting a dynamic address.
    DynamicBootpClients,
}

/// One entry of a pool's permit list: `allow known-clients;`, `deny unknown-clients;`, ….
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit {
    /// `true` for `allow`, `false` for `deny`.
    pub allow: bool,
    /// The clients it matches.
    pub kind: PermitKind,
}

/// A value for a sub-option of a vendor option space (`option SPACE.NAME VALUE;`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorSubOption {
    /// The option space, as declared with `option space`.
    pub space: String,
    /// The sub-option code.
    pub code: u8,
    /// The encoded value, at most 255 bytes.
    pub data: Vec<u8>,
}

/// The parameters one scope sets. `None` (or an absent option) means "inherit".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// Options sent to clients, at most one per code; see [`Params::set_option`].
    pub options: Vec<DhcpOption>,
    /// `default-lease-time`, seconds.
    pub default_lease_time: Option<u32>,
    /// `max-lease-time`, seconds.
    pub max_lease_time: Option<u32>,
    /// `min-lease-time`, seconds.
    pub min_lease_time: Option<u32>,
    /// `authoritative` (`true`) or `not authoritative` (`false`).
    pub authoritative: Option<bool>,
    /// `server-identifier`.
    pub server_identifier: Option<Ipv4Addr>,
    /// `next-server`: the `siaddr` field of replies.
    pub next_server: Option<Ipv4Addr>,
    /// `filename`: the `file` field of replies.
    pub filename: Option<Text>,
    /// `server-name`: the `sname` field of replies.
    pub server_name: Option<Text>,
    /// `use-host-decl-names`.
    pub use_host_decl_names: Option<bool>,
    /// `one-lease-per-client`.
    pub one_lease_per_client: Option<bool>,
    /// `get-lease-hostnames`.
    pub get_lease_hostnames: Option<bool>,
    /// `allow`/`deny`/`ignore unknown-clients` outside a pool.
    pub unknown_clients: Option<Access>,
    /// `allow`/`deny`/`ignore bootp`.
    pub bootp: Option<Access>,
    /// `allow`/`deny`/`ignore booting` (meaningful in host declarations).
    pub booting: Option<Access>,
    /// `ping-check`.
    pub ping_check: Option<bool>,
    /// `ping-timeout`, seconds.
    pub ping_timeout: Option<u32>,
    /// `vendor-option-space`: the space whose sub-options make up option 43.
    pub vendor_option_space: Option<String>,
    /// Values of vendor sub-options set in this scope, at most one per space and code.
    pub vendor_options: Vec<VendorSubOption>,
}

impl Params {
    /// Sets an option, replacing any earlier value with the same code in this scope.
    pub fn set_option(&mut self, option: DhcpOption) {
        let code = option.code();
        match self.options.iter_mut().find(|o| o.code() == code) {
            Some(slot) => *slot = option,
            None => self.options.push(option),
        }
    }

    /// The option with this code set in this scope, if any.
    pub fn option(&self, code: OptionCode) -> Option<&DhcpOption> {
        self.options.iter().find(|o| o.code() == code)
    }

    /// Sets a vendor sub-option, replacing any earlier value for the same space and code.
    pub fn set_vendor_option(&mut self, value: VendorSubOption) {
        let slot = self
            .vendor_options
            .iter_mut()
            .find(|v| v.space == value.space && v.code == value.code);
        match slot {
            Some(slot) => *slot = value,
            None => self.vendor_options.push(value),
        }
    }

    /// These parameters with `child`'s laid over them: whatever `child` sets wins.
    fn overlay(&self, child: &Params) -> Params {
        let mut out = self.clone();
        for option in &child.options {
            out.set_option(option.clone());
        }
        for value in &child.vendor_options {
            out.set_vendor_option(value.clone());
        }
        macro_rules! inherit {
            ($($field:ident),*) => {
                $( if child.$field.is_some() { out.$field = child.$field.clone(); } )*
            };
        }
        inherit!(
            default_lease_time,
            max_lease_time,
            min_lease_time,
            authoritative,
            server_identifier,
            next_server,
            filename,
            server_name,
            use_host_decl_names,
            one_lease_per_client,
            get_lease_hostnames,
            unknown_clients,
            bootp,
            booting,
            ping_check,
            ping_timeout,
            vendor_option_space
        );
        out
    }

    /// Builds option 43 from the sub-options of the vendor option space in effect, unless an
    /// explicit `vendor-encapsulated-options` is already set.
    fn encapsulate_vendor_options(&mut self) {
        let Some(space) = &self.vendor_option_space else {
            return;
        };
        if self.option(OptionCode::VENDOR_SPECIFIC).is_some() {
            return;
        }
        let mut data = Vec::new();
        for sub in self.vendor_options.iter().filter(|v| &v.space == space) {
            // The parser and `build` keep sub-option values at most 255 bytes long.
            let Ok(len) = u8::try_from(sub.data.len()) else {
                continue;
            };
            data.push(sub.code);
            data.push(len);
            data.extend_from_slice(&sub.data);
        }
        if !data.is_empty() {
            self.options.push(DhcpOption::VendorSpecific(data));
        }
    }
}

/// The scope a declaration sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The top level of the file.
    Global,
    /// A `group`, by index into [`Config::groups`].
    Group(usize),
    /// A `shared-network`, by index into [`Config::shared_networks`].
    SharedNetwork(usize),
    /// A `subnet`, by index into [`Config::subnets`].
    Subnet(usize),
}

/// An address range, both ends included (`range [dynamic-bootp] LOW HIGH;`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// First address.
    pub start: Ipv4Addr,
    /// Last address.
    pub end: Ipv4Addr,
    /// Whether BOOTP clients may get addresses from it (`dynamic-bootp`).
    pub dynamic_bootp: bool,
    /// Where it was declared, for messages.
    pub location: Option<Location>,
}

impl Range {
    /// A range from `start` to `end`, both included.
    pub fn new(start: Ipv4Addr, end: Ipv4Addr) -> Self {
        Range {
            start,
            end,
            dynamic_bootp: false,
            location: None,
        }
    }

    /// Whether the range holds `address`.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        self.start <= address && address <= self.end
    }

    /// The number of addresses in the range (0 when `start > end`).
    pub fn len(&self) -> u64 {
        let (start, end) = (u32::from(self.start), u32::from(self.end));
        if start > end {
            0
        } else {
            u64::from(end - start) + 1
        }
    }

    /// Whether the range holds no address (only when `start > end`).
    pub fn is_empty(&self) -> bool {
        self.start > self.end
    }
}

/// A `shared-network`: several subnets on one physical link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedNetwork {
    /// Its name.
    pub name: String,
    /// The enclosing scope: global or a group.
    pub parent: Scope,
    /// Its parameters.
    pub params: Params,
    /// Where it was declared.
    pub location: Option<Location>,
}

impl SharedNetwork {
    /// A shared network at the top level.
    pub fn new(name: impl Into<String>) -> Self {
        SharedNetwork {
            name: name.into(),
            parent: Scope::Global,
            params: Params::default(),
            location: None,
        }
    }
}

/// A `subnet NETWORK netmask MASK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    /// The network address.
    pub network: Ipv4Addr,
    /// The netmask; its one bits must be contiguous.
    pub netmask: Ipv4Addr,
    /// The enclosing scope: global, a group or a shared network.
    pub parent: Scope,
    /// Ranges declared directly in the subnet (not in a pool).
    pub ranges: Vec<Range>,
    /// Its parameters.
    pub params: Params,
    /// Where it was declared.
    pub location: Option<Location>,
}

impl Subnet {
    /// A subnet at the top level, with no ranges.
    pub fn new(network: Ipv4Addr, netmask: Ipv4Addr) -> Self {
        Subnet {
            network,
            netmask,
            parent: Scope::Global,
            ranges: Vec::new(),
            params: Params::default(),
            location: None,
        }
    }

    /// The prefix length, when the mask is contiguous.
    pub fn prefix_len(&self) -> Option<u8> {
        let mask = u32::from(self.netmask);
        let ones = mask.leading_ones();
        // A count of bits in a u32 is at most 32.
        let len = u8::try_from(ones).unwrap_or(32);
        (mask.checked_shl(ones).unwrap_or(0) == 0).then_some(len)
    }

    /// Whether `address` is inside the subnet.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        let mask = u32::from(self.netmask);
        u32::from(address) & mask == u32::from(self.network) & mask
    }

    /// The subnet's broadcast address (its last address).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !u32::from(self.netmask))
    }
}

/// A `pool`: ranges with their own permit list and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// The enclosing scope: a subnet or a shared network.
    pub parent: Scope,
    /// Its ranges; all must lie in one subnet.
    pub ranges: Vec<Range>,
    /// Its permit list, in order.
    pub permits: Vec<Permit>,
    /// Its parameters.
    pub params: Params,
    /// Where it was declared.
    pub location: Option<Location>,
}

impl Pool {
    /// An empty pool in `parent`.
    pub fn new(parent: Scope) -> Self {
        Pool {
            parent,
            ranges: Vec::new(),
            permits: Vec::new(),
            params: Params::default(),
            location: None,
        }
    }
}

/// A `group`: parameters shared by the declarations inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The enclosing scope.
    pub parent: Scope,
    /// Its parameters.
    pub params: Params,
    /// Where it was declared.
    pub location: Option<Location>,
}

impl Group {
    /// An empty group in `parent`.
    pub fn new(parent: Scope) -> Self {
        Group {
            parent,
            params: Params::default(),
            location: None,
        }
    }
}

/// A `host` declaration: a known client, with or without fixed addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The declared name (`host NAME`).
    pub name: String,
    /// The enclosing scope.
    pub parent: Scope,
    /// `hardware ethernet`.
    pub hardware: Option<MacAddr>,
    /// `fixed-address`, in the order given.
    pub fixed_addresses: Vec<Ipv4Addr>,
    /// `option dhcp-client-identifier` or `uid`: the identifier bytes, type byte first.
    pub client_id: Option<Vec<u8>>,
    /// Its parameters.
    pub params: Params,
    /// Where it was declared.
    pub location: Option<Location>,
}

impl Host {
    /// A host at the top level with nothing declared.
    pub fn new(name: impl Into<String>) -> Self {
        Host {
            name: name.into(),
            parent: Scope::Global,
            hardware: None,
            fixed_addresses: Vec::new(),
            client_id: None,
            params: Params::default(),
            location: None,
        }
    }
}

/// Collects declarations, then checks and resolves them into a [`Config`].
///
/// ```
/// use core::net::Ipv4Addr;
/// use charrua_server::{ConfigBuilder, Range, Subnet};
/// use charrua_wire::DhcpOption;
///
/// let mut b = ConfigBuilder::new();
/// b.global_mut().default_lease_time = Some(600);
/// let mut lan = Subnet::new(Ipv4Addr::new(192, 0, 2, 0), Ipv4Addr::new(255, 255, 255, 0));
/// lan.ranges.push(Range::new(Ipv4Addr::new(192, 0, 2, 100), Ipv4Addr::new(192, 0, 2, 199)));
/// lan.params.set_option(DhcpOption::Routers(vec![Ipv4Addr::new(192, 0, 2, 1)]));
/// let lan = b.add_subnet(lan);
/// let (config, warnings) = b.build().unwrap();
/// assert!(warnings.is_empty());
/// let here = config.scope_for(lan, None, None);
/// assert_eq!(here.default_lease_time(), 600);
/// assert_eq!(config.subnet_containing(Ipv4Addr::new(192, 0, 2, 7)), Some(lan));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConfigBuilder {
    global: Params,
    groups: Vec<Group>,
    shared_networks: Vec<SharedNetwork>,
    subnets: Vec<Subnet>,
    pools: Vec<Pool>,
    hosts: Vec<Host>,
    warnings: Vec<Warning>,
}

impl ConfigBuilder {
    /// An empty configuration.
    pub fn new() -> Self {
        ConfigBuilder::default()
    }

    /// The global parameters.
    pub fn global_mut(&mut self) -> &mut Params {
        &mut self.global
    }

    /// Adds a group and returns its index.
    pub fn add_group(&mut self, group: Group) -> usize {
        self.groups.push(group);
        self.groups.len() - 1
    }

    /// Adds a shared network and returns its index.
    pub fn add_shared_network(&mut self, network: SharedNetwork) -> usize {
        self.shared_networks.push(network);
        self.shared_networks.len() - 1
    }

    /// Adds a subnet and returns its index.
    pub fn add_subnet(&mut self, subnet: Subnet) -> usize {
        self.subnets.push(subnet);
        self.subnets.len() - 1
    }

    /// Adds a pool and returns its index.
    pub fn add_pool(&mut self, pool: Pool) -> usize {
        self.pools.push(pool);
        self.pools.len() - 1
    }

    /// Adds a host and returns its index.
    pub fn add_host(&mut self, host: Host) -> usize {
        self.hosts.push(host);
        self.hosts.len() - 1
    }

    /// The parameters of a scope, to add to them after declaring it. `None` when the index
    /// does not exist.
    pub fn params_mut(&mut self, scope: Scope) -> Option<&mut Params> {
        match scope {
            Scope::Global => Some(&mut self.global),
            Scope::Group(i) => self.groups.get_mut(i).map(|g| &mut g.params),
            Scope::SharedNetwork(i) => self.shared_networks.get_mut(i).map(|n| &mut n.params),
            Scope::Subnet(i) => self.subnets.get_mut(i).map(|s| &mut s.params),
        }
    }

    /// A subnet added earlier.
    pub fn subnet_mut(&mut self, index: usize) -> Option<&mut Subnet> {
        self.subnets.get_mut(index)
    }

    /// A pool added earlier.
    pub fn pool_mut(&mut self, index: usize) -> Option<&mut Pool> {
        self.pools.get_mut(index)
    }

    /// A host added earlier.
    pub fn host_mut(&mut self, index: usize) -> Option<&mut Host> {
        self.hosts.get_mut(index)
    }

    /// Records a warning to be returned by [`ConfigBuilder::build`].
    pub fn warn(&mut self, warning: Warning) {
        self.warnings.push(warning);
    }

    /// Checks the configuration and resolves every scope's parameters.
    ///
    /// Errors: a parent that does not exist or cannot hold the declaration, a netmask that is
    /// not contiguous or a network with host bits set, overlapping subnets, a range whose start
    /// is after its end, a range outside its subnet (or, for a pool in a shared network,
    /// outside that network's subnets), a pool whose ranges span several subnets or a
    /// shared-network pool with no range, and overlapping ranges. Warnings: a fixed address
    /// inside no declared subnet, and two hosts with the same hardware address.
    pub fn build(self) -> Result<(Config, Vec<Warning>), Vec<ConfError>> {
        let mut errors = Vec::new();
        let mut warnings = self.warnings.clone();
        self.check_parents(&mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        self.check_subnets(&mut errors);
        let pool_subnets = self.place_pools(&mut errors);
        self.check_ranges(&mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        self.check_hosts(&mut warnings);
        let config = self.resolve(pool_subnets);
        Ok((config, warnings))
    }

    fn check_parents(&self, errors: &mut Vec<ConfError>) {
        let exists = |scope: Scope| match scope {
            Scope::Global => true,
            Scope::Group(i) => i < self.groups.len(),
            Scope::SharedNetwork(i) => i < self.shared_networks.len(),
            Scope::Subnet(i) => i < self.subnets.len(),
        };
        let mut bad = |ok: bool, what: &str, at: &Option<Location>| {
            if !ok {
                errors.push(ConfError::new(
                    at.clone(),
                    format!("invalid parent scope for {what}"),
                ));
            }
        };
        for g in &self.groups {
            bad(exists(g.parent), "group", &g.location);
        }
        for n in &self.shared_networks {
            let ok = matches!(n.parent, Scope::Global | Scope::Group(_)) && exists(n.parent);
            bad(ok, "shared-network", &n.location);
        }
        for s in &self.subnets {
            let ok = !matches!(s.parent, Scope::Subnet(_)) && exists(s.parent);
            bad(ok, "subnet", &s.location);
        }
        for p in &self.pools {
            let ok =
                matches!(p.parent, Scope::Subnet(_) | Scope::SharedNetwork(_)) && exists(p.parent);
            bad(ok, "pool", &p.location);
        }
        for h in &self.hosts {
            bad(exists(h.parent), "host", &h.location);
        }
        for (i, _) in self.groups.iter().enumerate() {
            if self.depth(Scope::Group(i)).is_none() {
                let at = &self.groups[i].location;
                errors.push(ConfError::new(
                    at.clone(),
                    "scopes nested too deep or in a cycle",
                ));
            }
        }
        for (i, _) in self.shared_networks.iter().enumerate() {
            if self.depth(Scope::SharedNetwork(i)).is_none() {
                let at = &self.shared_networks[i].location;
                errors.push(ConfError::new(
                    at.clone(),
                    "scopes nested too deep or in a cycle",
                ));
            }
        }
    }

    fn parent_of(&self, scope: Scope) -> Option<Scope> {
        match scope {
            Scope::Global => None,
            Scope::Group(i) => self.groups.get(i).map(|g| g.parent),
            Scope::SharedNetwork(i) => self.shared_networks.get(i).map(|n| n.parent),
            Scope::Subnet(i) => self.subnets.get(i).map(|s| s.parent),
        }
    }

    /// How many scopes lie above `scope`; `None` past [`MAX_DEPTH`] (a cycle).
    fn depth(&self, mut scope: Scope) -> Option<usize> {
        for depth in 0..MAX_DEPTH {
            match self.parent_of(scope) {
                None => return Some(depth),
                Some(parent) => scope = parent,
            }
        }
        None
    }

    /// The shared network enclosing `scope`, if any.
    fn shared_network_of(&self, mut scope: Scope) -> Option<usize> {
        for _ in 0..MAX_DEPTH {
            match scope {
                Scope::SharedNetwork(i) => return Some(i),
                Scope::Global => return None,
                other => scope = self.parent_of(other)?,
            }
        }
        None
    }

    fn check_subnets(&self, errors: &mut Vec<ConfError>) {
        let mut valid = Vec::new();
        for (i, s) in self.subnets.iter().enumerate() {
            if s.prefix_len().is_none() {
                let msg = format!("netmask {} is not contiguous", s.netmask);
                errors.push(ConfError::new(s.location.clone(), msg));
            } else if u32::from(s.network) & !u32::from(s.netmask) != 0 {
                let msg = format!(
                    "subnet {} netmask {}: the network address has host bits set",
                    s.network, s.netmask
                );
                errors.push(ConfError::new(s.location.clone(), msg));
            } else {
                valid.push(i);
            }
        }
        valid.sort_by_key(|&i| u32::from(self.subnets[i].network));
        for pair in valid.windows(2) {
            let (a, b) = (&self.subnets[pair[0]], &self.subnets[pair[1]]);
            if b.network <= a.broadcast() {
                let msg = format!(
                    "subnet {}/{} overlaps subnet {}/{}{}",
                    b.network,
                    b.prefix_len().unwrap_or(0),
                    a.network,
                    a.prefix_len().unwrap_or(0),
                    declared_at(&a.location)
                );
                errors.push(ConfError::new(b.location.clone(), msg));
            }
        }
    }

    /// Finds the subnet holding each pool's ranges.
    fn place_pools(&self, errors: &mut Vec<ConfError>) -> Vec<usize> {
        let mut placed = Vec::with_capacity(self.pools.len());
        for pool in &self.pools {
            let candidates: Vec<usize> = match pool.parent {
                Scope::Subnet(i) => alloc::vec![i],
                Scope::SharedNetwork(n) => (0..self.subnets.len())
                    .filter(|&i| self.shared_network_of(self.subnets[i].parent) == Some(n))
                    .collect(),
                _ => Vec::new(),
            };
            let mut subnet = match pool.parent {
                Scope::Subnet(i) => Some(i),
                _ => None,
            };
            for range in &pool.ranges {
                let home = candidates.iter().copied().find(|&i| {
                    let s = &self.subnets[i];
                    s.contains(range.start) && s.contains(range.end)
                });
                match (home, subnet) {
                    (None, _) => {
                        let msg = format!(
                            "range {} {} is not inside {}",
                            range.start,
                            range.end,
                            self.pool_home_name(pool.parent)
                        );
                        errors.push(ConfError::new(range.location.clone(), msg));
                    }
                    (Some(h), Some(s)) if h != s => {
                        let msg = format!(
                            "range {} {}: a pool's ranges must all lie in one subnet",
                            range.start, range.end
                        );
                        errors.push(ConfError::new(range.location.clone(), msg));
                    }
                    (Some(h), _) => subnet = Some(h),
                }
            }
            match subnet {
                Some(s) => placed.push(s),
                None => {
                    if pool.ranges.is_empty() {
                        let msg = "a pool in a shared-network must declare a range";
                        errors.push(ConfError::new(pool.location.clone(), msg));
                    }
                    placed.push(0);
                }
            }
        }
        placed
    }

    fn pool_home_name(&self, parent: Scope) -> String {
        match parent {
            Scope::Subnet(i) => {
                let s = &self.subnets[i];
                format!("subnet {}/{}", s.network, s.prefix_len().unwrap_or(0))
            }
            Scope::SharedNetwork(n) => {
                format!(
                    "any subnet of shared-network {}",
                    self.shared_networks[n].name
                )
            }
            _ => String::from("a subnet"),
        }
    }

    fn check_ranges(&self, errors: &mut Vec<ConfError>) {
        let mut all: Vec<&Range> = Vec::new();
        for s in &self.subnets {
            for range in &s.ranges {
                if s.prefix_len().is_some() && !(s.contains(range.start) && s.contains(range.end)) {
                    let msg = format!(
                        "range {} {} is not inside subnet {}/{}",
                        range.start,
                        range.end,
                        s.network,
                        s.prefix_len().unwrap_or(0)
                    );
                    errors.push(ConfError::new(range.location.clone(), msg));
                }
                all.push(range);
            }
        }
        all.extend(self.pools.iter().flat_map(|p| p.ranges.iter()));
        let mut ordered = Vec::with_capacity(all.len());
        for range in all {
            if range.start > range.end {
                let msg = format!("range {} {}: start is after end", range.start, range.end);
                errors.push(ConfError::new(range.location.clone(), msg));
            } else {
                ordered.push(range);
            }
        }
        ordered.sort_by_key(|r| r.start);
        for pair in ordered.windows(2) {
            if pair[1].start <= pair[0].end {
                let msg = format!(
                    "range {} {} overlaps range {} {}{}",
                    pair[1].start,
                    pair[1].end,
                    pair[0].start,
                    pair[0].end,
                    declared_at(&pair[0].location)
                );
                errors.push(ConfError::new(pair[1].location.clone(), msg));
            }
        }
    }

    fn check_hosts(&self, warnings: &mut Vec<Warning>) {
        // Subnets as sorted (first, last) address pairs; `check_subnets` ruled out overlaps.
        let mut spans: Vec<(u32, u32)> = self
            .subnets
            .iter()
            .map(|s| (u32::from(s.network), u32::from(s.broadcast())))
            .collect();
        spans.sort_unstable();
        let inside = |address: Ipv4Addr| {
            let a = u32::from(address);
            let after = spans.partition_point(|&(first, _)| first <= a);
            after.checked_sub(1).is_some_and(|i| spans[i].1 >= a)
        };
        let mut seen: BTreeMap<MacAddr, usize> = BTreeMap::new();
        for (i, host) in self.hosts.iter().enumerate() {
            for &address in &host.fixed_addresses {
                if !inside(address) {
                    let msg = format!(
                        "host {}: fixed-address {address} is not inside any declared subnet",
                        host.name
                    );
                    warnings.push(Warning::new(host.location.clone(), msg));
                }
            }
            if let Some(mac) = host.hardware {
                if let Some(&first) = seen.get(&mac) {
                    let msg = format!(
                        "host {}: hardware ethernet {mac} is also declared by host {}{}",
                        host.name,
                        self.hosts[first].name,
                        declared_at(&self.hosts[first].location)
                    );
                    warnings.push(Warning::new(host.location.clone(), msg));
                } else {
                    seen.insert(mac, i);
                }
            }
        }
    }

    /// The parameters in effect in `scope`: its chain from global down, merged.
    fn resolve_scope(&self, scope: Scope, memo: &mut Memo) -> Params {
        let cached = match scope {
            Scope::Global => return self.global.clone(),
            Scope::Group(i) => memo.groups.get(i).cloned().flatten(),
            Scope::SharedNetwork(i) => memo.networks.get(i).cloned().flatten(),
            Scope::Subnet(i) => memo.subnets.get(i).cloned().flatten(),
        };
        if let Some(params) = cached {
            return params;
        }
        let (parent, own) = match scope {
            Scope::Group(i) => (self.groups[i].parent, &self.groups[i].params),
            Scope::SharedNetwork(i) => (
                self.shared_networks[i].parent,
                &self.shared_networks[i].params,
            ),
            Scope::Subnet(i) => (self.subnets[i].parent, &self.subnets[i].params),
            Scope::Global => return self.global.clone(),
        };
        let resolved = self.resolve_scope(parent, memo).overlay(own);
        match scope {
            Scope::Group(i) => memo.groups[i] = Some(resolved.clone()),
            Scope::SharedNetwork(i) => memo.networks[i] = Some(resolved.clone()),
            Scope::Subnet(i) => memo.subnets[i] = Some(resolved.clone()),
            Scope::Global => {}
        }
        resolved
    }

    /// A host's own layer: its parameters over those of the groups around it, up to the
    /// first scope that is not a group.
    fn host_layer(&self, host: &Host) -> Params {
        let mut chain = Vec::new();
        let mut scope = host.parent;
        while let Scope::Group(i) = scope {
            if chain.len() >= MAX_DEPTH {
                break;
            }
            chain.push(&self.groups[i].params);
            scope = self.groups[i].parent;
        }
        let mut layer = Params::default();
        for params in chain.iter().rev() {
            layer = layer.overlay(params);
        }
        layer.overlay(&host.params)
    }

    fn resolve(self, pool_subnets: Vec<usize>) -> Config {
        let mut memo = Memo {
            groups: alloc::vec![None; self.groups.len()],
            networks: alloc::vec![None; self.shared_networks.len()],
            subnets: alloc::vec![None; self.subnets.len()],
        };
        let subnets_raw: Vec<Params> = (0..self.subnets.len())
            .map(|i| self.resolve_scope(Scope::Subnet(i), &mut memo))
            .collect();
        let pools: Vec<Params> = self
            .pools
            .iter()
            .zip(&pool_subnets)
            .map(|(pool, &s)| {
                let base = subnets_raw
                    .get(s)
                    .cloned()
                    .unwrap_or_else(|| self.global.clone());
                finished(base.overlay(&pool.params))
            })
            .collect();
        let hosts: Vec<Params> = self
            .hosts
            .iter()
            .map(|h| finished(self.host_layer(h)))
            .collect();
        let subnet_shared: Vec<Option<usize>> = self
            .subnets
            .iter()
            .map(|s| self.shared_network_of(s.parent))
            .collect();

        let mut by_network: Vec<usize> = (0..self.subnets.len()).collect();
        by_network.sort_by_key(|&i| u32::from(self.subnets[i].network));
        let mut by_mac: BTreeMap<MacAddr, Vec<usize>> = BTreeMap::new();
        let mut by_client_id: BTreeMap<Vec<u8>, Vec<usize>> = BTreeMap::new();
        for (i, host) in self.hosts.iter().enumerate() {
            if let Some(mac) = host.hardware {
                by_mac.entry(mac).or_default().push(i);
            }
            if let Some(id) = &host.client_id {
                by_client_id.entry(id.clone()).or_default().push(i);
            }
        }
        Config {
            global_resolved: finished(self.global.clone()),
            resolved_subnets: subnets_raw.into_iter().map(finished).collect(),
            resolved_pools: pools,
            host_layers: hosts,
            pool_subnets,
            subnet_shared,
            by_network,
            by_mac,
            by_client_id,
            global: self.global,
            groups: self.groups,
            shared_networks: self.shared_networks,
            subnets: self.subnets,
            pools: self.pools,
            hosts: self.hosts,
        }
    }
}

/// Resolved parameters of the scopes computed so far.
struct Memo {
    groups: Vec<Option<Params>>,
    networks: Vec<Option<Params>>,
    subnets: Vec<Option<Params>>,
}

fn finished(mut params: Params) -> Params {
    params.encapsulate_vendor_options();
    params
}

fn declared_at(location: &Option<Location>) -> String {
    match location {
        Some(at) => format!(" (declared at {at})"),
        None => String::new(),
    }
}

/// A checked configuration with every scope's parameters resolved.
///
/// The declaration lists are public to read; build a new configuration to change them.
#[derive(Debug, Clone)]
pub struct Config {
    /// Global parameters as declared.
    pub global: Params,
    /// Groups, in declaration order.
    pub groups: Vec<Group>,
    /// Shared networks, in declaration order.
    pub shared_networks: Vec<SharedNetwork>,
    /// Subnets, in declaration order.
    pub subnets: Vec<Subnet>,
    /// Pools, in declaration order.
    pub pools: Vec<Pool>,
    /// Hosts, in declaration order.
    pub hosts: Vec<Host>,
    global_resolved: Params,
    resolved_subnets: Vec<Params>,
    resolved_pools: Vec<Params>,
    host_layers: Vec<Params>,
    pool_subnets: Vec<usize>,
    subnet_shared: Vec<Option<usize>>,
    by_network: Vec<usize>,
    by_mac: BTreeMap<MacAddr, Vec<usize>>,
    by_client_id: BTreeMap<Vec<u8>, Vec<usize>>,
}

impl Config {
    /// The parameters in effect for a client in `subnet`, allocated from `pool`, described by
    /// `host`. The host's own layer (its parameters and those of the groups around it) wins
    /// over the pool's, which wins over the subnet's, the shared network's and the global
    /// ones. Nothing is walked: both layers were resolved when the configuration was built.
    ///
    /// # Panics
    ///
    /// When an index is out of range: indices come from this configuration's lists.
    pub fn scope_for(
        &self,
        subnet: usize,
        pool: Option<usize>,
        host: Option<usize>,
    ) -> Effective<'_> {
        let base = match pool {
            Some(p) => &self.resolved_pools[p],
            None => &self.resolved_subnets[subnet],
        };
        Effective {
            host: host.map(|h| &self.host_layers[h]),
            base,
        }
    }

    /// The parameters in effect outside any subnet, with a host's layer when given (for
    /// clients whose subnet is unknown, such as an INFORM from an undeclared network).
    pub fn global_scope(&self, host: Option<usize>) -> Effective<'_> {
        Effective {
            host: host.and_then(|h| self.host_layers.get(h)),
            base: &self.global_resolved,
        }
    }

    /// The subnet holding `address`, if any (subnets never overlap).
    pub fn subnet_containing(&self, address: Ipv4Addr) -> Option<usize> {
        let key = u32::from(address);
        let after = self
            .by_network
            .partition_point(|&i| u32::from(self.subnets[i].network) <= key);
        let candidate = *self.by_network.get(after.checked_sub(1)?)?;
        self.subnets[candidate]
            .contains(address)
            .then_some(candidate)
    }

    /// The subnet whose ranges a pool draws from.
    pub fn pool_subnet(&self, pool: usize) -> Option<usize> {
        self.pool_subnets.get(pool).copied()
    }

    /// What a host and its groups set, over which the pool's or subnet's parameters apply.
    pub fn host_layer(&self, host: usize) -> Option<&Params> {
        self.host_layers.get(host)
    }

    /// The pools drawing addresses from a subnet, in declaration order.
    pub fn pools_in(&self, subnet: usize) -> impl Iterator<Item = usize> + '_ {
        self.pool_subnets
            .iter()
            .enumerate()
            .filter(move |(_, s)| **s == subnet)
            .map(|(p, _)| p)
    }

    /// The shared network a subnet belongs to, if it was declared inside one.
    pub fn shared_network_of(&self, subnet: usize) -> Option<usize> {
        self.subnet_shared.get(subnet).copied().flatten()
    }

    /// Hosts declaring this hardware address, in declaration order.
    pub fn hosts_with_mac(&self, mac: MacAddr) -> &[usize] {
        self.by_mac.get(&mac).map_or(&[], Vec::as_slice)
    }

    /// Hosts declaring this client identifier (type byte first), in declaration order.
    pub fn hosts_with_client_id(&self, id: &[u8]) -> &[usize] {
        self.by_client_id.get(id).map_or(&[], Vec::as_slice)
    }
}

/// The parameters in effect for one client: a host layer over a resolved pool or subnet.
///
/// Getters apply ISC dhcpd's defaults where a parameter is set nowhere.
#[derive(Debug, Clone, Copy)]
pub struct Effective<'a> {
    host: Option<&'a Params>,
    base: &'a Params,
}

impl<'a> Effective<'a> {
    fn pick<T>(&self, get: impl Fn(&'a Params) -> Option<T>) -> Option<T> {
        self.host.and_then(&get).or_else(|| get(self.base))
    }

    /// The option with this code, from the most specific scope that sets it.
    pub fn option(&self, code: OptionCode) -> Option<&'a DhcpOption> {
        self.pick(|p| p.option(code))
    }

    /// Every option in effect, the host's first, one per code.
    pub fn options(&self) -> impl Iterator<Item = &'a DhcpOption> + 'a {
        let host = self.host;
        let own = host.into_iter().flat_map(|p| p.options.iter());
        let inherited = self
            .base
            .options
            .iter()
            .filter(move |o| host.is_none_or(|h| h.option(o.code()).is_none()));
        own.chain(inherited)
    }

    /// `default-lease-time`, 43200 seconds when set nowhere.
    pub fn default_lease_time(&self) -> u32 {
        self.pick(|p| p.default_lease_time)
            .unwrap_or(DEFAULT_LEASE_TIME)
    }

    /// `max-lease-time`, 86400 seconds when set nowhere.
    pub fn max_lease_time(&self) -> u32 {
        self.pick(|p| p.max_lease_time)
            .unwrap_or(DEFAULT_MAX_LEASE_TIME)
    }

    /// `min-lease-time`, 0 when set nowhere.
    pub fn min_lease_time(&self) -> u32 {
        self.pick(|p| p.min_lease_time).unwrap_or(0)
    }

    /// Whether the server is authoritative here (not by default).
    pub fn authoritative(&self) -> bool {
        self.pick(|p| p.authoritative).unwrap_or(false)
    }

    /// `server-identifier`, if set.
    pub fn server_identifier(&self) -> Option<Ipv4Addr> {
        self.pick(|p| p.server_identifier)
    }

    /// `next-server`, if set.
    pub fn next_server(&self) -> Option<Ipv4Addr> {
        self.pick(|p| p.next_server)
    }

    /// `filename`, if set.
    pub fn filename(&self) -> Option<&'a Text> {
        self.pick(|p| p.filename.as_ref())
    }

    /// `server-name`, if set.
    pub fn server_name(&self) -> Option<&'a Text> {
        self.pick(|p| p.server_name.as_ref())
    }

    /// `use-host-decl-names` (off by default).
    pub fn use_host_decl_names(&self) -> bool {
        self.pick(|p| p.use_host_decl_names).unwrap_or(false)
    }

    /// `one-lease-per-client` (off by default).
    pub fn one_lease_per_client(&self) -> bool {
        self.pick(|p| p.one_lease_per_client).unwrap_or(false)
    }

    /// `get-lease-hostnames` (off by default).
    pub fn get_lease_hostnames(&self) -> bool {
        self.pick(|p| p.get_lease_hostnames).unwrap_or(false)
    }

    /// What to do with clients that have no host declaration (allowed by default).
    pub fn unknown_clients(&self) -> Access {
        self.pick(|p| p.unknown_clients).unwrap_or(Access::Allow)
    }

    /// What to do with BOOTP clients (allowed by default).
    pub fn bootp(&self) -> Access {
        self.pick(|p| p.bootp).unwrap_or(Access::Allow)
    }

    /// Whether this client may boot at all (allowed by default).
    pub fn booting(&self) -> Access {
        self.pick(|p| p.booting).unwrap_or(Access::Allow)
    }

    /// Whether to ping an address before offering it (on by default, as in ISC dhcpd).
    pub fn ping_check(&self) -> bool {
        self.pick(|p| p.ping_check).unwrap_or(true)
    }

    /// How long to wait for a ping answer, 1 second when set nowhere.
    pub fn ping_timeout(&self) -> u32 {
        self.pick(|p| p.ping_timeout)
            .unwrap_or(DEFAULT_PING_TIMEOUT)
    }
}
