//! Failed-login throttling (SPEC §7: 429 after too many failed logins), per username and per
//! client address, counted in the database so that every server process on it shares the
//! counts (no shared memory needed).
//!
//! * **Counted before the password is checked.** An attempt is counted atomically against
//!   the client's address, then against the username (lowercased), and refused with 429 when
//!   either count is over its limit; the password is not checked then. Concurrent attempts
//!   each get their own count, so a limit of N lets exactly N attempts through per window,
//!   across processes, however many race.
//! * **A success** gives its attempt back on the address and clears the username's count. It
//!   does not clear the address's count: an attacker holding one valid account could otherwise
//!   reset its address's count between guesses at other accounts.
//! * **An address over its limit** is refused before its attempt is counted against the
//!   username, so one address cannot fill the table with usernames.
//! * **A refused attempt stays counted** (also on the address when the username refused it):
//!   it only shortens an attacker's budget, and windows are fixed, so it never extends one.
//! * **Clocks**: windows are stamped with the clock of the process that opened them; several
//!   processes should keep their clocks in sync (a skew shifts a window's end by as much).
//! * **What it costs the victim**: anyone can use up a username's failures and so delay that
//!   user's logins for one window; nobody can guess passwords faster than the limits allow.
//!   Many users behind one address (NAT) share the address limit, which is why it is larger.
//! * **The client's address** is the peer's IP; with `trust_forwarded_for`, the rightmost
//!   `X-Forwarded-For` entry (the one the proxy in front appended). IPv6 addresses count per
//!   /64 network, the block one subscriber usually holds.

use std::{
    net::{IpAddr, Ipv6Addr},
    time::Duration,
};

use chrono::Utc;
use orgtenancy_server_store::{LoginAttempts, MAX_THROTTLE_KEY, ThrottleKind, ThrottleStore};
use orgtenancy_sqlx::StoreResult;
use poem::Request;

use crate::ServerConfig;

/// The header a reverse proxy puts the client's address in.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// The limits on login attempts, and where a client's address comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoginThrottle {
    per_username: u32,
    per_address: u32,
    window: Duration,
    trust_forwarded_for: bool,
}

/// What the throttle says about one login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Go on and check the password; report the outcome to [`LoginThrottle::succeeded`].
    Admitted(Attempt),
    /// Refuse with 429.
    Throttled(Throttled),
}

/// An admitted attempt: the keys it was counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attempt {
    username: Option<String>,
    address: Option<String>,
}

/// A refused attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Throttled {
    /// Seconds until the window that refused it ends (at least 1).
    pub(crate) retry_after: u64,
    /// What was over its limit.
    pub(crate) by: ThrottleKind,
    /// Whether this is the first refusal of its window: only that one is audited, so an
    /// attacker hammering a blocked key cannot grow the audit log without bound.
    pub(crate) first: bool,
}

impl LoginThrottle {
    pub(crate) fn new(config: &ServerConfig) -> LoginThrottle {
        LoginThrottle {
            per_username: config.max_login_failures,
            per_address: config.max_login_failures_per_address,
            window: config.login_failure_window,
            trust_forwarded_for: config.trust_forwarded_for,
        }
    }

    /// The address `request` is counted under (see the module documentation).
    pub(crate) fn client_address(&self, request: &Request) -> String {
        let forwarded = if self.trust_forwarded_for {
            forwarded_for(request)
        } else {
            None
        };
        let peer = || request.remote_addr().as_socket_addr().map(|addr| addr.ip());
        match forwarded.or_else(peer) {
            Some(ip) => address_key(ip),
            // A Unix socket or a test client: every caller shares one count.
            None => truncate(&request.remote_addr().to_string()),
        }
    }

    /// Counts an attempt for `username` from `address` (a key from
    /// [`LoginThrottle::client_address`]); a limit of 0 is no limit and counts nothing.
    pub(crate) async fn admit(
        &self,
        store: &dyn ThrottleStore,
        username: &str,
        address: &str,
    ) -> StoreResult<Admission> {
        let mut attempt = Attempt {
            username: None,
            address: None,
        };
        // The address first: an address over its limit adds no username rows.
        let checks = [
            (ThrottleKind::Address, self.per_address, address.to_owned()),
            (
                ThrottleKind::Username,
                self.per_username,
                username_key(username),
            ),
        ];
        for (kind, limit, key) in checks {
            if limit == 0 {
                continue;
            }
            let counted = store.count_login_attempt(kind, &key, self.window).await?;
            if counted.count > limit {
                return Ok(Admission::Throttled(self.throttled(kind, limit, counted)));
            }
            if kind == ThrottleKind::Username {
                attempt.username = Some(key);
            } else {
                attempt.address = Some(key);
            }
        }
        Ok(Admission::Admitted(attempt))
    }

