//! The `python` engine: kont programs translated to Python programs on
//! kont's Python package (SPEC.md §14), run by a persistent interpreter and
//! compared with the reference; and the `doeff` engine: the same
//! translations on doeff 0.8.0, through kont's API written on doeff
//! (`doeff_kont.py`), each difference classified against SPEC.md §11.

pub mod campaign;
pub mod compare;
pub mod doeff;
pub mod doeff_campaign;
pub mod translate;
pub mod worker;
