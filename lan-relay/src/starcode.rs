//! Star-code self-binding, the relay's side: the provisioning accounts the registrar
//! ([`crate::sip::registrar`]) accepts, and the binding a dialled code makes, locally at
//! once (the phone's next fetch gets its real config) and at the edge
//! (`POST /relay/v1/bind`, after reporting the phone), so the next snapshot keeps it.
//!
//! The key the provisioning passwords derive from lives in `state_dir/relay.key` (32 random
//! bytes from the OS, created on first start, mode 0600).
//!
//! Binding hands out an extension's SIP password, so the site's `star_code_mode`
//! ([`engine::StarCodeMode`]) says who may: the user's voicemail PIN after the extension
//! (`pin`, the default for new sites and the demo), an administrator's approval in the
//! console (`approval`: the request waits at the edge, the phone hears "Awaiting
//! Approval"), or the extension alone (`open`, warned). The registrar only calls the binder
//! for a MAC the ARP table confirms at the caller's address. Then brakes: every attempt
//! counts against its source address (5 an hour), a refused one against the phone (5 in
//! 15 minutes: an hour off) and the site (20 in 10 minutes: binding pauses for 15
//! minutes, since provisioning accounts for made-up MACs are free to get), and in `open`
//! mode at most 30 bindings an hour are made.
//!
//! Hot-desking (the site's `hot_desking`, off by default): a phone that is already bound
//! keeps its provisioning account at the registrar (its config from the relay carries it as
//! a "Hot desk" line: [`engine::Site::with_registrar`]) and may dial the code again, under
//! the same mode, ARP check and brakes. Re-binding moves the phone to the new user (the old
//! user keeps no phone here; the edge audits both names) and reboots it like a binding.
//! Off, a bound phone's account is refused (`403`) and the edge refuses a re-binding too.

use std::collections::HashMap;
use std::io::Read as _;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use crate::discovery::Seen;
use crate::edge::{Edge, EdgeClient};
use crate::provision::Provisioner;
use crate::sip::registrar::{Binder, Binding};

