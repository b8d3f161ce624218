//! The `python` engine: kont programs translated to Python programs on
//! kont's Python package (SPEC.md §14), run by a persistent interpreter and
//! compared with the reference.

pub mod campaign;
pub mod compare;
pub mod doeff;
pub mod doeff_campaign;
pub mod translate;
pub mod worker;
