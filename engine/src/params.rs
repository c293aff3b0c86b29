//! Additional Parameters: the INI text an administrator writes per site to add or override
//! settings in the generated configs, in the sections MikoPBX's module uses.
//!
//! Parsing is all-or-nothing: a malformed line fails the whole text with its line number,
//! and nothing is merged.

use std::fmt;

use crate::error::{clip, Error, ErrorKind, Result};
use crate::vendors::Vendor;
use crate::xml;

/// A section of the Additional Parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// `[yealink]`: `key = value` lines.
    Yealink,
    /// `[snom]`: elements directly under Snom's root `<settings>`.
    Snom,
    /// `[snom-phone-settings]`: elements inside `<phone-settings>`.
    SnomPhoneSettings,
    /// `[fanvil]`: lines of Fanvil's `<GLOBAL CONFIG MODULE>`.
    Fanvil,
    /// `[fanvil-sip]`: lines of `<SIP CONFIG MODULE>`.
    FanvilSip,
    /// `[fanvil-tele]`: lines of `<TELE CONFIG MODULE>`.
    FanvilTele,
    /// `[fanvil-autoupdate]`: lines of `<AUTOUPDATE CONFIG MODULE>`.
    FanvilAutoupdate,
    /// `[grandstream]`: P-codes, as `<P3>name</P3>` or `P3 = name`.
    Grandstream,
    /// `[htek]`: `key = value` lines.
    Htek,
    /// `[debug]`: `verbose = 1` logs every PnP packet and decision.
    Debug,
}

/// The longest Additional Parameters text accepted, in bytes.
pub const MAX_PARAMS_BYTES: usize = 64 * 1024;

/// How the lines of a section are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineSyntax {
    /// `key = value`.
    KeyValue,
    /// `Key Name :value` or `Key Name = value` (Fanvil keys contain spaces).
    Fanvil,
    /// `<name attr="v">value</name>` or `name = value`.
    Xml,
}

impl Section {
    /// Every section.
    pub const ALL: [Self; 10] = [
        Self::Yealink,
        Self::Snom,
        Self::SnomPhoneSettings,
        Self::Fanvil,
        Self::FanvilSip,
        Self::FanvilTele,
        Self::FanvilAutoupdate,
        Self::Grandstream,
        Self::Htek,
        Self::Debug,
    ];

    /// The name written between brackets (a vendor's sections are named in its home).
    pub fn name(self) -> &'static str {
        if self == Self::Debug {
            return "debug";
        }
        Vendor::ALL
            .iter()
            .flat_map(|v| v.facts().param_sections)
            .find(|p| p.section == self)
            .map_or("", |p| p.name)
    }

    /// The vendor whose configs the section changes (`None` for `[debug]`).
    pub fn vendor(self) -> Option<Vendor> {
        Vendor::ALL
            .into_iter()
            .find(|v| v.param_sections().any(|s| s == self))
    }

    fn syntax(self) -> LineSyntax {
        match self {
            Self::Snom | Self::SnomPhoneSettings | Self::Grandstream => LineSyntax::Xml,
            Self::Fanvil | Self::FanvilSip | Self::FanvilTele | Self::FanvilAutoupdate => {
                LineSyntax::Fanvil
            }
            Self::Yealink | Self::Htek | Self::Debug => LineSyntax::KeyValue,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.name())
    }
}

/// One parameter line. `Debug` shows the key and line, never the value (it may be a
/// password override).
#[derive(Clone, PartialEq, Eq)]
pub struct Param {
    /// The section it is in.
    pub section: Section,
    /// Its 1-based line number in the text.
    pub line: usize,
    /// The key: a Yealink/Htek key, a Fanvil key name, an XML element name or P-code.
    pub key: String,
    /// The value (the element's text for XML lines; may be empty).
    pub value: String,
    /// XML attributes given on the element (`perm`, `idx`, ...), in order.
    pub attrs: Vec<(String, String)>,
    /// For an XML line whose element has child elements, the element's XML text as given;
    /// merged as a whole.
    pub raw_xml: Option<String>,
}

impl std::fmt::Debug for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Param")
            .field("section", &self.section)
            .field("line", &self.line)
            .field("key", &self.key)
            .field("value", &"***")
            .finish_non_exhaustive()
    }
}

impl Param {
    /// The value of attribute `name`, if given.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parsed Additional Parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdditionalParams {
    params: Vec<Param>,
    verbose: bool,
}

