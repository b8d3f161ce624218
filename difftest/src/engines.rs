//! The engines the tools can drive, by name.

use kont_spec::Engine;

/// Engine names accepted on the command line; `both` means reference and vm.
pub const NAMES: &[&str] = &["vm", "reference", "both"];

/// The engines `name` stands for.
pub fn by_name(name: &str) -> Option<Vec<&'static dyn Engine>> {
    match name {
        "reference" => Some(vec![&kont_reference::Reference]),
        "vm" => Some(vec![&kont_vm::Vm]),
        "both" => Some(vec![&kont_reference::Reference, &kont_vm::Vm]),
        _ => None,
    }
}
