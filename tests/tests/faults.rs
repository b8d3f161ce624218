//! Teeth: the VM built with each named fault of `kont_vm::faults` must be
//! caught by the differential tester within a fixed budget of random
//! programs. One test, run alone in its own binary, because an injected
//! fault is process-wide.

#![forbid(unsafe_code)]

use kont_difftest::campaign::{self, Config, Shard};
use kont_vm::faults::{self, Fault};

const SEED: u64 = 20261123;

/// The cases within which each fault must be caught. The first ten keep the
/// original budget; each new one is about three times the case at which seed
/// `SEED` caught it (SemaphoreLifo 59, CancelLeavesTimer 381,
/// CancelLeavesSemaphoreQueue 156, WakeAtDefaultPriority 156,
/// SameTickTimersLifo 2, CacheKeysByText 67, AwaitClockStill 1536,
/// StaleTransferAccepted 15, StalePassAccepted 34, StaleEnvelopeAccepted 134,
/// TailTransferFree 3),
/// so a generator change that makes a fault's situation much rarer fails here.
fn budget(fault: Fault) -> u64 {
    match fault {
        Fault::ResumeLosesInterceptor
        | Fault::ShallowHandler
        | Fault::TransferKeepsClause
        | Fault::PassNotifiesTwice
        | Fault::OneShotNotEnforced
        | Fault::ScopeIdReused
        | Fault::FinallySkippedOnThrow
        | Fault::InnerCatchSkipped
        | Fault::FilterIgnored
        | Fault::UnhandledAtTop => 20_000,
        Fault::SemaphoreLifo => 200,
        Fault::CancelLeavesTimer => 1_500,
        Fault::CancelLeavesSemaphoreQueue => 600,
        Fault::WakeAtDefaultPriority => 600,
        Fault::SameTickTimersLifo => 100,
        Fault::CacheKeysByText => 300,
        Fault::AwaitClockStill => 5_000,
        Fault::StaleTransferAccepted => 100,
        Fault::StalePassAccepted => 200,
        Fault::StaleEnvelopeAccepted => 500,
        Fault::TailTransferFree => 10,
    }
}

fn config(cases: u64) -> Config<'static> {
    Config {
        cases,
        seed: SEED,
        shard: Shard::ALL,
        jobs: 2,
        save: None,
        shrink: false,
        keep_going: false,
        progress: None,
        slowest: 0,
    }
}

#[test]
fn every_fault_is_caught_within_budget() {
    let mut caught = Vec::new();
    let mut missed = Vec::new();
    for &fault in Fault::ALL {
        faults::inject(Some(fault));
        let report = campaign::run(&config(budget(fault)), &kont_reference::Reference, &kont_vm::Vm);
        faults::inject(None);
        match report.found {
            Some(found) => caught.push(format!(
                "{fault:?}: case {} of {} ({})",
                found.index + 1,
                budget(fault),
                found.mismatch.first
            )),
            None => missed.push(fault),
        }
    }
    eprintln!("faults caught (seed {SEED}):\n  {}", caught.join("\n  "));
    assert!(missed.is_empty(), "faults the difftest missed within their budgets: {missed:?}");
    // With no fault injected the same campaign finds nothing.
    let clean = campaign::run(&config(2_000), &kont_reference::Reference, &kont_vm::Vm);
    assert!(clean.found.is_none(), "a mismatch without faults: {:?}", clean.found.map(|f| f.mismatch.first));
}
