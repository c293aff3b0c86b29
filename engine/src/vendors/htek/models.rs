//! Htek's models.
//!
//! Initial table (names only, from the lists the module had); keys, accounts, handsets and
//! firmware families are being filled from the vendor's sources.

use crate::vendors::Model;

/// The models this system configures.
pub(crate) const MODELS: &[Model] = &[
    Model {
        file_code: Some("0010"),
        ..Model::desk("UC926")
    },
    Model {
        file_code: Some("0012"),
        ..Model::desk("UC924")
    },
    Model {
        file_code: Some("0013"),
        ..Model::desk("UC923")
    },
    Model {
        file_code: Some("0016"),
        ..Model::desk("UC903")
    },
    Model {
        file_code: Some("0017"),
        ..Model::desk("UC902")
    },
    Model {
        file_code: Some("0019"),
        ..Model::desk("UC912")
    },
    Model {
        file_code: Some("0019"),
        ..Model::desk("UC912G")
    },
    Model {
        file_code: Some("0019"),
        ..Model::desk("UC912E")
    },
];
