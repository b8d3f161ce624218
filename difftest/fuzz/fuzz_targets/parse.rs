//! Any text: the parser never panics, and what it accepts prints back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kont_spec::syntax::fuzz_parse(data));
