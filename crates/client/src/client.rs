//! The state machine of RFC 2131 figure 5: each state a type holding only what is valid
//! there, and the transitions between them.

use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::time::Duration;

use charrua_wire::{Message, MessageType, Op, OptionCode};

use crate::config::{Config, Rng};
use crate::lease::{Lease, Timers};
use crate::messages::{Destination, Event, Fields, LossReason, NoLease, Output, build, secs_since};

/// Offers kept while selecting; later ones are dropped.
const MAX_OFFERS: usize = 16;

/// The floor of the RENEWING and REBINDING retransmission interval (RFC 2131 §4.4.5).
const MIN_RENEW_INTERVAL: Duration = Duration::from_secs(60);

/// Transitions taken in one call to [`Client::on_timeout`] at most: enough for a caller
/// that wakes after T1, T2 and expiry have all passed.
const MAX_STEPS: usize = 8;

/// One transaction: its id and its retransmission schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    /// `xid`, shared by every transmission of the exchange and by the replies to it.
    pub xid: u32,
    /// When the acquisition or renewal process began: `secs` counts from here.
    pub began: Duration,
    /// When the first message with this `xid` was sent: a lease granted in answer starts
    /// here (RFC 2131 §4.4.1).
    pub first_sent: Duration,
    /// Transmissions so far.
    pub attempts: u32,
    /// When the next transmission (or the next decision) is due.
    pub retransmit_at: Duration,
}

/// An offer collected while selecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The offering server (option 54).
    pub server: Ipv4Addr,
    /// The address offered (`yiaddr`).
    pub address: Ipv4Addr,
    /// The DHCPOFFER itself.
    pub message: Message,
}

/// INIT: no address; a DHCPDISCOVER goes out at `discover_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Init {
    /// When the DHCPDISCOVER is sent.
    pub discover_at: Duration,
}

/// SELECTING: DHCPDISCOVER sent, offers being collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selecting {
    /// The DHCPDISCOVER exchange.
    pub exchange: Exchange,
    /// Offers so far, in arrival order.
    pub offers: Vec<Offer>,
    /// When the client stops collecting and chooses: set by the first offer.
    pub window_ends: Option<Duration>,
    /// `secs` of the last DHCPDISCOVER sent.
    pub secs: u16,
}

/// REQUESTING: DHCPREQUEST sent for the chosen offer, waiting for DHCPACK or DHCPNAK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requesting {
    /// The DHCPREQUEST exchange, with the DHCPDISCOVER's `xid`.
    pub exchange: Exchange,
    /// The offer chosen.
    pub offer: Offer,
    /// `secs` of the last DHCPDISCOVER, which every DHCPREQUEST repeats (RFC 2131 §3.1).
    pub secs: u16,
}

/// BOUND: the client holds a lease and waits for T1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// The lease.
    pub lease: Lease,
    /// Its T1, T2 and expiry.
    pub timers: Timers,
}

/// RENEWING: past T1, asking the server that granted the lease to extend it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewing {
    /// The lease.
    pub lease: Lease,
    /// Its T1, T2 and expiry.
    pub timers: Timers,
    /// The unicast DHCPREQUEST exchange.
    pub exchange: Exchange,
}

/// REBINDING: past T2, asking any server to extend the lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebinding {
    /// The lease.
    pub lease: Lease,
    /// Its T1, T2 and expiry.
    pub timers: Timers,
    /// The broadcast DHCPREQUEST exchange.
    pub exchange: Exchange,
}

/// INIT-REBOOT: a remembered lease to confirm; the DHCPREQUEST goes out at `request_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReboot {
    /// The remembered lease.
    pub lease: Lease,
    /// When the DHCPREQUEST is sent.
    pub request_at: Duration,
}

/// REBOOTING: DHCPREQUEST for the remembered address sent, waiting for DHCPACK or DHCPNAK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebooting {
    /// The remembered lease.
    pub lease: Lease,
    /// The DHCPREQUEST exchange.
    pub exchange: Exchange,
}

/// Asking for parameters for an address configured by other means (DHCPINFORM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Informing {
    /// The address, sent as `ciaddr`.
    pub address: Ipv4Addr,
    /// The DHCPINFORM exchange, once the first one is sent.
    pub exchange: Option<Exchange>,
    /// When the first DHCPINFORM is sent.
    pub inform_at: Duration,
}