/// Reads the relay's key, creating it on first start.
pub fn load_or_create_key(state_dir: &Path) -> std::io::Result<Vec<u8>> {
    let path = state_dir.join("relay.key");
    if let Ok(k) = std::fs::read(&path) {
        if k.len() == 32 {
            return Ok(k);
        }
    }
    std::fs::create_dir_all(state_dir)?;
    let mut key = vec![0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    let tmp = state_dir.join(".relay.key.tmp");
    {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(&key)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(key)
}

/// Attempts one source address may make (bound or refused) before it is refused for an
/// hour: a phone binds once, a user who mistypes tries a few times; a host that changes
/// its MAC to take extension after extension is stopped here.
const ATTEMPTS_PER_SOURCE: engine::MissPolicy = engine::MissPolicy {
    threshold: 5,
    window_secs: 3600,
    cooloff_secs: 3600,
};

/// Refused codes (wrong or missing PIN, unknown extension) one provisioning account may
/// dial before it is refused for an hour.
const REFUSALS_PER_PHONE: engine::MissPolicy = engine::MissPolicy {
    threshold: 5,
    window_secs: 900,
    cooloff_secs: 3600,
};

/// Refused codes from all phones together before star-code binding is refused for a
/// cool-off (anyone on the LAN can get provisioning accounts for made-up MACs, so the
/// per-phone count alone does not bound a guesser): the engine's default, 20 in 10
/// minutes, then 15 minutes. A 4-digit PIN then takes days to guess.
const REFUSALS_PER_SITE: engine::MissPolicy = engine::MissPolicy {
    threshold: 20,
    window_secs: 600,
    cooloff_secs: 900,
};

/// Bindings made without any secret (the site's mode is `open`) before binding pauses for
/// the rest of the hour: each one hands out an extension's password on the word of a
/// dialled number. Ample for a rollout, a brake on harvesting.
const OPEN_BINDINGS_PER_SITE: engine::MissPolicy = engine::MissPolicy {
    threshold: 30,
    window_secs: 3600,
    cooloff_secs: 3600,
};

/// The most per-source and per-phone counters kept (memory under a flood of made-up MACs).
const MAX_COUNTERS: usize = 4096;

/// The brakes on star-code binding: per source address, per phone, for the whole site.
#[derive(Debug, Default)]
struct Brakes {
    /// By [`engine::client_key`] (an IPv6 address by its /64).
    sources: HashMap<String, engine::MissCounter>,
    phones: HashMap<engine::Mac, engine::MissCounter>,
    site_refusals: engine::MissCounter,
    open_bindings: engine::MissCounter,
}

/// Counts one event in `map[key]` (bounded: past [`MAX_COUNTERS`] the unlocked ones go).
fn count<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, engine::MissCounter>,
    key: K,
    now: u64,
    policy: &engine::MissPolicy,
) {
    if map.len() >= MAX_COUNTERS {
        map.retain(|_, c| c.is_locked(now));
    }
    map.entry(key).or_default().record_miss(now, policy);
}

impl Brakes {
    /// Whether an attempt by `mac` from `source` is refused outright.
    fn paused(&self, now: u64, mac: engine::Mac, source: IpAddr, open: bool) -> bool {
        self.site_refusals.is_locked(now)
            || (open && self.open_bindings.is_locked(now))
            || self
                .sources
                .get(&engine::client_key(source))
                .is_some_and(|c| c.is_locked(now))
            || self.phones.get(&mac).is_some_and(|c| c.is_locked(now))
    }
}

/// The relay's [`Binder`].
#[derive(Debug)]
pub struct RelayBinder {
    provisioner: Arc<Provisioner>,
    /// The edge, with the client (and its agent) every binding reports through.
    edge: Option<(Edge, EdgeClient)>,
    brakes: Mutex<Brakes>,
}

impl RelayBinder {
    /// Binds through `provisioner` (locally) and `edge` (if the relay syncs from one).
    pub fn new(provisioner: Arc<Provisioner>, edge: Option<Edge>) -> Self {
        Self {
            provisioner,
            edge: edge.map(|e| {
                let client = EdgeClient::new(&e, String::new());
                (e, client)
            }),
            brakes: Mutex::default(),
        }
    }

    /// The user `code` names, if the site's mode lets this attempt through: no brake is
    /// on, the PIN is right when the mode wants one. Every attempt counts against its
    /// source; a refused one against the phone and the site too.
    fn checked_user(
        &self,
        site: &engine::Site,
        mac: engine::Mac,
        source: IpAddr,
        code: &engine::StarCode,
    ) -> Result<String, String> {
        let now = crate::metrics::unix_now();
        let open = site.star_code_mode() == engine::StarCodeMode::Open;
        let mut b = self.brakes.lock().unwrap_or_else(PoisonError::into_inner);
        if b.paused(now, mac, source, open) {
            return Err("too many attempts: star-code binding is paused".to_owned());
        }
        count(
            &mut b.sources,
            engine::client_key(source),
            now,
            &ATTEMPTS_PER_SOURCE,
        );
        match site.star_code_user(code) {
            Ok(user) => {
                if open {
                    b.open_bindings.record_miss(now, &OPEN_BINDINGS_PER_SITE);
                }
                Ok(user.extension.clone())
            }
            Err(refusal) => {
                count(&mut b.phones, mac, now, &REFUSALS_PER_PHONE);
                b.site_refusals.record_miss(now, &REFUSALS_PER_SITE);
                Err(refusal.to_string())
            }
        }
    }
}

impl Binder for RelayBinder {
    fn star_pattern(&self) -> Option<String> {
        // The site's code; without one, nothing matches.
        Some(
            self.provisioner
                .site()
                .and_then(|s| s.star_code().map(str::to_owned))
                .unwrap_or_default(),
        )
    }

    fn account(&self, user: &str) -> Option<(engine::Mac, engine::Secret<String>)> {
        // The account's user is the MAC as 12 lowercase hex digits, nothing else.
        if user.len() != 12 || !user.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let mac = engine::Mac::parse(user).ok()?;
        let site = self.provisioner.site()?;
        // A bound phone's account is refused unless the site allows hot-desking (issue 16):
        // then it may dial the code again, to be bound to another extension.
        let bound = site.phone(&mac).is_some_and(|p| p.user_extension.is_some());
        if !site.allows(&mac) || (bound && !site.hot_desking()) {
            return None;
        }
        self.provisioner
            .account(&mac)
            .map(|u| (mac, u.sip_password))
    }

    async fn bind(
        &self,
        mac: engine::Mac,
        code: &engine::StarCode,
        vendor: Option<engine::Vendor>,
        source: IpAddr,
    ) -> Result<Binding, String> {
        let site = self.provisioner.site().ok_or("no inventory yet")?;
        let was = site.phone(&mac).and_then(|p| p.user_extension.clone());
        if was.is_some() && !site.hot_desking() {
            return Err(
                "the phone is already bound and the site does not allow hot-desking".to_owned(),
            );
        }
        let extension = self.checked_user(&site, mac, source, code)?;
        let extension = extension.as_str();
        let vendor = site
            .phone(&mac)
            .map(|p| p.vendor)
            .or(vendor)
            .or_else(|| mac.vendor())
            .filter(|v| v.is_provisioned())
            .ok_or("the phone's maker is not one we provision")?;
        let bound = site
            .with_binding(mac, vendor, extension)
            .map_err(|e| e.to_string())?;
        let Some((edge, client)) = &self.edge else {
            if site.star_code_mode().needs_approval() {
                // No console without an edge: the administrator approves in the inventory.
                tracing::warn!(%mac, extension,
                    "star-code: a binding waits for approval: add user_extension = \"{extension}\" to this phone in the inventory file");
                return Ok(Binding::AwaitingApproval);
            }
            self.provisioner.set_site(bound);
            tracing::info!(mac = %mac, extension, was = was.as_deref(), "phone bound by star code");
            return Ok(Binding::Made);
        };
        let token = edge.read_token().map_err(|e| format!("relay token: {e}"))?;
        let client = client.with_token(token);
        let ext = extension.to_owned();
        // `checked_user` accepted the code: a PIN in it was the user's.
        let pin_checked = code.pin.is_some();
        // The edge decides by the site's mode there (it wins over this relay's snapshot).
        let binding = tokio::task::spawn_blocking(move || {
            let seen = Seen {
                mac: mac.to_string(),
                vendor: Some(vendor.as_str().to_owned()),
                model: None,
                firmware: None,
                ip: String::new(),
                user_agent: None,
                via: "pnp",
                // The registrar binds only a MAC the ARP table confirms at its address.
                confirmed: true,
            };
            client.report(std::slice::from_ref(&seen))?;
            client.bind(&mac, &ext, pin_checked)
        })
        .await
        .map_err(|e| e.to_string())??;
        match binding {
            Binding::Made => {
                self.provisioner.set_site(bound);
                tracing::info!(mac = %mac, extension, was = was.as_deref(), "phone bound by star code");
            }
            Binding::AwaitingApproval => {
                tracing::info!(mac = %mac, extension, "star-code: the binding waits for an administrator in the console");
            }
        }
        Ok(binding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load_inventory, DEMO_INVENTORY};

    const MAC: &str = "001565123456";

    /// The demo site in `mode`, user 205's PIN 4711.
    fn binder_in(mode: &str) -> RelayBinder {
        let text = DEMO_INVENTORY
            .replace(
                "star_code_mode = \"pin\"",
                &format!("star_code_mode = \"{mode}\""),
            )
            .replace("voicemail_pin = \"1205\"", "voicemail_pin = \"4711\"");
        let site = load_inventory(&text).unwrap();
        let p = Provisioner::new("http://192.0.2.1:8480", "/nonexistent", Arc::default());
        p.set_site(site);
        RelayBinder::new(Arc::new(p), None)
    }

    fn binder() -> RelayBinder {
        binder_in("pin")
    }

    fn code(s: &str) -> engine::StarCode {
        engine::StarCode::parse(s, "*123*").unwrap()
    }

    fn mac(n: u8) -> engine::Mac {
        engine::Mac::from_octets([0x00, 0x15, 0x65, 0x12, 0x34, n])
    }

    /// The LAN address of phone `n` (one device, one address).
    fn src(n: u8) -> IpAddr {
        IpAddr::from([192, 168, 1, n])
    }

    fn bound_to(b: &RelayBinder, m: engine::Mac) -> Option<String> {
        b.provisioner.site()?.phone(&m)?.user_extension.clone()
    }

    const YEALINK: Option<engine::Vendor> = Some(engine::Vendor::Yealink);

    #[test]
    fn the_demo_wants_the_pin() {
        let site = load_inventory(DEMO_INVENTORY).unwrap();
        assert_eq!(site.star_code_mode(), engine::StarCodeMode::Pin);
    }

    #[tokio::test]
    async fn a_required_pin_binds_only_when_right_and_wrong_ones_are_braked() {
        let b = binder();
        assert_eq!(engine::Mac::parse(MAC).unwrap(), mac(0x56));
        // The attack of finding 1: a host with no secret dials the bare extension.
        let e = b
            .bind(mac(1), &code("*123*205"), YEALINK, src(1))
            .await
            .unwrap_err();
        assert!(e.contains("PIN"), "{e}");
        let e = b
            .bind(mac(1), &code("*123*205*1234"), YEALINK, src(1))
            .await
            .unwrap_err();
        assert!(!e.contains("1234") && !e.contains("4711"), "a PIN in {e:?}");
        assert_eq!(bound_to(&b, mac(1)), None);
        assert_eq!(
            b.bind(mac(1), &code("*123*205*4711"), YEALINK, src(1))
                .await
                .unwrap(),
            Binding::Made
        );
        assert_eq!(bound_to(&b, mac(1)).as_deref(), Some("205"));

        // Five refusals for one phone (from addresses it changes): even the right PIN is
        // refused for that phone.
        for n in 0..5 {
            assert!(b
                .bind(mac(2), &code("*123*205*0000"), YEALINK, src(100 + n))
                .await
                .is_err());
        }
        let e = b
            .bind(mac(2), &code("*123*205*4711"), YEALINK, src(2))
            .await
            .unwrap_err();
        assert!(e.contains("too many"), "{e}");
        assert_eq!(bound_to(&b, mac(2)), None);
        b.bind(mac(3), &code("*123*205*4711"), YEALINK, src(3))
            .await
            .unwrap();

        // Twenty refusals in all (made-up MACs, a few each): binding pauses for everyone.
        for n in 0..15u8 {
            assert!(b
                .bind(mac(10 + n), &code("*123*205*0000"), YEALINK, src(10 + n))
                .await
                .is_err());
        }
        let e = b
            .bind(mac(4), &code("*123*205*4711"), YEALINK, src(4))
            .await
            .unwrap_err();
        assert!(e.contains("too many"), "{e}");
        assert_eq!(bound_to(&b, mac(4)), None);
    }

    #[tokio::test]
    async fn one_source_changing_its_mac_is_braked() {
        // Open mode, the weakest: a host that takes a new MAC for each extension (its ARP
        // entry follows it) is stopped after five attempts from its address.
        let b = binder_in("open");
        for (n, ext) in ["201", "202", "203", "204", "205"].into_iter().enumerate() {
            let n = u8::try_from(n).unwrap();
            assert_eq!(
                b.bind(mac(40 + n), &code(&format!("*123*{ext}")), YEALINK, src(9))
                    .await,
                Ok(Binding::Made)
            );
        }
        let e = b
            .bind(mac(50), &code("*123*201"), YEALINK, src(9))
            .await
            .unwrap_err();
        assert!(e.contains("too many"), "{e}");
        assert_eq!(bound_to(&b, mac(50)), None);
        // Another device is not held up by it.
        assert!(b
            .bind(mac(51), &code("*123*201"), YEALINK, src(10))
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn open_mode_makes_at_most_thirty_bindings_an_hour() {
        let b = binder_in("open");
        for n in 0..30u8 {
            assert!(b
                .bind(mac(100 + n), &code("*123*201"), YEALINK, src(n))
                .await
                .is_ok());
        }
        let e = b
            .bind(mac(200), &code("*123*201"), YEALINK, src(200))
            .await
            .unwrap_err();
        assert!(e.contains("too many"), "{e}");
        assert_eq!(bound_to(&b, mac(200)), None);
    }

    #[tokio::test]
    async fn approval_binds_nothing_until_an_administrator_does() {
        let b = binder_in("approval");
        assert_eq!(
            b.bind(mac(5), &code("*123*205"), YEALINK, src(5)).await,
            Ok(Binding::AwaitingApproval)
        );
        assert_eq!(bound_to(&b, mac(5)), None);
        // A wrong PIN, when one is dialled, is still refused.
        assert!(b
            .bind(mac(5), &code("*123*205*0000"), YEALINK, src(5))
            .await
            .is_err());
    }
}
