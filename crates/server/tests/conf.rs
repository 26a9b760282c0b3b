//! `dhcpd.conf` files from `testdata/dhcpd/`, each parsed to asserted values.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use charrua_server::conf::{self, Environment, Loader};
use charrua_server::{
    Access, Config, ConfigBuilder, Host, Permit, PermitKind, Pool, Range, Scope, SharedNetwork,
    Subnet, Warning,
};
use charrua_wire::options::DomainName;
use charrua_wire::{DhcpOption, MacAddr, OptionCode, Text};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/dhcpd")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap()
}

/// Reads includes from `testdata/dhcpd/` and resolves names under `example.` domains to a
/// documentation address, so the man page examples that use host names can be read.
struct Files;

impl Environment for Files {
    fn include(&mut self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(fixture_path(path)).map_err(|e| e.to_string())
    }

    fn resolve(&mut self, name: &str) -> Result<Vec<Ipv4Addr>, String> {
        match name {
            "ns1.example.org" | "ns1.isc.org" | "ns1.example.com" => Ok(vec![ip(192, 0, 2, 53)]),
            "ns2.example.org" | "ns2.isc.org" | "ns2.example.com" => Ok(vec![ip(192, 0, 2, 54)]),
            "bogus.example.com" => Ok(vec![ip(192, 0, 2, 99)]),
            "ncd-booter" => Ok(vec![ip(192, 0, 2, 69)]),
            _ => Err(String::from("unknown host")),
        }
    }
}

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn mac(text: &str) -> MacAddr {
    let bytes: Vec<u8> = text
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    MacAddr(bytes.try_into().unwrap())
}

fn parse_fixture(name: &str) -> (Config, Vec<Warning>) {
    match conf::parse_with(name, &read(name), &mut Files) {
        Ok(done) => done,
        Err(errors) => panic!("{name}: {errors:#?}"),
    }
}