/// Where the client stands (RFC 2131 figure 5), with what is valid there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// INIT.
    Init(Init),
    /// SELECTING.
    Selecting(Selecting),
    /// REQUESTING.
    Requesting(Requesting),
    /// BOUND.
    Bound(Bound),
    /// RENEWING.
    Renewing(Renewing),
    /// REBINDING.
    Rebinding(Rebinding),
    /// INIT-REBOOT.
    InitReboot(InitReboot),
    /// REBOOTING.
    Rebooting(Rebooting),
    /// Waiting for the answer to a DHCPINFORM.
    Informing(Informing),
    /// Done: the lease was released or the DHCPINFORM answered. Nothing more happens.
    Stopped,
}

/// A DHCP client: its configuration and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    config: Config,
    state: State,
}

/// The delay before retransmission number `attempts` (the first transmission is 1).
///
/// "The delay before the first retransmission SHOULD be 4 seconds randomized by the value
/// of a uniform random number chosen from the range -1 to +1. [...] The delay before the
/// next retransmission SHOULD be 8 seconds randomized [...]. The retransmission delay SHOULD
/// be doubled with subsequent retransmissions up to a maximum of 64 seconds."
/// (RFC 2131 §4.1). The jitter has millisecond resolution.
fn backoff(attempts: u32, rng: &mut dyn Rng) -> Duration {
    let doublings = attempts.saturating_sub(1).min(4);
    let base_ms = 4_000u64 << doublings;
    let jitter_ms = u64::from(rng.next_u32() % 2_001);
    Duration::from_millis(base_ms - 1_000 + jitter_ms)
}

/// When a DHCPREQUEST sent at `now` in RENEWING (or REBINDING) is next retransmitted, given
/// T2 (or the end of the lease) at `limit`.
///
/// "the client SHOULD wait one-half of the remaining time until T2 (in RENEWING state) and
/// one-half of the remaining lease time (in REBINDING state), down to a minimum of 60
/// seconds, before retransmitting the DHCPREQUEST message" (RFC 2131 §4.4.5). The state
/// changes at `limit`, so the retransmission is never due after it.
/// A renewing or rebinding exchange sent once more at `now`: one attempt more, and the next
/// one due as [`renew_interval`] spaces them before `limit` (T2 or expiry; without one, a
/// minimum interval from now).
fn retransmission(mut exchange: Exchange, limit: Option<Duration>, now: Duration) -> Exchange {
    exchange.attempts = exchange.attempts.saturating_add(1);
    let limit = limit.unwrap_or(now.saturating_add(MIN_RENEW_INTERVAL));
    exchange.retransmit_at = renew_interval(now, limit);
    exchange
}

fn renew_interval(now: Duration, limit: Duration) -> Duration {
    let half = limit.saturating_sub(now) / 2;
    now.saturating_add(half.max(MIN_RENEW_INTERVAL)).min(limit)
}

fn is_due(at: Option<Duration>, now: Duration) -> bool {
    at.is_some_and(|at| at <= now)
}

impl Client {
    /// A client in INIT that sends its first DHCPDISCOVER at `now`.
    pub fn new(config: Config, now: Duration) -> Self {
        Client {
            config,
            state: State::Init(Init { discover_at: now }),
        }
    }

    /// A client in INIT-REBOOT that asks at `now` to keep `lease`, remembered from an
    /// earlier run (RFC 2131 §3.2).
    ///
    /// The caller checks that the lease has not expired. With the anonymity profile, call
    /// this only when the network and hardware address are known to be those the lease was
    /// obtained with (RFC 7844 §3.3); otherwise use [`Client::new`].
    pub fn reboot(config: Config, lease: Lease, now: Duration) -> Self {
        Client {
            config,
            state: State::InitReboot(InitReboot {
                lease,
                request_at: now,
            }),
        }
    }

