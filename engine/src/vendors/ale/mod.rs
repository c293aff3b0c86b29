//! Alcatel-Lucent Enterprise: phones kept only to be redirected (RPS) to the provisioning
//! server their account names; this system renders no ALE config.

pub(crate) mod rps;
