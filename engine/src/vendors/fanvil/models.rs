//! Fanvil's models.
//!
//! Initial table (names only, from the lists the module had); keys, accounts, handsets and
//! firmware families are being filled from the vendor's sources.

use crate::vendors::Model;

/// The models this system configures.
pub(crate) const MODELS: &[Model] = &[
    Model::desk("X4U"),
    Model::desk("X2"),
    Model::desk("X3S"),
    Model::desk("X3SG"),
    Model::desk("X4"),
    Model::desk("X5"),
    Model::desk("C58"),
    Model::desk("C62"),
    Model::desk("X210"),
    Model::desk("X3"),
    Model::desk("X5U-V2"),
    Model::desk("X5S"),
    Model::desk("X6"),
    Model::desk("X6V2"),
    Model::desk("H2U-V2"),
    Model::desk("i10S"),
    Model::desk("i10SV"),
    Model::desk("i10SD"),
    Model::desk("i51W"),
    Model::desk("i52W"),
    Model::desk("i53W"),
    Model::desk("i16S"),
    Model::desk("i16SV"),
    Model::desk("i61"),
    Model::desk("i62"),
    Model::desk("i63"),
    Model::desk("i64"),
    Model::desk("V67"),
    Model::desk("V61G"),
    Model::desk("V61W"),
    Model::desk("V62"),
    Model::desk("V62-Pro"),
    Model::desk("V62G"),
    Model::desk("V62W"),
    Model::desk("V63"),
    Model::desk("V64"),
    Model::desk("V65"),
    Model::desk("V66"),
    Model::desk("V66-Pro"),
    Model::desk("W610W"),
    Model::desk("W611W"),
    Model::desk("W620W"),
    Model::desk("Irina Smirnova"),
];
