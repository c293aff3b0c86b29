//! Star-code self-binding, the relay's side: the provisioning accounts the registrar
//! ([`crate::sip::registrar`]) accepts, and the binding a dialled code makes, locally at
//! once (the phone's next fetch gets its real config) and at the edge
//! (`POST /relay/v1/bind`, after reporting the phone), so the next snapshot keeps it.
//!
//! The key the provisioning passwords derive from lives in `state_dir/relay.key` (32 random
//! bytes from the OS, created on first start, mode 0600).
//!
//! When the site wants the user's voicemail PIN after the extension (`star_code_pin`, see
//! [`engine::Site::star_code_user`]), wrong PINs are counted per phone (5 in 15 minutes:
//! that phone is refused for an hour) and for the whole site (20 in 10 minutes: binding
//! pauses for 15 minutes), since provisioning accounts for made-up MACs are free to get.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use crate::discovery::Seen;
use crate::edge::{Edge, EdgeClient};
use crate::provision::Provisioner;
use crate::sip::registrar::Binder;

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

/// Wrong PINs one provisioning account may dial before it is refused for an hour.
const PIN_MISSES_PER_PHONE: engine::MissPolicy = engine::MissPolicy {
    threshold: 5,
    window_secs: 900,
    cooloff_secs: 3600,
};

/// Wrong PINs from all phones together before star-code binding is refused for a cool-off
/// (anyone on the LAN can get provisioning accounts for made-up MACs, so the per-phone
/// count alone does not bound a guesser): the engine's default, 20 in 10 minutes, then 15
/// minutes. A 4-digit PIN then takes days to guess.
const PIN_MISSES_PER_SITE: engine::MissPolicy = engine::MissPolicy {
    threshold: 20,
    window_secs: 600,
    cooloff_secs: 900,
};

/// Wrong-PIN counters: per phone, and for the whole site.
#[derive(Debug, Default)]
struct PinMisses {
    phones: HashMap<engine::Mac, engine::MissCounter>,
    site: engine::MissCounter,
}

/// The relay's [`Binder`].
#[derive(Debug)]
pub struct RelayBinder {
    provisioner: Arc<Provisioner>,
    /// The edge, with the client (and its agent) every binding reports through.
    edge: Option<(Edge, EdgeClient)>,
    misses: Mutex<PinMisses>,
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
            misses: Mutex::default(),
        }
    }

    /// The user `code` names, if its PIN is right and neither the phone nor the site is
    /// cooled off after wrong PINs; a wrong PIN is counted.
    fn checked_user(
        &self,
        site: &engine::Site,
        mac: engine::Mac,
        code: &engine::StarCode,
    ) -> Result<String, String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut misses = self.misses.lock().unwrap_or_else(PoisonError::into_inner);
        if misses.site.is_locked(now) || misses.phones.get(&mac).is_some_and(|c| c.is_locked(now)) {
            return Err("too many wrong PINs: star-code binding is paused".to_owned());
        }
        match site.star_code_user(code) {
            Ok(user) => Ok(user.extension.clone()),
            Err(refusal) => {
                if refusal == engine::StarCodeRefusal::WrongPin {
                    // Bounded: at most one entry per provisioning account that dialled.
                    if misses.phones.len() >= MAX_PIN_COUNTERS {
                        misses.phones.retain(|_, c| c.is_locked(now));
                    }
                    let phone = misses.phones.entry(mac).or_default();
                    phone.record_miss(now, &PIN_MISSES_PER_PHONE);
                    misses.site.record_miss(now, &PIN_MISSES_PER_SITE);
                }
                Err(refusal.to_string())
            }
        }
    }
}