    /// After a successful login: clears the username's count and gives the attempt back on
    /// the address (earlier failures from the address stay counted).
    pub(crate) async fn succeeded(
        &self,
        store: &dyn ThrottleStore,
        attempt: Attempt,
    ) -> StoreResult<()> {
        if let Some(username) = attempt.username {
            store
                .clear_login_attempts(ThrottleKind::Username, &username)
                .await?;
        }
        if let Some(address) = attempt.address {
            store
                .forgive_login_attempt(ThrottleKind::Address, &address)
                .await?;
        }
        Ok(())
    }

    fn throttled(&self, by: ThrottleKind, limit: u32, counted: LoginAttempts) -> Throttled {
        let elapsed = (Utc::now() - counted.window_start)
            .to_std()
            .unwrap_or_default();
        let remaining = self.window.saturating_sub(elapsed);
        // Round up: a client that waits `Retry-After` seconds finds the window over.
        let retry_after = remaining
            .as_secs()
            .saturating_add(u64::from(remaining.subsec_nanos() > 0))
            .max(1);
        Throttled {
            retry_after,
            by,
            first: counted.count == limit.saturating_add(1),
        }
    }
}

/// The key of a username: lowercased (usernames are compared case-insensitively here), cut
/// to the longest username there can be.
pub(crate) fn username_key(username: &str) -> String {
    truncate(&username.to_lowercase())
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_THROTTLE_KEY).collect()
}

/// The rightmost well-formed address of the last `X-Forwarded-For` header: the one the proxy
/// in front of the server appended (entries to its left are whatever the client sent).
fn forwarded_for(request: &Request) -> Option<IpAddr> {
    let header = request
        .headers()
        .get_all(FORWARDED_FOR)
        .iter()
        .next_back()?;
    let rightmost = header.to_str().ok()?.rsplit(',').next()?;
    rightmost.trim().parse().ok()
}

/// The key of an address: IPv4 as is (also when mapped into IPv6), IPv6 by its /64 network.
fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !(u128::from(u64::MAX));
            format!("{}/64", Ipv6Addr::from(network))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(trust_forwarded_for: bool) -> LoginThrottle {
        LoginThrottle::new(&ServerConfig {
            trust_forwarded_for,
            ..ServerConfig::default()
        })
    }

    fn request(peer: &str, forwarded: &[&str]) -> Request {
        use poem::{
            Addr, Body, RequestParts,
            http::uri::Scheme,
            web::{LocalAddr, RemoteAddr},
        };
        let mut builder = poem::http::Request::builder();
        for value in forwarded {
            builder = builder.header(FORWARDED_FOR, *value);
        }
        let (parts, ()) = builder.body(()).unwrap().into_parts();
        let peer = Addr::SocketAddr(peer.parse().unwrap());
        let parts = RequestParts::from((
            parts,
            LocalAddr(peer.clone()),
            RemoteAddr(peer),
            Scheme::HTTP,
        ));
        Request::from_parts(parts, Body::empty())
    }

    #[test]
    fn client_addresses() {
        let rows: [(bool, &str, &[&str], &str); 8] = [
            (false, "192.0.2.1:4000", &[], "192.0.2.1"),
            // Not trusted: the header is ignored.
            (false, "192.0.2.1:4000", &["198.51.100.7"], "192.0.2.1"),
            (true, "192.0.2.1:4000", &["198.51.100.7"], "198.51.100.7"),
            // The rightmost entry of the last header; what the client wrote to its left is not.
            (
                true,
                "192.0.2.1:4000",
                &["10.0.0.1", "203.0.113.5, 198.51.100.7"],
                "198.51.100.7",
            ),
            // A malformed entry: the peer counts.
            (true, "192.0.2.1:4000", &["unknown"], "192.0.2.1"),
            // IPv6 by /64; IPv4 mapped into IPv6 as IPv4.
            (
                false,
                "[2001:db8:1:2:3:4:5:6]:4000",
                &[],
                "2001:db8:1:2::/64",
            ),
            (false, "[::ffff:192.0.2.9]:4000", &[], "192.0.2.9"),
            (true, "192.0.2.1:4000", &["2001:db8::1"], "2001:db8::/64"),
        ];
        for (trust, peer, forwarded, expected) in rows {
            let request = request(peer, forwarded);
            assert_eq!(
                throttle(trust).client_address(&request),
                expected,
                "{trust} {peer} {forwarded:?}"
            );
        }
    }

    #[test]
    fn usernames_count_case_insensitively_and_bounded() {
        assert_eq!(username_key("Ann"), username_key("aNN"));
        let long = "é".repeat(MAX_THROTTLE_KEY * 2);
        assert_eq!(username_key(&long).chars().count(), MAX_THROTTLE_KEY);
    }

    #[test]
    fn retry_after_ends_the_window_and_only_the_first_refusal_is_audited() {
        let throttle = throttle(false);
        let window_start = Utc::now();
        let counted = |count| LoginAttempts {
            count,
            window_start,
        };
        let first = throttle.throttled(ThrottleKind::Username, 10, counted(11));
        assert!(first.first);
        assert!((1..=throttle.window.as_secs()).contains(&first.retry_after));
        assert!(
            !throttle
                .throttled(ThrottleKind::Username, 10, counted(12))
                .first
        );
    }
}
