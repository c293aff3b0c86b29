//! STUB, being written.
