//! HTTP digest authentication as the star-code registrar uses it (RFC 3261 §22, RFC 2617 /
//! RFC 7616 with MD5 and `qop="auth"`; the RFC 2069 form without `qop` too, which some old
//! firmware sends), and the stateless nonces it issues. Strings in, verdicts out: no I/O, no
//! clock (the caller passes `now`), no randomness.
//!
//! A nonce is its issue time (milliseconds since the epoch, 12 hex digits) followed by 16
//! bytes of HMAC-SHA256(key, time ":" realm ":" client address) in hex: the registrar keeps
//! no table of the nonces it gave out, it recognises its own by the signature. The client
//! address is the one the challenge was sent to: a nonce is good only from there, so a
//! request sent blind with a forged source address (to pass the star code's ARP check as
//! another device) cannot answer a challenge it never received. One issued more than the
//! lifetime ago is stale (`401 ... stale=true`, RFC 2617 §3.2.1); one from more than a second
//! in the future (a clock stepped back) is not trusted. `nc` is not tracked, so a nonce can
//! be replayed within its lifetime (see the registrar's docs for why that is harmless).
//!
//! Nothing here logs, and the verdicts never carry the password, HA1 or the response hash.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use engine::encoding::{hex, hmac_sha256, md5_hex};
use engine::{Mac, Secret};

/// The digest `response` (RFC 2617 §3.2.2.1): with `qop` = `(nc, cnonce, qop)`,
/// MD5(HA1:nonce:nc:cnonce:qop:HA2); without (RFC 2069), MD5(HA1:nonce:HA2); where
/// HA1 = MD5(user:realm:password), HA2 = MD5(method:uri).
pub(crate) fn digest_response(
    user: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<(&str, &str, &str)>,
) -> String {
    let h = |parts: &[&str]| md5_hex(parts.join(":").as_bytes());
    let ha1 = h(&[user, realm, password]);
    let ha2 = h(&[method, uri]);
    match qop {
        Some((nc, cnonce, qop)) => h(&[&ha1, nonce, nc, cnonce, qop, &ha2]),
        None => h(&[&ha1, nonce, &ha2]),
    }
}

/// Splits an `Authorization` value `Digest a=b, c="d,e"` into its parameters (names
/// lowercased, quotes and escapes removed); `None` when it is not a Digest credential, a
/// parameter has no `=`, a quote is not closed, or there are more than 32 parameters.
pub fn digest_params(value: &str) -> Option<HashMap<String, String>> {
    let (scheme, rest) = value.trim().split_once([' ', '\t'])?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return None;
    }
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            name.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        chars.next_if_eq(&'=')?;
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut val = String::new();
        if chars.next_if_eq(&'"').is_some() {
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => val.push(chars.next()?),
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => val.push(c),
                }
            }
            if !closed {
                return None;
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                val.push(c);
                chars.next();
            }
        }
        if name.is_empty() || out.len() >= 32 {
            return None;
        }
        out.insert(name.to_ascii_lowercase(), val);
    }
    Some(out)
}

/// What a nonce is worth at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceState {
    /// Ours and within its lifetime.
    Valid,
    /// Ours, but older than its lifetime.
    Stale,
    /// Not ours (bad signature, wrong realm, malformed, or from the future).
    Invalid,
}

