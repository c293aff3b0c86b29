//! MAC allow and deny lists: which phones the server answers at all.
//!
//! The rules, in order:
//!
//! 1. A MAC that matches any **deny** entry is refused, even if it is also allow-listed
//!    (deny wins, so blocking a stolen phone never depends on editing the allow list).
//! 2. Otherwise, if the **allow** list is empty, the phone is served.
//! 3. Otherwise the phone is served only if it matches an allow entry.
//!
//! Both lists empty therefore means every phone is served.
//!
//! An entry is either one MAC, in any spelling [`Mac::parse`] accepts (`00:15:65:aa:bb:cc`,
//! `00-15-65-AA-BB-CC`, `0015.65aa.bbcc`, `001565aabbcc`), or a maker prefix (OUI): six hex
//! digits, optionally written with `:`, `-` or `.` separators, followed by `*`
//! (`00:15:65:*`, `00-15-65*`, `0015.65*`, `001565*`), meaning every MAC that starts with
//! those three octets. Entries are separated by newlines, commas, semicolons, spaces or
//! tabs, so a pasted column, a CSV row or a typed line all work; `#` starts a comment that
//! runs to the end of its line. Duplicates are dropped and the order kept.
//!
//! One bad entry fails the whole list, with an error naming the list (`allow` or `deny`),
//! the 1-based entry number and its line and column: a policy that silently skipped a
//! mistyped deny entry would serve the very phone it was meant to block.
//!
//! Serialized, a policy is its two lists in canonical form: a MAC as twelve lowercase hex
//! digits, a prefix as six lowercase hex digits and `*`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::mac::Mac;

/// A MAC allow list and deny list; deny wins, and an empty allow list allows everyone.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "PolicyLists", into = "PolicyLists")]
pub struct MacPolicy {
    allow: Vec<MacEntry>,
    deny: Vec<MacEntry>,
}

/// The outcome of checking a MAC against a [`MacPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The phone may be served.
    Allowed,
    /// The phone must not be served, for the given reason.
    Denied(DenyReason),
}

/// Why a [`MacPolicy`] refused a MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// The MAC matches an entry of the deny list.
    DenyListed,
    /// The allow list is not empty and the MAC matches none of its entries.
    NotAllowListed,
}

/// One list entry: a whole MAC or a maker prefix (first three octets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum MacEntry {
    Exact(Mac),
    Prefix([u8; 3]),
}

/// The serialized shape: the two lists in canonical spelling.
#[derive(Serialize, Deserialize)]
struct PolicyLists {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
}

/// Which of the two lists an entry came from; used in error messages.
#[derive(Clone, Copy)]
enum ListName {
    Allow,
    Deny,
}

impl ListName {
    fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
        }
    }
}

impl MacPolicy {
    /// Parses the allow and deny lists as an admin typed them (see the module docs).
    pub fn parse(allow_text: &str, deny_text: &str) -> Result<Self> {
        Ok(Self {
            allow: parse_list(allow_text, ListName::Allow)?,
            deny: parse_list(deny_text, ListName::Deny)?,
        })
    }

    /// A policy with both lists empty: every phone is served.
    pub fn allow_all() -> Self {
        Self::default()
    }

    /// `true` when both lists are empty, i.e. the policy serves every phone.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// Decides whether the phone with `mac` may be served (deny wins over allow).
    pub fn decide(&self, mac: &Mac) -> Decision {
        if self.deny.iter().any(|e| e.matches(mac)) {
            return Decision::Denied(DenyReason::DenyListed);
        }
        if self.allow.is_empty() || self.allow.iter().any(|e| e.matches(mac)) {
            Decision::Allowed
        } else {
            Decision::Denied(DenyReason::NotAllowListed)
        }
    }

    /// `true` if the phone with `mac` may be served.
    pub fn is_allowed(&self, mac: &Mac) -> bool {
        self.decide(mac).is_allowed()
    }

    /// The allow list in canonical form (`001565aabbcc`, `001565*`), in the admin's order.
    pub fn allow_entries(&self) -> Vec<String> {
        self.allow.iter().map(ToString::to_string).collect()
    }

    /// The deny list in canonical form (`001565aabbcc`, `001565*`), in the admin's order.
    pub fn deny_entries(&self) -> Vec<String> {
        self.deny.iter().map(ToString::to_string).collect()
    }
}

impl Decision {
    /// `true` for [`Decision::Allowed`].
    pub fn is_allowed(self) -> bool {
        self == Self::Allowed
    }
}

