//! Bytes → a generated program → both engines → they must agree.
#![no_main]

use kont_difftest::gen::{ArbitraryCase, FUEL, PRELUDE_FUEL};
use kont_spec::Limits;
use libfuzzer_sys::fuzz_target;

/// Per-input caps: whatever the generator asks for, no run gets more than
/// the campaign's budgets, so one input stays within `differential.options`'
/// `-timeout` and `-rss_limit_mb` (an input that does not is a bug).
const CAP: Limits = Limits { fuel: PRELUDE_FUEL, depth: 20_000, memory: 10_000_000 };

fuzz_target!(|c: ArbitraryCase| {
    let mut case = c.0;
    let fuel = if case.prelude { CAP.fuel } else { FUEL };
    case.limits = Limits {
        fuel: case.limits.fuel.min(fuel),
        depth: case.limits.depth.min(CAP.depth),
        memory: case.limits.memory.min(CAP.memory),
    };
    kont_difftest::oracle::assert_agree(&case)
});
