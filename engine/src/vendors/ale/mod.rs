//! Alcatel-Lucent Enterprise: phones kept only to be redirected (RPS) to the provisioning
//! server their account names; this system renders no ALE config (ALE's H-series read
//! `config.<MAC>.xml` from ALE's own deployment server), so there is no config module,
//! no Additional Parameters section and no check-sync event.

pub(crate) mod account;
pub(crate) mod rps;

use crate::vendors::{Facts, PnpUrlForm, RpsApi, RpsCode};

/// ALE's facts. OUIs: Alcatel-Lucent's blocks in the IEEE registry (`oui.csv`). RPS: the
/// Yealink scheme on the host the account names (unverified: no public document; RPS.md).
pub(crate) const FACTS: Facts = Facts {
    name: "ale",
    display_name: "Alcatel-Lucent Enterprise",
    ouis: &[
        [0x00, 0x80, 0x9f],
        [0x48, 0x7a, 0x55],
        [0x3c, 0x28, 0xa6],
        [0x2c, 0xfa, 0xa2],
        [0x88, 0x3c, 0x93],
        [0x94, 0x24, 0xe1],
        [0xdc, 0x08, 0x56],
        [0x00, 0x20, 0xda],
        [0x00, 0xe0, 0xda],
        [0x00, 0x11, 0x8b],
        [0x00, 0xd0, 0x95],
        [0x00, 0xe0, 0xb1],
        [0xe8, 0xe7, 0x32],
    ],
    sample_model: "8028s",
    param_sections: &[],
    rps: RpsApi::Full,
    rps_site_url_note: None,
    rps_manual_note: None,
    redirect_only: Some(
        "Alcatel-Lucent Enterprise phones are not configured here, only redirected (RPS) to the \
         provisioning server the site's [ale] account names in its provisioning_url",
    ),
    check_sync: None,
    models: &[],
    pnp_url: PnpUrlForm::Base,
    local_directory: false,
    rps_desk_codes: false,
};

/// ALE's redirection-service code: its PortSIP section.
pub(crate) const RPS_CODE: RpsCode = RpsCode {
    ini: account::INI,
    manual_instructions: None,
};
