//! Phonebook sources fetched from a URL: another PBX's user directory, merged into the
//! site's phonebook as MikoPBX merges other PBXes' directories. Sans-IO: the shells (the
//! edge's cron, the relay's poll loop) fetch the bytes; this module says which of them may
//! fetch a URL ([`SourceUrl`]) and turns the bytes into entries ([`parse_source`]).
//!
//! Formats, told apart by their first character and, for XML, by the root element:
//! - a vendor's remote-phonebook XML, the shapes this engine writes (each vendor's module
//!   reads its own, `VendorModule::read_phonebook`, and cites where the shape comes from):
//!   Yealink, Snom, Fanvil, Htek (`DirectoryEntry` with `Name` and `Telephone`) and
//!   Grandstream (`AddressBook` of `Contact`s);
//! - JSON: `[{"name": "...", "number": "..."}]` (other fields ignored);
//! - CSV (RFC 4180): UTF-8, a header line naming the columns `name` and `number` (any
//!   case, any order, other columns ignored), fields separated by commas, a field with a
//!   comma or quote written in double quotes (`""` for a quote).
//!
//! Every entry passes [`check_contact`], the rule pasted lists pass too; one bad entry
//! refuses the whole document, naming it, so a failed fetch changes nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, ErrorKind, Result};
use crate::inputs::Contact;
use crate::phonebook::MAX_ENTRIES;
use crate::vendors::Vendor;

/// The largest document accepted (bytes): a full 5000-entry XML directory is about 500 KiB.
pub const MAX_SOURCE_BYTES: usize = 2 * 1024 * 1024;
/// The longest name (characters).
pub(crate) const MAX_NAME_CHARS: usize = 100;
/// The longest number (characters).
pub(crate) const MAX_NUMBER_CHARS: usize = 32;
/// The longest source URL (characters).
pub(crate) const MAX_URL_CHARS: usize = 2048;
/// The shortest interval between fetches (minutes): other PBXes' directories change
/// slowly, and each fetch costs the other PBX a request.
pub const MIN_FETCH_MINUTES: u32 = 15;
/// The interval when none is given (minutes).
pub const DEFAULT_FETCH_MINUTES: u32 = 60;
/// The longest interval (minutes): a week.
pub const MAX_FETCH_MINUTES: u32 = 7 * 24 * 60;

/// What a fetched document was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// A vendor's remote-phonebook XML.
    Xml(Vendor),
    /// `[{"name", "number"}]`.
    Json,
    /// CSV with a `name,number` header.
    Csv,
}

impl SourceFormat {
    /// `yealink-xml`, ..., `json`, `csv`: what the API and the console show.
    pub fn name(self) -> String {
        match self {
            Self::Xml(v) => format!("{}-xml", v.as_str()),
            Self::Json => "json".into(),
            Self::Csv => "csv".into(),
        }
    }

    /// The format [`Self::name`] names.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "json" => Some(Self::Json),
            "csv" => Some(Self::Csv),
            _ => Vendor::ALL
                .into_iter()
                .map(Self::Xml)
                .find(|f| f.name() == s),
        }
    }
}

/// A fetched document's entries and what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSource {
    /// The format detected.
    pub format: SourceFormat,
    /// The entries, in document order, names and numbers trimmed; an entry without a name
    /// is named by its number.
    pub entries: Vec<Contact>,
}

/// Which field of an entry [`check_contact`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactField {
    /// The name.
    Name,
    /// The number.
    Number,
}

impl ContactField {
    /// The field's name, as the API names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Number => "number",
        }
    }

    /// What the field must be.
    pub fn rule(self) -> &'static str {
        match self {
            Self::Name => "1-100 printable characters",
            Self::Number => "1-32 characters: digits and + * # - ( ) or spaces",
        }
    }
}

/// The one rule for a phonebook entry, pasted or fetched: a name of 1-100 printable
/// characters and a number of 1-32 characters, digits and `+ * # - ( )` or spaces, with at
/// least one digit.
pub fn check_contact(c: &Contact) -> std::result::Result<(), ContactField> {
    let n = c.name.chars().count();
    if n == 0 || n > MAX_NAME_CHARS || c.name.chars().any(char::is_control) {
        return Err(ContactField::Name);
    }
    let ok = (1..=MAX_NUMBER_CHARS).contains(&c.number.len())
        && c.number.bytes().any(|b| b.is_ascii_digit())
        && c.number
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+*#-() ".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ContactField::Number)
    }
}

