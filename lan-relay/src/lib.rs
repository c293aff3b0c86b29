//! The LAN relay: the on-site daemon that provisions the office's phones over the LAN.
//!
//! Structured like mini-redis: the logic lives in this library, the binary (`main.rs`) only
//! parses the command line, binds the sockets and calls [`run`]. Protocol codecs are pure
//! bytes-in/bytes-out modules ([`tftp::codec`], [`sip::codec`]); the servers around them own
//! the sockets. Which bytes a phone receives is decided behind one contract,
//! [`files::FileSource`], from the engine's rules.
#![forbid(unsafe_code)]

pub mod files;
pub mod sip;
pub mod tftp;
