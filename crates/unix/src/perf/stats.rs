//! What `charrua perf` counts and how it reports it: a latency histogram that records a
//! sample with a few instructions and no allocation, counts per stage, and the summary as
//! text or JSON.

use std::fmt::Write as _;
use std::time::Duration;

/// Latencies in log-linear buckets: 16 per power of two of microseconds, about 6 % wide.
pub(super) struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    sum_micros: u64,
    max: Duration,
}

impl Histogram {
    pub(super) fn new() -> Histogram {
        Histogram {
            buckets: vec![0; 64 * 16],
            count: 0,
            sum_micros: 0,
            max: Duration::ZERO,
        }
    }

    fn bucket(micros: u64) -> usize {
        if micros < 16 {
            return usize::try_from(micros).unwrap_or(0);
        }
        let exp = 63 - micros.leading_zeros(); // >= 4
        let mantissa = (micros >> (exp - 4)) & 15;
        usize::try_from(u64::from(exp - 3) * 16 + mantissa).unwrap_or(0)
    }

    /// The largest latency that falls in `bucket`, in microseconds.
    fn upper(bucket: usize) -> u64 {
        let (exp, mantissa) = (bucket / 16, u64::try_from(bucket % 16).unwrap_or(0));
        if exp == 0 {
            return mantissa;
        }
        let shift = u32::try_from(exp - 1).unwrap_or(0);
        ((16 + mantissa + 1) << shift) - 1
    }

    pub(super) fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let b = Self::bucket(micros).min(self.buckets.len() - 1);
        self.buckets[b] += 1;
        self.count += 1;
        self.sum_micros = self.sum_micros.saturating_add(micros);
        self.max = self.max.max(latency);
    }

    fn max_micros(&self) -> u64 {
        u64::try_from(self.max.as_micros()).unwrap_or(u64::MAX)
    }

    /// The latency at or below which `fraction` of the samples lie, in microseconds: the
    /// largest value of the bucket holding that sample, at most the largest sample.
    pub(super) fn percentile(&self, fraction: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let wanted = (fraction * self.count as f64).ceil().max(1.0);
        let mut seen = 0u64;
        for (b, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen as f64 >= wanted {
                return Self::upper(b).min(self.max_micros());
            }
        }
        self.max_micros()
    }

    /// The mean latency in microseconds.
    fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_micros as f64 / self.count as f64
        }
    }

    fn percentiles(&self) -> [u64; 4] {
        [0.5, 0.9, 0.99, 0.999].map(|f| self.percentile(f))
    }

    /// The percentiles, maximum and mean as a JSON object, in microseconds.
    fn json(&self) -> serde_json::Value {
        let [p50, p90, p99, p999] = self.percentiles();
        serde_json::json!({"p50": p50, "p90": p90, "p99": p99, "p99_9": p999,
                           "max": self.max_micros(), "mean": self.mean()})
    }
}

/// The latencies a run records: of whole DORA exchanges, and of each of their two round
/// trips, so that a slow answer can be told apart from a slow lease commit.
pub(super) struct Latencies {
    /// From the DISCOVER to the DHCPACK.
    pub(super) dora: Histogram,
    /// From the DISCOVER to the OFFER.
    pub(super) offer: Histogram,
    /// From the REQUEST to the DHCPACK.
    pub(super) ack: Histogram,
}

impl Latencies {
    pub(super) fn new() -> Latencies {
        Latencies {
            dora: Histogram::new(),
            offer: Histogram::new(),
            ack: Histogram::new(),
        }
    }
}

/// What a run counted.
#[derive(Default, Debug)]
pub(super) struct Tally {
    pub(super) started: u64,
    pub(super) discovers: u64,
    pub(super) offers: u64,
    pub(super) requests: u64,
    pub(super) acks: u64,
    pub(super) naks: u64,
    pub(super) renews: u64,
    pub(super) renew_acks: u64,
    pub(super) releases: u64,
    pub(super) dropped_discover: u64,
    pub(super) dropped_request: u64,
    pub(super) dropped_renew: u64,
    pub(super) unexpected: u64,
    pub(super) send_errors: u64,
    pub(super) send_calls: u64,
    pub(super) receive_calls: u64,
}

