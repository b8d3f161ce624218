//! Deliberate, realistic bugs, compiled in with the `faults` feature and off
//! until one is injected. They exist to prove that the differential tester
//! has teeth: each must be caught within a fixed budget of random programs
//! (`tests/tests/faults.rs`). Without the feature `active` is a constant
//! `false` and every fault path compiles away.

/// A named fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Fault {
    /// Reactivating a continuation drops the interceptors inside it.
    ResumeLosesInterceptor = 1,
    /// Reactivating a continuation drops its catching handler: a shallow handler.
    ShallowHandler,
    /// `transfer` resumes without leaving the clause, whose code then goes on.
    TransferKeepsClause,
    /// `pass` notifies the observers inside the passed continuation again.
    PassNotifiesTwice,
    /// Using a continuation does not consume it.
    OneShotNotEnforced,
    /// A new boundary reuses the scope id of the last one removed.
    ScopeIdReused,
    /// `finally` cleanups do not run when an error passes through.
    FinallySkippedOnThrow,
    /// An error skips the raising function's own `try` frames.
    InnerCatchSkipped,
    /// Handlers ignore their `:only` filter.
    FilterIgnored,
    /// An unhandled effect ends the run instead of being raised at its perform site.
    UnhandledAtTop,
    // ----- the native scheduler, await and cache, and the cross-run path
    /// `release` hands the permit to the newest waiter instead of the oldest.
    SemaphoreLifo,
    /// Cancelling a task parked on `await` leaves its timer armed, and a timer
    /// wakes its task without checking that it still waits for it: a task that
    /// caught its cancellation and parked again is woken by the old timer.
    CancelLeavesTimer,
    /// Cancelling a task queued on a semaphore leaves it in the queue (a later release hands the permit to it).
    CancelLeavesSemaphoreQueue,
    /// A woken task is queued at the default priority instead of its own.
    WakeAtDefaultPriority,
    /// Timers due at the same tick fire newest first.
    SameTickTimersLifo,
    /// The cache compares keys by their `show` text (`2` and `"2"` collide).
    CacheKeysByText,
    /// `run-await` without a scheduler does not advance the clock.
    AwaitClockStill,
    /// `transfer` accepts a continuation of another run.
    StaleTransferAccepted,
    /// `pass` accepts a continuation of another run.
    StalePassAccepted,
    /// `new-cont` accepts a continuation of another run as its envelope.
    StaleEnvelopeAccepted,
    // ----- shortcuts of untraced runs
    /// The tail-transfer shortcut does not charge its clause's fuel.
    TailTransferFree,
}

impl Fault {
    pub const ALL: &'static [Fault] = &[
        Fault::ResumeLosesInterceptor,
        Fault::ShallowHandler,
        Fault::TransferKeepsClause,
        Fault::PassNotifiesTwice,
        Fault::OneShotNotEnforced,
        Fault::ScopeIdReused,
        Fault::FinallySkippedOnThrow,
        Fault::InnerCatchSkipped,
        Fault::FilterIgnored,
        Fault::UnhandledAtTop,
        Fault::SemaphoreLifo,
        Fault::CancelLeavesTimer,
        Fault::CancelLeavesSemaphoreQueue,
        Fault::WakeAtDefaultPriority,
        Fault::SameTickTimersLifo,
        Fault::CacheKeysByText,
        Fault::AwaitClockStill,
        Fault::StaleTransferAccepted,
        Fault::StalePassAccepted,
        Fault::StaleEnvelopeAccepted,
        Fault::TailTransferFree,
    ];
}

#[cfg(feature = "faults")]
static ACTIVE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Turn a fault on (process-wide), or all off with `None`.
#[cfg(feature = "faults")]
pub fn inject(f: Option<Fault>) {
    ACTIVE.store(f.map_or(0, |f| f as u8), std::sync::atomic::Ordering::SeqCst);
}

#[cfg(feature = "faults")]
#[inline]
pub fn active(f: Fault) -> bool {
    ACTIVE.load(std::sync::atomic::Ordering::Relaxed) == f as u8
}

#[cfg(not(feature = "faults"))]
#[inline(always)]
pub fn active(_: Fault) -> bool {
    false
}

/// Whether untraced runs may take shortcuts: no fault is injected (a fault
/// changes the full path, which a shortcut would bypass), or the one
/// injected is in a shortcut.
#[cfg(feature = "faults")]
pub fn shortcuts_allowed() -> bool {
    matches!(ACTIVE.load(std::sync::atomic::Ordering::Relaxed), 0) || active(Fault::TailTransferFree)
}

#[cfg(not(feature = "faults"))]
#[inline(always)]
pub fn shortcuts_allowed() -> bool {
    true
}

// ----- the injectors: where each VM fault changes the machine ---------------

/// The stale-accepting faults: whether continuation `k` (of another run) is
/// let through the use check by the form `fault` stands for.
pub fn stale_accepted(fault: Fault, k: &crate::value::Value) -> Option<std::rc::Rc<crate::continuation::Continuation>> {
    match k {
        crate::value::Value::Cont(c) if active(fault) && c.is_live() => Some(c.clone()),
        _ => None,
    }
}

use crate::continuation::Chain;
use crate::fiber::Boundary;
use crate::machine::Machine;
use kont_spec::Event;

impl Machine<'_, '_> {
    pub fn inject_reactivation_fault(&mut self, chain: Chain) {
        if active(Fault::ShallowHandler) {
            if let Boundary::Handler { .. } = *self.fibers.boundary(chain.last) {
                *self.fibers.boundary_mut(chain.last) = Boundary::None;
            }
            return;
        }
        let mut x = chain.head;
        loop {
            if let Boundary::Intercept { .. } = *self.fibers.boundary(x) {
                *self.fibers.boundary_mut(x) = Boundary::None;
            }
            if x == chain.last {
                break;
            }
            x = self.fibers.parent(x);
        }
    }

    /// `PassNotifiesTwice`: report the observers inside `chain` again.
    pub fn observers_again(&mut self, d: u32, chain: Chain) {
        let mut x = chain.head;
        loop {
            if let crate::fiber::Boundary::Intercept { scope, def, .. } = *self.fibers.boundary(x) {
                if self.code.intercepts[def as usize].observe {
                    self.emit(|_| Event::Observe { dispatch: d, scope });
                }
            }
            if x == chain.last {
                break;
            }
            x = self.fibers.parent(x);
        }
    }
}