impl DenyReason {
    /// A sentence for logs and the admin page.
    pub fn message(self) -> &'static str {
        match self {
            Self::DenyListed => "the MAC is on the deny list",
            Self::NotAllowListed => "the MAC is not on the allow list",
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl MacEntry {
    fn matches(&self, mac: &Mac) -> bool {
        match self {
            Self::Exact(m) => m == mac,
            Self::Prefix(oui) => mac.oui() == *oui,
        }
    }

    /// Parses one entry (already split off, not empty); the error detail says what is
    /// wrong but not where, which the caller adds.
    fn parse(entry: &str) -> Result<Self> {
        match entry.strip_suffix('*') {
            Some(prefix) => parse_prefix(prefix).map(Self::Prefix),
            None => Mac::parse(entry).map(Self::Exact),
        }
    }
}

impl fmt::Display for MacEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(m) => write!(f, "{m}"),
            Self::Prefix([a, b, c]) => write!(f, "{a:02x}{b:02x}{c:02x}*"),
        }
    }
}

/// Parses the part of a prefix entry before the `*`: `001565`, `00:15:65`, `00-15-65`,
/// `0015.65`, each optionally ending in its separator (`00:15:65:*`).
fn parse_prefix(prefix: &str) -> Result<[u8; 3]> {
    let bad = |why: &str| {
        Error::new(
            ErrorKind::InvalidMac,
            format!(
                "{why}; a prefix entry is the maker's first three octets followed by '*', \
                 such as 00:15:65:* or 001565* (got {:?})",
                crate::error::clip(prefix)
            ),
        )
    };
    if prefix.contains('*') {
        return Err(bad("'*' may only appear once, at the end"));
    }
    // One trailing separator is allowed so that `00:15:65:*` reads naturally.
    let body = prefix.strip_suffix([':', '-', '.']).unwrap_or(prefix);
    if body.is_empty() {
        return Err(bad(
            "'*' alone would match every phone; an empty allow list already serves every phone",
        ));
    }
    // Accept only the separator layouts MACs are written in, so that a typo such as a
    // missing octet (`00:15:*`) is refused rather than read as some other prefix.
    let b = body.as_bytes();
    let layout_ok = match b.len() {
        6 => true,
        // 00:15:65 or 00-15-65: the same separator after each of the first two octets.
        8 => matches!(b.get(2), Some(b':' | b'-')) && b.get(5) == b.get(2),
        // 0015.65: the dotted spelling, cut after three octets.
        7 => b.get(4) == Some(&b'.'),
        _ => false,
    };
    let digits: String = body
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    if !layout_ok || digits.chars().count() != 6 {
        return Err(bad(
            "expected exactly three octets, written 001565, 00:15:65, 00-15-65 or 0015.65",
        ));
    }
    let mut out = [0u8; 3];
    let mut chars = digits.chars();
    for octet in &mut out {
        let hi = chars.next().and_then(|c| c.to_digit(16));
        let lo = chars.next().and_then(|c| c.to_digit(16));
        let (Some(hi), Some(lo)) = (hi, lo) else {
            return Err(bad("contains a character that is not a hex digit"));
        };
        // Both are below 16, so the octet fits in a byte.
        *octet = u8::try_from(hi << 4 | lo).unwrap_or(0);
    }
    Ok(out)
}

/// Splits a list into entries and parses each, failing on the first bad one.
fn parse_list(text: &str, list: ListName) -> Result<Vec<MacEntry>> {
    let mut out: Vec<MacEntry> = Vec::new();
    let mut position = 0usize;
    for (line_idx, raw_line) in text.split('\n').enumerate() {
        // A comment runs to the end of its line; MACs never contain '#'.
        let line = raw_line.split('#').next().unwrap_or_default();
        for (col, entry) in entries_of_line(line) {
            position += 1;
            let parsed = MacEntry::parse(entry).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidMac,
                    format!(
                        "{} list, entry {position} (line {}): {}",
                        list.as_str(),
                        line_idx + 1,
                        e.detail()
                    ),
                )
                .at(line_idx + 1, Some(col + 1))
                .with_name(list.as_str())
            })?;
            if !out.contains(&parsed) {
                out.push(parsed);
            }
        }
    }
    Ok(out)
}