/// The verdict on a request's digest credentials.
#[derive(Debug)]
pub(crate) enum Auth {
    /// Authenticated as `user`, the account of `mac`.
    Ok {
        /// The digest `username`.
        user: String,
        /// The account's MAC.
        mac: Mac,
    },
    /// No usable credentials, or a nonce we did not issue (`stale: false`), or a correct
    /// answer to an expired nonce (`stale: true`): challenge again.
    Challenge {
        /// Whether to say `stale=true`.
        stale: bool,
    },
    /// An unknown user, a wrong password, or a digest `uri` other than the Request-URI: one
    /// answer for all, with the reason for the log only.
    Forbidden(&'static str),
}

/// Milliseconds since the epoch, as nonces count them (0 before the epoch).
fn epoch_ms(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The registrar's digest authority: its realm, and the key and lifetime of its nonces.
#[derive(Clone, Copy)]
pub(crate) struct Authority<'a> {
    /// The digest realm.
    pub(crate) realm: &'a str,
    /// The key nonces are signed with.
    pub(crate) key: &'a [u8; 32],
    /// How long an issued nonce is valid.
    pub(crate) lifetime: Duration,
    /// The address the nonce is issued to and accepted from.
    pub(crate) client: std::net::IpAddr,
}

impl Authority<'_> {
    /// A nonce issued at `ms` milliseconds since the epoch (see the module docs).
    fn nonce_at(&self, ms: u64) -> String {
        let t = format!("{ms:012x}");
        let mac = hmac_sha256(
            self.key,
            format!("{t}:{}:{}", self.realm, self.client).as_bytes(),
        );
        format!("{t}{}", hex(mac.get(..16).unwrap_or_default()))
    }

    /// A fresh nonce, issued `now`.
    pub(crate) fn nonce(&self, now: SystemTime) -> String {
        self.nonce_at(epoch_ms(now))
    }