impl AdditionalParams {
    /// Parses the INI text. Blank lines and lines starting with `;` or `#` are comments.
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > MAX_PARAMS_BYTES {
            return Err(Error::new(
                ErrorKind::InvalidParams,
                format!(
                    "the text is {} KiB; the limit is {} KiB",
                    text.len() / 1024,
                    MAX_PARAMS_BYTES / 1024
                ),
            ));
        }
        let mut out = Self::default();
        let mut section: Option<Section> = None;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return Err(err(n, "a section header must end with ']'"));
                };
                section = Some(Section::from_name(name).ok_or_else(|| {
                    err(
                        n,
                        format!(
                            "unknown section [{}]; expected one of {}",
                            clip(name),
                            Section::ALL.map(|s| format!("[{}]", s.name())).join(", ")
                        ),
                    )
                })?);
                continue;
            }
            let Some(sec) = section else {
                return Err(err(
                    n,
                    "a parameter before any [section]; start with e.g. [yealink]",
                ));
            };
            let p = parse_line(sec, n, line)?;
            if sec == Section::Debug {
                match (p.key.as_str(), p.value.as_str()) {
                    ("verbose", "1") => out.verbose = true,
                    ("verbose", "0") => out.verbose = false,
                    ("verbose", _) => return Err(err(n, "verbose must be 0 or 1")),
                    _ => {
                        return Err(err(
                            n,
                            format!(
                                "unknown [debug] key {:?}; only verbose is known",
                                clip(&p.key)
                            ),
                        ))
                    }
                }
                continue;
            }
            out.params.push(p);
        }
        Ok(out)
    }

    /// Parses lines in one section's syntax without a header (used for template overlays).
    pub(crate) fn parse_section_body(section: Section, text: &str) -> Result<Vec<Param>> {
        let mut v = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            v.push(parse_line(section, i + 1, line)?);
        }
        Ok(v)
    }

    /// `true` when `[debug] verbose = 1`.
    pub fn verbose(&self) -> bool {
        self.verbose
    }

    /// All parameters, in text order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The parameters that apply to `vendor`, in text order.
    pub fn for_vendor(&self, vendor: Vendor) -> Vec<&Param> {
        self.params
            .iter()
            .filter(|p| p.section.vendor() == Some(vendor))
            .collect()
    }

    /// `true` when no parameter applies to `vendor`.
    pub fn is_empty_for(&self, vendor: Vendor) -> bool {
        !self
            .params
            .iter()
            .any(|p| p.section.vendor() == Some(vendor))
    }
}

fn parse_line(sec: Section, n: usize, line: &str) -> Result<Param> {
    if line.chars().any(|c| c.is_control() && c != '\t') {
        // A lone CR or other control character would end up inside a config line.
        return Err(err(n, "contains a control character"));
    }
    let mut p = Param {
        section: sec,
        line: n,
        key: String::new(),
        value: String::new(),
        attrs: Vec::new(),
        raw_xml: None,
    };
    match sec.syntax() {
        LineSyntax::Xml if line.starts_with('<') => {
            let el = xml::Element::parse_fragment_one(line).map_err(|e| {
                err(
                    n,
                    format!("not a single well-formed XML element: {}", e.detail()),
                )
            })?;
            p.key = el.name.clone();
            p.attrs = el.attrs.clone();
            if el.has_element_children() {
                p.raw_xml = Some(line.to_owned());
            }
            p.value = el.text();
        }
        LineSyntax::Xml | LineSyntax::KeyValue => {
            let Some((k, v)) = line.split_once('=') else {
                return Err(err(n, "expected key = value"));
            };
            p.key = k.trim().to_owned();
            p.value = v.trim().to_owned();
        }
        LineSyntax::Fanvil => {
            let Some(at) = line.find([':', '=']) else {
                return Err(err(n, "expected Key Name :value (or Key Name = value)"));
            };
            p.key = line[..at].trim().to_owned();
            p.value = line[at + 1..].trim().to_owned();
        }
    }
    check_key(sec, n, &p.key)?;
    Ok(p)
}

fn check_key(sec: Section, n: usize, key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(err(n, "the key is empty"));
    }
    if key.len() > 128 {
        return Err(err(n, "the key is longer than 128 characters"));
    }
    let ok = match sec.syntax() {
        LineSyntax::KeyValue => key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'[' | b']')),
        LineSyntax::Fanvil => key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'-' | b'.' | b'/')),
        LineSyntax::Xml if sec == Section::Grandstream => crate::vendors::is_pcode(key),
        LineSyntax::Xml => xml::is_name(key),
    };
    if ok {
        Ok(())
    } else if sec == Section::Grandstream {
        Err(err(
            n,
            format!("{:?} is not a Grandstream P-code such as P3", clip(key)),
        ))
    } else {
        Err(err(
            n,
            format!("{:?} is not a valid key for {sec}", clip(key)),
        ))
    }
}

