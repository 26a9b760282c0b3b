//! What the input function needs to know about the configuration, resolved: every subnet
//! and pool with its effective parameters, and every host with the parameters it overrides.
//!
//! The `dhcpd.conf` parser builds this from a configuration file; code that configures the
//! server directly builds the networks and hosts and calls [`Policy::new`].

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use alloc::format;

use charrua_wire::{DhcpOption, HardwareAddress, HardwareType, OptionCode, Text};

use crate::config::{self, Config, Effective, PermitKind};

/// Parameters in effect for a client: the result of walking host, group, pool, subnet,
/// shared network and global scopes, most specific first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Options the server may send, at most one per code.
    pub options: Vec<DhcpOption>,
    /// Lease time when the client asks for none, seconds.
    pub default_lease_time: u32,
    /// Longest lease granted, seconds.
    pub max_lease_time: u32,
    /// Shortest lease granted, seconds.
    pub min_lease_time: u32,
    /// Whether the server NAKs requests for addresses that are wrong for the client's network.
    pub authoritative: bool,
    /// The server identifier; the address the request arrived on when unset.
    pub server_identifier: Option<Ipv4Addr>,
    /// `siaddr`: the next server in bootstrap.
    pub next_server: Option<Ipv4Addr>,
    /// `file`: the boot file name.
    pub filename: Option<Text>,
    /// `sname`: the server name.
    pub server_name: Option<Text>,
    /// Send a host declaration's name as the client's host name.
    pub use_host_decl_names: bool,
    /// Serve clients that match no host declaration.
    pub allow_unknown_clients: bool,
    /// Answer a DISCOVER carrying rapid commit with a DHCPACK (RFC 4039).
    pub rapid_commit: bool,
    /// How long an offered address is held for the client, seconds.
    pub offer_hold: u32,
    /// How long a declined address stays out of use, seconds.
    pub decline_probation: u32,
}

impl Default for Settings {
    /// ISC dhcpd's defaults: 12 hours by default, 1 day at most.
    fn default() -> Self {
        Settings {
            options: Vec::new(),
            default_lease_time: 43_200,
            max_lease_time: 86_400,
            min_lease_time: 0,
            authoritative: false,
            server_identifier: None,
            next_server: None,
            filename: None,
            server_name: None,
            use_host_decl_names: false,
            allow_unknown_clients: true,
            rapid_commit: false,
            offer_hold: 120,
            decline_probation: 86_400,
        }
    }
}

impl Settings {
    /// The option with `code`, if configured.
    pub fn option(&self, code: OptionCode) -> Option<&DhcpOption> {
        self.options.iter().find(|o| o.code() == code)
    }

    /// Sets an option, replacing one with the same code.
    pub fn set_option(&mut self, option: DhcpOption) {
        match self.options.iter_mut().find(|o| o.code() == option.code()) {
            Some(slot) => *slot = option,
            None => self.options.push(option),
        }
    }

    /// These settings with what a host and its groups set (`layer`) on top.
    pub fn overridden(&self, layer: &config::Params) -> Settings {
        let mut settings = self.clone();
        for option in &layer.options {
            settings.set_option(option.clone());
        }
        let pick = |mine: &mut u32, theirs: Option<u32>| *mine = theirs.unwrap_or(*mine);
        pick(&mut settings.default_lease_time, layer.default_lease_time);
        pick(&mut settings.max_lease_time, layer.max_lease_time);
        pick(&mut settings.min_lease_time, layer.min_lease_time);
        let flag = |mine: &mut bool, theirs: Option<bool>| *mine = theirs.unwrap_or(*mine);
        flag(&mut settings.authoritative, layer.authoritative);
        flag(&mut settings.use_host_decl_names, layer.use_host_decl_names);
        if layer.server_identifier.is_some() {
            settings.server_identifier = layer.server_identifier;
        }
        if layer.next_server.is_some() {
            settings.next_server = layer.next_server;
        }
        if layer.filename.is_some() {
            settings.filename.clone_from(&layer.filename);
        }
        if layer.server_name.is_some() {
            settings.server_name.clone_from(&layer.server_name);
        }
        settings
    }
}

/// Who may take addresses from a pool (`allow`/`deny` `known-clients`/`unknown-clients`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolAccess {
    /// Clients with a host declaration: `Some(true)` allowed, `Some(false)` denied.
    pub known: Option<bool>,
    /// Clients without one.
    pub unknown: Option<bool>,
}