fn bad(detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, detail)
}

/// The one rule for a fetch's HTTP status, at the edge and at the relay: `200` is read, a
/// redirect is not followed (only the saved address is fetched), anything else is the
/// fetch's error. `host` names the server in the message.
pub fn check_fetch_status(host: &str, status: u16) -> std::result::Result<(), String> {
    match status {
        200 => Ok(()),
        300..=399 => Err(format!(
            "{host} answered HTTP {status}, a redirect: redirects are not followed, save the \
             address it points to instead"
        )),
        _ => Err(format!("{host} answered HTTP {status}")),
    }
}

/// Reads a fetched directory: its format, then its entries (see the module docs). Fails,
/// with what is wrong and where, on a document over [`MAX_SOURCE_BYTES`], not UTF-8, in no
/// format above, with more than [`MAX_ENTRIES`] entries or with an entry
/// [`check_contact`] refuses.
pub fn parse_source(bytes: &[u8]) -> Result<ParsedSource> {
    if bytes.len() > MAX_SOURCE_BYTES {
        return Err(bad(format!(
            "the document is larger than {} KiB",
            MAX_SOURCE_BYTES / 1024
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| bad("the document is not UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let head = text.trim_start();
    let (format, raw) = if head.starts_with('<') {
        parse_xml(text)?
    } else if head.starts_with('[') {
        (SourceFormat::Json, parse_json(head)?)
    } else if head.is_empty() {
        return Err(bad("the document is empty"));
    } else {
        (SourceFormat::Csv, parse_csv(text)?)
    };
    if raw.len() > MAX_ENTRIES {
        return Err(bad(format!("more than {MAX_ENTRIES} entries")));
    }
    let mut entries = Vec::with_capacity(raw.len());
    for (i, c) in raw.into_iter().enumerate() {
        let number = c.number.trim().to_owned();
        let name = match c.name.trim() {
            "" => number.clone(),
            n => n.to_owned(),
        };
        let c = Contact { name, number };
        if let Err(field) = check_contact(&c) {
            return Err(bad(format!(
                "entry {}: the {} must be {}",
                i + 1,
                field.as_str(),
                field.rule()
            )));
        }
        entries.push(c);
    }
    Ok(ParsedSource { format, entries })
}

fn parse_xml(text: &str) -> Result<(SourceFormat, Vec<Contact>)> {
    let doc = crate::xml::Document::parse(text)?;
    for vendor in Vendor::ALL {
        let Ok(m) = vendor.module() else { continue };
        if let Some(entries) = m.read_phonebook(&doc.root) {
            return Ok((SourceFormat::Xml(vendor), entries));
        }
    }
    Err(bad(format!(
        "<{}> is not a phonebook format this system reads (Yealink, Snom, Fanvil, Htek or \
         Grandstream XML)",
        clip(&doc.root.name)
    )))
}

/// A phonebook of `DirectoryEntry` elements, each with a `Name` and one or more
/// `Telephone`s (one entry per number): the shape Yealink, Snom, Fanvil and Htek share.
pub(crate) fn directory_entries(root: &crate::xml::Element) -> Vec<Contact> {
    let mut out = Vec::new();
    'entries: for entry in root.elements().filter(|e| e.name == "DirectoryEntry") {
        let name = entry
            .elements()
            .find(|e| e.name == "Name")
            .map(crate::xml::Element::text)
            .unwrap_or_default();
        for tel in entry.elements().filter(|e| e.name == "Telephone") {
            if reader_full(&out) {
                break 'entries;
            }
            out.push(Contact {
                name: name.clone(),
                number: tel.text(),
            });
        }
    }
    out
}

/// Whether a document's reader has collected enough to stop: more than [`MAX_ENTRIES`]
/// entries, or a last entry whose name is too long. Either refuses the document all the
/// same ([`parse_source`]); stopping matters because an entry's name is copied for each of
/// its numbers, so a long name over many numbers (`<Telephone/>`, `<Phone/>`) would make a
/// 2 MiB document ask for gigabytes.
pub(crate) fn reader_full(out: &[Contact]) -> bool {
    out.len() > MAX_ENTRIES
        || out
            .last()
            .is_some_and(|c| c.name.trim().chars().count() > MAX_NAME_CHARS)
}

fn parse_json(text: &str) -> Result<Vec<Contact>> {
    #[derive(serde::Deserialize)]
    struct Entry {
        name: String,
        number: String,
    }
    let list: Vec<Entry> = serde_json::from_str(text).map_err(|e| {
        bad(format!(
            "JSON: {} (line {}, column {}); expected [{{\"name\": ..., \"number\": ...}}]",
            json_reason(&e),
            e.line(),
            e.column()
        ))
    })?;
    Ok(list
        .into_iter()
        .map(|e| Contact {
            name: e.name,
            number: e.number,
        })
        .collect())
}

/// serde_json's message without its own position (given apart) and without quoting the
/// document's text at length.
fn json_reason(e: &serde_json::Error) -> String {
    let s = e.to_string();
    let s = s.split(" at line ").next().unwrap_or_default();
    clip(s)
}

fn parse_csv(text: &str) -> Result<Vec<Contact>> {
    let mut rows = CsvRows {
        rest: text,
        line: 1,
    };
    let header = rows
        .next_row()?
        .ok_or_else(|| bad("the document is empty"))?;
    let col = |want: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(want))
    };
    let (Some(name_col), Some(number_col)) = (col("name"), col("number")) else {
        return Err(bad(
            "CSV: the first line must name the columns `name` and `number` (or the document is \
             in no format this system reads)",
        ));
    };
    let mut out = Vec::new();
    while let Some(row) = rows.next_row()? {
        if row.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if out.len() >= MAX_ENTRIES {
            return Err(bad(format!("more than {MAX_ENTRIES} entries")));
        }
        let field = |i: usize| row.get(i).cloned().unwrap_or_default();
        out.push(Contact {
            name: field(name_col),
            number: field(number_col),
        });
    }
    Ok(out)
}

/// RFC 4180 records, one at a time.
struct CsvRows<'a> {
    rest: &'a str,
    line: usize,
}

impl CsvRows<'_> {
    /// The next record's fields, `None` at the end.
    fn next_row(&mut self) -> Result<Option<Vec<String>>> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let start_line = self.line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = self.rest.char_indices().peekable();
        let mut end = self.rest.len();
        while let Some((i, ch)) = chars.next() {
            match (quoted, ch) {
                (true, '"') if chars.peek().map(|&(_, c)| c) == Some('"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => {
                    if c == '\n' {
                        self.line += 1;
                    }
                    field.push(c);
                }
                (false, '"') if field.is_empty() => quoted = true,
                (false, ',') => fields.push(std::mem::take(&mut field)),
                (false, '\n') => {
                    self.line += 1;
                    end = i + 1;
                    break;
                }
                (false, '\r') => {}
                (false, c) => field.push(c),
            }
            if fields.len() > 64 {
                return Err(bad(format!("CSV line {start_line}: more than 64 columns")));
            }
        }
        if quoted {
            return Err(bad(format!(
                "CSV line {start_line}: a quoted field is not closed"
            )));
        }
        fields.push(field);
        self.rest = self.rest.get(end..).unwrap_or_default();
        Ok(Some(fields))
    }
}

