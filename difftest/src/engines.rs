//! The engines the tools can drive, by name.

use kont_spec::Engine;

/// Engines selectable on the command line.
pub const NAMES: &[&str] = &["reference"];

pub fn by_name(name: &str) -> Option<&'static dyn Engine> {
    match name {
        "reference" => Some(&kont_reference::Reference),
        _ => None,
    }
}
