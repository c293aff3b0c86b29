//! What one model of a vendor's is: the row of a vendor's model table
//! (`vendors/<vendor>/models.rs`, data only, each row citing its source). The tables drive
//! the common-file names, the keys a generator resets, the check of a BLF layout at save
//! ([`check_blf_layout`]), DECT handset slots and the console's model pickers.

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::inputs::BlfKey;
use crate::vendors::Vendor;

/// One model a vendor ships and its firmware lines cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Model {
    /// The model's name as the vendor writes it and its User-Agent sends it (`T46S`,
    /// `D785`, `GXP2170`, `UC926`, `W60B`).
    pub name: &'static str,
    /// The code in the model's common file name, where the vendor has one (Yealink
    /// `y0000000000NN.cfg`: `"66"`; Htek `cfg00NN.xml`: `"0010"`; Fanvil `f0NNNN.cfg`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_code: Option<&'static str>,
    /// Programmable keys on the phone itself (line/DSS keys, all pages together) that can
    /// hold a line or a BLF.
    pub line_keys: u16,
    /// The pages those keys are shown on (1 when the phone has no paging).
    pub key_pages: u8,
    /// Keys per expansion module (0: the model takes none).
    pub expansion_keys: u16,
    /// Expansion modules the model takes at most.
    pub expansion_modules: u8,
    /// SIP accounts the phone (or DECT base) holds.
    pub accounts: u8,
    /// DECT handsets a base serves (0: not a DECT base).
    pub dect_handsets: u8,
    /// The firmware family: models sharing one firmware image (a firmware row for one
    /// model of the family applies to all of them).
    pub firmware_family: &'static str,
}

impl Model {
    /// A model row with no keys, one account and its own firmware family; the tables
    /// override what differs (`Model { line_keys: 10, ..Model::desk("T46S") }`).
    pub(crate) const fn desk(name: &'static str) -> Self {
        Self {
            name,
            file_code: None,
            line_keys: 0,
            key_pages: 1,
            expansion_keys: 0,
            expansion_modules: 0,
            accounts: 1,
            dect_handsets: 0,
            firmware_family: name,
        }
    }

    /// `true` for a DECT base (it serves handsets, each with its own account).
    pub fn is_dect_base(&self) -> bool {
        self.dect_handsets > 0
    }

    /// All the keys a BLF or line can sit on: the phone's own and its expansion modules'
    /// at their most.
    pub fn key_capacity(&self) -> u32 {
        u32::from(self.line_keys)
            + u32::from(self.expansion_keys) * u32::from(self.expansion_modules)
    }
}

impl Vendor {
    /// The vendor's model table (empty for a vendor whose configs are not rendered here).
    pub fn models(self) -> &'static [Model] {
        self.facts().models
    }

    /// The model row named `name` (case-insensitive; a vendor's own aliases, such as
    /// Yealink's `T19P_E2`, are the module's to add as rows).
    pub fn model(self, name: &str) -> Option<&'static Model> {
        let name = name.trim();
        self.models()
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }
}

/// Checks that the BLF layout `blf` fits the vendor's `model` when `lines` accounts also
/// sit on its keys (each account line takes the first keys, as every generator here writes
/// them). An unknown model (or none) is not refused: its layout cannot be checked. The
/// error names the model's limit.
pub fn check_blf_layout(vendor: Vendor, model: &str, lines: usize, blf: &[BlfKey]) -> Result<()> {
    let Some(m) = vendor.model(model) else {
        return Ok(());
    };
    let capacity = m.key_capacity();
    let taken = u32::try_from(lines).unwrap_or(u32::MAX);
    let free = capacity.saturating_sub(taken);
    let asked = u32::try_from(blf.len()).unwrap_or(u32::MAX);
    if asked <= free {
        return Ok(());
    }
    let mut keys = format!("{} line keys", m.line_keys);
    if m.key_pages > 1 {
        keys.push_str(&format!(" on {} pages", m.key_pages));
    }
    if m.expansion_modules > 0 && m.expansion_keys > 0 {
        keys.push_str(&format!(
            " and up to {} expansion modules of {} keys",
            m.expansion_modules, m.expansion_keys
        ));
    }
    let lines_note = match taken {
        0 => String::new(),
        1 => ", less 1 for its account".to_owned(),
        n => format!(", less {n} for its accounts"),
    };
    Err(Error::new(
        ErrorKind::InvalidInput,
        format!(
            "the {} {} has {keys}: at most {free} BLF keys{lines_note}; this layout has {asked}",
            vendor.display_name(),
            m.name
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn keys(n: usize) -> Vec<BlfKey> {
        crate::vendors::testing::blf_keys(n, 200, 1)
    }

    #[test]
    fn every_model_table_is_sound() {
        for v in Vendor::ALL {
            let models = v.models();
            assert_eq!(v.is_provisioned(), !models.is_empty(), "{v}: a model table");
            for (i, m) in models.iter().enumerate() {
                assert!(!m.name.is_empty() && !m.firmware_family.is_empty(), "{v}");
                assert!(m.accounts >= 1, "{v} {}", m.name);
                assert!(m.key_pages >= 1, "{v} {}", m.name);
                assert_eq!(
                    m.expansion_keys == 0,
                    m.expansion_modules == 0,
                    "{v} {}: expansion keys and modules go together",
                    m.name
                );
                if m.is_dect_base() {
                    // A base holds at least two accounts (handset 1's and another's), or
                    // binding users to its handsets could never work.
                    assert!(
                        m.accounts >= 2,
                        "{v} {}: a base has accounts for its handsets",
                        m.name
                    );
                }
                assert!(
                    models[..i]
                        .iter()
                        .all(|o| !o.name.eq_ignore_ascii_case(m.name)),
                    "{v}: {} listed twice",
                    m.name
                );
                assert_eq!(v.model(&m.name.to_ascii_lowercase()), Some(m));
            }
            if v.is_provisioned() {
                assert!(
                    v.model(v.sample_model()).is_some(),
                    "{v}: its sample model is in its table"
                );
            }
        }
    }

    #[test]
    fn a_layout_longer_than_the_model_takes_is_refused_naming_its_limit() {
        for v in Vendor::PROVISIONED {
            let Some(m) = v.models().iter().find(|m| m.key_capacity() > 2) else {
                continue;
            };
            let free = m.key_capacity() as usize - 1;
            assert!(
                check_blf_layout(v, m.name, 1, &keys(free)).is_ok(),
                "{v} {}",
                m.name
            );
            let e = check_blf_layout(v, m.name, 1, &keys(free + 1)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            let msg = e.to_string();
            assert!(msg.contains(m.name), "{msg}");
            assert!(msg.contains(&format!("at most {free} BLF keys")), "{msg}");
            assert!(
                msg.contains(&format!("this layout has {}", free + 1)),
                "{msg}"
            );
        }
        // A model nobody knows is not refused.
        assert!(check_blf_layout(Vendor::PROVISIONED[0], "NOPE-1", 1, &keys(500)).is_ok());
    }
}