/// The entries of one line, each with the 0-based column (in characters) it starts at.
fn entries_of_line(line: &str) -> Vec<(usize, &str)> {
    let is_sep = |c: char| c.is_whitespace() || matches!(c, ',' | ';');
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (byte offset, column) of the entry
    for (col, (i, c)) in line.char_indices().enumerate() {
        match (is_sep(c), start) {
            (true, Some((from, from_col))) => {
                out.push((from_col, line.get(from..i).unwrap_or_default()));
                start = None;
            }
            (false, None) => start = Some((i, col)),
            _ => {}
        }
    }
    if let Some((from, from_col)) = start {
        out.push((from_col, line.get(from..).unwrap_or_default()));
    }
    out
}

impl TryFrom<PolicyLists> for MacPolicy {
    type Error = Error;
    fn try_from(lists: PolicyLists) -> Result<Self> {
        Ok(Self {
            allow: parse_stored(&lists.allow, ListName::Allow)?,
            deny: parse_stored(&lists.deny, ListName::Deny)?,
        })
    }
}

/// Parses a stored list, where each string must be exactly one entry: a stored string
/// holding two entries would mean the data was not written by this module.
fn parse_stored(entries: &[String], list: ListName) -> Result<Vec<MacEntry>> {
    let mut out: Vec<MacEntry> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let parsed = MacEntry::parse(entry.trim()).map_err(|e| {
            Error::new(
                ErrorKind::InvalidMac,
                format!("{} list, entry {}: {}", list.as_str(), i + 1, e.detail()),
            )
            .with_name(list.as_str())
        })?;
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    Ok(out)
}

