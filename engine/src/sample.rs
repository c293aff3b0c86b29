//! Sample data: what templates are validated against on save, what the preview shows when
//! no real user is picked, and what the golden tests and benchmarks render.

use crate::inputs::{BlfKey, Device, Language, Line, Profile, Transport};
use crate::mac::Mac;
use crate::secret::Secret;
use crate::tz::TimeZone;
use crate::vendors::Vendor;

/// Where the sample phone fetches its files.
pub(crate) const SAMPLE_BASE_URL: &str = "https://prov.example.com/p/tok123";

/// A MAC in the vendor's own OUI.
pub fn sample_mac(vendor: Vendor) -> Mac {
    let oui = vendor.sample_oui();
    Mac::from_octets([oui[0], oui[1], oui[2], 0x12, 0x34, 0x56])
}

/// The reference profile: one line for user 204 (Irina Smirnova) on the PBX at
/// 172.16.156.223, no keys, no optional settings. Rendering it with the built-in generator
/// gives the MikoPBX reference body plus our additions.
pub fn reference_profile(vendor: Vendor) -> Profile {
    let mut p = Profile::new(Device {
        vendor,
        model: vendor.sample_model().to_owned(),
        mac: sample_mac(vendor),
    });
    p.lines.push(Line {
        extension: "204".to_owned(),
        auth_name: "204".to_owned(),
        password: Secret::from("1c9709222690713dd"),
        display_name: "Irina Smirnova".to_owned(),
        label: String::new(),
        server_host: "172.16.156.223".to_owned(),
        server_port: 5060,
        transport: Transport::Udp,
        voicemail: "*001".to_owned(),
        handset: None,
    });
    p.poll_interval_minutes = 0;
    p
}

/// The full sample profile: two lines, `blf` BLF keys (extensions 200, 201, ...), NTP, time
/// zone, language, phonebook, firmware and provisioning URLs.
pub fn sample_profile_with(vendor: Vendor, blf: usize) -> Profile {
    let mut p = reference_profile(vendor);
    let mac = p.device.mac;
    p.lines.push(Line {
        extension: "299".to_owned(),
        auth_name: "299-auth".to_owned(),
        password: Secret::from("Zq8-vX2m-Lr5t"),
        display_name: "Reception & Co <Front>".to_owned(),
        label: "Front desk".to_owned(),
        server_host: "172.16.156.223".to_owned(),
        server_port: 5060,
        transport: Transport::Tcp,
        voicemail: "*001".to_owned(),
        handset: None,
    });
    p.blf = (0..blf)
        .map(|i| BlfKey {
            extension: (200 + i).to_string(),
            label: format!("User {i}"),
            line: 1,
            pickup_prefix: "*8".to_owned(),
        })
        .collect();
    p.ntp_server = Some("pool.ntp.org".to_owned());
    p.timezone = TimeZone::from_name("Europe/Berlin").ok();
    p.language = Some(Language::De);
    p.provisioning_url = Some(SAMPLE_BASE_URL.to_owned());
    p.phonebook_url = Some(format!("{SAMPLE_BASE_URL}/{}", vendor.phonebook_path(&mac)));
    p.firmware_url = Some(format!(
        "{SAMPLE_BASE_URL}/{}",
        crate::detect::firmware_path(vendor, &sample_firmware_file(vendor))
    ));
    p.poll_interval_minutes = 1440;
    p
}

/// The firmware image file name of the sample data.
pub(crate) fn sample_firmware_file(vendor: Vendor) -> String {
    format!("{}-fw.bin", vendor.sample_model())
}

/// [`sample_profile_with`] with 10 BLF keys.
pub fn sample_profile(vendor: Vendor) -> Profile {
    sample_profile_with(vendor, 10)
}

pub(crate) fn profile(vendor: Vendor) -> Profile {
    sample_profile(vendor)
}
