//! Who may fetch a phone's files over the internet: per-phone URL tokens, the provisioning
//! window, and the miss counter that stops MAC and token guessing. The edge stores the
//! state; these functions decide.
//!
//! Tokens (after Tancredi's tok1/tok2): a phone has a **first-access token**, random (the
//! caller supplies the bytes), given to the vendor's redirection service; and a
//! **steady-state token**, derived with HMAC-SHA256 from a server key, the phone's id and a
//! generation number, which the served config writes into the phone's provisioning URL. The
//! first use of the steady-state token retires the first-access one. Only SHA-256 hashes of
//! tokens are stored, so a leaked database yields no usable URL.

use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::encoding::hex;

/// Length of a token in characters (lowercase hex, 128 bits).
pub const TOKEN_LEN: usize = 32;

/// `true` if `s` looks like a token (32 lowercase hex characters). Checked before any
/// lookup, so junk never reaches storage.
pub fn is_token_shaped(s: &str) -> bool {
    s.len() == TOKEN_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The first-access token made from 16 random bytes supplied by the caller.
pub fn first_access_token(random: [u8; 16]) -> String {
    hex(&random)
}

/// The steady-state token of phone `phone_id` at `generation` (bumped to rotate it).
pub fn steady_token(key: &[u8], phone_id: &str, generation: u32) -> String {
    // invariant: HMAC accepts keys of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC-SHA256 takes keys of any length")
    };
    mac.update(b"steady-token\0");
    mac.update(phone_id.as_bytes());
    mac.update(b"\0");
    mac.update(&generation.to_be_bytes());
    let out = mac.finalize().into_bytes();
    hex(out.get(..TOKEN_LEN / 2).unwrap_or(&out))
}

/// The site-wide token in `/s/<site>/<token>/` at `generation` (bumped to rotate it): the URL
/// given to a redirection service that takes no URL per phone (Grandstream GDMS sets the
/// provisioning server per GDMS site). Such a URL identifies no phone, so the edge serves a
/// phone under it only with the HTTP Basic credentials set for that phone.
///
/// Generation 0 is the token sites had before tokens had generations, so a URL already set
/// at a redirection service keeps working until the site's token is first rotated.
pub fn site_token(key: &[u8], site_id: &str, generation: u32) -> String {
    // invariant: HMAC accepts keys of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC-SHA256 takes keys of any length")
    };
    if generation == 0 {
        mac.update(b"site-token\0");
    } else {
        // Fixed-length generation before the id: no (id, generation) pair reads as another.
        mac.update(b"site-token/g\0");
        mac.update(&generation.to_be_bytes());
    }
    mac.update(site_id.as_bytes());
    let out = mac.finalize().into_bytes();
    hex(out.get(..TOKEN_LEN / 2).unwrap_or(&out))
}

/// The password of the provisioning account a LAN relay gives the phone `mac` before it is
/// bound (star-code binding): HMAC-SHA256 under the relay's own key, 16 bytes as hex, so the
/// relay derives it again when the phone registers instead of storing it.
pub fn provisioning_password(key: &[u8], mac: &crate::mac::Mac) -> String {
    // invariant: HMAC accepts keys of any length.
    let Ok(mut h) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC-SHA256 takes keys of any length")
    };
    h.update(b"provisioning-account\0");
    h.update(mac.to_string().as_bytes());
    let out = h.finalize().into_bytes();
    hex(out.get(..TOKEN_LEN / 2).unwrap_or(&out))
}

/// The stored form of a token: lowercase hex SHA-256.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// What a phone's `Authorization` header says against the HTTP Basic credentials the admin
/// set for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicAuth {
    /// No credentials, or another scheme: the phone should be challenged.
    Missing,
    /// The user name and password both match.
    Granted,
    /// Credentials that do not match (or do not decode).
    Refused,
}

/// Checks an `Authorization` header value against `user` and `password` (RFC 7617 Basic).
/// Both are compared in constant time, and both always, so timing tells nothing about which
/// part was wrong.
pub fn basic_auth(header: Option<&str>, user: &str, password: &str) -> BasicAuth {
    use base64::Engine as _;
    let Some(h) = header.map(str::trim) else {
        return BasicAuth::Missing;
    };
    let Some((scheme, b64)) = h.split_once(' ') else {
        return BasicAuth::Missing;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return BasicAuth::Missing;
    }
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return BasicAuth::Refused;
    };
    let Some(colon) = raw.iter().position(|&b| b == b':') else {
        return BasicAuth::Refused;
    };
    let (u, p) = raw.split_at(colon);
    let p = p.get(1..).unwrap_or_default();
    let user_ok = crate::secret::ct_eq(u, user.as_bytes());
    let password_ok = crate::secret::ct_eq(p, password.as_bytes());
    if user_ok & password_ok {
        BasicAuth::Granted
    } else {
        BasicAuth::Refused
    }
}