impl From<MacPolicy> for PolicyLists {
    fn from(p: MacPolicy) -> Self {
        Self {
            allow: p.allow_entries(),
            deny: p.deny_entries(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn mac(s: &str) -> Mac {
        Mac::parse(s).unwrap()
    }

    #[test]
    fn both_empty_serves_everyone() {
        for p in [
            MacPolicy::allow_all(),
            MacPolicy::parse("", "").unwrap(),
            MacPolicy::parse(" \n,; # nothing here\n", "\t").unwrap(),
        ] {
            assert!(p.is_empty());
            assert_eq!(p.decide(&mac("001565aabbcc")), Decision::Allowed);
            assert!(p.is_allowed(&mac("52:54:00:12:34:56")));
        }
    }

    #[test]
    fn deny_wins_over_allow() {
        let p =
            MacPolicy::parse("001565aabbcc\n000413*", "00:15:65:AA:BB:CC\n0004.1311.1111").unwrap();
        assert!(!p.is_empty());
        assert_eq!(
            p.decide(&mac("001565aabbcc")),
            Decision::Denied(DenyReason::DenyListed)
        );
        // Deny-listed through an exact entry although its prefix is allowed.
        assert_eq!(
            p.decide(&mac("000413111111")),
            Decision::Denied(DenyReason::DenyListed)
        );
        assert_eq!(p.decide(&mac("000413222222")), Decision::Allowed);
        assert_eq!(
            p.decide(&mac("001565000001")),
            Decision::Denied(DenyReason::NotAllowListed)
        );
        assert!(!p.is_allowed(&mac("001565aabbcc")));
    }

    #[test]
    fn deny_prefix_beats_allowed_exact_mac() {
        let p = MacPolicy::parse("001565aabbcc", "00:15:65:*").unwrap();
        assert_eq!(
            p.decide(&mac("001565aabbcc")),
            Decision::Denied(DenyReason::DenyListed)
        );
    }

    #[test]
    fn deny_only_serves_everyone_else() {
        let p = MacPolicy::parse("", "001565aabbcc").unwrap();
        assert!(!p.is_empty());
        assert!(p.is_allowed(&mac("001565aabbcd")));
        assert!(!p.is_allowed(&mac("001565aabbcc")));
    }

    #[test]
    fn allow_only_serves_only_the_listed() {
        let p = MacPolicy::parse("001565aabbcc", "").unwrap();
        assert!(p.is_allowed(&mac("001565aabbcc")));
        assert_eq!(
            p.decide(&mac("001565aabbcd")),
            Decision::Denied(DenyReason::NotAllowListed)
        );
    }

    #[test]
    fn every_mac_spelling_is_one_entry() {
        let p = MacPolicy::parse(
            "00:15:65:AA:BB:CC, 00-15-65-aa-bb-cc;0015.65aa.bbcc 001565aabbcc\t001565AABBCC\r\n",
            "",
        )
        .unwrap();
        assert_eq!(p.allow_entries(), vec!["001565aabbcc"]);
    }

    #[test]
    fn every_prefix_spelling_is_one_entry() {
        for s in [
            "00:15:65:*",
            "00:15:65*",
            "00-15-65-*",
            "00-15-65*",
            "0015.65*",
            "0015.65.*",
            "001565*",
            "001565:*",
            "00:15:65:*",
        ] {
            let p = MacPolicy::parse(s, "").unwrap();
            assert_eq!(p.allow_entries(), vec!["001565*"], "{s}");
            assert!(p.is_allowed(&mac("001565000000")), "{s}");
            assert!(p.is_allowed(&mac("00:15:65:ff:ff:ff")), "{s}");
            assert!(!p.is_allowed(&mac("001566000000")), "{s}");
        }
    }

    #[test]
    fn separators_and_comments() {
        let p = MacPolicy::parse(
            "# office phones\n001565aabbcc  # reception\n\n000413111111,000413222222;0c383e*\n",
            "",
        )
        .unwrap();
        assert_eq!(
            p.allow_entries(),
            vec!["001565aabbcc", "000413111111", "000413222222", "0c383e*"]
        );
    }

    #[test]
    fn bad_entries_fail_with_list_and_position() {
        let cases: &[(&str, &str, &str, usize, usize, usize)] = &[
            // (allow, deny, list, entry, line, column)
            ("001565aabbcc, 00:15:65:aa:bb", "", "allow", 2, 1, 15),
            ("", "001565aabbcc\n\n  zz:zz:zz:zz:zz:zz", "deny", 2, 3, 3),
            ("001565*, 0015*", "", "allow", 2, 1, 10),
            ("*", "", "allow", 1, 1, 1),
            ("", "00:15:65:aa:*", "deny", 1, 1, 1),
            ("", "00:15-65:*", "deny", 1, 1, 1),
            ("", "00*15*65*", "deny", 1, 1, 1),
            ("", "0g1565*", "deny", 1, 1, 1),
            ("001565aabbcc 001565aabbcc x", "", "allow", 3, 1, 27),
            ("é", "", "allow", 1, 1, 1),
        ];
        for &(allow, deny, list, entry, line, col) in cases {
            let e = MacPolicy::parse(allow, deny).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidMac, "{allow:?} {deny:?}");
            assert_eq!(e.name(), Some(list), "{allow:?} {deny:?}");
            assert_eq!(e.line(), Some(line), "{allow:?} {deny:?}");
            assert_eq!(e.col(), Some(col), "{allow:?} {deny:?}: {e}");
            assert!(
                e.detail()
                    .starts_with(&format!("{list} list, entry {entry} (line {line})")),
                "{e}"
            );
        }
    }

    #[test]
    fn error_for_star_alone_explains_empty_list() {
        let e = MacPolicy::parse("*", "").unwrap_err();
        assert!(
            e.detail()
                .contains("an empty allow list already serves every phone"),
            "{e}"
        );
    }

    #[test]
    fn serde_round_trip_is_canonical() {
        let p = MacPolicy::parse("00:15:65:AA:BB:CC 00-04-13-*", "0c383e112233").unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"allow":["001565aabbcc","000413*"],"deny":["0c383e112233"]}"#
        );
        let back: MacPolicy = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        let empty: MacPolicy = serde_json::from_str("{}").unwrap();
        assert!(empty.is_empty());
        let bad = serde_json::from_str::<MacPolicy>(r#"{"deny":["nope"]}"#).unwrap_err();
        assert!(bad.to_string().contains("deny list, entry 1"), "{bad}");
        // A stored string is exactly one entry, never silently split in two.
        assert!(
            serde_json::from_str::<MacPolicy>(r#"{"allow":["001565aabbcc 000413*"]}"#).is_err()
        );
    }

    #[test]
    fn decision_serde_and_messages() {
        assert_eq!(
            serde_json::to_string(&Decision::Allowed).unwrap(),
            r#""allowed""#
        );
        assert_eq!(
            serde_json::to_string(&Decision::Denied(DenyReason::NotAllowListed)).unwrap(),
            r#"{"denied":"not_allow_listed"}"#
        );
        assert_eq!(
            DenyReason::DenyListed.to_string(),
            "the MAC is on the deny list"
        );
        assert!(!Decision::Denied(DenyReason::DenyListed).is_allowed());
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for s in [
            "\u{0}",
            "::::*",
            "0015.65aa.bbcc*",
            "ÿÿÿÿÿÿ*",
            "00:15:65:é*",
            &"a".repeat(10_000),
        ] {
            let _ = MacPolicy::parse(s, s);
        }
    }
}
