//! Grandstream's models: the desk phones of the firmware lines this module's P-code
//! format covers (GXP16xx, GXP21xx, GRP261x, the Android GXV33xx and WP8xx) and the DP75x
//! DECT bases.
//!
//! Sources, per column:
//! - `accounts`: the `lines` capability of wazo-platform/wazo-provd-plugins
//!   `plugins/wazo_grandstream/<version>/plugin-info` (wazo counts the accounts it
//!   provisions; datasheets give some models more); DP75x and WP8xx from the FusionPBX
//!   templates named at their rows.
//! - `line_keys`: the keys this module's generator writes a BLF on, which [`check_blf_layout`]
//!   holds a layout to, so that a layout saved is a layout the phone gets. For GXP213x..2170
//!   that is wazo's `MODEL_FKEYS` (VPKs + MPKs, the virtual keys on the display pages plus
//!   the physical programmable keys, `plugins/wazo_grandstream/common/common.py`); for the
//!   GXP16xx, wazo's plugin-info `lines` + `function_keys`. Elsewhere the generator has only
//!   the version-1 MPK codes of keys 1..[`PLAIN_MPKS`] (`P323`.., FusionPBX gxp21xx template;
//!   wazo `base.tpl`, `_add_fkeys`), so a row counts at most those: the GRP261x's VPKs are
//!   known only as version-2 items (`pks.vpk.<n>.*`, wazo `base_v2.tpl`), which a version-1
//!   file cannot hold, leaving the physical MPKs (wazo `MODEL_FKEYS` `mpk`: 24 on the
//!   GRP2614/2616, capped at 18; 0 on the GRP2612/2613/2615, which take no BLF key here);
//!   the GXV33xx's 160 function keys (wazo `v1_0_3_2x_android/plugin-info`) are counted as
//!   the 18 MPKs written.
//! - `key_pages`: GXP21xx: the VPKs over the fixed (physical) VPKs ([`Vpk`]): 4 pages on
//!   each. Elsewhere no source read gives pages: 1, the keys of
//!   all pages counted in `line_keys`.
//! - expansion modules: the module count is wazo's plugin-info `expansion_modules`
//!   (GXP2140, GXP2170, GXV3350: 4); only the GXP2140/2170's are written (their EXT MPK
//!   codes), so only they have modules here: the GXV3350's module keys have no codes in
//!   the sources read, and it is listed without them. Keys per module: 40, the GXP2200EXT's 20 keys on 2
//!   pages: the GXP2140/2170's "Extension Boards" settings number EXT MPK 1..160, four
//!   modules of 40 (FusionPBX gxp2170 template, version 1 for firmware 1.0.9.127, commit
//!   0e86cc4d89).
//! - `firmware_family`: the release package the image comes in (wazo `<version>/pkgs/
//!   pkgs.db`: `Release_GXP16xx_*.zip` for all GXP16xx, `Release_GRP261x_*.zip` for all
//!   GRP261x, one `Release_<model>_*.zip` per GXP21xx and GXV33xx model).
//!
//! Not listed, so never refused: older lines whose wazo capabilities understate their keys
//! (GXP2124, GXP14xx: `function_keys` 0 or 3), the ATAs (HT8xx) and models no source read
//! describes (GRP2612W, GRP2624/2634, WP8x6, DP752's successors).

#[cfg(doc)]
use crate::vendors::check_blf_layout;
use crate::vendors::Model;

/// The multi-purpose keys the generator writes on a model without VPKs: keys 1..18, the
/// `P323`..`P329`/`P301`..`P321` triplets and `P353`..`P396` quadruplets (FusionPBX gxp21xx
/// template); MPKs 19..24 ("GXP2160 only", FusionPBX version-1 gxp2170 template) are
/// written only on the VPK models whose MPK count is known.
pub(crate) const PLAIN_MPKS: u16 = 18;

/// Keys on one GXP2200EXT expansion module: 20 on each of 2 pages (the GXP2140/2170's EXT
/// MPK 1..160 over wazo's 4 modules).
const EXT_KEYS: u16 = 40;

