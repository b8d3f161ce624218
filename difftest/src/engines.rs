//! The engines the tools can drive, by name.

use kont_spec::Engine;

/// Engine names accepted on the command line. `vm` runs the standard
/// prelude's handlers natively, `vm-prelude` as their kont clauses; `both`
/// means all three, compared (native handlers differ from their clauses only
/// in fuel, SPEC.md §13.6).
pub const NAMES: &[&str] = &["vm", "vm-prelude", "reference", "both"];

/// The engines `name` stands for.
pub fn by_name(name: &str) -> Option<Vec<&'static dyn Engine>> {
    match name {
        "reference" => Some(vec![&kont_reference::Reference]),
        "vm" => Some(vec![&kont_vm::Vm]),
        "vm-prelude" => Some(vec![&kont_vm::VmPrelude]),
        "both" => Some(vec![&kont_reference::Reference, &kont_vm::Vm, &kont_vm::VmPrelude]),
        _ => None,
    }
}
