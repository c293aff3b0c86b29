//! SIP messages: parsed from and encoded to bytes, no I/O.