/// A GXP16xx: wazo `v1_0_7_81/plugin-info` (lines, function_keys), one image for the
/// family (`Release_GXP16xx_1.0.7.81.zip`).
const fn gxp16(name: &'static str, accounts: u8, function_keys: u16) -> Model {
    Model {
        line_keys: accounts as u16 + function_keys,
        accounts,
        firmware_family: "GXP16xx",
        ..Model::desk(name)
    }
}

/// A GXP213x..2170: wazo `MODEL_FKEYS` (vpk + mpk) and `v1_0_11_85/plugin-info` (lines,
/// expansion_modules); 4 pages (FusionPBX gxp2170 template); its own image
/// (`Release_<model>_1.0.11.85.zip`).
const fn gxp21(name: &'static str, accounts: u8, vpk: Vpk, mpks: u16, modules: u8) -> Model {
    Model {
        line_keys: vpk.count as u16 + mpks,
        key_pages: vpk.count / vpk.fixed,
        expansion_keys: if modules > 0 { EXT_KEYS } else { 0 },
        expansion_modules: modules,
        accounts,
        ..Model::desk(name)
    }
}

/// A model's virtual multi-purpose keys (VPKs): how many (wazo `MODEL_FKEYS` `vpk`) and
/// how many of them are fixed, i.e. the physical line keys of the first page ("For
/// GXP2130, VPK1 to VPK3 are fixed VPK, VPK4 to VPK12 are dynamic VPK", and so on per
/// model: FusionPBX `resources/templates/provision/grandstream/gxp2170/{$mac}.xml` and its
/// version-1 form for firmware 1.0.9.127, `$fixed_keys` per model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Vpk {
    /// VPKs on all pages.
    pub(crate) count: u8,
    /// The first `fixed` VPKs are fixed (line keys); the others are dynamic.
    pub(crate) fixed: u8,
}

const GXP2130_VPK: Vpk = Vpk {
    count: 12,
    fixed: 3,
};
const GXP2135_VPK: Vpk = Vpk {
    count: 32,
    fixed: 8,
};
const GXP2140_VPK: Vpk = Vpk {
    count: 16,
    fixed: 4,
};
const GXP2160_VPK: Vpk = Vpk {
    count: 24,
    fixed: 6,
};
const GXP2170_VPK: Vpk = Vpk {
    count: 48,
    fixed: 12,
};

/// The VPKs of a GXP213x..2170 (`None` for a model whose keys this module writes as MPKs).
pub(crate) fn vpk_layout(model: &str) -> Option<Vpk> {
    let m = model.trim();
    [
        ("GXP2130", GXP2130_VPK),
        ("GXP2135", GXP2135_VPK),
        ("GXP2140", GXP2140_VPK),
        ("GXP2160", GXP2160_VPK),
        ("GXP2170", GXP2170_VPK),
    ]
    .into_iter()
    .find(|(n, _)| n.eq_ignore_ascii_case(m))
    .map(|(_, v)| v)
}

/// A GRP261x: `v1_0_5_48/plugin-info` (lines), one image for the family
/// (`Release_GRP261x_1.0.5.48.zip`). Its keys: the physical MPKs of wazo `MODEL_FKEYS`
/// (`mpk`), at most [`PLAIN_MPKS`], the keys the version-1 file can set; its VPKs (wazo
/// `vpk`: 16, 24 or 40) take version-2 items only and are not counted.
const fn grp(name: &'static str, accounts: u8, mpks: u16) -> Model {
    Model {
        line_keys: if mpks < PLAIN_MPKS { mpks } else { PLAIN_MPKS },
        accounts,
        firmware_family: "GRP261x",
        ..Model::desk(name)
    }
}

/// A DP75x DECT base: 10 SIP accounts ("SIP account 1 - 10", P4060..P4069) and 5
/// handsets ("HS 1 .. HS 5 Line Settings", P4300..P4349; handset names P27020..P27024)
/// (FusionPBX `resources/templates/provision/grandstream/dp750/{$mac}.xml`, DP750
/// firmware 1.0.2.16). No keys to hold a BLF.
const fn dect_base(name: &'static str) -> Model {
    Model {
        accounts: 10,
        dect_handsets: 5,
        ..Model::desk(name)
    }
}

