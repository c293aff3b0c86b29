//! TFTP (RFC 1350 with RFC 2347/2348/2349 options and RFC 7440 windowsize).

pub mod codec;