/// At most 40 characters of `s`, for an error message.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

// ---------------------------------------------------------------------------------------
// Addresses

/// Who may fetch a source, by its host as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetcher {
    /// A public host: the edge fetches it.
    Edge,
    /// A LAN host (a private, loopback, link-local, CGNAT or ULA address, or a
    /// `localhost`-like or single-label name): only the site's relay fetches it, from the
    /// LAN.
    Relay,
}

impl Fetcher {
    /// `edge` or `relay`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Edge => "edge",
            Self::Relay => "relay",
        }
    }
}

/// A source URL that passed the checks: `http` or `https`, a host and optional port, no
/// credentials, nothing a URL parser could read as another host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceUrl {
    /// The URL as given (trimmed): the only address fetched.
    pub url: String,
    /// The host, lowercase, IPv6 without brackets and in its short form, without a final dot.
    pub host: String,
    /// The port, when written.
    pub port: Option<u16>,
    /// Who fetches it.
    pub fetcher: Fetcher,
}

impl SourceUrl {
    /// Checks `url` and says who fetches it. Credentials (`user:password@`) are refused:
    /// this version keeps no secret for a source, and a URL is shown in the console.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        let e = |d: &str| Error::new(ErrorKind::InvalidInput, d.to_owned());
        if url.is_empty() || url.chars().count() > MAX_URL_CHARS {
            return Err(e("a URL of 1-2048 characters"));
        }
        if url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        {
            return Err(e("the URL has a space, a control character or a backslash"));
        }
        let lower = url.to_ascii_lowercase();
        let rest_at = if lower.starts_with("https://") {
            8
        } else if lower.starts_with("http://") {
            7
        } else {
            return Err(e("the URL must start with http:// or https://"));
        };
        let rest = url.get(rest_at..).unwrap_or_default();
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(e(
                "credentials in the URL are not accepted (a source URL is shown in the console \
                 and this version stores no secret for it)",
            ));
        }
        let (host, port) =
            split_host_port(authority).ok_or_else(|| e("the URL's host or port is not valid"))?;
        let fetcher = classify_host(&host).map_err(e)?;
        Ok(Self {
            url: url.to_owned(),
            host,
            port,
            fetcher,
        })
    }

    /// `host` or `host:port` as a URL writes it (IPv6 in brackets).
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host,
        }
    }
}

