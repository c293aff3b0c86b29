//! Star-code self-binding, the relay's side: the provisioning accounts the registrar
//! ([`crate::sip::registrar`]) accepts, and the binding a dialled code makes, locally at
//! once (the phone's next fetch gets its real config) and at the edge
//! (`POST /relay/v1/bind`, after reporting the phone), so the next snapshot keeps it.
//!
//! The key the provisioning passwords derive from lives in `state_dir/relay.key` (32 random
//! bytes from the OS, created on first start, mode 0600).

use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;

use crate::discovery::Seen;
use crate::provision::Provisioner;
use crate::sip::registrar::Binder;
use crate::sync::Edge;

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

/// The relay's [`Binder`].
#[derive(Debug)]
pub struct RelayBinder {
    provisioner: Arc<Provisioner>,
    edge: Option<Edge>,
}

impl RelayBinder {
    /// Binds through `provisioner` (locally) and `edge` (if the relay syncs from one).
    pub fn new(provisioner: Arc<Provisioner>, edge: Option<Edge>) -> Self {
        Self { provisioner, edge }
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
        extension: &str,
        vendor: Option<engine::Vendor>,
    ) -> Result<(), String> {
        let site = self.provisioner.site().ok_or("no inventory yet")?;
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
        if let Some(edge) = self.edge.clone() {
            let token = std::fs::read_to_string(&edge.token_file)
                .map_err(|e| format!("relay token: {e}"))?
                .trim()
                .to_owned();
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
                };
                crate::sync::report(&edge, &token, std::slice::from_ref(&seen))?;
                crate::sync::bind(&edge, &token, &mac, &ext)
            })
            .await
            .map_err(|e| e.to_string())??;
        }
        self.provisioner.set_site(bound);
        tracing::info!(mac = %mac, extension, "phone bound by star code");
        Ok(())
    }
}