fn fixture_errors(name: &str) -> Vec<String> {
    match conf::parse(name, &read(name)) {
        Ok(_) => panic!("{name} parsed"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn warning_texts(warnings: &[Warning]) -> Vec<String> {
    warnings.iter().map(ToString::to_string).collect()
}

fn subnet_index(config: &Config, network: Ipv4Addr) -> usize {
    config
        .subnets
        .iter()
        .position(|s| s.network == network)
        .expect("subnet declared")
}

fn host_index(config: &Config, name: &str) -> usize {
    config
        .hosts
        .iter()
        .position(|h| h.name == name)
        .expect("host declared")
}

// ---- the Debian sample ----

#[test]
fn debian_sample_needs_dns_for_its_name_servers() {
    assert_eq!(
        fixture_errors("debian-dhcpd.conf"),
        vec!["debian-dhcpd.conf:8:28: cannot resolve hostname without DNS: ns1.example.org"]
    );
}

#[test]
fn debian_sample_parses_with_a_resolver() {
    let (config, warnings) = parse_fixture("debian-dhcpd.conf");
    assert_eq!(
        warning_texts(&warnings),
        vec![
            "debian-dhcpd.conf:17:1: ignored: ddns-update-style none \
             (does not change DHCP answers)"
        ]
    );
    assert!(config.subnets.is_empty() && config.hosts.is_empty());
    assert_eq!(config.global.default_lease_time, Some(600));
    assert_eq!(config.global.max_lease_time, Some(7200));
    assert_eq!(config.global.authoritative, None);
    assert_eq!(
        config.global.option(OptionCode::DOMAIN_NAME_SERVERS),
        Some(&DhcpOption::DomainNameServers(vec![
            ip(192, 0, 2, 53),
            ip(192, 0, 2, 54)
        ]))
    );
    let here = config.global_scope(None);
    assert_eq!(
        here.option(OptionCode::DOMAIN_NAME),
        Some(&DhcpOption::DomainName("example.org".into()))
    );
    assert!(!here.authoritative());
}

// ---- dhcpd.conf(5) examples ----

#[test]
fn manpage_figure1_has_three_subnets_and_a_group_of_hosts() {
    let (config, warnings) = parse_fixture("manpage-figure1.conf");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.subnets.len(), 3);
    assert_eq!(config.groups.len(), 1);
    assert_eq!(config.hosts.len(), 3);
    let second = &config.subnets[1];
    assert_eq!(
        (second.network, second.netmask),
        (ip(204, 254, 239, 32), ip(255, 255, 255, 224))
    );
    assert_eq!(second.prefix_len(), Some(27));
    assert_eq!(second.ranges[0].start, ip(204, 254, 239, 42));
    assert_eq!(second.ranges[0].end, ip(204, 254, 239, 62));
    assert_eq!(config.subnet_containing(ip(204, 254, 239, 70)), Some(2));
    assert_eq!(config.subnet_containing(ip(204, 254, 239, 96)), None);

    let zappo = host_index(&config, "zappo.test.isc.org");
    assert_eq!(config.hosts[zappo].parent, Scope::Group(0));
    let subnet = config
        .subnet_containing(config.hosts[zappo].fixed_addresses[0])
        .unwrap();
    let for_host = config.scope_for(subnet, None, Some(zappo));
    assert_eq!(for_host.default_lease_time(), 120);
    assert_eq!(for_host.max_lease_time(), 120);
    assert_eq!(
        for_host.option(OptionCode::DOMAIN_NAME),
        Some(&DhcpOption::DomainName("test.isc.org".into()))
    );
    assert_eq!(
        for_host.option(OptionCode::ROUTERS),
        Some(&DhcpOption::Routers(vec![ip(204, 254, 239, 1)]))
    );
    let for_subnet = config.scope_for(subnet, None, None);
    assert_eq!(for_subnet.default_lease_time(), 600);
    assert_eq!(
        for_subnet.option(OptionCode::DOMAIN_NAME),
        Some(&DhcpOption::DomainName("isc.org".into()))
    );
}

#[test]
fn manpage_pools_split_known_and_unknown_clients() {
    let (config, _) = parse_fixture("manpage-pools.conf");
    assert_eq!(config.pools.len(), 2);
    assert_eq!(config.pools_in(0).collect::<Vec<_>>(), vec![0, 1]);
    assert_eq!(
        config.pools[0].permits,
        vec![Permit {
            allow: true,
            kind: PermitKind::UnknownClients
        }]
    );
    assert_eq!(
        config.pools[1].permits,
        vec![Permit {
            allow: false,
            kind: PermitKind::UnknownClients
        }]
    );
    let unknown = config.scope_for(0, Some(0), None);
    assert_eq!(unknown.max_lease_time(), 300);
    assert_eq!(
        unknown.option(OptionCode::DOMAIN_NAME_SERVERS),
        Some(&DhcpOption::DomainNameServers(vec![ip(192, 0, 2, 99)]))
    );
    assert_eq!(
        unknown.option(OptionCode::ROUTERS),
        Some(&DhcpOption::Routers(vec![ip(10, 0, 0, 254)]))
    );
    let known = config.scope_for(0, Some(1), None);
    assert_eq!(known.max_lease_time(), 28800);
    assert_eq!(known.default_lease_time(), 43200);
}

#[test]
fn manpage_ncd_groups_give_each_model_its_boot_file() {
    let (config, warnings) = parse_fixture("manpage-ncd-groups.conf");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.groups.len(), 3);
    assert_eq!(config.hosts.len(), 8);
    let hmx = config.hosts_with_mac(mac("00:c0:c3:91:a7:08"));
    assert_eq!(hmx.len(), 1);
    let here = config.global_scope(Some(hmx[0]));
    assert_eq!(here.filename(), Some(&Text::from("XncdHMX")));
    assert_eq!(here.next_server(), Some(ip(192, 0, 2, 69)));
    let first = config.hosts_with_mac(mac("00:c0:c3:49:2b:57"))[0];
    assert_eq!(
        config.global_scope(Some(first)).filename(),
        Some(&Text::from("Xncd19r"))
    );
}

// ---- the corpus ----

#[test]
fn small_office_reservations_pool_and_defaults() {
    let (config, warnings) = parse_fixture("small-office.conf");
    assert_eq!(
        warning_texts(&warnings),
        vec![
            "small-office.conf:4:1: ignored: ddns-update-style none (does not change DHCP answers)",
            "small-office.conf:5:1: ignored: log-facility (does not change DHCP answers)",
        ]
    );
    assert_eq!(config.subnets.len(), 1);
    assert_eq!(config.subnets[0].ranges.len(), 1);
    assert_eq!(config.subnets[0].ranges[0].len(), 100);
    assert_eq!(config.pools.len(), 1);
    assert_eq!(
        config.pools[0].permits,
        vec![
            Permit {
                allow: true,
                kind: PermitKind::UnknownClients
            },
            Permit {
                allow: false,
                kind: PermitKind::KnownClients
            },
        ]
    );

    let lan = config.scope_for(0, None, None);
    assert!(lan.authoritative());
    assert_eq!(lan.default_lease_time(), 3600);
    assert_eq!(
        lan.option(OptionCode::DOMAIN_SEARCH),
        Some(&DhcpOption::DomainSearch(vec![
            DomainName::from_dotted("office.example").unwrap(),
            DomainName::from_dotted("example.com").unwrap(),
        ]))
    );
    let guests = config.scope_for(0, Some(0), None);
    assert_eq!(
        (guests.default_lease_time(), guests.max_lease_time()),
        (900, 1800)
    );

    let nas = host_index(&config, "nas");
    assert_eq!(config.hosts[nas].hardware, Some(mac("00:11:22:33:44:66")));
    assert_eq!(
        config.hosts[nas].fixed_addresses,
        vec![ip(192, 168, 10, 11)]
    );
    let for_nas = config.scope_for(0, None, Some(nas));
    assert_eq!(for_nas.default_lease_time(), 604_800);
    assert_eq!(
        for_nas.option(OptionCode::DOMAIN_NAME_SERVERS),
        Some(&DhcpOption::DomainNameServers(vec![ip(192, 168, 10, 1)]))
    );
    let printer = host_index(&config, "printer");
    let for_printer = config.scope_for(0, None, Some(printer));
    assert_eq!(
        for_printer.option(OptionCode::HOST_NAME),
        Some(&DhcpOption::HostName("printer".into()))
    );
    assert_eq!(
        for_printer.option(OptionCode::DOMAIN_NAME_SERVERS),
        Some(&DhcpOption::DomainNameServers(vec![
            ip(192, 168, 10, 1),
            ip(9, 9, 9, 9)
        ]))
    );
}

#[test]
fn host_options_override_subnet_options() {
    let (config, _) = parse_fixture("small-office.conf");
    let nas = host_index(&config, "nas");
    let options: Vec<OptionCode> = config
        .scope_for(0, None, Some(nas))
        .options()
        .map(DhcpOption::code)
        .collect();
    // One of each code: the host's own first, then the inherited ones it does not set.
    assert_eq!(options[0], OptionCode::DOMAIN_NAME_SERVERS);
    let dns = options
        .iter()
        .filter(|&&c| c == OptionCode::DOMAIN_NAME_SERVERS)
        .count();
    assert_eq!(dns, 1);
    assert!(options.contains(&OptionCode::ROUTERS));
    assert!(options.contains(&OptionCode::DOMAIN_NAME));
}

#[test]
fn isp_shared_networks_hold_their_subnets_and_pools() {
    let (config, warnings) = parse_fixture("isp-relays.conf");
    assert_eq!(
        warning_texts(&warnings),
        vec![
            "isp-relays.conf:5:1: ignored: ddns-update-style none (does not change DHCP answers)",
            "isp-relays.conf:6:1: ignored: stash-agent-options (does not change DHCP answers)",
        ]
    );
    assert_eq!(config.shared_networks.len(), 2);
    assert_eq!(config.shared_networks[0].name, "olt-north");
    assert_eq!(config.subnets.len(), 6);
    assert_eq!(config.pools.len(), 2);
    assert_eq!(config.hosts.len(), 2);

    let north = subnet_index(&config, ip(100, 64, 0, 0));
    assert_eq!(config.shared_network_of(north), Some(0));
    let here = config.scope_for(north, None, None);
    assert_eq!(here.default_lease_time(), 3600);
    assert_eq!(here.min_lease_time(), 300);
    assert!(here.one_lease_per_client());
    assert!(!here.ping_check());
    assert_eq!(
        here.option(OptionCode(2)),
        Some(&DhcpOption::TimeOffset(-10800))
    );
    assert_eq!(
        here.option(OptionCode::DOMAIN_NAME),
        Some(&DhcpOption::DomainName("north.isp.example".into()))
    );

    let bootp = subnet_index(&config, ip(203, 0, 113, 0));
    assert!(config.subnets[bootp].ranges[0].dynamic_bootp);
    assert_eq!(config.scope_for(bootp, None, None).bootp(), Access::Allow);

    // A pool declared in the shared network draws from the subnet holding its range.
    let south_pool = config
        .pools
        .iter()
        .position(|p| p.parent == Scope::SharedNetwork(1));
    let south_pool = south_pool.unwrap();
    let south8 = subnet_index(&config, ip(100, 65, 8, 0));
    assert_eq!(config.pool_subnet(south_pool), Some(south8));
    let here = config.scope_for(south8, Some(south_pool), None);
    assert_eq!(here.unknown_clients(), Access::Allow);
    assert_eq!(
        config.pools[south_pool].permits[0].kind,
        PermitKind::UnknownClients
    );
    assert_eq!(
        here.option(OptionCode::ROUTERS),
        Some(&DhcpOption::Routers(vec![ip(100, 65, 8, 1)]))
    );

    let south0 = subnet_index(&config, ip(100, 65, 0, 0));
    assert_eq!(
        config.scope_for(south0, None, None).option(OptionCode(33)),
        Some(&DhcpOption::StaticRoutes(vec![
            (ip(10, 0, 0, 0), ip(100, 65, 0, 1)),
            (ip(10, 1, 0, 0), ip(100, 65, 0, 2)),
        ]))
    );

    let own = subnet_index(&config, ip(198, 51, 100, 0));
    assert!(!config.scope_for(own, None, None).authoritative());
    assert!(config.scope_for(north, None, None).authoritative());
}

#[test]
fn isp_business_hosts_keep_identifiers_and_addresses() {
    let (config, _) = parse_fixture("isp-relays.conf");
    let b1 = host_index(&config, "biz-0001");
    assert_eq!(config.hosts[b1].client_id, Some(vec![1, 2, 0, 0, 0, 0, 1]));
    assert_eq!(config.hosts_with_mac(mac("02:00:00:00:00:01")), &[b1]);
    let b2 = host_index(&config, "biz-0002");
    assert_eq!(
        config.hosts[b2].fixed_addresses,
        vec![ip(203, 0, 113, 11), ip(203, 0, 113, 12)]
    );
    assert_eq!(config.hosts_with_client_id(b"biz-0002"), &[b2]);
    let subnet = config.subnet_containing(ip(203, 0, 113, 11)).unwrap();
    let here = config.scope_for(subnet, None, Some(b2));
    assert_eq!(here.default_lease_time(), 86400);
    assert_eq!(
        here.option(OptionCode::DOMAIN_NAME),
        Some(&DhcpOption::DomainName("business.isp.example".into()))
    );
}

#[test]
fn pxe_lab_groups_choose_boot_files() {
    let (config, warnings) = parse_fixture("pxe-lab.conf");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.hosts.len(), 4);
    let lab = config.scope_for(0, None, None);
    assert_eq!(lab.next_server(), Some(ip(10, 20, 0, 2)));
    assert_eq!(lab.server_name(), Some(&Text::from("tftp.lab.example")));
    assert_eq!(lab.filename(), Some(&Text::from("pxelinux.0")));
    assert!(lab.use_host_decl_names());
    assert_eq!(lab.booting(), Access::Allow);
    assert_eq!(
        lab.option(OptionCode::VENDOR_SPECIFIC),
        Some(&DhcpOption::VendorSpecific(vec![176, 1, 1]))
    );

    let node1 = host_index(&config, "node1");
    let here = config.scope_for(0, None, Some(node1));
    assert_eq!(
        here.option(OptionCode(209)),
        Some(&DhcpOption::PxelinuxConfigFile("pxelinux.cfg/lab".into()))
    );

    let uefi1 = host_index(&config, "uefi1");
    let here = config.scope_for(0, None, Some(uefi1));
    assert_eq!(here.filename(), Some(&Text::from("grubx64.efi")));
    assert_eq!(here.next_server(), Some(ip(10, 20, 0, 3)));
    assert_eq!(
        here.option(OptionCode(93)),
        Some(&DhcpOption::ClientArchitecture(vec![7]))
    );

    let uefi2 = host_index(&config, "uefi2");
    let here = config.scope_for(0, None, Some(uefi2));
    assert_eq!(here.booting(), Access::Deny);
    assert_eq!(here.next_server(), Some(ip(10, 20, 0, 2)));
}

