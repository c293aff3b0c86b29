//! SIP for plug-and-play and re-provisioning: the codec and the multicast PnP server.

pub mod codec;
