//! Bytes → a generated program → both engines → they must agree.
#![no_main]

use kont_difftest::gen::ArbitraryCase;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|c: ArbitraryCase| kont_difftest::oracle::assert_agree(&c.0));