#[test]
fn include_splices_files_in_place() {
    let (config, warnings) = parse_fixture("with-include.conf");
    assert_eq!(
        warning_texts(&warnings),
        vec!["global-options.conf:2:1: ignored: log-facility (does not change DHCP answers)"]
    );
    assert_eq!(config.hosts.len(), 2);
    assert_eq!(config.hosts[0].parent, Scope::Subnet(0));
    assert_eq!(config.hosts[1].hardware, Some(mac("aa:bb:cc:00:00:02")));
    let location = config.hosts[1].location.as_ref().unwrap();
    assert_eq!(
        (location.file.as_str(), location.line),
        ("reservations.conf", 6)
    );
    assert_eq!(
        config.global.option(OptionCode::DOMAIN_NAME),
        Some(&DhcpOption::DomainName("included.example".into()))
    );
    assert_eq!(config.scope_for(0, None, Some(0)).default_lease_time(), 600);
}

#[test]
fn include_through_a_closure_loader() {
    let main = "include \"a.conf\";\nsubnet 10.0.0.0 netmask 255.0.0.0 { }";
    let mut loader = Loader(|path: &str| match path {
        "a.conf" => Ok(String::from("max-lease-time 99;")),
        _ => Err(String::from("no such file")),
    });
    let (config, _) = conf::parse_with("main.conf", main, &mut loader).unwrap();
    assert_eq!(config.scope_for(0, None, None).max_lease_time(), 99);

    let mut missing = Loader(|_: &str| Err(String::from("no such file")));
    let errors = conf::parse_with("main.conf", main, &mut missing).unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "main.conf:1:9: cannot include \"a.conf\": no such file"
    );
}

