//! Time zones: a built-in table of IANA names with their standard UTC offset and POSIX rule,
//! so that each vendor can write the form its phones expect (hour offsets, quarter hours,
//! POSIX TZ strings) without a time-zone database at run time.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorKind};

/// A time zone from the built-in table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZone {
    name: &'static str,
    offset_minutes: i16,
    posix: &'static str,
}

/// (IANA name, standard offset east of UTC in minutes, POSIX TZ string).
const ZONES: &[(&str, i16, &str)] = &[
    ("UTC", 0, "UTC0"),
    ("Europe/London", 0, "GMT0BST,M3.5.0/1,M10.5.0"),
    ("Europe/Dublin", 0, "IST-1GMT0,M10.5.0,M3.5.0/1"),
    ("Europe/Lisbon", 0, "WET0WEST,M3.5.0/1,M10.5.0"),
    ("Europe/Paris", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Berlin", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Amsterdam", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Brussels", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Madrid", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Rome", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Vienna", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Zurich", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Stockholm", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Oslo", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Copenhagen", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Warsaw", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Prague", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Budapest", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Athens", 120, "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Helsinki", 120, "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Kyiv", 120, "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Bucharest", 120, "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Istanbul", 180, "<+03>-3"),
    ("Europe/Moscow", 180, "MSK-3"),
    ("Asia/Dubai", 240, "<+04>-4"),
    ("Asia/Karachi", 300, "PKT-5"),
    ("Asia/Kolkata", 330, "IST-5:30"),
    ("Asia/Kathmandu", 345, "<+0545>-5:45"),
    ("Asia/Dhaka", 360, "<+06>-6"),
    ("Asia/Bangkok", 420, "<+07>-7"),
    ("Asia/Jakarta", 420, "WIB-7"),
    ("Asia/Shanghai", 480, "CST-8"),
    ("Asia/Hong_Kong", 480, "HKT-8"),
    ("Asia/Singapore", 480, "<+08>-8"),
    ("Asia/Tokyo", 540, "JST-9"),
    ("Asia/Seoul", 540, "KST-9"),
    ("Australia/Adelaide", 570, "ACST-9:30ACDT,M10.1.0,M4.1.0/3"),
    ("Australia/Brisbane", 600, "AEST-10"),
    ("Australia/Sydney", 600, "AEST-10AEDT,M10.1.0,M4.1.0/3"),
    ("Pacific/Auckland", 720, "NZST-12NZDT,M9.5.0,M4.1.0/3"),
    ("Atlantic/Azores", -60, "<-01>1<+00>,M3.5.0/0,M10.5.0/1"),
    ("America/Sao_Paulo", -180, "<-03>3"),
    ("America/Argentina/Buenos_Aires", -180, "<-03>3"),
    ("America/St_Johns", -210, "NST3:30NDT,M3.2.0,M11.1.0"),
    ("America/Halifax", -240, "AST4ADT,M3.2.0,M11.1.0"),
    ("America/New_York", -300, "EST5EDT,M3.2.0,M11.1.0"),
    ("America/Toronto", -300, "EST5EDT,M3.2.0,M11.1.0"),
    ("America/Bogota", -300, "<-05>5"),
    ("America/Chicago", -360, "CST6CDT,M3.2.0,M11.1.0"),
    ("America/Mexico_City", -360, "CST6"),
    ("America/Denver", -420, "MST7MDT,M3.2.0,M11.1.0"),
    ("America/Phoenix", -420, "MST7"),
    ("America/Los_Angeles", -480, "PST8PDT,M3.2.0,M11.1.0"),
    ("America/Anchorage", -540, "AKST9AKDT,M3.2.0,M11.1.0"),
    ("Pacific/Honolulu", -600, "HST10"),
    ("Africa/Johannesburg", 120, "SAST-2"),
    ("Africa/Cairo", 120, "EET-2EEST,M4.5.5/0,M10.5.4/24"),
    ("Africa/Lagos", 60, "WAT-1"),
    ("Africa/Nairobi", 180, "EAT-3"),
];

impl TimeZone {
    /// Looks up an IANA name (case-insensitive), or fails with the reason.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        ZONES
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|&(name, offset_minutes, posix)| Self {
                name,
                offset_minutes,
                posix,
            })
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "unknown time zone {:?}; use an IANA name such as Europe/Berlin",
                        crate::error::clip(name)
                    ),
                )
            })
    }

    /// Every IANA name in the table.
    pub fn names() -> impl Iterator<Item = &'static str> {
        ZONES.iter().map(|(n, _, _)| *n)
    }

    /// The IANA name, e.g. `Europe/Berlin`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Standard (winter) offset east of UTC in minutes, e.g. 60 for Berlin, -300 for New York.
    pub fn offset_minutes(&self) -> i16 {
        self.offset_minutes
    }

    /// `true` if the zone observes daylight saving time.
    pub fn has_dst(&self) -> bool {
        self.posix.contains(',')
    }

    /// The POSIX TZ string, e.g. `CET-1CEST,M3.5.0,M10.5.0/3`.
    pub fn posix(&self) -> &'static str {
        self.posix
    }

    /// The standard offset as `+1`, `-5`, `+5:30`, `0` (sign, hours, and minutes if any).
    pub fn offset_hours_string(&self) -> String {
        let m = self.offset_minutes;
        let sign = if m < 0 { "-" } else { "+" };
        let (h, min) = (m.unsigned_abs() / 60, m.unsigned_abs() % 60);
        match (m, min) {
            (0, _) => "0".to_owned(),
            (_, 0) => format!("{sign}{h}"),
            _ => format!("{sign}{h}:{min:02}"),
        }
    }
}

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::from_name(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn lookups() {
        let b = TimeZone::from_name("europe/berlin").unwrap();
        assert_eq!(b.name(), "Europe/Berlin");
        assert_eq!(b.offset_minutes(), 60);
        assert!(b.has_dst());
        assert_eq!(b.offset_hours_string(), "+1");
        assert_eq!(
            TimeZone::from_name("Asia/Kolkata")
                .unwrap()
                .offset_hours_string(),
            "+5:30"
        );
        assert_eq!(
            TimeZone::from_name("America/New_York")
                .unwrap()
                .offset_hours_string(),
            "-5"
        );
        assert_eq!(
            TimeZone::from_name("UTC").unwrap().offset_hours_string(),
            "0"
        );
        assert!(!TimeZone::from_name("Asia/Tokyo").unwrap().has_dst());
        assert_eq!(
            TimeZone::from_name("Mars/Base").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn table_is_consistent() {
        let mut names: Vec<_> = TimeZone::names().collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate zone names");
        for (name, off, posix) in ZONES {
            // The POSIX standard offset is west-positive: "CET-1" is +60 minutes.
            assert!(!posix.is_empty(), "{name}");
            assert!(off.abs() <= 14 * 60, "{name}");
        }
    }
}
