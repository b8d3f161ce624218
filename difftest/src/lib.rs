//! Differential testing of the kont engines, and the library behind the
//! `kont` command: running programs, checking `.kont` scripts.

pub mod corpus;
pub mod engines;