#[test]
fn errors_in_an_included_file_name_that_file() {
    let mut loader = Loader(|_: &str| Ok(String::from("\n  default-lease-time x;")));
    let errors = conf::parse_with("main.conf", "include \"bad.conf\";", &mut loader).unwrap_err();
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        vec!["bad.conf:2:22: expected unsigned integer 32, found 'x'"]
    );
}

// ---- many reservations ----

#[test]
fn two_thousand_reservations_parse_and_index_by_mac() {
    let mut text = String::from("subnet 10.8.0.0 netmask 255.255.240.0 {\n");
    text.push_str("  range 10.8.15.0 10.8.15.250;\n  default-lease-time 900;\n}\n");
    for i in 0..2000u32 {
        let [_, _, hi, lo] = i.to_be_bytes();
        let address = Ipv4Addr::from(u32::from(ip(10, 8, 0, 10)) + i);
        text.push_str(&format!(
            "host h{i} {{ hardware ethernet 02:00:00:00:{hi:02x}:{lo:02x}; \
             fixed-address {address}; option host-name \"h{i}\"; }}\n"
        ));
    }
    let (config, warnings) = conf::parse("many.conf", &text).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(config.hosts.len(), 2000);
    let h = config.hosts_with_mac(mac("02:00:00:00:07:cf"))[0];
    assert_eq!(config.hosts[h].name, "h1999");
    assert_eq!(config.hosts[h].fixed_addresses, vec![ip(10, 8, 7, 217)]);
    let subnet = config.subnet_containing(ip(10, 8, 7, 217)).unwrap();
    let here = config.scope_for(subnet, None, Some(h));
    assert_eq!(here.default_lease_time(), 900);
    assert_eq!(
        here.option(OptionCode::HOST_NAME),
        Some(&DhcpOption::HostName("h1999".into()))
    );
}

