//! Snom's models.
//!
//! Initial table (names only, from the lists the module had); keys, accounts, handsets and
//! firmware families are being filled from the vendor's sources.

use crate::vendors::Model;

/// The models this system configures.
pub(crate) const MODELS: &[Model] = &[Model::desk("D785")];
