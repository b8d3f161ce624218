//! Interaction coverage: on a budget CI can afford, the generator's focused
//! mode (mostly prelude programs, two-run cases often) must make every named
//! situation of `kont_difftest::interactions` occur on every engine, and the
//! engines must agree on every case. A generator change that stops building
//! a situation fails here.

#![forbid(unsafe_code)]

use kont_difftest::campaign::case_seed;
use kont_difftest::gen::{focused_case, Rng};
use kont_difftest::interactions::Situation;
use kont_difftest::oracle::{check, Coverage, Verdict};

const SEED: u64 = 20261202;
const CASES: u64 = 1_200;
/// Each situation must occur in at least this many programs on each engine.
const AT_LEAST: u64 = 2;

#[test]
fn every_situation_occurs_on_every_engine() {
    let mut cov = Coverage::default();
    for i in 0..CASES {
        let case = focused_case(&mut Rng::new(case_seed(SEED, i)));
        if let Verdict::Mismatch(m) = check(&case, &kont_reference::Reference, &kont_vm::Vm, &mut cov) {
            panic!("case {i}: the engines disagree: {}", m.first);
        }
    }
    let mut rare = Vec::new();
    for (engine, counts) in cov.situations.engines() {
        eprintln!("{engine}: {:?}", counts.named());
        for &s in Situation::ALL {
            if counts.get(s) < AT_LEAST {
                rare.push(format!("{engine} {}={}", s.name(), counts.get(s)));
            }
        }
    }
    assert!(rare.is_empty(), "situations under {AT_LEAST} programs in {CASES}: {}", rare.join(", "));
}