/// Everything the summary reports.
pub(super) struct Summary<'a> {
    /// "udp" or "frames".
    pub(super) mode: &'static str,
    pub(super) clients: u32,
    pub(super) renew: bool,
    pub(super) release: bool,
    pub(super) tally: &'a Tally,
    pub(super) latency: &'a Latencies,
    pub(super) elapsed: Duration,
    pub(super) user: Duration,
    pub(super) system: Duration,
}

impl Summary<'_> {
    fn cpu(&self) -> Duration {
        self.user + self.system
    }

    fn cpu_per_exchange(&self) -> f64 {
        if self.tally.acks == 0 {
            0.0
        } else {
            self.cpu().as_secs_f64() * 1e6 / self.tally.acks as f64
        }
    }

    /// The summary as one JSON object.
    pub(super) fn json(&self) -> serde_json::Value {
        let t = self.tally;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        serde_json::json!({
            "mode": self.mode,
            "clients": self.clients,
            "exchanges": t.acks,
            "seconds": secs,
            "exchanges_per_second": t.acks as f64 / secs,
            "sent": {"discover": t.discovers, "request": t.requests, "renew": t.renews,
                     "release": t.releases},
            "received": {"offer": t.offers, "ack": t.acks, "renew_ack": t.renew_acks,
                         "nak": t.naks, "unexpected": t.unexpected},
            "dropped": {"discover": t.dropped_discover, "request": t.dropped_request,
                        "renew": t.dropped_renew, "send_errors": t.send_errors},
            "latency_us": self.latency.dora.json(),
            "offer_latency_us": self.latency.offer.json(),
            "ack_latency_us": self.latency.ack.json(),
            "cpu_seconds": self.cpu().as_secs_f64(),
            "cpu_user_seconds": self.user.as_secs_f64(),
            "cpu_system_seconds": self.system.as_secs_f64(),
            "cpu_us_per_exchange": self.cpu_per_exchange(),
            "system_calls": {"send": t.send_calls, "receive": t.receive_calls},
        })
    }

    /// The summary as lines of text.
    pub(super) fn text(&self) -> String {
        let t = self.tally;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let pct = |dropped: u64, sent: u64| {
            if sent == 0 {
                0.0
            } else {
                100.0 * dropped as f64 / sent as f64
            }
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} exchanges in {secs:.2} s: {:.0} exchanges/s ({} clients, {})",
            t.acks,
            t.acks as f64 / secs,
            self.clients,
            self.mode
        );
        let _ = write!(
            out,
            "  sent: {} DISCOVER, {} REQUEST",
            t.discovers, t.requests
        );
        if self.renew {
            let _ = write!(out, ", {} renewing REQUEST", t.renews);
        }
        if self.release {
            let _ = write!(out, ", {} RELEASE", t.releases);
        }
        let _ = write!(
            out,
            "\n  received: {} OFFER, {} ACK, {} NAK",
            t.offers, t.acks, t.naks
        );
        if self.renew {
            let _ = write!(out, ", {} renewal ACK", t.renew_acks);
        }
        let _ = writeln!(out, ", {} unexpected", t.unexpected);
        let _ = write!(
            out,
            "  dropped: {} DISCOVER ({:.2} %), {} REQUEST ({:.2} %)",
            t.dropped_discover,
            pct(t.dropped_discover, t.discovers),
            t.dropped_request,
            pct(t.dropped_request, t.requests),
        );
        if self.renew {
            let _ = write!(
                out,
                ", {} renewing REQUEST ({:.2} %)",
                t.dropped_renew,
                pct(t.dropped_renew, t.renews)
            );
        }
        let _ = writeln!(out, "; {} send errors", t.send_errors);
        let dora = &self.latency.dora;
        let [p50, p90, p99, p999] = dora.percentiles();
        let _ = writeln!(
            out,
            "  DORA latency: p50 {p50} µs, p90 {p90} µs, p99 {p99} µs, p99.9 {p999} µs, \
             max {} µs",
            dora.max_micros()
        );
        let [offer, ack] = [&self.latency.offer, &self.latency.ack].map(Histogram::percentiles);
        let _ = writeln!(
            out,
            "  of which DISCOVER to OFFER: p50 {} µs, p99 {} µs; REQUEST to ACK: p50 {} µs, \
             p99 {} µs",
            offer[0], offer[2], ack[0], ack[2]
        );
        let _ = write!(
            out,
            "  own CPU: {:.2} s ({:.2} s user, {:.2} s system), {:.1} µs per exchange",
            self.cpu().as_secs_f64(),
            self.user.as_secs_f64(),
            self.system.as_secs_f64(),
            self.cpu_per_exchange()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_grow_with_latency_and_bound_it() {
        let mut h = Histogram::new();
        for micros in [10, 100, 1_000, 10_000] {
            h.record(Duration::from_micros(micros));
        }
        assert_eq!(h.percentile(0.25), 10);
        let p50 = h.percentile(0.5);
        assert!((100..=107).contains(&p50), "p50 {p50}");
        assert_eq!(h.percentile(1.0), 10_000);
        assert!((h.mean() - 2777.5).abs() < 1e-9);
        for micros in [0u64, 5, 15, 16, 17, 31, 32, 1000, 123_456] {
            let b = Histogram::bucket(micros);
            assert!(Histogram::upper(b) >= micros, "{micros} in bucket {b}");
            assert!(
                Histogram::upper(b) <= micros + micros / 16,
                "{micros} in bucket {b}"
            );
            assert!(
                b == 0 || Histogram::upper(b - 1) < micros,
                "{micros} in bucket {b}"
            );
        }
    }

    #[test]
    fn percentiles_of_many_samples_stay_within_a_bucket() {
        let mut h = Histogram::new();
        for micros in 1..=10_000u64 {
            h.record(Duration::from_micros(micros));
        }
        for (fraction, exact) in [(0.5, 5_000u64), (0.9, 9_000), (0.99, 9_900), (0.999, 9_990)] {
            let p = h.percentile(fraction);
            assert!(p >= exact && p <= exact + exact / 16, "{fraction}: {p}");
        }
        assert_eq!(h.percentile(1.0), 10_000);
    }

    #[test]
    fn the_json_summary_keeps_the_fields_scripts_read() {
        let tally = Tally {
            discovers: 3,
            acks: 2,
            ..Tally::default()
        };
        let mut latency = Latencies::new();
        latency.dora.record(Duration::from_micros(250));
        latency.offer.record(Duration::from_micros(100));
        latency.ack.record(Duration::from_micros(150));
        let summary = Summary {
            mode: "udp",
            clients: 3,
            renew: false,
            release: false,
            tally: &tally,
            latency: &latency,
            elapsed: Duration::from_secs(1),
            user: Duration::from_millis(3),
            system: Duration::from_millis(1),
        };
        let j = summary.json();
        assert_eq!(j["exchanges"], 2);
        assert_eq!(j["sent"]["discover"], 3);
        assert_eq!(j["received"]["ack"], 2);
        for p in ["p50", "p90", "p99", "p99_9", "max"] {
            assert_eq!(j["latency_us"][p], 250, "{p}");
            assert_eq!(j["offer_latency_us"][p], 100, "{p}");
            assert_eq!(j["ack_latency_us"][p], 150, "{p}");
        }
        assert!((j["cpu_us_per_exchange"].as_f64().unwrap() - 2000.0).abs() < 1e-6);
        // bench/peers.sh recognises a one-exchange probe by this text.
        assert!(j.to_string().contains("\"exchanges\":2,"));
        assert!(summary.text().contains("2 exchanges in 1.00 s"));
    }
}
