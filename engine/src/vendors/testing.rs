//! Fixtures the vendors' tests share: a line, a profile and a render, so each vendor's tests
//! state only what differs for it.

use crate::inputs::{BlfKey, Device, Line, Profile, Transport};
use crate::mac::Mac;
use crate::secret::Secret;
use crate::vendors::Vendor;

/// A line for `ext` on `pbx.example.com:5060` over UDP, auth name = extension.
pub(crate) fn line(ext: &str, name: &str) -> Line {
    Line {
        extension: ext.into(),
        auth_name: ext.into(),
        password: Secret::from("s3cr3t"),
        display_name: name.into(),
        label: String::new(),
        server_host: "pbx.example.com".into(),
        server_port: 5060,
        transport: Transport::Udp,
        voicemail: "*001".into(),
        handset: None,
    }
}

/// A phone of `vendor` and `model` with `mac` and these lines, nothing else set.
pub(crate) fn profile(vendor: Vendor, model: &str, mac: &str, lines: Vec<Line>) -> Profile {
    let mut p = Profile::new(Device {
        vendor,
        model: model.into(),
        mac: Mac::parse(mac).unwrap(),
    });
    p.lines = lines;
    p
}

/// The vendor's complete default config for `p`.
pub(crate) fn render(p: &Profile) -> String {
    let mut s = String::new();
    p.device.vendor.module().unwrap().write_config(p, &mut s);
    s
}

/// `n` BLF keys watching `first`, `first + 1`, ... on account `line`, no labels, no pickup.
pub(crate) fn blf_keys(n: usize, first: usize, line: u8) -> Vec<BlfKey> {
    (0..n)
        .map(|i| BlfKey {
            extension: (first + i).to_string(),
            label: String::new(),
            line,
            pickup_prefix: String::new(),
        })
        .collect()
}