/// Whether a phone may still fetch its secrets for the first time: it has fetched them
/// before, or `now` is within `window_secs` of the moment it was assigned (or the admin
/// reopened the window). Times are seconds since the Unix epoch.
pub fn window_open(
    assigned_at: u64,
    first_fetch_at: Option<u64>,
    now: u64,
    window_secs: u64,
) -> bool {
    first_fetch_at.is_some() || now <= assigned_at.saturating_add(window_secs)
}

/// The key a client address's misses are counted under: an IPv4 address as it is, an IPv6
/// address by its /64 (one subscriber gets a whole /64, so counting per address would give
/// a guesser 2^64 fresh counters), an IPv4-mapped IPv6 address as its IPv4 address.
pub fn client_key(ip: std::net::IpAddr) -> String {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
    }
}

/// How many misses (unknown token, token that does not match the MAC asked for, wrong
/// credentials) a client address, or a phone, may make before it is cooled off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissPolicy {
    /// Misses allowed within `window_secs`.
    pub threshold: u32,
    /// The counting window, in seconds.
    pub window_secs: u64,
    /// How long an address is refused after crossing the threshold, in seconds.
    pub cooloff_secs: u64,
}

impl MissPolicy {
    /// Per client address (see [`client_key`]): 20 misses in 10 minutes, then 15 minutes.
    pub const ADDRESS: Self = Self {
        threshold: 20,
        window_secs: 600,
        cooloff_secs: 900,
    };
    /// Per phone, for HTTP Basic guesses under a site URL, which come from any number of
    /// addresses: 10 in an hour, then an hour. A phone's own token URL is not braked by it.
    pub const PHONE_CREDENTIALS: Self = Self {
        threshold: 10,
        window_secs: 3600,
        cooloff_secs: 3600,
    };
}

impl Default for MissPolicy {
    fn default() -> Self {
        Self::ADDRESS
    }
}

/// The miss state of one client address, as the shell stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MissCounter {
    /// Start of the current counting window.
    pub window_start: u64,
    /// Misses counted in it.
    pub count: u32,
    /// Refused until this time (0 = not refused).
    pub locked_until: u64,
}

impl MissCounter {
    /// `true` while the address is cooled off.
    pub fn is_locked(&self, now: u64) -> bool {
        now < self.locked_until
    }

