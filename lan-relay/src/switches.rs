//! What a site turns on and off in its relay while the relay runs, with no restart: verbose
//! logging (the site's Additional Parameters `[debug] verbose = 1`, the switch MikoPBX users
//! know) and TFTP (the site's `tftp_enabled`). Each inventory the relay takes sets them
//! ([`Switches::follow`], called by [`crate::provision::Provisioner::set_site`]); the relay's
//! own configuration can force either (`[pnp] debug = true`, `[tftp] enabled = true|false`).
//!
//! Verbose logging is what `[pnp] debug` does: every PnP packet (source, Call-ID, the MAC
//! found), every decision (answered or not, which URL target and why, never the URL) and
//! the star-code registrar's packets are logged at `info` instead of `debug`.
//!
//! TFTP is off unless turned on: it has no authentication and no encryption, so anyone on
//! the LAN who guesses a MAC's file name gets that phone's config. While it is off nothing
//! listens on its port (see [`crate::run`]: the socket is bound when TFTP turns on and
//! closed when it turns off).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

/// Whether the SIP servers and the PnP decisions log at `info` (on) or `debug` (off). Its
/// clones share the site's half; `forced` is the relay's `[pnp] debug`.
#[derive(Debug, Clone, Default)]
pub struct Verbose {
    site: Arc<AtomicBool>,
    forced: bool,
}

impl Verbose {
    /// A switch that is on for good when `forced`, else on while the site says so.
    pub fn forced(forced: bool) -> Self {
        Self {
            site: Arc::default(),
            forced,
        }
    }

    /// Whether to log at `info` now.
    pub fn on(&self) -> bool {
        self.forced || self.site.load(Ordering::Relaxed)
    }
}

/// What `sip_log!` takes as its switch: a [`Verbose`] or a `bool` read from one.
pub trait LogSwitch {
    /// Whether to log at `info`.
    fn on(&self) -> bool;
}

impl LogSwitch for bool {
    fn on(&self) -> bool {
        *self
    }
}

impl LogSwitch for Verbose {
    fn on(&self) -> bool {
        Self::on(self)
    }
}

/// The site's switches in a running relay.
#[derive(Debug)]
pub struct Switches {
    verbose: Verbose,
    tftp: watch::Sender<bool>,
    tftp_forced: Option<bool>,
}

impl Default for Switches {
    fn default() -> Self {
        Self::new(false, None)
    }
}

impl Switches {
    /// `verbose_forced`: the relay's `[pnp] debug`; `tftp_forced`: its `[tftp] enabled`
    /// (`None`: the site decides).
    pub fn new(verbose_forced: bool, tftp_forced: Option<bool>) -> Self {
        Self {
            verbose: Verbose::forced(verbose_forced),
            tftp: watch::Sender::new(tftp_forced.unwrap_or(false)),
            tftp_forced,
        }
    }

    /// The verbose switch, for the servers that log by it.
    pub fn verbose(&self) -> Verbose {
        self.verbose.clone()
    }

    /// Whether TFTP should be served, now and as it changes.
    pub fn tftp(&self) -> watch::Receiver<bool> {
        self.tftp.subscribe()
    }

    /// Takes the switches of `site` (logged when they change).
    pub fn follow(&self, site: &engine::Site) {
        let verbose = site.verbose();
        if self.verbose.site.swap(verbose, Ordering::Relaxed) != verbose && !self.verbose.forced {
            if verbose {
                tracing::info!("verbose logging on: the site's Additional Parameters say [debug] verbose = 1; every PnP packet, MAC and decision is logged");
            } else {
                tracing::info!("verbose logging off: the site's [debug] verbose is no longer 1");
            }
        }
        let wanted = site.inventory().site.tftp_enabled;
        let tftp = self.tftp_forced.unwrap_or(wanted);
        let changed = self
            .tftp
            .send_if_modified(|on| std::mem::replace(on, tftp) != tftp);
        if changed || self.tftp_forced.is_some_and(|f| f != wanted) {
            match (self.tftp_forced, wanted) {
                (Some(false), true) => tracing::warn!("the site turns TFTP on, but this relay's configuration keeps it off ([tftp] enabled = false)"),
                (None, true) => tracing::info!("TFTP on: the site turned it on (tftp_enabled); it has no authentication or encryption, for trusted LANs only"),
                (None, false) => tracing::info!("TFTP off: the site turned it off"),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(params: &str, tftp: bool) -> engine::Site {
        let mut inv: engine::Inventory =
            serde_json::from_str(r#"{"site": {"pbx_host": "pbx.example.com"}}"#).unwrap();
        inv.site.additional_params = params.to_owned();
        inv.site.tftp_enabled = tftp;
        engine::Site::new(inv).unwrap()
    }

    #[test]
    fn the_site_turns_verbose_and_tftp_on_and_off_unless_the_relay_forces_them() {
        let s = Switches::default();
        let (verbose, tftp) = (s.verbose(), s.tftp());
        assert!(!verbose.on() && !*tftp.borrow(), "both off by default");
        s.follow(&site("[debug]\nverbose = 1\n", true));
        assert!(verbose.on() && *tftp.borrow());
        s.follow(&site("[debug]\nverbose = 0\n", false));
        assert!(!verbose.on() && !*tftp.borrow());
        // The relay's configuration wins either way.
        let forced = Switches::new(true, Some(false));
        forced.follow(&site("", true));
        assert!(forced.verbose().on());
        assert!(!*forced.tftp().borrow());
        let on = Switches::new(false, Some(true));
        on.follow(&site("", false));
        assert!(*on.tftp().borrow());
    }
}