    /// A client with `address` configured by other means that asks at `now` for its other
    /// parameters with DHCPINFORM (RFC 2131 §3.4). The answer comes as
    /// [`Event::Informed`].
    pub fn inform(config: Config, address: Ipv4Addr, now: Duration) -> Self {
        Client {
            config,
            state: State::Informing(Informing {
                address,
                exchange: None,
                inform_at: now,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The lease the client holds, in BOUND, RENEWING and REBINDING.
    pub fn lease(&self) -> Option<&Lease> {
        match &self.state {
            State::Bound(s) => Some(&s.lease),
            State::Renewing(s) => Some(&s.lease),
            State::Rebinding(s) => Some(&s.lease),
            _ => None,
        }
    }

    /// When [`Client::on_timeout`] is next due, or `None` when only a packet or a call from
    /// the caller can move the client (an infinite lease, or [`State::Stopped`]).
    pub fn next_deadline(&self) -> Option<Duration> {
        match &self.state {
            State::Init(s) => Some(s.discover_at),
            State::Selecting(s) => Some(match s.window_ends {
                Some(end) => end.min(s.exchange.retransmit_at),
                None => s.exchange.retransmit_at,
            }),
            State::Requesting(s) => Some(s.exchange.retransmit_at),
            State::Bound(s) => [s.timers.renew_at, s.timers.rebind_at, s.timers.expires_at]
                .into_iter()
                .flatten()
                .min(),
            State::Renewing(s) => Some(s.exchange.retransmit_at),
            State::Rebinding(s) => Some(s.exchange.retransmit_at),
            State::InitReboot(s) => Some(s.request_at),
            State::Rebooting(s) => Some(s.exchange.retransmit_at),
            State::Informing(s) => Some(s.exchange.map_or(s.inform_at, |e| e.retransmit_at)),
            State::Stopped => None,
        }
    }

    /// Acts on the passing of time: sends, retransmits, chooses an offer, moves to RENEWING,
    /// REBINDING or INIT. Does nothing before [`Client::next_deadline`].
    pub fn on_timeout(&mut self, now: Duration, rng: &mut dyn Rng) -> Output {
        let mut out = Output::default();
        for _ in 0..MAX_STEPS {
            if !is_due(self.next_deadline(), now) {
                break;
            }
            self.step(now, rng, &mut out);
        }
        out
    }

    /// Acts on a message from a server. Anything that is not a reply to the client's current
    /// exchange (wrong `op`, `chaddr` or `xid`, or a message type the state does not expect)
    /// is ignored.
    pub fn on_packet(&mut self, now: Duration, message: &Message, rng: &mut dyn Rng) -> Output {
        let mut out = Output::default();
        if message.op != Op::BOOTREPLY || message.chaddr != self.config.hardware {
            return out;
        }
        let Some(kind) = message.message_type() else {
            return out;
        };
        let Some(xid) = self.expected_xid() else {
            return out;
        };
        if message.xid != xid {
            return out;
        }
        let state = core::mem::replace(&mut self.state, State::Stopped);
        self.state = self.reply(state, kind, message, now, rng, &mut out);
        out
    }

    /// Declines the lease just acquired because its address is in use (the caller's ARP
    /// probe found it): sends DHCPDECLINE and returns to INIT, which sends a DHCPDISCOVER
    /// after [`Config::decline_delay`] (RFC 2131 §3.1 step 5).
    pub fn decline(&mut self, now: Duration, rng: &mut dyn Rng) -> Result<Output, NoLease> {
        let lease = self.lease().ok_or(NoLease)?;
        let mut out = Output::default();
        let decline = build(
            &self.config,
            Fields {
                kind: MessageType::DECLINE,
                xid: rng.next_u32(),
                secs: 0,
                ciaddr: Ipv4Addr::UNSPECIFIED,
                requested: Some(lease.address),
                server: Some(lease.server_identifier),
            },
        );
        out.send(decline, Destination::Broadcast);
        out.event(Event::Declined(lease.address));
        self.state = State::Init(Init {
            discover_at: now.saturating_add(self.config.decline_delay),
        });
        Ok(out)
    }

    /// Gives the lease back: sends DHCPRELEASE to the server that granted it and stops
    /// (RFC 2131 §4.4.6).
    pub fn release(&mut self, rng: &mut dyn Rng) -> Result<Output, NoLease> {
        let lease = self.lease().ok_or(NoLease)?;
        let mut out = Output::default();
        let release = build(
            &self.config,
            Fields {
                kind: MessageType::RELEASE,
                xid: rng.next_u32(),
                secs: 0,
                ciaddr: lease.address,
                requested: None,
                server: Some(lease.server_identifier),
            },
        );
        out.send(release, Destination::Unicast(lease.server_identifier));
        out.event(Event::Released(lease.address));
        self.state = State::Stopped;
        Ok(out)
    }

    /// The `xid` a reply must carry in the current state, if the state expects one.
    fn expected_xid(&self) -> Option<u32> {
        match &self.state {
            State::Selecting(s) => Some(s.exchange.xid),
            State::Requesting(s) => Some(s.exchange.xid),
            State::Renewing(s) => Some(s.exchange.xid),
            State::Rebinding(s) => Some(s.exchange.xid),
            State::Rebooting(s) => Some(s.exchange.xid),
            State::Informing(s) => s.exchange.map(|e| e.xid),
            State::Init(_) | State::Bound(_) | State::InitReboot(_) | State::Stopped => None,
        }
    }

    /// One transition on a deadline that has passed.
    fn step(&mut self, now: Duration, rng: &mut dyn Rng, out: &mut Output) {
        let state = core::mem::replace(&mut self.state, State::Stopped);
        self.state = match state {
            State::Init(_) => self.discover(now, rng, out),
            State::Selecting(mut s) => {
                if is_due(s.window_ends, now) && !s.offers.is_empty() {
                    self.choose(s, now, rng, out)
                } else {
                    s.exchange = self.again(s.exchange, now, rng);
                    s.secs = secs_since(s.exchange.began, now);
                    out.send(
                        self.discover_message(s.exchange.xid, s.secs),
                        Destination::Broadcast,
                    );
                    State::Selecting(s)
                }
            }
            State::Requesting(mut s) => {
                if s.exchange.attempts >= self.config.request_attempts {
                    State::Init(Init { discover_at: now })
                } else {
                    s.exchange = self.again(s.exchange, now, rng);
                    out.send(self.selecting_request(&s), Destination::Broadcast);
                    State::Requesting(s)
                }
            }
            State::Bound(s) => self.after_bound(s.lease, s.timers, None, now, rng, out),
            State::Renewing(s) => {
                let began = s.exchange.began;
                if is_due(s.timers.rebind_at, now) || is_due(s.timers.expires_at, now) {
                    self.after_bound(s.lease, s.timers, Some(began), now, rng, out)
                } else {
                    let exchange = retransmission(s.exchange, s.timers.rebind_at, now);
                    let request = self.renewal(&s.lease, exchange, now);
                    out.send(request, Destination::Unicast(s.lease.server_identifier));
                    State::Renewing(Renewing { exchange, ..s })
                }
            }
            State::Rebinding(s) => {
                if is_due(s.timers.expires_at, now) {
                    self.after_bound(s.lease, s.timers, None, now, rng, out)
                } else {
                    let exchange = retransmission(s.exchange, s.timers.expires_at, now);
                    out.send(
                        self.renewal(&s.lease, exchange, now),
                        Destination::Broadcast,
                    );
                    State::Rebinding(Rebinding { exchange, ..s })
                }
            }
            State::InitReboot(s) => {
                let exchange = self.first(now, now, rng);
                out.send(
                    self.reboot_request(&s.lease, exchange, now),
                    Destination::Broadcast,
                );
                State::Rebooting(Rebooting {
                    lease: s.lease,
                    exchange,
                })
            }
            State::Rebooting(mut s) => {
                if s.exchange.attempts >= self.config.request_attempts {
                    State::Init(Init { discover_at: now })
                } else {
                    s.exchange = self.again(s.exchange, now, rng);
                    let request = self.reboot_request(&s.lease, s.exchange, now);
                    out.send(request, Destination::Broadcast);
                    State::Rebooting(s)
                }
            }
            State::Informing(mut s) => {
                let exchange = match s.exchange {
                    Some(e) => self.again(e, now, rng),
                    None => self.first(now, now, rng),
                };
                s.exchange = Some(exchange);
                let inform = build(
                    &self.config,
                    Fields {
                        kind: MessageType::INFORM,
                        xid: exchange.xid,
                        secs: secs_since(exchange.began, now),
                        ciaddr: s.address,
                        requested: None,
                        server: None,
                    },
                );
                out.send(inform, Destination::Broadcast);
                State::Informing(s)
            }
            State::Stopped => State::Stopped,
        };
    }

    /// A new exchange whose first message goes out now, with its first retransmission
    /// scheduled.
    fn first(&self, began: Duration, now: Duration, rng: &mut dyn Rng) -> Exchange {
        let xid = rng.next_u32();
        Exchange {
            xid,
            began,
            first_sent: now,
            attempts: 1,
            retransmit_at: now.saturating_add(backoff(1, rng)),
        }
    }

    /// The exchange after one more transmission now.
    fn again(&self, exchange: Exchange, now: Duration, rng: &mut dyn Rng) -> Exchange {
        let attempts = exchange.attempts.saturating_add(1);
        Exchange {
            attempts,
            retransmit_at: now.saturating_add(backoff(attempts, rng)),
            ..exchange
        }
    }

    /// INIT → SELECTING: the first DHCPDISCOVER of a new exchange.
    fn discover(&self, now: Duration, rng: &mut dyn Rng, out: &mut Output) -> State {
        let exchange = self.first(now, now, rng);
        out.send(
            self.discover_message(exchange.xid, 0),
            Destination::Broadcast,
        );
        State::Selecting(Selecting {
            exchange,
            offers: Vec::new(),
            window_ends: None,
            secs: 0,
        })
    }

    fn discover_message(&self, xid: u32, secs: u16) -> Message {
        build(
            &self.config,
            Fields {
                kind: MessageType::DISCOVER,
                xid,
                secs,
                ciaddr: Ipv4Addr::UNSPECIFIED,
                requested: self.config.requested_address,
                server: None,
            },
        )
    }

    /// SELECTING → REQUESTING: takes the offer of the requested address if there is one,
    /// else the first, and requests it from its server.
    fn choose(&self, s: Selecting, now: Duration, rng: &mut dyn Rng, out: &mut Output) -> State {
        let preferred = self.config.requested_address;
        let mut offers = s.offers;
        let index = offers
            .iter()
            .position(|o| Some(o.address) == preferred)
            .unwrap_or(0);
        let requesting = Requesting {
            exchange: Exchange {
                first_sent: now,
                attempts: 1,
                retransmit_at: now.saturating_add(backoff(1, rng)),
                ..s.exchange
            },
            offer: offers.swap_remove(index),
            // "the DHCPREQUEST message MUST use the same value in the DHCP message header's
            // 'secs' field [...] as the original DHCPDISCOVER message" (RFC 2131 §3.1).
            secs: s.secs,
        };
        out.send(self.selecting_request(&requesting), Destination::Broadcast);
        State::Requesting(requesting)
    }

    fn selecting_request(&self, s: &Requesting) -> Message {
        build(
            &self.config,
            Fields {
                kind: MessageType::REQUEST,
                xid: s.exchange.xid,
                secs: s.secs,
                ciaddr: Ipv4Addr::UNSPECIFIED,
                requested: Some(s.offer.address),
                server: Some(s.offer.server),
            },
        )
    }

    /// A DHCPREQUEST in RENEWING or REBINDING: `ciaddr` set, no server identifier and no
    /// requested address (RFC 2131 §4.3.2).
    fn renewal(&self, lease: &Lease, exchange: Exchange, now: Duration) -> Message {
        build(
            &self.config,
            Fields {
                kind: MessageType::REQUEST,
                xid: exchange.xid,
                secs: secs_since(exchange.began, now),
                ciaddr: lease.address,
                requested: None,
                server: None,
            },
        )
    }

    /// A DHCPREQUEST in INIT-REBOOT: the address in option 50, `ciaddr` zero, no server
    /// identifier (RFC 2131 §4.3.2).
    fn reboot_request(&self, lease: &Lease, exchange: Exchange, now: Duration) -> Message {
        build(
            &self.config,
            Fields {
                kind: MessageType::REQUEST,
                xid: exchange.xid,
                secs: secs_since(exchange.began, now),
                ciaddr: Ipv4Addr::UNSPECIFIED,
                requested: Some(lease.address),
                server: None,
            },
        )
    }

    /// Where a held lease stands at `now`: expired, past T2, past T1 or still bound.
    /// `began` is when the renewal process began, if it has.
    fn after_bound(
        &self,
        lease: Lease,
        timers: Timers,
        began: Option<Duration>,
        now: Duration,
        rng: &mut dyn Rng,
        out: &mut Output,
    ) -> State {
        if is_due(timers.expires_at, now) {
            out.event(Event::LeaseLost {
                lease,
                reason: LossReason::Expired,
            });
            return State::Init(Init { discover_at: now });
        }
        let began = began.unwrap_or(now);
        if let (true, Some(limit)) = (is_due(timers.rebind_at, now), timers.expires_at) {
            let mut exchange = self.first(began, now, rng);
            exchange.retransmit_at = renew_interval(now, limit);
            out.send(self.renewal(&lease, exchange, now), Destination::Broadcast);
            return State::Rebinding(Rebinding {
                lease,
                timers,
                exchange,
            });
        }
        if let (true, Some(limit)) = (is_due(timers.renew_at, now), timers.rebind_at) {
            let mut exchange = self.first(began, now, rng);
            exchange.retransmit_at = renew_interval(now, limit);
            let request = self.renewal(&lease, exchange, now);
            out.send(request, Destination::Unicast(lease.server_identifier));
            return State::Renewing(Renewing {
                lease,
                timers,
                exchange,
            });
        }
        State::Bound(Bound { lease, timers })
    }

    /// A reply with the expected `xid` in `state`.
    fn reply(
        &self,
        state: State,
        kind: MessageType,
        message: &Message,
        now: Duration,
        rng: &mut dyn Rng,
        out: &mut Output,
    ) -> State {
        let nak_delay = now.saturating_add(self.config.nak_delay);
        match (state, kind) {
            (State::Selecting(mut s), MessageType::OFFER) => {
                let Some(server) = message.server_identifier() else {
                    return State::Selecting(s);
                };
                let address = message.yiaddr;
                let known = s.offers.iter().any(|o| o.server == server);
                if address.is_unspecified() || address.is_broadcast() || known {
                    return State::Selecting(s);
                }
                if s.offers.len() < MAX_OFFERS {
                    s.offers.push(Offer {
                        server,
                        address,
                        message: message.clone(),
                    });
                }
                let end = *s
                    .window_ends
                    .get_or_insert(now.saturating_add(self.config.offer_window));
                if end <= now {
                    return self.choose(s, now, rng, out);
                }
                State::Selecting(s)
            }
            (State::Selecting(s), MessageType::ACK)
                if self.config.uses_rapid_commit()
                    && message.option(OptionCode::RAPID_COMMIT).is_some() =>
            {
                // RFC 4039 §4: a DHCPACK with rapid commit binds at once; without a server
                // identifier there would be nowhere to send renewals.
                let Some(server) = message.server_identifier() else {
                    return State::Selecting(s);
                };
                match Lease::from_ack(message, s.exchange.first_sent, server) {
                    Some(lease) => self.bind(lease, None, out),
                    None => State::Selecting(s),
                }
            }
            (State::Requesting(s), MessageType::ACK) => {
                match Lease::from_ack(message, s.exchange.first_sent, s.offer.server) {
                    Some(lease) => self.bind(lease, None, out),
                    None => State::Requesting(s),
                }
            }
            (State::Requesting(s), MessageType::NAK) => {
                let from = message.server_identifier();
                if from.is_some_and(|id| id != s.offer.server) {
                    return State::Requesting(s);
                }
                State::Init(Init {
                    discover_at: nak_delay,
                })
            }
            (State::Renewing(s), MessageType::ACK) => {
                let server = s.lease.server_identifier;
                match Lease::from_ack(message, s.exchange.first_sent, server) {
                    Some(lease) => self.bind(lease, Some(s.lease), out),
                    None => State::Renewing(s),
                }
            }
            (State::Rebinding(s), MessageType::ACK) => {
                let server = s.lease.server_identifier;
                match Lease::from_ack(message, s.exchange.first_sent, server) {
                    Some(lease) => self.bind(lease, Some(s.lease), out),
                    None => State::Rebinding(s),
                }
            }
            (State::Renewing(Renewing { lease, .. }), MessageType::NAK)
            | (State::Rebinding(Rebinding { lease, .. }), MessageType::NAK) => {
                out.event(Event::LeaseLost {
                    lease,
                    reason: LossReason::Refused,
                });
                State::Init(Init {
                    discover_at: nak_delay,
                })
            }
            (State::Rebooting(s), MessageType::ACK) => {
                let server = s.lease.server_identifier;
                match Lease::from_ack(message, s.exchange.first_sent, server) {
                    Some(lease) => self.bind(lease, None, out),
                    None => State::Rebooting(s),
                }
            }
            (State::Rebooting(_), MessageType::NAK) => State::Init(Init { discover_at: now }),
            (State::Informing(_), MessageType::ACK) => {
                out.event(Event::Informed(message.options.clone()));
                State::Stopped
            }
            (state, _) => state,
        }
    }

    /// → BOUND with `lease`, reporting it as acquired, renewed or changed.
    fn bind(&self, lease: Lease, old: Option<Lease>, out: &mut Output) -> State {
        let timers = lease.timers();
        let event = match old {
            None => Event::LeaseAcquired(lease.clone()),
            Some(old) if old.address == lease.address => Event::LeaseRenewed(lease.clone()),
            Some(old) => Event::LeaseChanged {
                old,
                new: lease.clone(),
            },
        };
        out.event(event);
        State::Bound(Bound { lease, timers })
    }
}
