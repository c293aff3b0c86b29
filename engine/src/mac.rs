//! MAC addresses: parsing in every spelling phones and people use, one canonical form, and
//! the maker a MAC's OUI names (each vendor's OUIs live in its home).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorKind};
use crate::vendors::Vendor;

/// A 48-bit MAC address.
///
/// Parses `00:15:65:AA:BB:CC`, `00-15-65-aa-bb-cc`, `0015.65aa.bbcc` and `001565aabbcc` (any
/// case). The canonical form, used by `Display`, serde and storage, is twelve lowercase hex
/// digits without separators: the form most phones put in their file names.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac([u8; 6]);

impl Mac {
    /// Builds a MAC from its six octets.
    pub const fn from_octets(octets: [u8; 6]) -> Self {
        Self(octets)
    }

    /// Parses a MAC in any accepted spelling, or returns an [`ErrorKind::InvalidMac`] error
    /// that says what is wrong.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let s = input.trim();
        let bad = |why: &str| {
            Error::new(
                ErrorKind::InvalidMac,
                format!("{why} (got {:?})", crate::error::clip(s)),
            )
        };
        let digits: Vec<u8> = match s.len() {
            12 => s.bytes().collect(),
            17 => {
                let sep = s.as_bytes()[2];
                if sep != b':' && sep != b'-' {
                    return Err(bad("expected ':' or '-' between octets"));
                }
                let mut v = Vec::with_capacity(12);
                for (i, b) in s.bytes().enumerate() {
                    if i % 3 == 2 {
                        if b != sep {
                            return Err(bad("separators must be the same between every octet"));
                        }
                    } else {
                        v.push(b);
                    }
                }
                v
            }
            14 => {
                let mut v = Vec::with_capacity(12);
                for (i, b) in s.bytes().enumerate() {
                    if i % 5 == 4 {
                        if b != b'.' {
                            return Err(bad("expected groups of four hex digits separated by '.'"));
                        }
                    } else {
                        v.push(b);
                    }
                }
                v
            }
            _ => {
                return Err(bad(
                    "expected 12 hex digits, optionally as 00:15:65:aa:bb:cc, 00-15-65-aa-bb-cc or 0015.65aa.bbcc",
                ))
            }
        };
        let mut octets = [0u8; 6];
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            let (Some(hi), Some(lo)) = (hex_val(pair[0]), hex_val(pair[1])) else {
                return Err(bad("contains a character that is not a hex digit"));
            };
            octets[i] = hi << 4 | lo;
        }
        Ok(Self(octets))
    }

    /// Parses exactly twelve hex digits (no separators), as phones put them in file names
    /// and User-Agents. Returns `None` for anything else.
    pub fn from_hex12(s: &str) -> Option<Self> {
        if s.len() != 12 {
            return None;
        }
        Self::parse(s).ok()
    }

    /// The six octets.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// The first three octets, the maker's prefix.
    pub fn oui(&self) -> [u8; 3] {
        [self.0[0], self.0[1], self.0[2]]
    }

    /// The vendor that owns this MAC's OUI, if it is one we know.
    pub fn vendor(&self) -> Option<Vendor> {
        let oui = self.oui();
        Vendor::from_oui(oui)
    }

    /// `true` for the all-zero and broadcast addresses, which no phone has.
    pub fn is_placeholder(&self) -> bool {
        self.0 == [0; 6] || self.0 == [0xff; 6]
    }

    /// Twelve lowercase hex digits, e.g. `001565aabbcc` (the canonical form).
    pub fn to_lower_hex(&self) -> String {
        self.hex(false, None)
    }

    /// Twelve uppercase hex digits, e.g. `001565AABBCC` (Snom file names).
    pub fn to_upper_hex(&self) -> String {
        self.hex(true, None)
    }

    /// Lowercase with colons, e.g. `00:15:65:aa:bb:cc`.
    pub fn to_colon_lower(&self) -> String {
        self.hex(false, Some(':'))
    }

    /// Uppercase with colons, e.g. `00:15:65:AA:BB:CC`.
    pub fn to_colon_upper(&self) -> String {
        self.hex(true, Some(':'))
    }

    fn hex(&self, upper: bool, sep: Option<char>) -> String {
        let digits: &[u8; 16] = if upper {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let mut s = String::with_capacity(17);
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                if let Some(c) = sep {
                    s.push(c);
                }
            }
            s.push(digits[usize::from(b >> 4)] as char);
            s.push(digits[usize::from(b & 0xf)] as char);
        }
        s
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_lower_hex())
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mac({})", self.to_colon_lower())
    }
}

impl FromStr for Mac {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_lower_hex())
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_spelling_parses_to_one_form() {
        for s in [
            "00:15:65:AA:BB:CC",
            "00-15-65-aa-bb-cc",
            "0015.65aa.bbcc",
            "001565aabbcc",
            "001565AABBCC",
            " 00:15:65:aa:bb:cc\n",
        ] {
            let m = Mac::parse(s).unwrap();
            assert_eq!(m.to_string(), "001565aabbcc", "{s}");
        }
        let m = Mac::parse("001565aabbcc").unwrap();
        assert_eq!(m.to_upper_hex(), "001565AABBCC");
        assert_eq!(m.to_colon_lower(), "00:15:65:aa:bb:cc");
        assert_eq!(m.to_colon_upper(), "00:15:65:AA:BB:CC");
    }

    #[test]
    fn bad_spellings_are_refused_with_a_reason() {
        for s in [
            "",
            "00:15:65:aa:bb",
            "00:15:65:aa:bb:cc:dd",
            "00:15-65:aa:bb:cc",
            "00_15_65_aa_bb_cc",
            "0015.65aa.bbc",
            "001565aabbcg",
            "0015:65aa:bbcc",
            "00:15:65:aa:bb:c\u{e9}",
            "zz:zz:zz:zz:zz:zz",
        ] {
            let e = Mac::parse(s).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidMac, "{s}");
            assert!(!e.detail().is_empty());
        }
    }

    #[test]
    fn oui_maps_to_vendor() {
        let v = |s: &str| Mac::parse(s).unwrap().vendor();
        assert_eq!(v("00:15:65:12:34:56"), Some(Vendor::Yealink));
        assert_eq!(v("80:5e:c0:12:34:56"), Some(Vendor::Yealink));
        assert_eq!(v("00:04:13:12:34:56"), Some(Vendor::Snom));
        assert_eq!(v("0c:38:3e:12:34:56"), Some(Vendor::Fanvil));
        assert_eq!(v("00:0b:82:12:34:56"), Some(Vendor::Grandstream));
        assert_eq!(v("c0:74:ad:12:34:56"), Some(Vendor::Grandstream));
        assert_eq!(v("00:1f:c1:12:34:56"), Some(Vendor::Htek));
        assert_eq!(v("00:80:9f:12:34:56"), Some(Vendor::Ale));
        assert_eq!(v("52:54:00:12:34:56"), None);
    }

    #[test]
    fn serde_round_trip() {
        let m: Mac = serde_json::from_str("\"00-15-65-AA-BB-CC\"").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"001565aabbcc\"");
        assert!(serde_json::from_str::<Mac>("\"nope\"").is_err());
    }
}