impl PoolAccess {
    /// Whether a client may use the pool, as dhcpd.conf(5) defines: a denied kind never
    /// may; when any kind is explicitly allowed, only allowed kinds may.
    pub fn permits(&self, known: bool) -> bool {
        let (mine, other) = if known {
            (self.known, self.unknown)
        } else {
            (self.unknown, self.known)
        };
        match mine {
            Some(allowed) => allowed,
            None => other != Some(true),
        }
    }
}

/// A pool of dynamic addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// Address ranges, inclusive.
    pub ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Who may use it.
    pub access: PoolAccess,
    /// Effective parameters for leases from this pool.
    pub params: Settings,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    /// The network address.
    pub network: Ipv4Addr,
    /// The netmask.
    pub netmask: Ipv4Addr,
    /// Effective parameters for the subnet (for fixed addresses and INFORM).
    pub params: Settings,
    /// Pools, in configuration order.
    pub pools: Vec<Pool>,
}

impl Subnet {
    /// True when `address` is in the subnet.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        u32::from(address) & u32::from(self.netmask) == u32::from(self.network)
    }

    /// The subnet's broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !u32::from(self.netmask))
    }
}

/// A host declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The declaration's name.
    pub name: Text,
    /// `hardware ethernet …`.
    pub hardware: Option<(HardwareType, HardwareAddress)>,
    /// `option dhcp-client-identifier …` or `uid …`: type byte then identifier.
    pub client_id: Option<Vec<u8>>,
    /// Fixed addresses; the one in the client's network is given.
    pub fixed_addresses: Vec<Ipv4Addr>,
    /// What the host and its groups set, over the pool's or subnet's settings.
    pub overrides: config::Params,
}

/// A shared network: subnets on one physical link. A subnet declared alone is a shared
/// network of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// Its name, for logs.
    pub name: Text,
    /// Its subnets.
    pub subnets: Vec<Subnet>,
}

/// Everything the input function needs, with indexes for finding a client's subnet and
/// host declaration in O(log n).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    networks: Vec<Network>,
    hosts: Vec<Host>,
    /// (network address, netmask, network index, subnet index), by network address.
    subnets: Vec<(u32, u32, usize, usize)>,
    hosts_by_id: BTreeMap<Vec<u8>, usize>,
    hosts_by_hardware: BTreeMap<(u8, HardwareAddress), usize>,
}

impl Policy {
    /// A policy from networks and hosts. Subnets must not overlap; the first host declared
    /// for a client identifier or hardware address wins.
    pub fn new(networks: Vec<Network>, hosts: Vec<Host>) -> Self {
        let mut subnets: Vec<(u32, u32, usize, usize)> = networks
            .iter()
            .enumerate()
            .flat_map(|(n, network)| {
                network
                    .subnets
                    .iter()
                    .enumerate()
                    .map(move |(i, s)| (u32::from(s.network), u32::from(s.netmask), n, i))
            })
            .collect();
        subnets.sort_unstable();
        let mut hosts_by_id = BTreeMap::new();
        let mut hosts_by_hardware = BTreeMap::new();
        for (i, host) in hosts.iter().enumerate() {
            match (&host.client_id, host.hardware) {
                (Some(id), _) => {
                    hosts_by_id.entry(id.clone()).or_insert(i);
                }
                (None, Some((t, hw))) => {
                    hosts_by_hardware.entry((t.0, hw)).or_insert(i);
                }
                (None, None) => {}
            }
        }
        Policy {
            networks,
            hosts,
            subnets,
            hosts_by_id,
            hosts_by_hardware,
        }
    }

    /// The networks.
    pub fn networks(&self) -> &[Network] {
        &self.networks
    }

    /// The host declarations.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// The network and subnet that contain `address`.
    pub fn locate(&self, address: Ipv4Addr) -> Option<(usize, usize)> {
        let a = u32::from(address);
        let i = self
            .subnets
            .partition_point(|&(net, ..)| net <= a)
            .checked_sub(1)?;
        // Subnets do not overlap, so only the closest one below can contain the address;
        // a wider subnet with a lower address would overlap it.
        let (net, mask, n, s) = self.subnets[i];
        (a & mask == net).then_some((n, s))
    }

    /// The subnet at an index pair from [`Policy::locate`].
    pub fn subnet(&self, network: usize, subnet: usize) -> &Subnet {
        &self.networks[network].subnets[subnet]
    }

