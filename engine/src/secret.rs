//! Wrappers that keep secrets and personal data out of logs.

use std::fmt;

use serde::{Deserialize, Deserializer};
use subtle::ConstantTimeEq;

/// A secret value (SIP password, PIN, token, API key).
///
/// `Debug` and `Display` print `***`; the value is reachable only through
/// [`Secret::expose`], so every place that uses it is greppable. It deliberately does not
/// implement `Serialize`: a secret reaches a rendered config only through code that asks for
/// it by name.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret value itself.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl From<String> for Secret<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Self)
    }
}

impl Secret<String> {
    /// Compares with `other` in time that depends only on the lengths, never on where the
    /// first difference is.
    pub fn ct_eq(&self, other: &str) -> bool {
        ct_eq(self.0.as_bytes(), other.as_bytes())
    }
}

/// Constant-time equality of two byte strings (time depends on the lengths only).
///
/// Every shell compares tokens, passwords and bearer keys with this one function.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    // Length is not secret (tokens have fixed lengths); the content comparison is.
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Personal data (client addresses, names) that is logged only in redacted form.
#[derive(Clone, PartialEq, Eq)]
pub struct Pii<T>(pub T);

impl<T> fmt::Debug for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pii(***)")
    }
}

impl<T> fmt::Display for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn secret_never_prints() {
        let s = Secret::from("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(s.expose(), "hunter2");
        let p = Pii("10.0.0.5");
        assert!(!format!("{p} {p:?}").contains("10.0"));
    }

    #[test]
    fn constant_time_compare() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
        assert!(Secret::from("tok").ct_eq("tok"));
        assert!(!Secret::from("tok").ct_eq("tak"));
    }
}