/// The most per-phone wrong-PIN counters kept (memory under a flood of made-up MACs).
const MAX_PIN_COUNTERS: usize = 4096;

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
        if !site.allows(&mac) || site.phone(&mac).is_some_and(|p| p.user_extension.is_some()) {
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
    ) -> Result<(), String> {
        let site = self.provisioner.site().ok_or("no inventory yet")?;
        let extension = self.checked_user(&site, mac, code)?;
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
        if let Some((edge, client)) = &self.edge {
            let token = edge.read_token().map_err(|e| format!("relay token: {e}"))?;
            let client = client.with_token(token);
            let ext = extension.to_owned();
            tokio::task::spawn_blocking(move || {
                let seen = Seen {
                    mac: mac.to_string(),
                    vendor: Some(vendor.as_str().to_owned()),
                    model: None,
                    firmware: None,
                    ip: String::new(),
                    user_agent: None,
                    via: "pnp",
                    confirmed: true,
                };
                client.report(std::slice::from_ref(&seen))?;
                client.bind(&mac, &ext)
            })
            .await
            .map_err(|e| e.to_string())??;
        }
        self.provisioner.set_site(bound);
        tracing::info!(mac = %mac, extension, "phone bound by star code");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load_inventory, DEMO_INVENTORY};

    const MAC: &str = "001565123456";

    /// The demo site with PINs required and user 205's PIN set.
    fn binder() -> RelayBinder {
        let text = DEMO_INVENTORY
            .replace("star_code_pin = false", "star_code_pin = true")
            .replace(
                "display_name = \"Omar Haddad\"",
                "display_name = \"Omar Haddad\"\nvoicemail_pin = \"4711\"",
            );
        let site = load_inventory(&text).unwrap();
        let p = Provisioner::new("http://192.0.2.1:8480", "/nonexistent", Arc::default());
        p.set_site(site);
        RelayBinder::new(Arc::new(p), None)
    }

    fn code(s: &str) -> engine::StarCode {
        engine::StarCode::parse(s, "*123*").unwrap()
    }

    fn mac(n: u8) -> engine::Mac {
        engine::Mac::from_octets([0x00, 0x15, 0x65, 0x12, 0x34, n])
    }

    fn bound_to(b: &RelayBinder, m: engine::Mac) -> Option<String> {
        b.provisioner.site()?.phone(&m)?.user_extension.clone()
    }

    #[tokio::test]
    async fn a_required_pin_binds_only_when_right_and_wrong_ones_are_braked() {
        let b = binder();
        let yealink = Some(engine::Vendor::Yealink);
        assert_eq!(engine::Mac::parse(MAC).unwrap(), mac(0x56));
        let e = b
            .bind(mac(1), &code("*123*205"), yealink)
            .await
            .unwrap_err();
        assert!(e.contains("PIN"), "{e}");
        let e = b
            .bind(mac(1), &code("*123*205*1234"), yealink)
            .await
            .unwrap_err();
        assert!(!e.contains("1234") && !e.contains("4711"), "a PIN in {e:?}");
        assert_eq!(bound_to(&b, mac(1)), None);
        b.bind(mac(1), &code("*123*205*4711"), yealink)
            .await
            .unwrap();
        assert_eq!(bound_to(&b, mac(1)).as_deref(), Some("205"));

        // Five wrong PINs from one phone: even the right one is refused for that phone.
        for _ in 0..5 {
            assert!(b
                .bind(mac(2), &code("*123*205*0000"), yealink)
                .await
                .is_err());
        }
        let e = b
            .bind(mac(2), &code("*123*205*4711"), yealink)
            .await
            .unwrap_err();
        assert!(e.contains("too many"), "{e}");
        assert_eq!(bound_to(&b, mac(2)), None);
        b.bind(mac(3), &code("*123*205*4711"), yealink)
            .await
            .unwrap();

        // Twenty in all (made-up MACs, a few each): binding pauses for everyone.
        for n in 0..15u8 {
            assert!(b
                .bind(mac(10 + n), &code("*123*205*0000"), yealink)
                .await
                .is_err());
        }
        let e = b
            .bind(mac(4), &code("*123*205*4711"), yealink)
            .await
            .unwrap_err();
        assert!(e.contains("too many"), "{e}");
        assert_eq!(bound_to(&b, mac(4)), None);
    }
}
