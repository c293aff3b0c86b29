//! Alcatel-Lucent Enterprise: no public API document exists. PortSIP's `[ale]` section has
//! exactly Yealink's key names, which suggests the same signed JSON API on ALE's own host,
//! so ALE is the Yealink client on the host the account names (there is no default).
//! Unverified: the console and the docs label it so ([`crate::rps::RpsAccount::is_verified`]).

use super::account::AleAccount;
use crate::rps::RpsError;
use crate::vendors::yealink::rps as yealink;

impl AleAccount {
    /// The Yealink-scheme API on the account's host, or an error when it names none.
    pub(crate) fn api(&self) -> Result<yealink::Api, RpsError> {
        let base = self.base_url.clone().ok_or_else(|| {
            RpsError::InvalidInput(
                "ale: the account names no API host (`rps_host`); ALE has no default".into(),
            )
        })?;
        Ok(yealink::Api {
            vendor: "ale",
            key_id: self.access_key_id.clone(),
            secret: self.access_key_secret.clone(),
            base,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mac::Mac;
    use crate::rps::{RpsAccount, RpsPhone, Step};
    use crate::secret::Secret;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn ale_signs_like_yealink_on_its_own_host() {
        let acct = RpsAccount::Ale(AleAccount {
            access_key_id: "ale-key".into(),
            access_key_secret: Secret::new("ale-secret".into()),
            base_url: Some("https://rps.ale.example".into()),
            provisioning_url: Some("https://oxo.example/dm/".into()),
        });
        assert!(!acct.is_verified());
        let phone = RpsPhone::new(Mac::parse("00809faabbcc").unwrap(), "https://edge/p/t/");
        let mut op = acct.register(&phone);
        let Step::Send(req) = op.start(1_700_000_000_000, "n1") else {
            panic!("expected a request")
        };
        assert_eq!(req.url, "https://rps.ale.example/api/open/v1/device/add");
        assert_eq!(req.header_value("X-Ca-Key"), Some("ale-key"));
        assert!(req.header_value("X-Ca-Signature").is_some());

        let no_host = RpsAccount::Ale(AleAccount {
            access_key_id: "k".into(),
            access_key_secret: Secret::new("s".into()),
            base_url: None,
            provisioning_url: None,
        });
        let mut op = no_host.register(&phone);
        let Step::Done(Err(RpsError::InvalidInput(m))) = op.start(0, "n") else {
            panic!("expected an input error")
        };
        assert!(m.contains("rps_host"));
    }

    #[test]
    fn ale_phones_go_to_the_accounts_provisioning_server() {
        let with = |u: Option<&str>| {
            RpsAccount::Ale(AleAccount {
                access_key_id: "k".into(),
                access_key_secret: Secret::new("s".into()),
                base_url: Some("https://rps.ale.example".into()),
                provisioning_url: u.map(str::to_owned),
            })
        };
        let own = "https://edge.example/p/tok";
        assert_eq!(
            with(Some("https://oxo.example/dm/")).target_url(own),
            Ok("https://oxo.example/dm/")
        );
        let Err(RpsError::InvalidInput(m)) = with(None).target_url(own) else {
            panic!("expected an input error")
        };
        assert!(m.contains("provisioning_url"), "{m}");
        assert!(!RpsError::InvalidInput(m).is_transient());
        // Every other vendor's phones come here.
        let (accounts, _) = crate::rps::parse_accounts(
            "[yealink]\naccesskey_id=k\naccesskey_secret=s\n[fanvil]\nusername=u\npassword=p\n",
        )
        .unwrap();
        for a in accounts {
            assert_eq!(a.target_url(own), Ok(own), "{}", a.vendor());
        }
    }
}