/// The models this system configures.
pub(crate) const MODELS: &[Model] = &[
    gxp16("GXP1610", 1, 0),
    gxp16("GXP1615", 1, 0),
    gxp16("GXP1620", 2, 0),
    gxp16("GXP1625", 2, 0),
    gxp16("GXP1628", 2, 8),
    gxp16("GXP1630", 3, 8),
    gxp21("GXP2130", 3, GXP2130_VPK, 8, 0),
    gxp21("GXP2135", 4, GXP2135_VPK, 0, 0),
    gxp21("GXP2140", 4, GXP2140_VPK, 0, 4),
    gxp21("GXP2160", 6, GXP2160_VPK, 24, 0),
    gxp21("GXP2170", 6, GXP2170_VPK, 0, 4),
    grp("GRP2612", 1, 0),
    grp("GRP2613", 1, 0),
    grp("GRP2614", 2, 24),
    grp("GRP2615", 2, 0),
    grp("GRP2616", 2, 24),
    // Android video phones: wazo `v1_0_3_2x_android/plugin-info` (lines 16, function_keys
    // 160; expansion_modules 4 on the GXV3350 only); own image each. wazo provisions them
    // with `base.tpl`, whose keys are the version-1 MPK codes (`_add_fkeys`): the
    // generator writes those, [`PLAIN_MPKS`] of them, and no module key (no code for the
    // GXV3350's modules is in the sources read), so that is what is counted.
    Model {
        line_keys: PLAIN_MPKS,
        accounts: 16,
        ..Model::desk("GXV3350")
    },
    Model {
        line_keys: PLAIN_MPKS,
        accounts: 16,
        ..Model::desk("GXV3370")
    },
    Model {
        line_keys: PLAIN_MPKS,
        accounts: 16,
        ..Model::desk("GXV3380")
    },
    // Wi-Fi handsets: 2 accounts (`account.1`, `account.2` in FusionPBX `grandstream/
    // wp810/{$mac}.xml` and `wp820/{$mac}.xml`), no programmable keys.
    Model {
        accounts: 2,
        ..Model::desk("WP810")
    },
    Model {
        accounts: 2,
        ..Model::desk("WP820")
    },
    dect_base("DP750"),
    // The DP752 takes the DP750's P-codes (same DECT/SIP account and handset line
    // settings) with its own image; its 10 accounts and 5 handsets are its datasheet's
    // figures, not confirmed by a provisioning server's template.
    dect_base("DP752"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::Vendor;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn rows_read_as_their_sources_say() {
        let m = |n: &str| Vendor::Grandstream.model(n).unwrap();
        // wazo MODEL_FKEYS: GXP2160 vpk 24 + mpk 24; GXP2170 vpk 48 + 4 modules.
        assert_eq!((m("GXP2160").line_keys, m("GXP2160").accounts), (48, 6));
        assert_eq!(m("gxp2170").key_capacity(), 48 + 4 * 40);
        assert_eq!(m("GXP1630").line_keys, 11);
        assert_eq!(m("GXP1628").firmware_family, m("GXP1610").firmware_family);
        assert_ne!(m("GXP2135").firmware_family, m("GXP2170").firmware_family);
        assert_eq!(m("GRP2612").firmware_family, "GRP261x");
        for name in ["GXP2130", "GXP2135", "GXP2140", "GXP2160", "GXP2170"] {
            let v = vpk_layout(name).unwrap();
            assert_eq!(m(name).key_pages, 4, "{name}");
            assert!(u16::from(v.count) <= m(name).line_keys, "{name}");
        }
        assert_eq!(
            vpk_layout("gxp2170"),
            Some(Vpk {
                count: 48,
                fixed: 12
            })
        );
        assert_eq!(vpk_layout("GXP1630"), None);
        for base in ["DP750", "DP752"] {
            assert!(m(base).is_dect_base());
            assert_eq!((m(base).accounts, m(base).dect_handsets), (10, 5));
            assert_eq!(m(base).key_capacity(), 0);
        }
        assert!(MODELS.iter().filter(|m| m.is_dect_base()).count() == 2);
        assert!(Vendor::Grandstream.model("HT801").is_none());
    }
}
