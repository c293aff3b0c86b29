//! TFTP (RFC 1350 with RFC 2347/2348/2349 options and RFC 7440 windowsize): read-only, for
//! phones that fetch their config, common files, phonebooks and firmware by DHCP option 66.
//!
//! - [`codec`]: packets parsed from and encoded to bytes, option negotiation, netascii. Pure.
//! - [`server`]: [`serve`] owns the sockets: one listening socket (UDP/69 by default, the
//!   caller binds it) and one ephemeral socket per transfer (the RFC 1350 TID).
//!
//! What is served is decided by a [`crate::files::FileSource`]: the server passes the file
//! name as the phone sent it and never interprets it, so path rules (and path traversal) live
//! in the source. Every refusal is answered alike, ERROR 1 "File not found". Write requests
//! are refused (ERROR 2), and so is the obsolete `mail` mode (ERROR 4).

pub mod codec;
pub mod server;

pub use server::{serve, Metrics, TftpConfig};