fn err(line: usize, msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidParams, msg).at(line, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn parses_every_section() {
        let text = "; comment\n[yealink]\nlocal_time.ntp_server1 = pool.ntp.org\n\n[snom]\n<language perm=\"RW\">Deutsch</language>\n[snom-phone-settings]\ntime_24_format = on\n[fanvil-sip]\nSIP1 Display Name :Front desk\n[fanvil]\nApp URL = http://x/fw.z\n[grandstream]\n<P3>caller</P3>\nP30 = pool.ntp.org\n[htek]\nlang.gui = German\n[debug]\nverbose = 1\n";
        let p = AdditionalParams::parse(text).unwrap();
        assert!(p.verbose());
        let y = p.for_vendor(Vendor::Yealink);
        assert_eq!(
            (y[0].key.as_str(), y[0].value.as_str(), y[0].line),
            ("local_time.ntp_server1", "pool.ntp.org", 3)
        );
        let s = p.for_vendor(Vendor::Snom);
        assert_eq!(s[0].key, "language");
        assert_eq!(s[0].attr("perm"), Some("RW"));
        assert_eq!(s[0].value, "Deutsch");
        assert_eq!(s[1].section, Section::SnomPhoneSettings);
        let f = p.for_vendor(Vendor::Fanvil);
        assert_eq!(
            (f[0].key.as_str(), f[0].value.as_str()),
            ("SIP1 Display Name", "Front desk")
        );
        assert_eq!(
            (f[1].key.as_str(), f[1].value.as_str()),
            ("App URL", "http://x/fw.z")
        );
        let g = p.for_vendor(Vendor::Grandstream);
        assert_eq!((g[0].key.as_str(), g[0].value.as_str()), ("P3", "caller"));
        assert_eq!(
            (g[1].key.as_str(), g[1].value.as_str()),
            ("P30", "pool.ntp.org")
        );
        assert!(!p.is_empty_for(Vendor::Htek));
    }

    #[test]
    fn values_are_redacted_in_debug_and_size_is_capped() {
        let p = AdditionalParams::parse("[yealink]\naccount.1.password = hunter2\n").unwrap();
        let dbg = format!("{p:?}");
        assert!(
            dbg.contains("account.1.password") && !dbg.contains("hunter2"),
            "{dbg}"
        );
        let big = format!("[yealink]\n{}", "a = 1\n".repeat(MAX_PARAMS_BYTES / 6 + 1));
        assert_eq!(
            AdditionalParams::parse(&big).unwrap_err().kind(),
            ErrorKind::InvalidParams
        );
        // Deep XML in a line is refused, not a stack overflow.
        let deep = format!("[snom]\n{}{}", "<a>".repeat(5000), "</a>".repeat(5000));
        assert_eq!(AdditionalParams::parse(&deep).unwrap_err().line(), Some(2));
    }

    #[test]
    fn malformed_lines_fail_with_their_line() {
        let cases = [
            ("key = v\n", 1, "before any"),
            ("[yealink]\nno separator here\n", 2, "key = value"),
            ("[yealink]\n = v\n", 2, "empty"),
            ("[yealink\n", 1, "]"),
            ("[acme]\n", 1, "unknown section"),
            ("[grandstream]\n<P3>x</P4>\n", 2, "XML"),
            ("[grandstream]\nfoo = bar\n", 2, "P-code"),
            ("[snom]\n<a><b></a>\n", 2, "XML"),
            ("[debug]\nverbose = yes\n", 2, "0 or 1"),
            ("[debug]\nloud = 1\n", 2, "verbose"),
            ("[yealink]\nbad key = 1\n", 2, "not a valid key"),
            ("[fanvil-sip]\njust words\n", 2, "Key Name"),
            ("[yealink]\nok = 1\n[snom]\n<x y=>1</x>\n", 4, "XML"),
            ("[yealink]\nfoo = 1\rbar.baz = 2\n", 2, "control character"),
            ("[grandstream]\nP123456789 = x\n", 2, "P-code"),
            ("[debug]\nverbose = 1\u{0}\n", 2, "control character"),
        ];
        for (text, line, needle) in cases {
            let e = AdditionalParams::parse(text).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidParams, "{text}");
            assert_eq!(e.line(), Some(line), "{text}");
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
    }
}