    /// What `nonce` is worth `now`.
    pub(crate) fn check_nonce(&self, nonce: &str, now: SystemTime) -> NonceState {
        if nonce.len() != 44 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return NonceState::Invalid;
        }
        let Some(t) = nonce.get(..12) else {
            return NonceState::Invalid;
        };
        let Ok(ms) = u64::from_str_radix(t, 16) else {
            return NonceState::Invalid;
        };
        let want = self.nonce_at(ms);
        if !engine::ct_eq(want.as_bytes(), nonce.to_ascii_lowercase().as_bytes()) {
            return NonceState::Invalid;
        }
        let now = epoch_ms(now);
        let life = u64::try_from(self.lifetime.as_millis()).unwrap_or(u64::MAX);
        // A nonce from the future (clock stepped back) more than a second: not ours to trust.
        if ms > now.saturating_add(1000) {
            return NonceState::Invalid;
        }
        if now.saturating_sub(ms) > life {
            NonceState::Stale
        } else {
            NonceState::Valid
        }
    }

    /// The `WWW-Authenticate`/`Proxy-Authenticate` value of a challenge issued `now`.
    pub(crate) fn challenge(&self, now: SystemTime, stale: bool) -> String {
        let nonce = self.nonce(now);
        // The realm goes inside a quoted string: what could end it is left out.
        let realm = self.realm.replace(['"', '\\'], "");
        let stale = if stale { ", stale=true" } else { "" };
        format!("Digest realm=\"{realm}\", nonce=\"{nonce}\", qop=\"auth\", algorithm=MD5{stale}")
    }

    /// Checks the digest credentials among `credentials` (the values of the request's
    /// `Authorization`-type headers; the first for our realm counts) of a request `method`
    /// to `request_uri`, `now`. `account` looks up a user's MAC and password; it is asked
    /// only once the nonce is known to be ours.
    pub(crate) fn authenticate<'c>(
        &self,
        credentials: impl IntoIterator<Item = &'c str>,
        method: &str,
        request_uri: Option<&str>,
        now: SystemTime,
        account: impl FnOnce(&str) -> Option<(Mac, Secret<String>)>,
    ) -> Auth {
        let realm = self.realm;
        let creds = credentials
            .into_iter()
            .filter_map(digest_params)
            .find(|p| p.get("realm").map(String::as_str) == Some(realm));
        let Some(p) = creds else {
            return Auth::Challenge { stale: false };
        };
        let get = |k: &str| p.get(k).map(String::as_str);
        let (Some(user), Some(nonce), Some(uri), Some(resp)) =
            (get("username"), get("nonce"), get("uri"), get("response"))
        else {
            return Auth::Challenge { stale: false };
        };
        if get("algorithm").is_some_and(|a| !a.eq_ignore_ascii_case("MD5")) {
            return Auth::Challenge { stale: false };
        }
        let qop = match get("qop") {
            None => None,
            Some(q) if q.eq_ignore_ascii_case("auth") => {
                let (Some(nc), Some(cnonce)) = (get("nc"), get("cnonce")) else {
                    return Auth::Challenge { stale: false };
                };
                if nc.len() != 8 || !nc.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Auth::Challenge { stale: false };
                }
                Some((nc, cnonce, q))
            }
            Some(_) => return Auth::Challenge { stale: false },
        };
        let state = self.check_nonce(nonce, now);
        if state == NonceState::Invalid {
            return Auth::Challenge { stale: false };
        }
        let Some((mac, password)) = account(user) else {
            return Auth::Forbidden("unknown account");
        };
        if Some(uri) != request_uri {
            return Auth::Forbidden("digest uri is not the Request-URI");
        }
        let want = digest_response(user, realm, password.expose(), method, uri, nonce, qop);
        if !engine::ct_eq(want.as_bytes(), resp.to_ascii_lowercase().as_bytes()) {
            return Auth::Forbidden("wrong password");
        }
        if state == NonceState::Stale {
            return Auth::Challenge { stale: true };
        }
        Auth::Ok {
            user: user.to_owned(),
            mac,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIFE: Duration = Duration::from_secs(300);

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn authority(key: &[u8; 32]) -> Authority<'_> {
        Authority {
            realm: "relay.test",
            key,
            lifetime: LIFE,
            client: std::net::IpAddr::from([192, 168, 1, 20]),
        }
    }

    #[test]
    fn a_nonce_is_good_only_from_the_address_it_was_issued_to() {
        let key = [7; 32];
        let a = authority(&key);
        let n = a.nonce(at(1_000_000));
        assert_eq!(a.check_nonce(&n, at(1_000_500)), NonceState::Valid);
        let elsewhere = Authority {
            client: std::net::IpAddr::from([192, 168, 1, 21]),
            ..a
        };
        assert_eq!(
            elsewhere.check_nonce(&n, at(1_000_500)),
            NonceState::Invalid
        );
    }

    #[test]
    fn rfc2617_example() {
        // RFC 2617 §3.5 (the response as errata 1649 corrects it).
        let r = digest_response(
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            Some(("00000001", "0a4f113b", "auth")),
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn sip_register_digest_with_and_without_qop() {
        // Computed independently (Python's hashlib) from the RFC 2617 / RFC 2069 formulas.
        let nonce = format!("018bcfe56800{}", "0".repeat(32));
        let nonce = nonce.as_str();
        let r = |qop| {
            digest_response(
                "001565aabbcc",
                "relay.test",
                "s3cret-per-phone",
                "REGISTER",
                "sip:relay.test",
                nonce,
                qop,
            )
        };
        assert_eq!(
            r(Some(("00000001", "c0ffee", "auth"))),
            "e082d713943db5bb0719f12ed00e5848"
        );
        assert_eq!(r(None), "d5be3cc968a381be6117b18055baae4a");
    }

    #[test]
    fn digest_header_parsing() {
        let p = digest_params(
            r#"Digest username="Mufasa", realm="testrealm@host.com",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth,
            nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1",
            opaque="5ccc069c403ebaf9f0171e9517f40e41", x="a\"b,c""#,
        )
        .unwrap();
        assert_eq!(p["username"], "Mufasa");
        assert_eq!(p["qop"], "auth");
        assert_eq!(p["nc"], "00000001");
        assert_eq!(p["x"], "a\"b,c");
        assert!(digest_params("Basic abc").is_none());
        assert!(digest_params("Digest a=\"open").is_none());
        assert!(digest_params("Digest a").is_none());
        assert!(digest_params("").is_none());
    }

    /// The HMAC the registrar used before `engine::encoding` (a 32-byte key, zero-padded to
    /// the block): kept here to show the nonces did not change.
    fn reference_hmac(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
        use sha2::{Digest as _, Sha256};
        let mut ipad = [0x36u8; 64];
        let mut opad = [0x5cu8; 64];
        for ((i, o), k) in ipad.iter_mut().zip(opad.iter_mut()).zip(key) {
            *i ^= k;
            *o ^= k;
        }
        let inner = Sha256::new()
            .chain_update(ipad)
            .chain_update(msg)
            .finalize();
        Sha256::new()
            .chain_update(opad)
            .chain_update(inner)
            .finalize()
            .into()
    }

    #[test]
    fn nonce_format_is_unchanged() {
        for key in [
            [0u8; 32],
            [7; 32],
            [0xff; 32],
            core::array::from_fn(|i| i as u8),
        ] {
            for msg in [&b""[..], b"0000000f4240:r", &[0xa5; 200]] {
                assert_eq!(hmac_sha256(&key, msg), reference_hmac(&key, msg));
            }
        }
        // Pinned values, computed with Python's hmac module.
        let a = Authority {
            realm: "r",
            key: &[7; 32],
            lifetime: LIFE,
            client: std::net::IpAddr::from([192, 0, 2, 1]),
        };
        assert_eq!(
            a.nonce(at(1_000_000)),
            "0000000f424014bd339a7bf81300211059e0e9334569"
        );
        let key = core::array::from_fn(|i| i as u8);
        assert_eq!(
            authority(&key).nonce(at(1_700_000_000_000)),
            "018bcfe5680094074796dea074feaffc2d1bb8a32945"
        );
    }

    #[test]
    fn nonces_expire_on_the_clock_passed_in_and_are_signed() {
        let k = [7u8; 32];
        let a = Authority {
            realm: "r",
            key: &k,
            lifetime: LIFE,
            client: std::net::IpAddr::from([192, 0, 2, 1]),
        };
        let n = a.nonce(at(1_000_000));
        assert_eq!(a.check_nonce(&n, at(1_000_500)), NonceState::Valid);
        assert_eq!(
            a.check_nonce(&n.to_ascii_uppercase(), at(1_000_500)),
            NonceState::Valid
        );
        assert_eq!(a.check_nonce(&n, at(1_300_000)), NonceState::Valid);
        assert_eq!(a.check_nonce(&n, at(1_300_001)), NonceState::Stale);
        // Up to a second from the future is clock jitter; more is not ours.
        assert_eq!(a.check_nonce(&n, at(999_000)), NonceState::Valid);
        assert_eq!(a.check_nonce(&n, at(998_999)), NonceState::Invalid);
        let other_realm = Authority {
            realm: "other",
            ..a
        };
        assert_eq!(
            other_realm.check_nonce(&n, at(1_000_500)),
            NonceState::Invalid
        );
        let other_key = Authority { key: &[8; 32], ..a };
        assert_eq!(
            other_key.check_nonce(&n, at(1_000_500)),
            NonceState::Invalid
        );
        let mut forged = n.clone();
        forged.replace_range(0..12, &format!("{:012x}", 1_000_400u64));
        assert_eq!(a.check_nonce(&forged, at(1_000_500)), NonceState::Invalid);
        assert_eq!(a.check_nonce("zz", at(0)), NonceState::Invalid);
        assert_eq!(a.check_nonce(&n, UNIX_EPOCH), NonceState::Invalid);
    }

    #[test]
    fn challenge_names_realm_nonce_and_staleness() {
        let k = [7u8; 32];
        let a = Authority {
            realm: "a \"quoted\\\" realm",
            key: &k,
            lifetime: LIFE,
            client: std::net::IpAddr::from([192, 0, 2, 1]),
        };
        let c = a.challenge(at(1_000_000), false);
        let p = digest_params(&c).unwrap();
        assert_eq!(p["realm"], "a quoted realm");
        assert_eq!(p["nonce"], a.nonce(at(1_000_000)));
        assert_eq!(p["qop"], "auth");
        assert_eq!(p["algorithm"], "MD5");
        assert!(!p.contains_key("stale"));
        assert!(a.challenge(at(1), true).ends_with(", stale=true"));
    }

    /// The credentials a phone sends for `password`, answering `nonce`.
    fn credentials(password: &str, uri: &str, nonce: &str) -> String {
        let resp = digest_response(
            "001565aabbcc",
            "relay.test",
            password,
            "REGISTER",
            uri,
            nonce,
            Some(("00000001", "c0ffee", "auth")),
        );
        format!(
            "Digest username=\"001565aabbcc\", realm=\"relay.test\", nonce=\"{nonce}\", \
             uri=\"{uri}\", response=\"{resp}\", qop=auth, nc=00000001, cnonce=\"c0ffee\""
        )
    }

    fn account(user: &str) -> Option<(Mac, Secret<String>)> {
        (user == "001565aabbcc")
            .then(|| (Mac::parse(user).unwrap(), Secret::from("s3cret-per-phone")))
    }

    #[test]
    fn authentication_verdicts_on_a_virtual_clock() {
        let k = [3u8; 32];
        let a = authority(&k);
        let issued = at(1_700_000_000_000);
        let nonce = a.nonce(issued);
        let uri = "sip:relay.test";
        let check = |creds: &str, now| a.authenticate([creds], "REGISTER", Some(uri), now, account);
        let good = credentials("s3cret-per-phone", uri, &nonce);
        let later = issued + Duration::from_secs(10);
        assert!(matches!(check(&good, later), Auth::Ok { ref user, .. } if user == "001565aabbcc"));
        // The same answer after the nonce's lifetime: stale, not forbidden.
        let expired = issued + LIFE + Duration::from_millis(1);
        assert!(matches!(
            check(&good, expired),
            Auth::Challenge { stale: true }
        ));
        assert!(matches!(
            check(&credentials("wrong", uri, &nonce), later),
            Auth::Forbidden("wrong password")
        ));
        assert!(matches!(
            check(&credentials("s3cret-per-phone", "sip:other", &nonce), later),
            Auth::Forbidden("digest uri is not the Request-URI")
        ));
        let stranger = good.replace("001565aabbcc", "001565000000");
        assert!(matches!(
            check(&stranger, later),
            Auth::Forbidden("unknown account")
        ));
        // A nonce we did not issue, another realm, another algorithm, no credentials: challenge.
        let foreign = credentials("s3cret-per-phone", uri, &authority(&[4; 32]).nonce(issued));
        assert!(matches!(
            check(&foreign, later),
            Auth::Challenge { stale: false }
        ));
        let realm = good.replace("realm=\"relay.test\"", "realm=\"elsewhere\"");
        let sha = format!("{good}, algorithm=SHA-256");
        let bad_nc = good.replace("nc=00000001", "nc=1");
        for creds in [realm, sha, bad_nc] {
            let verdict = check(&creds, later);
            assert!(
                matches!(verdict, Auth::Challenge { stale: false }),
                "{creds}: {verdict:?}"
            );
        }
        assert!(matches!(
            a.authenticate([], "REGISTER", Some(uri), later, account),
            Auth::Challenge { stale: false }
        ));
        // The RFC 2069 form (no qop) is accepted too.
        let resp = digest_response(
            "001565aabbcc",
            "relay.test",
            "s3cret-per-phone",
            "REGISTER",
            uri,
            &nonce,
            None,
        );
        let old = format!(
            "Digest username=\"001565aabbcc\", realm=\"relay.test\", nonce=\"{nonce}\", \
             uri=\"{uri}\", response=\"{resp}\""
        );
        assert!(matches!(check(&old, later), Auth::Ok { .. }));
    }

    #[test]
    fn hostile_inputs_never_panic() {
        let raw = r#"Digest username="001565aabbcc", realm="r", nonce="0123", uri="sip:x", response="ab", qop=auth, nc=00000001, cnonce="c\"d""#;
        let k = [1u8; 32];
        let a = authority(&k);
        for m in crate::testing::mutations(raw.as_bytes()) {
            let s = String::from_utf8_lossy(&m);
            let _ = digest_params(&s);
            let _ = a.check_nonce(&s, at(u64::MAX));
            let _ = a.authenticate([&*s], "INVITE", Some("sip:x"), UNIX_EPOCH, account);
        }
    }
}