// ---- files with errors ----

#[test]
fn reports_every_syntax_error_with_position() {
    assert_eq!(
        fixture_errors("errors-syntax.conf"),
        vec![
            "errors-syntax.conf:3:1: expected ';' after \"default-lease-time 600\"",
            "errors-syntax.conf:4:25: expected ';' after \"option routers 10.0.0.1\"",
            "errors-syntax.conf:5:8: unknown option: no-such-option",
            "errors-syntax.conf:6:28: cannot resolve hostname without DNS: ns1.example.net",
            "errors-syntax.conf:7:22: 70000 is out of range for unsigned integer 16",
            "errors-syntax.conf:9:19: expected an IPv4 address, found '10.0.0.300'",
            "errors-syntax.conf:13:21: invalid hardware address: 00:11:22:33:44",
        ]
    );
}

#[test]
fn refuses_class_statement_with_position() {
    let errors = fixture_errors("errors-unsupported.conf");
    assert!(errors.contains(&String::from(
        "errors-unsupported.conf:3:1: not supported: class"
    )));
}

#[test]
fn refuses_every_unsupported_statement_and_keeps_going() {
    assert_eq!(
        fixture_errors("errors-unsupported.conf"),
        vec![
            "errors-unsupported.conf:2:1: not supported: ddns-update-style interim",
            "errors-unsupported.conf:3:1: not supported: class",
            "errors-unsupported.conf:6:1: not supported: failover peer",
            "errors-unsupported.conf:11:3: not supported: if",
            "errors-unsupported.conf:16:3: not supported: on commit",
            "errors-unsupported.conf:21:1: not supported: key",
            "errors-unsupported.conf:22:1: not supported: zone",
        ]
    );
}