/// `host[:port]` or `[v6][:port]`, the host lowercased and checked for its characters.
fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        // The address in its short form, as a URL parser writes it (the edge compares the two).
        let ip: Ipv6Addr = h.parse().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (ip.to_string(), port)
    } else {
        let (h, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let ok = !h.is_empty()
            && h.len() <= 253
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !ok {
            return None;
        }
        let h = h.strip_suffix('.').unwrap_or(h);
        if h.is_empty() || h.split('.').any(str::is_empty) {
            return None;
        }
        (h.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => None,
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(p.parse::<u16>().ok().filter(|&p| p > 0)?)
        }
    };
    Some((host, port))
}

/// Name suffixes that never name a public host (RFC 6761 `localhost`, RFC 6762 `local`,
/// RFC 8375 `home.arpa`, and the `lan`/`internal` names LANs use).
const LAN_SUFFIXES: &[&str] = &["localhost", "local", "lan", "home.arpa", "internal"];

/// Who may fetch `host` (lowercase, no brackets); `Err` for an address nobody may fetch.
fn classify_host(host: &str) -> std::result::Result<Fetcher, &'static str> {
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return classify_ip(IpAddr::V6(v6));
    }
    // A URL parser reads a host whose last label is numeric as an IPv4 address, in forms
    // (`127.1`, `0x7f.0.0.1`, `2130706433`) the check below would take for a name: only
    // the dotted-quad form is accepted.
    let last = host.rsplit('.').next().unwrap_or_default();
    if last.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        let v4 = host
            .parse::<Ipv4Addr>()
            .map_err(|_| "write an IPv4 address as four decimal numbers (a.b.c.d)")?;
        return classify_ip(IpAddr::V4(v4));
    }
    let lan = !host.contains('.')
        || LAN_SUFFIXES
            .iter()
            .any(|s| host == *s || host.ends_with(&format!(".{s}")));
    Ok(if lan { Fetcher::Relay } else { Fetcher::Edge })
}

