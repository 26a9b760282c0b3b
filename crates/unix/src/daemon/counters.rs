//! What the daemon counts: requests and replies by message type, drops by reason, and, when
//! reported, leases in use per subnet.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use charrua_server::{Leases, Policy};
use charrua_wire::MessageType;

/// Counts by message type: one slot per type number, and one for BOOTP (no type). Counting
/// is an array index, with no allocation per packet.
#[derive(Debug)]
struct ByType {
    typed: [u64; 256],
    bootp: u64,
}

impl Default for ByType {
    fn default() -> Self {
        ByType {
            typed: [0; 256],
            bootp: 0,
        }
    }
}

impl ByType {
    fn count(&mut self, kind: Option<MessageType>) {
        match kind {
            Some(t) => self.typed[usize::from(t.0)] += 1,
            None => self.bootp += 1,
        }
    }

    /// The non-zero counts by name, in name order.
    fn named(&self) -> BTreeMap<String, u64> {
        let typed = (0..=u8::MAX)
            .zip(self.typed)
            .filter(|&(_, n)| n > 0)
            .map(|(t, n)| (MessageType(t).to_string(), n));
        let bootp = (self.bootp > 0).then(|| ("BOOTP".to_owned(), self.bootp));
        typed.chain(bootp).collect()
    }
}

/// Counters since start.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    received: ByType,
    replied: ByType,
    dropped: BTreeMap<&'static str, u64>,
}

impl Counters {
    /// Counts a request by type.
    pub(crate) fn received(&mut self, kind: Option<MessageType>) {
        self.received.count(kind);
    }

    /// Counts a reply by type.
    pub(crate) fn replied(&mut self, kind: Option<MessageType>) {
        self.replied.count(kind);
    }

    /// Counts a dropped packet by reason.
    pub(crate) fn drop_reason(&mut self, reason: &'static str) {
        *self.dropped.entry(reason).or_default() += 1;
    }

    /// Dropped packets for one reason.
    #[cfg(test)]
    pub(crate) fn dropped(&self, reason: &str) -> u64 {
        self.dropped.get(reason).copied().unwrap_or(0)
    }

    /// One line of counters, then one per subnet: addresses in pools, and how many are bound.
    pub(crate) fn report(&self, policy: &Policy, leases: &Leases, now: u64) -> String {
        let list = |map: &dyn Fn(&mut String)| {
            let mut s = String::new();
            map(&mut s);
            if s.is_empty() { "none".to_owned() } else { s }
        };
        let received = list(&|s| {
            for (k, v) in &self.received.named() {
                let _ = write!(s, "{}{k} {v}", if s.is_empty() { "" } else { ", " });
            }
        });
        let replied = list(&|s| {
            for (k, v) in &self.replied.named() {
                let _ = write!(s, "{}{k} {v}", if s.is_empty() { "" } else { ", " });
            }
        });
        let dropped = list(&|s| {
            for (k, v) in &self.dropped {
                let _ = write!(s, "{}{k} {v}", if s.is_empty() { "" } else { ", " });
            }
        });
        let mut out =
            format!("counters: received [{received}]; replied [{replied}]; dropped [{dropped}]");
        for network in policy.networks() {
            for subnet in &network.subnets {
                let (mut size, mut used) = (0u64, 0u64);
                for pool in &subnet.pools {
                    for &(low, high) in &pool.ranges {
                        size += u64::from(u32::from(high) - u32::from(low)) + 1;
                    }
                }
                let within = |a: Ipv4Addr| {
                    subnet
                        .pools
                        .iter()
                        .flat_map(|p| &p.ranges)
                        .any(|&(l, h)| (l..=h).contains(&a))
                };
                for lease in leases.iter_unordered() {
                    if lease.holds(now) && within(lease.address) {
                        used += 1;
                    }
                }
                let _ = write!(
                    out,
                    "\n  subnet {}/{}: {used} leased, {} free",
                    subnet.network,
                    u32::from(subnet.netmask).count_ones(),
                    size.saturating_sub(used)
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_type_and_reason() {
        let mut c = Counters::default();
        c.received(Some(MessageType::DISCOVER));
        c.received(Some(MessageType::DISCOVER));
        c.replied(Some(MessageType::OFFER));
        c.received(None);
        c.received(Some(MessageType(200)));
        c.drop_reason("bad udp checksum");
        assert_eq!(c.dropped("bad udp checksum"), 1);
        let report = c.report(&Policy::default(), &Leases::new(), 0);
        assert!(report.contains("DHCPDISCOVER 2"), "{report}");
        assert!(report.contains("DHCPOFFER 1"), "{report}");
        assert!(report.contains("bad udp checksum 1"), "{report}");
        assert!(report.contains("BOOTP 1"), "{report}");
        assert!(report.contains("unknown (200) 1"), "{report}");
    }
}