    /// Counts a miss at `now`; returns `true` if the address is now locked.
    ///
    /// Only misses count. A phone with a valid token is served even from a locked address,
    /// so an office behind one NAT address is never locked out by its own phones.
    ///
    /// The edge counts in SQL, with the same [`MissPolicy`] (edge-worker `store::count_miss`):
    /// a change to this rule changes that statement too.
    pub fn record_miss(&mut self, now: u64, policy: &MissPolicy) -> bool {
        if self.locked_until != 0 && now >= self.locked_until {
            // A served cool-off starts a clean slate.
            *self = Self::default();
        }
        if now >= self.window_start.saturating_add(policy.window_secs) {
            self.window_start = now;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        if self.count >= policy.threshold {
            self.locked_until = now.saturating_add(policy.cooloff_secs);
        }
        self.is_locked(now)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn provisioning_passwords_are_per_key_and_per_mac() {
        use super::provisioning_password;
        let a = crate::mac::Mac::parse("001565aabbcc").unwrap();
        let b = crate::mac::Mac::parse("001565aabbcd").unwrap();
        let p = provisioning_password(b"k1", &a);
        assert_eq!(p.len(), 32);
        assert!(p.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            p,
            provisioning_password(b"k1", &a),
            "derived again, not stored"
        );
        assert_ne!(p, provisioning_password(b"k2", &a));
        assert_ne!(p, provisioning_password(b"k1", &b));
    }

    #[test]
    fn basic_auth_checks_user_and_password() {
        use super::{basic_auth, BasicAuth};
        // "phone:s3cret:x" -- the password may contain colons.
        let ok = "Basic cGhvbmU6czNjcmV0Ong=";
        assert_eq!(
            basic_auth(Some(ok), "phone", "s3cret:x"),
            BasicAuth::Granted
        );
        assert_eq!(
            basic_auth(Some("basic  cGhvbmU6czNjcmV0Ong= "), "phone", "s3cret:x"),
            BasicAuth::Granted
        );
        assert_eq!(basic_auth(Some(ok), "phone", "s3cret"), BasicAuth::Refused);
        assert_eq!(
            basic_auth(Some(ok), "Phone", "s3cret:x"),
            BasicAuth::Refused
        );
        assert_eq!(basic_auth(None, "phone", "x"), BasicAuth::Missing);
        assert_eq!(
            basic_auth(Some("Bearer abc"), "phone", "x"),
            BasicAuth::Missing
        );
        assert_eq!(basic_auth(Some("Basic"), "phone", "x"), BasicAuth::Missing);
        assert_eq!(
            basic_auth(Some("Basic !!!"), "phone", "x"),
            BasicAuth::Refused
        );
        // "nocolon"
        assert_eq!(
            basic_auth(Some("Basic bm9jb2xvbg=="), "nocolon", ""),
            BasicAuth::Refused
        );
        // ":" -- empty user and password never match a configured user.
        assert_eq!(
            basic_auth(Some("Basic Og=="), "phone", "x"),
            BasicAuth::Refused
        );
    }

    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn tokens() {
        let t1 = first_access_token([0xab; 16]);
        assert_eq!(t1, "ab".repeat(16));
        assert!(is_token_shaped(&t1));
        let t2 = steady_token(b"key", "phone-1", 0);
        assert!(is_token_shaped(&t2));
        assert_eq!(t2, steady_token(b"key", "phone-1", 0), "deterministic");
        assert_ne!(t2, steady_token(b"key", "phone-1", 1), "generation rotates");
        assert_ne!(t2, steady_token(b"key", "phone-2", 0));
        assert_ne!(t2, steady_token(b"other", "phone-1", 0));
        let s = site_token(b"key", "site-1", 0);
        assert!(is_token_shaped(&s));
        assert_eq!(s, site_token(b"key", "site-1", 0));
        assert_ne!(s, site_token(b"key", "site-2", 0));
        assert_ne!(s, site_token(b"other", "site-1", 0));
        // Generation 0 is the token of before generations: HMAC-SHA256(key, "site-token\0" + id).
        assert_eq!(s, {
            let mut m = Hmac::<Sha256>::new_from_slice(b"key").unwrap();
            m.update(b"site-token\0site-1");
            hex(&m.finalize().into_bytes()[..16])
        });
        assert_ne!(s, site_token(b"key", "site-1", 1), "generation rotates");
        assert_ne!(
            site_token(b"key", "site-1", 1),
            site_token(b"key", "site-1", 2)
        );
        // Domain-separated from the phones' tokens.
        assert_ne!(s, steady_token(b"key", "site-1", 0));
        for bad in [
            "",
            "AB".repeat(16).as_str(),
            &"g".repeat(32),
            &"a".repeat(31),
            &"a".repeat(33),
        ] {
            assert!(!is_token_shaped(bad), "{bad}");
        }
        // SHA-256("abc"), a published test vector.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn window() {
        assert!(window_open(1000, None, 1000 + 3600, 3600));
        assert!(!window_open(1000, None, 1000 + 3601, 3600));
        assert!(window_open(1000, Some(1500), 99_999, 3600));
        assert!(window_open(u64::MAX, None, u64::MAX, u64::MAX));
    }

    #[test]
    fn client_keys() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        // Every address of a /64 is one client; the next /64 is another.
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:3::1"), "2001:db8:1:3::/64");
        assert_eq!(key("::1"), "::/64");
        // An IPv4-mapped address is its IPv4 address, not the /64 shared by all of them.
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
    }

    #[test]
    fn misses_lock_then_expire() {
        let p = MissPolicy {
            threshold: 3,
            window_secs: 60,
            cooloff_secs: 100,
        };
        let mut c = MissCounter::default();
        assert!(!c.record_miss(10, &p));
        assert!(!c.record_miss(20, &p));
        assert!(c.record_miss(30, &p));
        assert!(c.is_locked(129));
        assert!(!c.is_locked(130));
        // After the cool-off the count starts again.
        assert!(!c.record_miss(130, &p));
        assert_eq!(c.count, 1);
        // A new window starts the count again.
        let mut c = MissCounter::default();
        c.record_miss(0, &p);
        c.record_miss(1, &p);
        assert!(!c.record_miss(61, &p));
        assert_eq!(c.count, 1);
    }
}
