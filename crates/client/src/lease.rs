//! A lease as the client holds it, and the instants at which it must act on it.

use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::time::Duration;

use charrua_wire::options::{ClasslessRoute, DomainName};
use charrua_wire::{DhcpOption, Message, Text};

/// The lease time that means "infinite" (RFC 2132 §9.2).
const INFINITE: u32 = u32::MAX;

/// An address lease and the configuration that came with it, read from a DHCPACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The address leased (`yiaddr`).
    pub address: Ipv4Addr,
    /// Subnet mask (option 1).
    pub subnet_mask: Option<Ipv4Addr>,
    /// Routers (option 3), in order of preference.
    pub routers: Vec<Ipv4Addr>,
    /// DNS servers (option 6).
    pub dns_servers: Vec<Ipv4Addr>,
    /// Domain name (option 15).
    pub domain_name: Option<Text>,
    /// Domain search list (option 119).
    pub search_list: Vec<DomainName>,
    /// Classless static routes: option 121, or Microsoft's 249 when 121 is absent.
    pub classless_routes: Vec<ClasslessRoute>,
    /// Interface MTU (option 26).
    pub mtu: Option<u16>,
    /// Lease time (option 51); `None` for an infinite lease.
    pub lease_time: Option<Duration>,
    /// T1, from the start of the lease: option 58 or half the lease; `None` when infinite.
    pub renewal_time: Option<Duration>,
    /// T2, from the start of the lease: option 59 or 0.875 of the lease; `None` when
    /// infinite.
    pub rebinding_time: Option<Duration>,
    /// The server that granted or last extended the lease (option 54 of the DHCPACK, which a
    /// relay may have overridden, RFC 5107). Renewals go here.
    pub server_identifier: Ipv4Addr,
    /// When the lease began, on the caller's clock: the time the DHCPREQUEST (or the rapid
    /// commit DHCPDISCOVER) that it answers was first sent, RFC 2131 §4.4.1.
    pub start: Duration,
    /// Every option of the DHCPACK, in its order.
    pub options: Vec<DhcpOption>,
}

/// The instants at which a bound client acts, on the caller's clock. `None` throughout for
/// an infinite lease, which is never renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// T1: enter RENEWING.
    pub renew_at: Option<Duration>,
    /// T2: enter REBINDING.
    pub rebind_at: Option<Duration>,
    /// The end of the lease: give the address up.
    pub expires_at: Option<Duration>,
}

impl Lease {
    /// A lease of `address` from `server` that carries nothing else: no options, no times.
    pub fn bare(address: Ipv4Addr, server: Ipv4Addr, start: Duration) -> Lease {
        Lease {
            address,
            subnet_mask: None,
            routers: Vec::new(),
            dns_servers: Vec::new(),
            domain_name: None,
            search_list: Vec::new(),
            classless_routes: Vec::new(),
            mtu: None,
            lease_time: None,
            renewal_time: None,
            rebinding_time: None,
            server_identifier: server,
            start,
            options: Vec::new(),
        }
    }

    /// The lease a DHCPACK grants, started at `start`, with `fallback_server` as its server
    /// when the DHCPACK names none. `None` when it grants nothing: no address, or no lease
    /// time (which RFC 2131 table 3 requires in a DHCPACK to a DHCPREQUEST).
    pub(crate) fn from_ack(
        ack: &Message,
        start: Duration,
        fallback_server: Ipv4Addr,
    ) -> Option<Self> {
        let address = ack.yiaddr;
        if address.is_unspecified() || address.is_broadcast() {
            return None;
        }
        let server = ack.server_identifier().unwrap_or(fallback_server);
        let mut lease = Lease {
            options: ack.options.clone(),
            ..Lease::bare(address, server, start)
        };
        let (mut seconds, mut t1, mut t2, mut ms_routes) = (None, None, None, None);
        for option in &ack.options {
            match option {
                DhcpOption::SubnetMask(mask) => lease.subnet_mask = Some(*mask),
                DhcpOption::Routers(list) => lease.routers.clone_from(list),
                DhcpOption::DomainNameServers(list) => lease.dns_servers.clone_from(list),
                DhcpOption::DomainName(name) => lease.domain_name = Some(name.clone()),
                DhcpOption::DomainSearch(list) => lease.search_list.clone_from(list),
                DhcpOption::ClasslessStaticRoutes(r) => lease.classless_routes.clone_from(r),
                DhcpOption::MsClasslessStaticRoutes(r) => ms_routes = Some(r),
                DhcpOption::InterfaceMtu(mtu) => lease.mtu = Some(*mtu),
                DhcpOption::LeaseTime(t) => seconds = Some(*t),
                DhcpOption::RenewalTime(t) => t1 = Some(*t),
                DhcpOption::RebindingTime(t) => t2 = Some(*t),
                _ => {}
            }
        }
        if lease.classless_routes.is_empty() {
            if let Some(routes) = ms_routes {
                lease.classless_routes.clone_from(routes);
            }
        }
        let seconds = seconds?;
        if seconds != INFINITE {
            let (t1, t2) = renewal_times(seconds, t1, t2);
            lease.lease_time = Some(secs(seconds));
            lease.renewal_time = Some(t1);
            lease.rebinding_time = Some(t2);
        }
        Some(lease)
    }

    /// The instants of T1, T2 and expiry for this lease.
    pub fn timers(&self) -> Timers {
        let at = |d: Option<Duration>| d.map(|d| self.start.saturating_add(d));
        Timers {
            renew_at: at(self.renewal_time),
            rebind_at: at(self.rebinding_time),
            expires_at: at(self.lease_time),
        }
    }
}

fn secs(seconds: u32) -> Duration {
    Duration::from_secs(u64::from(seconds))
}

/// T1 and T2 for a finite lease of `lease` seconds, from the server's options 58 and 59 when
/// it sent them.
///
/// "T1 defaults to (0.5 * duration_of_lease). T2 defaults to (0.875 * duration_of_lease)"
/// (RFC 2131 §4.4.5). Values that break T1 <= T2 <= lease are brought back into that order,
/// so the client never renews after rebinding or rebinds after expiry.
fn renewal_times(lease: u32, t1: Option<u32>, t2: Option<u32>) -> (Duration, Duration) {
    let whole = secs(lease);
    // 0.875 × lease, computed in milliseconds so that no fraction of a second is lost.
    let default_t2 = whole * 7 / 8;
    let t2 = t2.map_or(default_t2, secs).min(whole);
    let t1 = t1.map_or(whole / 2, secs).min(t2);
    (t1, t2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_t1_to_half_and_t2_to_seven_eighths() {
        let (t1, t2) = renewal_times(1000, None, None);
        assert_eq!(t1, Duration::from_secs(500));
        assert_eq!(t2, Duration::from_secs(875));
        let (t1, t2) = renewal_times(1001, None, None);
        assert_eq!(t1, Duration::from_millis(500_500));
        assert_eq!(t2, Duration::from_millis(875_875));
    }

    #[test]
    fn keeps_t1_before_t2_before_expiry() {
        let (t1, t2) = renewal_times(100, Some(300), Some(200));
        assert_eq!(
            (t1, t2),
            (Duration::from_secs(100), Duration::from_secs(100))
        );
        let (t1, t2) = renewal_times(100, Some(90), None);
        assert_eq!(
            (t1, t2),
            (Duration::from_millis(87_500), Duration::from_millis(87_500))
        );
    }
}
