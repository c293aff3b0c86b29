//! Htek: no public API registers MACs with Htek's redirection service, so the console gives
//! the administrator what Htek's portal needs: per phone, the exact URL to enter, and a CSV
//! (MAC, URL) for bulk upload. Htek registration is manual, and the console says so.

use crate::mac::Mac;
use crate::rps::RpsError;

/// Where a factory-fresh Htek phone asks for `cfg<mac>` and `cfg<mac>.xml` (lower-case
/// MAC), to be redirected (HTTP 302) to the URL registered for its MAC.
pub const HTEK_RPS_URL: &str = "https://rps.htek.com/index.php/fn/g/";

pub(crate) fn unsupported() -> RpsError {
    RpsError::Unsupported(
        "htek: Htek has no public registration API; register the phone in Htek's RPS portal (per-phone URL or CSV export)"
            .into(),
    )
}

/// What the administrator must do in Htek's portal for one phone, as plain text (the URL is
/// the phone's own, so the text holds its token: show it only to the administrator).
pub fn htek_instructions(mac: Mac, url: &str) -> String {
    format!(
        "Htek registration is manual: there is no public API for it.\n\
         In Htek's RPS portal, add the device {upper} ({colon}) with this provisioning URL:\n\
         {url}\n\
         At its first boot the phone asks {HTEK_RPS_URL}cfg{lower} and is redirected there.\n",
        upper = mac.to_upper_hex(),
        colon = mac.to_colon_upper(),
        lower = mac.to_lower_hex(),
    )
}

/// A CSV of `MAC,URL` rows (header first, CRLF line ends, RFC 4180 quoting) for bulk upload
/// to Htek's portal. Pass the Htek phones that are not registered yet.
pub fn htek_csv<'a>(phones: impl IntoIterator<Item = (Mac, &'a str)>) -> String {
    let mut out = String::from("MAC,URL\r\n");
    for (mac, url) in phones {
        out.push_str(&mac.to_lower_hex());
        out.push(',');
        out.push_str(&csv_field(url));
        out.push_str("\r\n");
    }
    out
}

/// One CSV field: quoted when it holds a comma, quote or line break; a leading character a
/// spreadsheet would run as a formula is neutralised with `'`.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_overview_note_names_the_url_phones_ask() {
        let note = crate::vendors::Vendor::Htek.rps_manual_note().unwrap();
        assert!(note.contains(&format!("{HTEK_RPS_URL}cfg<mac>")), "{note}");
    }

    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn csv_rows_and_quoting() {
        let a = Mac::parse("00:1f:c1:aa:bb:cc").unwrap();
        let b = Mac::parse("001fc1000001").unwrap();
        let csv = htek_csv([
            (a, "https://edge.example.net/p/tok1/"),
            (b, "https://e/x?a=1,b=\"2\""),
            (b, "=HYPERLINK(\"x\")"),
        ]);
        assert_eq!(
            csv,
            "MAC,URL\r\n001fc1aabbcc,https://edge.example.net/p/tok1/\r\n\
             001fc1000001,\"https://e/x?a=1,b=\"\"2\"\"\"\r\n\
             001fc1000001,\"'=HYPERLINK(\"\"x\"\")\"\r\n"
        );
        assert_eq!(htek_csv(std::iter::empty()), "MAC,URL\r\n");
    }

    #[test]
    fn instructions_name_the_mac_and_url() {
        let m = Mac::parse("001fc1aabbcc").unwrap();
        let t = htek_instructions(m, "https://edge.example.net/p/tok/");
        assert!(t.contains("manual"));
        assert!(t.contains("001FC1AABBCC (00:1F:C1:AA:BB:CC)"));
        assert!(t.contains("\nhttps://edge.example.net/p/tok/\n"));
        assert!(t.contains("https://rps.htek.com/index.php/fn/g/cfg001fc1aabbcc"));
    }
}