#[test]
fn rejects_overlapping_subnets_and_bad_ranges() {
    assert_eq!(
        fixture_errors("errors-topology.conf"),
        vec![
            "errors-topology.conf:6:1: subnet 10.1.2.0/24 overlaps subnet 10.1.0.0/16 \
             (declared at errors-topology.conf:2:1)",
            "errors-topology.conf:10:3: range 10.3.0.1 10.3.0.5 is not inside subnet 10.2.0.0/24",
            "errors-topology.conf:9:3: range 10.2.0.20 10.2.0.10: start is after end",
            "errors-topology.conf:4:3: range 10.1.0.50 10.1.0.150 overlaps range \
             10.1.0.10 10.1.0.100 (declared at errors-topology.conf:3:3)",
        ]
    );
}

#[test]
fn warns_about_fixed_address_outside_subnets_and_duplicate_macs() {
    let text = "subnet 10.0.0.0 netmask 255.255.255.0 { }\n\
                host a { hardware ethernet 00:00:00:00:00:01; fixed-address 10.0.0.5; }\n\
                host b { hardware ethernet 00:00:00:00:00:01; fixed-address 10.9.0.5; }\n";
    let (config, warnings) = conf::parse("w.conf", text).unwrap();
    assert_eq!(
        warning_texts(&warnings),
        vec![
            "w.conf:3:1: host b: fixed-address 10.9.0.5 is not inside any declared subnet",
            "w.conf:3:1: host b: hardware ethernet 00:00:00:00:00:01 is also declared by host a \
             (declared at w.conf:2:1)",
        ]
    );
    assert_eq!(config.hosts_with_mac(mac("00:00:00:00:00:01")), &[0, 1]);
}

#[test]
fn shared_network_pool_outside_its_subnets_is_an_error() {
    let text = "shared-network x {\n  subnet 10.0.0.0 netmask 255.255.255.0 { }\n\
                pool { range 10.0.1.1 10.0.1.9; }\n}\n";
    let errors = conf::parse("p.conf", text).unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "p.conf:3:8: range 10.0.1.1 10.0.1.9 is not inside any subnet of shared-network x"
    );
}

