//! Yealink's models.
//!
//! Initial table (names only, from the lists the module had); keys, accounts, handsets and
//! firmware families are being filled from the vendor's sources.

use crate::vendors::Model;

/// The models this system configures.
pub(crate) const MODELS: &[Model] = &[
    Model {
        file_code: Some("0"),
        ..Model::desk("T28P")
    },
    Model {
        file_code: Some("4"),
        ..Model::desk("T26P")
    },
    Model {
        file_code: Some("5"),
        ..Model::desk("T22P")
    },
    Model {
        file_code: Some("7"),
        ..Model::desk("T20P")
    },
    Model {
        file_code: Some("23"),
        ..Model::desk("VP530")
    },
    Model {
        file_code: Some("25"),
        ..Model::desk("W52P")
    },
    Model {
        file_code: Some("25"),
        ..Model::desk("W56P")
    },
    Model {
        file_code: Some("28"),
        ..Model::desk("T46G")
    },
    Model {
        file_code: Some("29"),
        ..Model::desk("T42G")
    },
    Model {
        file_code: Some("32"),
        ..Model::desk("T32G")
    },
    Model {
        file_code: Some("35"),
        ..Model::desk("T48G")
    },
    Model {
        file_code: Some("36"),
        ..Model::desk("T41P")
    },
    Model {
        file_code: Some("37"),
        ..Model::desk("CP860")
    },
    Model {
        file_code: Some("38"),
        ..Model::desk("T38G")
    },
    Model {
        file_code: Some("44"),
        ..Model::desk("T23G")
    },
    Model {
        file_code: Some("44"),
        ..Model::desk("T23P")
    },
    Model {
        file_code: Some("45"),
        ..Model::desk("T27P")
    },
    Model {
        file_code: Some("46"),
        ..Model::desk("T29G")
    },
    Model {
        file_code: Some("51"),
        ..Model::desk("T49G")
    },
    Model {
        file_code: Some("52"),
        ..Model::desk("T21P")
    },
    Model {
        file_code: Some("53"),
        ..Model::desk("T19P")
    },
    Model {
        file_code: Some("54"),
        ..Model::desk("T40P")
    },
    Model {
        file_code: Some("56"),
        ..Model::desk("T56A")
    },
    Model {
        file_code: Some("58"),
        ..Model::desk("T58")
    },
    Model {
        file_code: Some("58"),
        ..Model::desk("T58A")
    },
    Model {
        file_code: Some("58"),
        ..Model::desk("T58V")
    },
    Model {
        file_code: Some("65"),
        ..Model::desk("T48S")
    },
    Model {
        file_code: Some("66"),
        ..Model::desk("T46S")
    },
    Model {
        file_code: Some("67"),
        ..Model::desk("T42S")
    },
    Model {
        file_code: Some("68"),
        ..Model::desk("T41S")
    },
    Model {
        file_code: Some("69"),
        ..Model::desk("T27G")
    },
    Model {
        file_code: Some("70"),
        ..Model::desk("T54S")
    },
    Model {
        file_code: Some("73"),
        ..Model::desk("CP960")
    },
    Model {
        file_code: Some("74"),
        ..Model::desk("T52S")
    },
    Model {
        file_code: Some("76"),
        ..Model::desk("T40G")
    },
    Model {
        file_code: Some("77"),
        ..Model::desk("W60B")
    },
    Model {
        file_code: Some("78"),
        ..Model::desk("CP920")
    },
    Model {
        file_code: Some("91"),
        ..Model::desk("VP59")
    },
    Model {
        file_code: Some("95"),
        ..Model::desk("T53W")
    },
    Model {
        file_code: Some("95"),
        ..Model::desk("T53")
    },
    Model {
        file_code: Some("96"),
        ..Model::desk("T54W")
    },
    Model {
        file_code: Some("97"),
        ..Model::desk("T57W")
    },
    Model {
        file_code: Some("107"),
        ..Model::desk("T43U")
    },
    Model {
        file_code: Some("108"),
        ..Model::desk("T46U")
    },
    Model {
        file_code: Some("109"),
        ..Model::desk("T48U")
    },
    Model {
        file_code: Some("116"),
        ..Model::desk("T42U")
    },
    Model {
        file_code: Some("123"),
        ..Model::desk("T31G")
    },
    Model {
        file_code: Some("124"),
        ..Model::desk("T33G")
    },
    Model {
        file_code: Some("143"),
        ..Model::desk("CP965")
    },
    Model {
        file_code: Some("146"),
        ..Model::desk("W70B")
    },
    Model {
        file_code: Some("148"),
        ..Model::desk("CP925")
    },
    Model {
        file_code: Some("150"),
        ..Model::desk("T58W")
    },
    Model {
        file_code: Some("171"),
        ..Model::desk("T34W")
    },
    Model {
        file_code: Some("172"),
        ..Model::desk("T31W")
    },
    Model {
        file_code: Some("174"),
        ..Model::desk("T44W")
    },
    Model {
        file_code: Some("180"),
        ..Model::desk("AX83H")
    },
    Model {
        file_code: Some("182"),
        ..Model::desk("AX86R")
    },
    Model {
        file_code: Some("183"),
        ..Model::desk("T73W")
    },
    Model {
        file_code: Some("184"),
        ..Model::desk("T74W")
    },
    Model {
        file_code: Some("186"),
        ..Model::desk("T73U")
    },
    Model {
        file_code: Some("187"),
        ..Model::desk("T74U")
    },
    Model {
        file_code: Some("188"),
        ..Model::desk("T77U")
    },
    Model {
        file_code: Some("192"),
        ..Model::desk("T88V")
    },
    Model {
        file_code: Some("192"),
        ..Model::desk("T88W")
    },
    Model {
        file_code: Some("196"),
        ..Model::desk("T85W")
    },
    Model {
        file_code: Some("197"),
        ..Model::desk("T87W")
    },
];
