//! Secrets at rest: RPS accounts are stored encrypted with AES-256-GCM under the Worker secret
//! `RPS_KEY` (64 hex digits). The additional data names the row (site and vendor), so a sealed
//! value copied into another row does not open.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::Engine as _;

/// The Worker secret holding the key.
pub(crate) const RPS_KEY: &str = "RPS_KEY";

/// Why a value could not be sealed or opened. Never holds the key or the value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SealError {
    /// `RPS_KEY` is missing or not 64 hex digits.
    NoKey,
    /// The stored value is not ours, was made under another key, or was altered.
    Corrupt,
    /// The value is too long to seal.
    TooLong,
}

/// The key, from the secret's text.
pub(crate) struct SealKey([u8; 32]);

impl SealKey {
    pub(crate) fn from_hex(hex: &str) -> Result<Self, SealError> {
        let hex = hex.trim();
        if hex.len() != 64 {
            return Err(SealError::NoKey);
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = hex
                .get(2 * i..2 * i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(SealError::NoKey)?;
        }
        Ok(Self(out))
    }

    /// The key from the Worker's environment.
    pub(crate) fn from_env(env: &worker::Env) -> Result<Self, SealError> {
        let secret = env.secret(RPS_KEY).map_err(|_| SealError::NoKey)?;
        Self::from_hex(&secret.to_string())
    }

    fn cipher(&self) -> Aes256Gcm {
        // invariant: the key is 32 bytes, the size AES-256 takes.
        match Aes256Gcm::new_from_slice(&self.0) {
            Ok(c) => c,
            Err(_) => unreachable!("a 32-byte key fits AES-256"),
        }
    }

    /// `plain` sealed for row `aad` with `nonce` (12 random bytes, never reused with a key).
    /// Fails only for a plaintext beyond AES-GCM's limit (64 GiB), never for an account.
    pub(crate) fn seal(
        &self,
        nonce: [u8; 12],
        aad: &str,
        plain: &str,
    ) -> Result<String, SealError> {
        let sealed = self
            .cipher()
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plain.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SealError::TooLong)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(engine::encoding::base64(&out))
    }

    /// The text sealed for row `aad`.
    pub(crate) fn open(&self, aad: &str, sealed: &str) -> Result<String, SealError> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sealed.trim())
            .map_err(|_| SealError::Corrupt)?;
        if raw.len() < 12 + 16 {
            return Err(SealError::Corrupt);
        }
        let (nonce, body) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SealError::Corrupt)?;
        let plain = self
            .cipher()
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: body,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SealError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| SealError::Corrupt)
    }
}

/// The additional data of a site's account row.
pub(crate) fn account_aad(site: &str, vendor: &str) -> String {
    format!("rps-account\0{site}\0{vendor}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn round_trip_and_tamper() {
        let k = SealKey::from_hex(KEY).unwrap();
        let aad = account_aad("s1", "yealink");
        let sealed = k
            .seal([7; 12], &aad, "[yealink]\naccesskey_secret = \"top\"\n")
            .unwrap();
        assert!(!sealed.contains("top"));
        assert_eq!(
            k.open(&aad, &sealed).unwrap(),
            "[yealink]\naccesskey_secret = \"top\"\n"
        );
        // Another row, another key, a flipped byte, junk: refused.
        assert_eq!(
            k.open(&account_aad("s2", "yealink"), &sealed),
            Err(SealError::Corrupt)
        );
        assert_eq!(
            k.open(&account_aad("s1", "snom"), &sealed),
            Err(SealError::Corrupt)
        );
        let other = SealKey::from_hex(&KEY.replace("1f", "1e")).unwrap();
        assert_eq!(other.open(&aad, &sealed), Err(SealError::Corrupt));
        let mut raw = base64::engine::general_purpose::STANDARD
            .decode(&sealed)
            .unwrap();
        raw[20] ^= 1;
        let flipped = engine::encoding::base64(&raw);
        assert_eq!(k.open(&aad, &flipped), Err(SealError::Corrupt));
        for junk in ["", "!!", "AAAA", &sealed[..20]] {
            assert_eq!(k.open(&aad, junk), Err(SealError::Corrupt), "{junk}");
        }
    }

    #[test]
    fn keys_must_be_64_hex_digits() {
        for bad in [
            "",
            "00",
            &KEY[..63],
            &KEY.replace('0', "g"),
            &format!("{KEY}00"),
        ] {
            assert!(SealKey::from_hex(bad).is_err(), "{bad}");
        }
        assert!(SealKey::from_hex(&format!(" {KEY}\n")).is_ok());
    }
}