#[test]
fn refuses_netmask_with_holes_and_network_with_host_bits() {
    let errors = conf::parse(
        "m.conf",
        "subnet 10.0.0.0 netmask 255.0.255.0 { }\nsubnet 10.0.0.1 netmask 255.255.255.0 { }",
    )
    .unwrap_err();
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        vec![
            "m.conf:1:1: netmask 255.0.255.0 is not contiguous",
            "m.conf:2:1: subnet 10.0.0.1 netmask 255.255.255.0: the network address has host \
             bits set",
        ]
    );
}

// ---- the builder ----

#[test]
fn builder_resolves_scopes_like_the_parser() {
    let mut b = ConfigBuilder::new();
    b.global_mut().default_lease_time = Some(100);
    b.global_mut()
        .set_option(DhcpOption::DomainName("g.example".into()));
    let mut net = SharedNetwork::new("floor1");
    net.params.max_lease_time = Some(500);
    let net = b.add_shared_network(net);
    let mut subnet = Subnet::new(ip(192, 0, 2, 0), ip(255, 255, 255, 0));
    subnet.parent = Scope::SharedNetwork(net);
    subnet
        .params
        .set_option(DhcpOption::Routers(vec![ip(192, 0, 2, 1)]));
    let subnet = b.add_subnet(subnet);
    let mut pool = Pool::new(Scope::Subnet(subnet));
    pool.ranges
        .push(Range::new(ip(192, 0, 2, 10), ip(192, 0, 2, 20)));
    pool.params.default_lease_time = Some(200);
    let pool = b.add_pool(pool);
    let mut host = Host::new("h");
    host.hardware = Some(mac("00:00:00:00:00:09"));
    host.params
        .set_option(DhcpOption::DomainName("h.example".into()));
    let host = b.add_host(host);
    let (config, warnings) = b.build().unwrap();
    assert!(warnings.is_empty());

    let here = config.scope_for(subnet, Some(pool), Some(host));
    assert_eq!(here.default_lease_time(), 200);
    assert_eq!(here.max_lease_time(), 500);
    assert_eq!(
        here.option(OptionCode::DOMAIN_NAME),
        Some(&DhcpOption::DomainName("h.example".into()))
    );
    assert!(here.option(OptionCode::ROUTERS).is_some());
    assert_eq!(
        config.scope_for(subnet, None, None).default_lease_time(),
        100
    );
}

#[test]
fn builder_rejects_unknown_parent() {
    let mut b = ConfigBuilder::new();
    let mut subnet = Subnet::new(ip(192, 0, 2, 0), ip(255, 255, 255, 0));
    subnet.parent = Scope::SharedNetwork(3);
    b.add_subnet(subnet);
    let errors = b.build().unwrap_err();
    assert_eq!(errors[0].to_string(), "invalid parent scope for subnet");
}

#[test]
fn never_panics_on_truncated_or_damaged_files() {
    for name in [
        "isp-relays.conf",
        "pxe-lab.conf",
        "errors-unsupported.conf",
        "small-office.conf",
    ] {
        let text = read(name);
        let cuts = text.char_indices().map(|(i, _)| i).step_by(5);
        for cut in cuts {
            let _ = conf::parse(name, &text[..cut]);
            let damaged: String = text[..cut]
                .chars()
                .chain(text[cut..].chars().skip(1))
                .collect();
            let _ = conf::parse_with(name, &damaged, &mut Files);
        }
    }
}

#[test]
fn marks_ignored_statements_as_notes_and_other_warnings_not() {
    let text = "log-facility local7;\n\
                subnet 192.0.2.0 netmask 255.255.255.0 { range 192.0.2.10 192.0.2.20; }\n\
                host a { hardware ethernet 02:00:00:00:00:01; fixed-address 203.0.113.5; }\n";
    let (_, warnings) = charrua_server::conf::parse("notes.conf", text).expect("parses");
    let ignored: Vec<bool> = warnings.iter().map(|w| w.ignored).collect();
    assert_eq!(ignored, [true, false], "{warnings:?}");
    assert!(warnings[1].message.contains("203.0.113.5"), "{warnings:?}");
}
