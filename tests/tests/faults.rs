//! Teeth: the VM built with each named fault of `kont_vm::faults` must be
//! caught by the differential tester within a fixed budget of random
//! programs. One test, run alone in its own binary, because an injected
//! fault is process-wide.

#![forbid(unsafe_code)]

use kont_difftest::campaign::{self, Config, Shard};
use kont_vm::faults::{self, Fault};

const BUDGET: u64 = 20_000;
const SEED: u64 = 20261123;

#[test]
fn every_fault_is_caught_within_budget() {
    let mut caught = Vec::new();
    let mut missed = Vec::new();
    for &fault in Fault::ALL {
        faults::inject(Some(fault));
        let config = Config {
            cases: BUDGET,
            seed: SEED,
            shard: Shard::ALL,
            jobs: 2,
            save: None,
            shrink: false,
            keep_going: false,
            progress: None,
        };
        let report = campaign::run(&config, &kont_reference::Reference, &kont_vm::Vm);
        faults::inject(None);
        match report.found {
            Some(found) => caught.push(format!("{fault:?}: case {} ({})", found.index + 1, found.mismatch.first)),
            None => missed.push(fault),
        }
    }
    eprintln!("faults caught (budget {BUDGET} cases, seed {SEED}):\n  {}", caught.join("\n  "));
    assert!(missed.is_empty(), "faults the difftest missed within {BUDGET} cases: {missed:?}");
    // With no fault injected the same campaign finds nothing.
    let config = Config {
        cases: 2_000,
        seed: SEED,
        shard: Shard::ALL,
        jobs: 2,
        save: None,
        shrink: false,
        keep_going: false,
        progress: None,
    };
    let clean = campaign::run(&config, &kont_reference::Reference, &kont_vm::Vm);
    assert!(clean.found.is_none(), "a mismatch without faults: {:?}", clean.found.map(|f| f.mismatch.first));
}