    /// The host declaration for a client: by client identifier when the host has one,
    /// else by hardware address.
    pub fn host(
        &self,
        client_id: Option<&[u8]>,
        hardware: (HardwareType, &HardwareAddress),
    ) -> Option<&Host> {
        let by_id = client_id.and_then(|id| self.hosts_by_id.get(id));
        let i = by_id.or_else(|| self.hosts_by_hardware.get(&(hardware.0.0, *hardware.1)))?;
        self.hosts.get(*i)
    }

    /// Every range of every pool, and every fixed address: what the lease database indexes.
    pub fn ranges_and_reservations(&self) -> (Vec<(Ipv4Addr, Ipv4Addr)>, Vec<Ipv4Addr>) {
        let ranges = self
            .networks
            .iter()
            .flat_map(|n| &n.subnets)
            .flat_map(|s| &s.pools)
            .flat_map(|p| p.ranges.iter().copied())
            .collect();
        let reserved = self
            .hosts
            .iter()
            .flat_map(|h| h.fixed_addresses.iter().copied())
            .collect();
        (ranges, reserved)
    }
}

/// The settings an [`Effective`] scope resolves to.
fn settings(effective: Effective<'_>) -> Settings {
    Settings {
        options: effective.options().cloned().collect(),
        default_lease_time: effective.default_lease_time(),
        max_lease_time: effective.max_lease_time(),
        min_lease_time: effective.min_lease_time(),
        authoritative: effective.authoritative(),
        server_identifier: effective.server_identifier(),
        next_server: effective.next_server(),
        filename: effective.filename().cloned(),
        server_name: effective.server_name().cloned(),
        use_host_decl_names: effective.use_host_decl_names(),
        allow_unknown_clients: effective.unknown_clients() == config::Access::Allow,
        ..Settings::default()
    }
}

/// A pool's permit list as dhcpd.conf(5) reads it.
fn access(permits: &[config::Permit]) -> PoolAccess {
    let mut access = PoolAccess::default();
    for permit in permits {
        match permit.kind {
            PermitKind::KnownClients => access.known = Some(permit.allow),
            PermitKind::UnknownClients => access.unknown = Some(permit.allow),
            PermitKind::AllClients => {
                access.known = Some(permit.allow);
                access.unknown = Some(permit.allow);
            }
            // Dynamic BOOTP is not served, so the permit changes nothing for DHCP clients.
            PermitKind::DynamicBootpClients => {}
        }
    }
    access
}

impl Policy {
    /// The policy a parsed or built [`Config`] describes: one network per shared network and
    /// per subnet declared alone; a subnet's own `range`s form a pool open to every client.
    pub fn from_config(config: &Config) -> Policy {
        let subnet = |i: usize| {
            let declared = &config.subnets[i];
            let own = settings(config.scope_for(i, None, None));
            let mut pools = Vec::new();
            if !declared.ranges.is_empty() {
                pools.push(Pool {
                    ranges: declared.ranges.iter().map(|r| (r.start, r.end)).collect(),
                    access: PoolAccess::default(),
                    params: own.clone(),
                });
            }
            for p in config.pools_in(i) {
                pools.push(Pool {
                    ranges: config.pools[p]
                        .ranges
                        .iter()
                        .map(|r| (r.start, r.end))
                        .collect(),
                    access: access(&config.pools[p].permits),
                    params: settings(config.scope_for(i, Some(p), None)),
                });
            }
            Subnet {
                network: declared.network,
                netmask: declared.netmask,
                params: own,
                pools,
            }
        };
        let mut networks: Vec<Network> = config
            .shared_networks
            .iter()
            .map(|n| Network {
                name: Text::from(n.name.as_str()),
                subnets: Vec::new(),
            })
            .collect();
        for i in 0..config.subnets.len() {
            match config.shared_network_of(i) {
                Some(n) => networks[n].subnets.push(subnet(i)),
                None => {
                    let s = subnet(i);
                    let name = Text::from(format!("{}", s.network));
                    networks.push(Network {
                        name,
                        subnets: alloc::vec![s],
                    });
                }
            }
        }
        let hosts = config
            .hosts
            .iter()
            .enumerate()
            .map(|(i, host)| Host {
                name: Text::from(host.name.as_str()),
                hardware: host
                    .hardware
                    .map(|m| (HardwareType::ETHERNET, HardwareAddress::ethernet(m.0))),
                client_id: host.client_id.clone(),
                fixed_addresses: host.fixed_addresses.clone(),
                overrides: config.host_layer(i).cloned().unwrap_or_default(),
            })
            .collect();
        Policy::new(networks, hosts)
    }
}
