//! Differential testing of the kont engines, and the library behind the
//! `kont` command: running programs, checking `.kont` scripts, generating
//! random programs, comparing the engines on them, shrinking mismatches.

#![forbid(unsafe_code)]

pub mod campaign;
pub mod corpus;
pub mod engines;
pub mod gen;
pub mod interactions;
pub mod oracle;
pub mod python;
pub mod shrink;
