//! Htek's models (Hanlong Technology's UC8xx and UC9xx desk phones).
//!
//! Sources, for every row:
//! - file codes (`cfg00NN.xml`): wazo-platform/wazo-provd-plugins
//!   `plugins/wazo_htek/v2_0_4_4_58/entry.py` (`COMMON_FILES`, one comment per code naming
//!   its models) and `v2_0_4_6_41/entry.py` (the same codes for the UC9xx); Htek's wiki
//!   "UC900 Series IP Phones Provisioning" section 2.1 (0012 UC924, 0019 UC912 and UC912G);
//! - line keys (all pages together) and accounts: the same plugin's `plugin-info`
//!   (`function_keys`, `lines`) and `common/common.py` (`_NB_LINEKEYS`, the keys its
//!   generator writes and resets per model);
//! - expansion modules: `plugin-info` gives `expansion_modules: 0` for every model, and
//!   no source read here gives the key count of Htek's UC46 module per phone, so no row
//!   takes one (a BLF layout is checked against the phone's own keys only);
//! - pages: no source read here gives how the keys are paged, so every row says 1 page
//!   (the key count is the total over all pages, as wazo writes them);
//! - firmware family: each model its own (Htek publishes one image per model; models
//!   sharing a file code, e.g. UC912/UC912G/UC912E, are not known to share an image);
//! - no Htek model in these lines is a DECT base.

use crate::vendors::Model;

/// A row: `name`, file code, line keys, accounts.
const fn row(name: &'static str, code: &'static str, keys: u16, accounts: u8) -> Model {
    Model {
        file_code: Some(code),
        line_keys: keys,
        accounts,
        ..Model::desk(name)
    }
}

/// The models this system configures.
pub(crate) const MODELS: &[Model] = &[
    // UC9xx: wazo `v2_0_4_6_41/entry.py` and `v2_0_4_4_58/entry.py`, `plugin-info`.
    row("UC926", "0010", 36, 16),
    row("UC926E", "0110", 36, 16),
    row("UC924", "0012", 28, 12),
    row("UC924E", "0112", 28, 12),
    row("UC923", "0013", 20, 8),
    row("UC912", "0019", 12, 4),
    row("UC912G", "0019", 12, 4),
    row("UC912E", "0019", 12, 4),
    row("UC903", "0016", 20, 6),
    row("UC902", "0017", 0, 4),
    // UC8xx: wazo `v2_0_4_4_58/entry.py` (codes) and `plugin-info` (keys, lines). The
    // plain names (UC860, UC840, UC806, UC804, UC803, UC802) have their own code or share
    // their twin's, and the same `_NB_LINEKEYS` count; `plugin-info` lists only the
    // suffixed twin, whose lines they are given. UC806G and UC804G appear only in
    // `COMMON_FILES`: their keys and lines are their T twin's (an assumption, stated).
    row("UC862", "0000", 14, 2),
    row("UC860", "0002", 14, 4),
    row("UC860P", "0002", 14, 4),
    row("UC842", "0001", 4, 3),
    row("UC840", "0003", 4, 3),
    row("UC840P", "0003", 4, 3),
    row("UC806", "0004", 4, 4),
    row("UC806T", "0041", 4, 4),
    row("UC806G", "0042", 4, 4),
    row("UC804", "0005", 4, 3),
    row("UC804T", "0051", 4, 3),
    row("UC804G", "0052", 4, 3),
    row("UC803", "0006", 0, 2),
    row("UC803T", "0006", 0, 2),
    row("UC802", "0007", 0, 2),
    row("UC802T", "0007", 0, 2),
];
