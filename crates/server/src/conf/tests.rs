//! Value syntaxes and statements, one behaviour per test.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use charrua_wire::options::{ClientId, DomainName};
use charrua_wire::{DhcpOption, OptionCode, Text};

use super::{Environment, parse, parse_with};
use crate::Config;

fn ok(text: &str) -> Config {
    match parse("t.conf", text) {
        Ok((config, _)) => config,
        Err(errors) => panic!("{errors:?}"),
    }
}

fn errors(text: &str) -> Vec<String> {
    match parse("t.conf", text) {
        Ok(_) => panic!("parsed: {text}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn global_option(text: &str, code: u8) -> DhcpOption {
    let config = ok(text);
    config
        .global
        .option(OptionCode(code))
        .cloned()
        .expect("option set")
}

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

#[test]
fn reads_dotted_quad() {
    let o = global_option("option subnet-mask 255.255.255.0;", 1);
    assert_eq!(o, DhcpOption::SubnetMask(ip(255, 255, 255, 0)));
}

#[test]
fn reads_comma_list_of_addresses() {
    let o = global_option("option domain-name-servers 192.0.2.1, 192.0.2.2;", 6);
    assert_eq!(
        o,
        DhcpOption::DomainNameServers(vec![ip(192, 0, 2, 1), ip(192, 0, 2, 2)])
    );
}

#[test]
fn refuses_host_names_without_a_resolver() {
    assert_eq!(
        errors("option routers gw.example.com;"),
        vec!["t.conf:1:16: cannot resolve hostname without DNS: gw.example.com"]
    );
}

struct Resolver;

impl Environment for Resolver {
    fn include(&mut self, _: &str) -> Result<String, String> {
        Err(String::from("no files"))
    }
    fn resolve(&mut self, name: &str) -> Result<Vec<Ipv4Addr>, String> {
        match name {
            "two.example" => Ok(vec![ip(198, 51, 100, 1), ip(198, 51, 100, 2)]),
            _ => Err(String::from("no such host")),
        }
    }
}

#[test]
fn host_names_resolve_to_every_address_in_lists_and_the_first_elsewhere() {
    let text = "option routers two.example; option swap-server two.example;";
    let (config, _) = parse_with("t.conf", text, &mut Resolver).unwrap();
    assert_eq!(
        config.global.option(OptionCode(3)),
        Some(&DhcpOption::Routers(vec![
            ip(198, 51, 100, 1),
            ip(198, 51, 100, 2)
        ]))
    );
    assert_eq!(
        config.global.option(OptionCode(16)),
        Some(&DhcpOption::SwapServer(ip(198, 51, 100, 1)))
    );
    let errors = parse_with("t.conf", "next-server nowhere.example;", &mut Resolver).unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "t.conf:1:13: no such host: nowhere.example"
    );
}

#[test]
fn reads_quoted_text() {
    let o = global_option(r#"option domain-name "example.org";"#, 15);
    assert_eq!(o, DhcpOption::DomainName(Text::from("example.org")));
}

#[test]
fn text_options_refuse_unquoted_values() {
    assert_eq!(
        errors("option domain-name example.org;"),
        vec!["t.conf:1:20: expected a quoted string, found 'example.org'"]
    );
}

#[test]
fn reads_colon_separated_hex_for_string_options() {
    let o = global_option("option vendor-class-identifier 4d:53:46:54;", 60);
    assert_eq!(o, DhcpOption::VendorClassIdentifier(b"MSFT".to_vec()));
    let o = global_option(r#"option vendor-class-identifier "MSFT";"#, 60);
    assert_eq!(o, DhcpOption::VendorClassIdentifier(b"MSFT".to_vec()));
}

#[test]
fn reads_booleans_in_all_spellings() {
    for (word, value) in [
        ("true", true),
        ("on", true),
        ("false", false),
        ("off", false),
    ] {
        let o = global_option(&alloc::format!("option ip-forwarding {word};"), 19);
        assert_eq!(o, DhcpOption::IpForwarding(value));
    }
    assert_eq!(
        errors("option ip-forwarding yes;"),
        vec!["t.conf:1:22: expected true, false, on or off, found 'yes'"]
    );
}

#[test]
fn reads_integers_and_checks_their_range() {
    assert_eq!(
        global_option("option interface-mtu 1500;", 26),
        DhcpOption::InterfaceMtu(1500)
    );
    assert_eq!(
        global_option("option default-ip-ttl 0x40;", 23),
        DhcpOption::DefaultIpTtl(64)
    );
    assert_eq!(
        global_option("option time-offset -18000;", 2),
        DhcpOption::TimeOffset(-18000)
    );
    assert_eq!(
        errors("option default-ip-ttl 256;"),
        vec!["t.conf:1:23: 256 is out of range for unsigned integer 8"]
    );
}

#[test]
fn reads_domain_search_list() {
    let o = global_option(r#"option domain-search "a.com", "b.a.com";"#, 119);
    let names = vec![
        DomainName::from_dotted("a.com").unwrap(),
        DomainName::from_dotted("b.a.com").unwrap(),
    ];
    assert_eq!(o, DhcpOption::DomainSearch(names));
}

#[test]
fn reads_static_routes_as_address_pairs() {
    let o = global_option(
        "option static-routes 10.0.0.0 192.0.2.1, 10.1.0.0 192.0.2.2;",
        33,
    );
    assert_eq!(
        o,
        DhcpOption::StaticRoutes(vec![
            (ip(10, 0, 0, 0), ip(192, 0, 2, 1)),
            (ip(10, 1, 0, 0), ip(192, 0, 2, 2))
        ])
    );
}

#[test]
fn reads_classless_routes_as_descriptor_bytes() {
    let text = "option rfc3442-classless-static-routes 24, 192, 168, 1, 10, 0, 0, 1;";
    let o = global_option(text, 121);
    assert_eq!(o.payload(), vec![24, 192, 168, 1, 10, 0, 0, 1]);
}

#[test]
fn defined_option_encodes_by_its_type() {
    let text = "option arch code 93 = unsigned integer 16; option arch 7;";
    assert_eq!(
        global_option(text, 93),
        DhcpOption::ClientArchitecture(vec![7])
    );
    let text = "option local-proxy code 252 = text; option local-proxy \"http://p/wpad.dat\";";
    assert_eq!(
        global_option(text, 252),
        DhcpOption::Wpad(Text::from("http://p/wpad.dat"))
    );
}

#[test]
fn defined_record_types_encode_field_by_field() {
    let text = "option site-thing code 224 = { ip-address, unsigned integer 16, text };\n\
                option site-thing 192.0.2.9 8080 \"x\";";
    let o = global_option(text, 224);
    assert_eq!(o.payload(), vec![192, 0, 2, 9, 0x1f, 0x90, b'x']);
}

#[test]
fn defined_array_types_take_comma_lists() {
    let text = "option site-list code 225 = array of unsigned integer 32;\n\
                option site-list 1, 2;";
    assert_eq!(
        global_option(text, 225).payload(),
        vec![0, 0, 0, 1, 0, 0, 0, 2]
    );
    let text = "option site-flags code 226 = { boolean, signed integer 8 };\n\
                option site-flags on -1;";
    assert_eq!(global_option(text, 226).payload(), vec![1, 0xff]);
}

#[test]
fn defined_zero_length_option_has_no_payload() {
    let text = "option rc code 80 = zerolen; option rc;";
    assert_eq!(global_option(text, 80), DhcpOption::RapidCommit);
}

#[test]
fn refuses_text_inside_array_definitions() {
    assert_eq!(
        errors("option x code 230 = array of text;"),
        vec!["t.conf:1:21: text can only be the last field of a record, not in an array"]
    );
}

#[test]
fn refuses_encapsulate_option_type() {
    assert_eq!(
        errors("option x code 230 = encapsulate foo;"),
        vec!["t.conf:1:21: not supported: option type encapsulate"]
    );
}

#[test]
fn value_invalid_for_codec_is_an_error_with_the_option_name() {
    let e = errors(
        "option dhcp-message-type 1; option subnet-selection 1.2.3.4; option user-class \"\";",
    );
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("t.conf:1:80: option user-class: invalid value"),
        "{}",
        e[0]
    );
}

#[test]
fn vendor_space_sub_options_become_option_43() {
    let text = "option space acme;\n\
                option acme.server code 1 = ip-address;\n\
                option acme.label code 2 = text;\n\
                vendor-option-space acme;\n\
                option acme.server 192.0.2.7;\n\
                option acme.label \"ab\";\n\
                subnet 192.0.2.0 netmask 255.255.255.0 { }";
    let config = ok(text);
    let here = config.scope_for(0, None, None);
    assert_eq!(
        here.option(OptionCode::VENDOR_SPECIFIC),
        Some(&DhcpOption::VendorSpecific(vec![
            1, 4, 192, 0, 2, 7, 2, 2, b'a', b'b'
        ]))
    );
}

#[test]
fn vendor_sub_options_without_vendor_option_space_send_nothing() {
    let text = "option space acme; option acme.n code 1 = unsigned integer 8; option acme.n 5;\n\
                subnet 192.0.2.0 netmask 255.255.255.0 { }";
    let config = ok(text);
    assert_eq!(
        config
            .scope_for(0, None, None)
            .option(OptionCode::VENDOR_SPECIFIC),
        None
    );
}

#[test]
fn refuses_unknown_option_space() {
    assert_eq!(
        errors("option nowhere.x 1;"),
        vec!["t.conf:1:8: unknown option space: nowhere"]
    );
    assert_eq!(
        errors("vendor-option-space nowhere;"),
        vec!["t.conf:1:21: unknown option space: nowhere"]
    );
}

#[test]
fn host_client_identifier_is_the_host_key_not_an_option() {
    let config = ok(
        "host a { option dhcp-client-identifier 01:00:11:22:33:44:55; }\n\
                     host b { uid \"b-id\"; }",
    );
    assert_eq!(
        config.hosts[0].client_id,
        Some(vec![1, 0, 0x11, 0x22, 0x33, 0x44, 0x55])
    );
    assert!(config.hosts[0].params.options.is_empty());
    assert_eq!(config.hosts[1].client_id, Some(b"b-id".to_vec()));
    assert_eq!(config.hosts_with_client_id(b"b-id"), &[1]);
}

#[test]
fn global_client_identifier_option_is_an_option() {
    let o = global_option("option dhcp-client-identifier 01:00:11:22:33:44:55;", 61);
    assert_eq!(
        o,
        DhcpOption::ClientIdentifier(ClientId::ethernet([0, 0x11, 0x22, 0x33, 0x44, 0x55]))
    );
}

#[test]
fn flags_default_to_true_without_a_value() {
    let config = ok("one-lease-per-client; use-host-decl-names off; ping-check false;");
    assert_eq!(config.global.one_lease_per_client, Some(true));
    assert_eq!(config.global.use_host_decl_names, Some(false));
    assert_eq!(config.global.ping_check, Some(false));
}

#[test]
fn later_option_in_the_same_scope_replaces_the_earlier() {
    let config = ok("option routers 192.0.2.1; option routers 192.0.2.2;");
    assert_eq!(
        config.global.options,
        vec![DhcpOption::Routers(vec![ip(192, 0, 2, 2)])]
    );
}

#[test]
fn missing_closing_brace_names_the_opening_line() {
    assert_eq!(
        errors("subnet 10.0.0.0 netmask 255.0.0.0 {\n  range 10.0.0.1 10.0.0.2;\n"),
        vec![
            "t.conf:3:1: expected '}' to close subnet 10.0.0.0 netmask 255.0.0.0 opened at line 1"
        ]
    );
}

#[test]
fn stray_closing_brace_is_an_error() {
    assert_eq!(errors("}\n"), vec!["t.conf:1:1: unexpected '}'"]);
}

#[test]
fn declarations_in_the_wrong_block_are_refused() {
    assert_eq!(
        errors("range 10.0.0.1 10.0.0.2;"),
        vec!["t.conf:1:1: range is not allowed in the top level"]
    );
    assert_eq!(
        errors("hardware ethernet 00:11:22:33:44:55;"),
        vec!["t.conf:1:1: hardware is only allowed in a host declaration"]
    );
    assert_eq!(
        errors("host a { host b { } }"),
        vec!["t.conf:1:10: host is not allowed in a host"]
    );
}

#[test]
fn refuses_other_hardware_types() {
    assert_eq!(
        errors("host a { hardware token-ring 00:11:22:33:44:55; }"),
        vec!["t.conf:1:10: not supported: hardware token-ring"]
    );
}

#[test]
fn refuses_permits_it_does_not_implement() {
    assert_eq!(
        errors(
            "subnet 10.0.0.0 netmask 255.0.0.0 { pool { range 10.0.0.1 10.0.0.9;\n\
                allow members of \"foo\"; } }"
        ),
        vec!["t.conf:2:1: not supported: allow members"]
    );
    assert_eq!(
        errors("deny declines;"),
        vec!["t.conf:1:1: not supported: deny declines"]
    );
}

#[test]
fn include_without_a_loader_is_an_error() {
    assert_eq!(
        errors("include \"x.conf\";"),
        vec!["t.conf:1:9: cannot include \"x.conf\": includes are not available"]
    );
}

#[test]
fn include_cycles_stop_at_the_depth_limit() {
    let mut env = super::Loader(|_: &str| Ok(String::from("include \"self.conf\";")));
    let errors = parse_with("t.conf", "include \"self.conf\";", &mut env).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "self.conf:1:9: includes nested too deep: \"self.conf\""
    );
}

#[test]
fn lexical_errors_carry_their_position() {
    assert_eq!(
        errors("option domain-name \"abc;\n"),
        vec![
            "t.conf:1:20: unterminated quoted string",
            "t.conf:2:1: expected a quoted string, found end of file"
        ]
    );
}

#[test]
fn bare_integer_type_takes_signed_and_unsigned_values() {
    let text = "option rfc3442-classless-static-routes code 121 = array of integer 8;\n\
                option rfc3442-classless-static-routes 24, 192, 168, 1, 10, 0, 0, 1;";
    assert_eq!(
        global_option(text, 121).payload(),
        vec![24, 192, 168, 1, 10, 0, 0, 1]
    );
    let text = "option x code 230 = integer 8; option x -128;";
    assert_eq!(global_option(text, 230).payload(), vec![0x80]);
    assert_eq!(
        errors("option x code 230 = integer 8; option x 256;"),
        vec!["t.conf:1:41: 256 is out of range for integer 8"]
    );
}

#[test]
fn reads_access_statements_outside_pools_as_parameters() {
    let config = ok("deny unknown-clients; ignore bootp; allow booting; not authoritative;");
    assert_eq!(config.global.unknown_clients, Some(crate::Access::Deny));
    assert_eq!(config.global.bootp, Some(crate::Access::Ignore));
    assert_eq!(config.global.booting, Some(crate::Access::Allow));
    assert_eq!(config.global.authoritative, Some(false));
}

#[test]
fn ignore_is_refused_in_a_pool_permit_list() {
    assert_eq!(
        errors("subnet 10.0.0.0 netmask 255.0.0.0 { pool { ignore unknown-clients; } }"),
        vec!["t.conf:1:44: ignore is not allowed in a pool's permit list"]
    );
}

#[test]
fn range_with_one_address_and_dynamic_bootp_flag() {
    let config = ok("subnet 10.0.0.0 netmask 255.0.0.0 { range dynamic-bootp 10.0.0.5; }");
    let range = &config.subnets[0].ranges[0];
    assert_eq!(
        (range.start, range.end, range.dynamic_bootp),
        (ip(10, 0, 0, 5), ip(10, 0, 0, 5), true)
    );
    assert_eq!(range.len(), 1);
}

#[test]
fn harmless_statements_are_ignored_with_a_warning() {
    let text = "ddns-updates off;\nlease-file-name \"/var/lib/dhcp/dhcpd.leases\";\n\
                omapi-port 7911;";
    let (_, warnings) = parse("t.conf", text).unwrap();
    let texts: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        vec![
            "t.conf:1:1: ignored: ddns-updates off (does not change DHCP answers)",
            "t.conf:2:1: ignored: lease-file-name (does not change DHCP answers)",
            "t.conf:3:1: ignored: omapi-port (does not change DHCP answers)",
        ]
    );
}

#[test]
fn ddns_updates_on_is_refused() {
    assert_eq!(
        errors("ddns-updates on;"),
        vec!["t.conf:1:1: not supported: ddns-updates"]
    );
}

#[test]
fn unknown_statements_are_refused_by_name() {
    assert_eq!(
        errors("defualt-lease-time 600;\nspawn with option agent.circuit-id;"),
        vec![
            "t.conf:1:1: not supported: defualt-lease-time",
            "t.conf:2:1: not supported: spawn with"
        ]
    );
}

#[test]
fn named_groups_are_accepted() {
    let config = ok("group lab { default-lease-time 60; host a { } }");
    assert_eq!(config.groups.len(), 1);
    assert_eq!(config.global_scope(Some(0)).default_lease_time(), 60);
}