/// Who may fetch `ip`: the LAN's ranges are the relay's; unspecified, multicast, broadcast
/// and reserved addresses nobody's.
pub fn classify_ip(ip: IpAddr) -> std::result::Result<Fetcher, &'static str> {
    const NOBODY: &str = "the address is unspecified, multicast, broadcast or reserved";
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_unspecified() || a == 0 || v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                return Err(NOBODY);
            }
            let lan = v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                // CGNAT, RFC 6598: 100.64.0.0/10.
                || (a == 100 && (64..128).contains(&b));
            Ok(if lan { Fetcher::Relay } else { Fetcher::Edge })
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return classify_ip(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_unspecified() || first >> 8 == 0xff {
                return Err(NOBODY);
            }
            let lan = v6.is_loopback()
                // ULA fc00::/7, link-local fe80::/10, the old site-local fec0::/10.
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80
                || first & 0xffc0 == 0xfec0;
            Ok(if lan { Fetcher::Relay } else { Fetcher::Edge })
        }
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) IPv6 address.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let mapped = s[..5] == [0; 5] && s[5] == 0xffff;
    let compat = s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified();
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    (mapped || compat || nat64).then_some(tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn pairs(p: &ParsedSource) -> Vec<(&str, &str)> {
        p.entries
            .iter()
            .map(|c| (c.name.as_str(), c.number.as_str()))
            .collect()
    }

    // Each XML sample has the shape of the public file its vendor module cites.

    #[test]
    fn yealink_xml() {
        // FusionPBX `resources/templates/provision/yealink/t46s/directory.xml`: entries of
        // `Name` and `Telephone`, no title; a Yealink entry may hold several numbers.
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<YealinkIPPhoneDirectory>
  <DirectoryEntry><Name>Alice &amp; Co</Name><Telephone>201</Telephone><Telephone>+49 30 1234</Telephone></DirectoryEntry>
  <DirectoryEntry><Name>Bob</Name><Telephone> 202 </Telephone></DirectoryEntry>
</YealinkIPPhoneDirectory>"#;
        let p = parse_source(doc.as_bytes()).unwrap();
        assert_eq!(p.format, SourceFormat::Xml(Vendor::Yealink));
        assert_eq!(
            pairs(&p),
            [
                ("Alice & Co", "201"),
                ("Alice & Co", "+49 30 1234"),
                ("Bob", "202")
            ]
        );
    }

    #[test]
    fn snom_fanvil_htek_xml() {
        // Snom: `<SnomIPPhoneDirectory>` with a `Title` (Wazo `base.tpl` points the directory
        // key at it); Fanvil: `<FanvilIPPhoneDirectory>` with a `Title` and entries of `Name`
        // and `Telephone` (Fanvil's XML phonebook spec, fanvil.com `.../20191226/
        // 5e0454ec2e7f0.pdf` pp. 8-9, as public 3CX phonebook generators cite and write it);
        // Htek: `<PhoneDirectory>` (FusionPBX `htek/uc926/phonebook.xml`).
        for (root, vendor) in [
            ("SnomIPPhoneDirectory", Vendor::Snom),
            ("FanvilIPPhoneDirectory", Vendor::Fanvil),
            ("PhoneDirectory", Vendor::Htek),
        ] {
            let doc = format!(
                "<{root}><Title>HQ</Title><DirectoryEntry><Name>Carol</Name>\
                 <Telephone>300</Telephone></DirectoryEntry></{root}>"
            );
            let p = parse_source(doc.as_bytes()).unwrap();
            assert_eq!(p.format, SourceFormat::Xml(vendor), "{root}");
            assert_eq!(pairs(&p), [("Carol", "300")], "{root}");
        }
    }

    #[test]
    fn grandstream_xml() {
        // Grandstream *XML Based Downloadable Phonebook Guide* (GXP16xx/17xx/21xx), FusionPBX
        // `gxp2170/phonebook.xml`, SebastianKrupinski/dido `lib/Resources/Contacts/
        // Grandstream.tpl` (several `Phone`s per `Contact`, `LastName` before `FirstName`):
        // `AddressBook` of `Contact`s with `FirstName`, `LastName` and `Phone`s holding
        // `phonenumber` and `accountindex`.
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<AddressBook>
  <Contact>
    <FirstName>Dora</FirstName><LastName>Diaz</LastName>
    <Phone type="Work"><phonenumber>400</phonenumber><accountindex>0</accountindex></Phone>
    <Phone type="Cell"><phonenumber>+1 555 0100</phonenumber><accountindex>0</accountindex></Phone>
  </Contact>
  <Contact><LastName>Fox</LastName><FirstName>Ed</FirstName><Phone><phonenumber>401</phonenumber></Phone></Contact>
  <Contact><FirstName>Gus</FirstName><LastName/><Phone><phonenumber>402</phonenumber></Phone></Contact>
</AddressBook>"#;
        let p = parse_source(doc.as_bytes()).unwrap();
        assert_eq!(p.format, SourceFormat::Xml(Vendor::Grandstream));
        assert_eq!(
            pairs(&p),
            [
                ("Dora Diaz", "400"),
                ("Dora Diaz", "+1 555 0100"),
                ("Ed Fox", "401"),
                ("Gus", "402")
            ]
        );
    }

    #[test]
    fn our_own_phonebooks_read_back() {
        let contacts = vec![
            Contact {
                name: "Zoë <z>".into(),
                number: "*97".into(),
            },
            Contact {
                name: "A, B".into(),
                number: "100".into(),
            },
        ];
        for v in [
            Vendor::Yealink,
            Vendor::Snom,
            Vendor::Fanvil,
            Vendor::Grandstream,
            Vendor::Htek,
        ] {
            let text = crate::phonebook::render_phonebook(v, "T", &contacts).unwrap();
            let p = parse_source(text.as_bytes()).unwrap();
            assert_eq!(p.format, SourceFormat::Xml(v));
            assert_eq!(p.entries, contacts, "{v:?}");
            assert_eq!(SourceFormat::parse(&p.format.name()), Some(p.format));
        }
    }

    #[test]
    fn json_and_csv() {
        let p = parse_source(
            br#" [{"name": "Fay", "number": "500", "email": "x"}, {"name": "", "number": "501"}]"#,
        )
        .unwrap();
        assert_eq!(p.format, SourceFormat::Json);
        assert_eq!(pairs(&p), [("Fay", "500"), ("501", "501")]);
        let csv = "\u{feff}Number,Name,Dept\r\n600,\"Gil, \"\"G\"\"\",x\r\n\r\n601,Hal\n";
        let p = parse_source(csv.as_bytes()).unwrap();
        assert_eq!(p.format, SourceFormat::Csv);
        assert_eq!(pairs(&p), [("Gil, \"G\"", "600"), ("Hal", "601")]);
    }

    #[test]
    fn bad_documents_are_refused_clearly() {
        let cases: [(&[u8], &str); 9] = [
            (b"", "empty"),
            (b"\xff\xfe", "not UTF-8"),
            (
                b"<html><body>login</body></html>",
                "<html> is not a phonebook",
            ),
            (b"<YealinkIPPhoneDirectory>", "not closed"),
            (b"[{\"name\": 1}]", "JSON"),
            (b"who,what\n1,2", "must name the columns"),
            (b"name,number\n\"open,1", "not closed"),
            (
                b"name,number\nIvy,12ab",
                "entry 1: the number must be 1-32 characters",
            ),
            (b"<!DOCTYPE x [<!ENTITY a \"b\">]><x/>", "DOCTYPE"),
        ];
        for (doc, want) in cases {
            let e = parse_source(doc).unwrap_err().to_string();
            assert!(e.contains(want), "{e} / {want}");
        }
        let big = vec![b' '; MAX_SOURCE_BYTES + 1];
        assert!(parse_source(&big)
            .unwrap_err()
            .to_string()
            .contains("larger"));
        let mut many = String::from("name,number\n");
        for i in 0..=MAX_ENTRIES {
            many.push_str(&format!("n{i},{i}\n"));
        }
        assert!(parse_source(many.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("more than 5000"));
        let long = format!("[{{\"name\": \"{}\", \"number\": \"1\"}}]", "x".repeat(101));
        assert!(parse_source(long.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("entry 1: the name"));
    }

    /// Attack: a directory server sends one long name over many numbers. Each number is an
    /// entry carrying a copy of the name, so a full-size document (a 1 MiB name over 40 000
    /// `<Telephone/>`s) would ask for 40 GiB. The readers stop at the first entry refused
    /// for its name, or past the most entries.
    #[test]
    fn a_long_name_over_many_numbers_is_not_copied_for_each() {
        let long = "n".repeat(MAX_NAME_CHARS + 1);
        let yealink = format!(
            "<YealinkIPPhoneDirectory><DirectoryEntry><Name>{long}</Name>{}</DirectoryEntry>\
             </YealinkIPPhoneDirectory>",
            "<Telephone/>".repeat(2000)
        );
        let grandstream = format!(
            "<AddressBook><Contact><FirstName>{long}</FirstName>{}</Contact></AddressBook>",
            "<Phone/>".repeat(2000)
        );
        for doc in [&yealink, &grandstream] {
            let root = crate::xml::Document::parse(doc).unwrap().root;
            let read = Vendor::ALL
                .into_iter()
                .find_map(|v| v.module().ok()?.read_phonebook(&root))
                .unwrap();
            assert_eq!(read.len(), 1, "{}", &doc[..20]);
            let e = parse_source(doc.as_bytes()).unwrap_err().to_string();
            assert!(e.contains("entry 1: the name"), "{e}");
        }
        // Short names: the reader stops past the most entries.
        let many = format!(
            "<PhoneDirectory><DirectoryEntry><Name>A</Name>{}</DirectoryEntry></PhoneDirectory>",
            "<Telephone>1</Telephone>".repeat(MAX_ENTRIES + 500)
        );
        let root = crate::xml::Document::parse(&many).unwrap().root;
        assert_eq!(directory_entries(&root).len(), MAX_ENTRIES + 1);
        // The full-size attack is refused, holding one copy of the name.
        let name = "n".repeat(1 << 20);
        let tels = "<Telephone/>".repeat((MAX_SOURCE_BYTES - (1 << 20) - 200) / 12);
        let doc = format!(
            "<YealinkIPPhoneDirectory><DirectoryEntry><Name>{name}</Name>{tels}</DirectoryEntry>\
             </YealinkIPPhoneDirectory>"
        );
        assert!(doc.len() <= MAX_SOURCE_BYTES);
        let e = parse_source(doc.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("entry 1: the name"), "{e}");
    }

    #[test]
    fn only_200_is_read_and_redirects_are_not_followed() {
        assert_eq!(check_fetch_status("pbx", 200), Ok(()));
        for (status, want) in [
            (301, "redirects are not followed"),
            (307, "redirect"),
            (404, "HTTP 404"),
            (204, "HTTP 204"),
        ] {
            let e = check_fetch_status("pbx", status).unwrap_err();
            assert!(e.starts_with("pbx answered") && e.contains(want), "{e}");
        }
    }

    #[test]
    fn urls_say_who_fetches() {
        let who = |u: &str| SourceUrl::parse(u).map(|s| s.fetcher);
        // An IPv6 host in its short form, as the edge's URL parser reads it.
        assert_eq!(
            SourceUrl::parse("https://[2001:DB8:0:0::1]:8443/pb.xml")
                .unwrap()
                .host,
            "2001:db8::1"
        );
        for u in [
            "https://pbx.example.com/directory.xml",
            "http://pbx.example.com:8080/pb?site=1",
            "https://8.8.8.8/x",
            "https://[2001:db8::1]:8443/x",
            "https://100.128.0.1/",
        ] {
            assert_eq!(who(u).unwrap(), Fetcher::Edge, "{u}");
        }
        for u in [
            "http://10.0.0.5/pb.xml",
            "http://172.16.1.1/",
            "http://192.168.1.2:8480/",
            "http://127.0.0.1:9999/",
            "http://169.254.1.1/",
            "http://100.64.0.1/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:192.168.0.1]/",
            "http://[64:ff9b::a00:1]/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://a.localhost/",
            "http://pbx.lan/",
            "http://pbx.local/",
            "http://pbx.home.arpa/",
            "http://pbx/",
        ] {
            assert_eq!(who(u).unwrap(), Fetcher::Relay, "{u}");
        }
        for u in [
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "https://example.com@10.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0.0.0.0/",
            "http://[::]/",
            "http://224.0.1.75/",
            "http://ex ample.com/",
            "http://example.com\\@10.0.0.1/",
            "http://ex%61mple.com/",
            "http://example.com:0/",
            "http://example.com:99999/",
            "http://[zz]/",
            "https://",
            "",
        ] {
            assert!(who(u).is_err(), "{u}");
        }
        let e = SourceUrl::parse("https://user:s3cret@example.com/").unwrap_err();
        assert!(!e.to_string().contains("s3cret"));
        let s = SourceUrl::parse(" https://[2001:db8::1]:8443/x ").unwrap();
        assert_eq!(
            (s.url.as_str(), s.authority()),
            ("https://[2001:db8::1]:8443/x", "[2001:db8::1]:8443".into())
        );
    }
}
