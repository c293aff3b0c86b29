//! Yealink's models: every model in wazo-provd-plugins' `wazo_yealink` v73..v87 plugins and
//! FusionPBX's `resources/templates/provision/yealink/` template dirs, each group citing its
//! sources. `file_code` is the `NN` of the common file `y0000000000NN.cfg` (the first model
//! listed with a code is the one a bare file name maps to); `firmware_family` is the first
//! number of the firmware version (`66` in `66.86.0.15`).

use crate::vendors::Model;

/// One row: name, file code, line keys (all pages), pages, keys per expansion module, modules,
/// accounts, DECT handset slots, firmware family.
#[allow(clippy::too_many_arguments)]
const fn m(
    name: &'static str,
    file_code: Option<&'static str>,
    line_keys: u16,
    key_pages: u8,
    expansion_keys: u16,
    expansion_modules: u8,
    accounts: u8,
    dect_handsets: u8,
    firmware_family: &'static str,
) -> Model {
    Model {
        name,
        file_code,
        line_keys,
        key_pages,
        expansion_keys,
        expansion_modules,
        accounts,
        dect_handsets,
        firmware_family,
    }
}

/// The models this system configures.
pub(crate) const MODELS: &[Model] = &[
    // v7x firmware and the older desk/video/DECT models. Names and firmware families: wazo-provd-plugins
    // `plugins/wazo_yealink/v73/entry.py` (MODEL_INFO versions 9.73, 7.73, 6.73, 2.73) and `common/common.py`
    // (`_NB_LINEKEY`, `_NB_SIP_ACCOUNTS`: T20P 2, T22P/T26P 3, T28P 6, T32G 3, T38G 6, VP530P 4, W52P 5);
    // file codes: FusionPBX `resources/templates/provision/yealink/<model>/y0000000000NN.cfg`. The W52P/W56P
    // base serves 5 handsets (FusionPBX `yealink/w52p/y000000000025.cfg`, "Number Assignment": X ranges
    // from 1 to 5). T32G/T38G/VP530 family = their file code (no wazo firmware row read).
    m("T20P", Some("7"), 2, 1, 0, 0, 2, 0, "9"),
    m("T22P", Some("5"), 3, 1, 0, 0, 3, 0, "7"),
    m("T26P", Some("4"), 3, 1, 0, 0, 3, 0, "6"),
    m("T28P", Some("0"), 6, 1, 0, 0, 6, 0, "2"),
    m("T32G", Some("32"), 3, 1, 0, 0, 3, 0, "32"),
    m("T38G", Some("38"), 6, 1, 0, 0, 6, 0, "38"),
    m("VP530", Some("23"), 0, 1, 0, 0, 4, 0, "23"),
    m("W52P", Some("25"), 0, 1, 0, 0, 5, 5, "25"),
    m("W56P", Some("25"), 0, 1, 0, 0, 5, 5, "25"),
    // T2x/T4x (v80..v86 firmware). Line keys (all pages) and accounts: wazo `common/common.py` and
    // `v82..v86/common.py` (`_NB_LINEKEY`, `_NB_SIP_ACCOUNTS`); expansion modules: wazo
    // `_expmod_by_model` (EXP40: 40 keys, up to 6, on T27P/T27G/T29G/T46G/T46S/T48G/T48S; EXP43: 60 keys,
    // up to 3, on T43U/T46U/T48U, `v86/common.py`); firmware families: the first number of the versions
    // in `v80..v86/entry.py` (T41S/T42S/T46S/T48S share 66.x, the U series 108.x). Pages: three pages
    // where the count is three pages of one key less than the phone shows (the page key); touch-screen
    // T48x/T49G list theirs on one screen. File codes: FusionPBX template dirs (none for T41U/T44U).
    m("T19P", Some("53"), 0, 1, 0, 0, 1, 0, "53"),
    m("T19P_E2", Some("53"), 0, 1, 0, 0, 1, 0, "53"),
    m("T21P", Some("52"), 2, 1, 0, 0, 2, 0, "52"),
    m("T21P_E2", Some("52"), 2, 1, 0, 0, 2, 0, "52"),
    m("T23G", Some("44"), 3, 1, 0, 0, 3, 0, "44"),
    m("T23P", Some("44"), 3, 1, 0, 0, 3, 0, "44"),
    m("T27P", Some("45"), 21, 3, 40, 6, 6, 0, "45"),
    m("T27G", Some("69"), 21, 3, 40, 6, 6, 0, "69"),
    m("T29G", Some("46"), 27, 3, 40, 6, 16, 0, "46"),
    m("T40P", Some("54"), 3, 1, 0, 0, 3, 0, "54"),
    m("T40G", Some("76"), 3, 1, 0, 0, 3, 0, "76"),
    m("T41P", Some("36"), 15, 3, 0, 0, 6, 0, "36"),
    m("T42G", Some("29"), 15, 3, 0, 0, 12, 0, "29"),
    m("T46G", Some("28"), 27, 3, 40, 6, 16, 0, "28"),
    m("T48G", Some("35"), 29, 1, 40, 6, 16, 0, "35"),
    m("T49G", Some("51"), 29, 1, 0, 0, 16, 0, "51"),
    m("T41S", Some("68"), 15, 3, 0, 0, 6, 0, "66"),
    m("T42S", Some("67"), 15, 3, 0, 0, 12, 0, "66"),
    m("T46S", Some("66"), 27, 3, 40, 6, 16, 0, "66"),
    m("T48S", Some("65"), 29, 1, 40, 6, 16, 0, "66"),
    m("T41U", None, 15, 3, 0, 0, 6, 0, "108"),
    m("T42U", Some("116"), 15, 3, 0, 0, 12, 0, "108"),
    m("T43U", Some("107"), 15, 3, 60, 3, 12, 0, "108"),
    m("T44U", None, 24, 3, 0, 0, 12, 0, "108"),
    m("T44W", Some("174"), 24, 3, 0, 0, 12, 0, "108"),
    m("T46U", Some("108"), 27, 3, 60, 3, 16, 0, "108"),
    m("T48U", Some("109"), 29, 1, 60, 3, 16, 0, "108"),
    // T3x (wazo `v85`/`v86` `common.py` and `entry.py`: one firmware family 124.x; FusionPBX
    // `t31g`, `t31w`, `t33g`, `t34w` for file codes).
    m("T30", None, 0, 1, 0, 0, 1, 0, "124"),
    m("T30P", None, 0, 1, 0, 0, 1, 0, "124"),
    m("T31", None, 2, 1, 0, 0, 2, 0, "124"),
    m("T31P", None, 2, 1, 0, 0, 2, 0, "124"),
    m("T31G", Some("123"), 2, 1, 0, 0, 2, 0, "124"),
    m("T31W", Some("172"), 2, 1, 0, 0, 2, 0, "124"),
    m("T33P", None, 12, 3, 0, 0, 4, 0, "124"),
    m("T33G", Some("124"), 12, 3, 0, 0, 4, 0, "124"),
    m("T34W", Some("171"), 12, 3, 0, 0, 4, 0, "124"),
    // T5x (wazo `v83..v87` `common.py`/`entry.py`: EXP50 modules, 60 keys, up to 3, on every T5 model;
    // families 70.x, 96.x, 58.x, 150.x; FusionPBX `t52s..t58w` for file codes). VP59: FusionPBX `vp59`
    // only (code 91); its accounts are not in the sources read, so 1 (no key resets depend on it).
    m("T52S", Some("74"), 21, 3, 60, 3, 12, 0, "70"),
    m("T54S", Some("70"), 27, 3, 60, 3, 16, 0, "70"),
    m("T53W", Some("95"), 21, 3, 60, 3, 12, 0, "96"),
    m("T53", Some("95"), 21, 3, 60, 3, 12, 0, "96"),
    m("T53C", None, 21, 3, 60, 3, 12, 0, "96"),
    m("T54W", Some("96"), 27, 3, 60, 3, 16, 0, "96"),
    m("T57W", Some("97"), 29, 1, 60, 3, 16, 0, "96"),
    m("T56A", Some("56"), 27, 3, 60, 3, 16, 0, "58"),
    m("T58", Some("58"), 27, 3, 60, 3, 16, 0, "58"),
    m("T58A", Some("58"), 27, 3, 60, 3, 16, 0, "58"),
    m("T58V", Some("58"), 27, 3, 60, 3, 16, 0, "58"),
    m("T58W", Some("150"), 27, 3, 60, 3, 16, 0, "150"),
    m("VP59", Some("91"), 0, 1, 0, 0, 1, 0, "91"),
    // T7x/T8x (wazo `v87/common.py`: `_NB_LINEKEY`, `_NB_SIP_ACCOUNTS`, EXP55 modules of 78 keys, up to
    // 3, on every T7/T8 model; `v87/entry.py` families 185.x and 192.x; FusionPBX `t73u..t88w` codes).
    // Pages are not stated in those sources: 1.
    m("T73U", Some("186"), 48, 1, 78, 3, 12, 0, "185"),
    m("T73W", Some("183"), 48, 1, 78, 3, 12, 0, "185"),
    m("T74U", Some("187"), 60, 1, 78, 3, 16, 0, "185"),
    m("T74W", Some("184"), 60, 1, 78, 3, 16, 0, "185"),
    m("T77U", Some("188"), 95, 1, 78, 3, 16, 0, "185"),
    m("T85W", Some("196"), 72, 1, 78, 3, 16, 0, "185"),
    m("T87W", Some("197"), 95, 1, 78, 3, 16, 0, "185"),
    m("T88V", Some("192"), 95, 1, 78, 3, 16, 0, "192"),
    m("T88W", Some("192"), 95, 1, 78, 3, 16, 0, "192"),
    // Conference and audio devices: no line keys (wazo `_NB_LINEKEY` 0), accounts from wazo
    // `_NB_SIP_ACCOUNTS` (CP925, CP965: not listed there, 1); families from `v80..v87/entry.py`.
    m("CP860", Some("37"), 0, 1, 0, 0, 1, 0, "37"),
    m("CP920", Some("78"), 0, 1, 0, 0, 1, 0, "78"),
    m("CP925", Some("148"), 0, 1, 0, 0, 1, 0, "148"),
    m("CP960", Some("73"), 0, 1, 0, 0, 1, 0, "73"),
    m("CP965", Some("143"), 0, 1, 0, 0, 1, 0, "143"),
    m("AX83H", Some("180"), 0, 1, 0, 0, 4, 0, "180"),
    m("AX86R", Some("182"), 0, 1, 0, 0, 4, 0, "180"),
    // DECT bases. Accounts: wazo `v87/common.py` `_NB_SIP_ACCOUNTS` (W70B 10, W75DM 20, W80DM 30, W90DM
    // 250, W60B 8 in `v85/common.py`); handset slots: W60B 8 (FusionPBX `yealink/w60b/y000000000077.cfg`,
    // `handset.1..8.*`), the others one handset per account as wazo provisions them. W75B/W80B/W90B are
    // the radio bases of a multi-cell system whose accounts live on its DM (wazo lists 0 accounts for
    // them): here one account and no handset slots. Families from `v83..v87/entry.py`; file codes from
    // FusionPBX `w60b` (77) and `w70b` (146); the W7x/W8x/W9x DM codes are not in the sources read.
    m("W60B", Some("77"), 0, 1, 0, 0, 8, 8, "77"),
    m("W70B", Some("146"), 0, 1, 0, 0, 10, 10, "146"),
    m("W75DM", None, 0, 1, 0, 0, 20, 20, "175"),
    m("W75B", None, 0, 1, 0, 0, 1, 0, "175"),
    m("W80DM", None, 0, 1, 0, 0, 30, 30, "103"),
    m("W80B", None, 0, 1, 0, 0, 1, 0, "103"),
    m("W90DM", None, 0, 1, 0, 0, 250, 250, "130"),
    m("W90B", None, 0, 1, 0, 0, 1, 0, "130"),
];
