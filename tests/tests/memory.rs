//! The memory budget (SPEC.md §9.2, R-Memory) holds what a run allocates:
//! programs whose values grow faster than their steps end in `exhausted
//! memory` on both engines, and no engine holds more than a constant times
//! (memory + fuel) while it runs.
//!
//! This binary counts live heap bytes with its own global allocator, which
//! also refuses any allocation past `HARD_CAP`: without the budget these
//! programs ask for terabytes, and the refusal aborts the test (a failure)
//! instead of taking the machine down.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use kont_spec::syntax::parse_program;
use kont_spec::{Engine, Limits, Outcome, Resource, RunOptions};

const HARD_CAP: usize = 3 << 30;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's layout and
// pointer unchanged; the counters only observe sizes, and a refused request
// returns null, which `GlobalAlloc` allows.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        if live > HARD_CAP {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            return std::ptr::null_mut();
        }
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc`/`realloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
        if live > HARD_CAP {
            LIVE.fetch_sub(new_size, Ordering::Relaxed);
            return std::ptr::null_mut();
        }
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: `ptr` came from this allocator with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            LIVE.fetch_sub(new_size, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Peaks are measured one run at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn program(src: &str) -> kont_spec::Program {
    let (p, _) = parse_program(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    kont_spec::check_program(&p).unwrap();
    p
}

fn std_program(src: &str) -> kont_spec::Program {
    let (p, map) = parse_program(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    let (p, _) = kont_spec::prelude::Prelude::load("std").unwrap().wrap(p, &map);
    kont_spec::check_program(&p).unwrap();
    p
}

fn engines() -> [&'static dyn Engine; 3] {
    [&kont_reference::Reference, &kont_vm::Vm, &kont_vm::VmPrelude]
}

/// Run `p` and return its result with the heap bytes the run added at its peak.
fn measured(e: &dyn Engine, p: &kont_spec::Program, limits: Limits) -> (kont_spec::RunResult, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = e.run(p, limits, RunOptions::default());
    (r, PEAK.load(Ordering::Relaxed) - base)
}

const EXHAUSTED_MEMORY: Outcome = Outcome::Exhausted { resource: Resource::Memory };

/// The one-liners: 40 doublings are 40 steps, far inside any fuel.
/// Before the budget both engines asked for 2^40 list elements (or bytes).
#[test]
fn doubling_lists_and_strings_end_in_exhausted_memory() {
    let _one = ONE_AT_A_TIME.lock().unwrap();
    let cases = [
        "(letrec ((f (s n) (if (= n 0) (len s) (f (append s s) (- n 1))))) (f (list 1) 40))",
        "(letrec ((f (s n) (if (= n 0) (len s) (f (concat s s) (- n 1))))) (f \"a\" 40))",
    ];
    for src in cases {
        let p = program(src);
        for e in engines() {
            let (r, peak) = measured(e, &p, Limits::DEFAULT);
            assert_eq!(r.outcome, EXHAUSTED_MEMORY, "{} on {src}", e.name());
            assert!(r.memory <= Limits::DEFAULT.memory, "{}: spent {}", e.name(), r.memory);
            // 100,000,000 units of at most 32 bytes (a list element), twice over.
            assert!(peak < 2 * 32 * 100_000_000, "{}: peak {peak} bytes on {src}", e.name());
        }
    }
}

/// Every allocation path a program can drive, run under a small budget: the
/// peak heap stays within a constant times (memory + fuel) plus a constant.
#[test]
fn no_program_holds_more_than_its_budget_allows() {
    let _one = ONE_AT_A_TIME.lock().unwrap();
    // A value shared twice at every level: 40 steps, a 2^40-node value to
    // copy out (as the outcome, by `emit`, by `show`).
    let dag = "(letrec ((f (s n) (if (= n 0) s (f (list s s) (- n 1))))) (f (list 1) 40))";
    let loops = |body: &str| {
        format!("(letrec ((loop (i acc) (if (= i 0) (len acc) (loop (- i 1) {body})))) (loop 1000000000 (list)))")
    };
    let cases: Vec<(String, kont_spec::Program)> = vec![
        ("outcome of a shared value".into(), program(dag)),
        ("emit of a shared value".into(), program(&format!("(emit {dag})"))),
        ("show of a shared value".into(), program(&format!("(len (show {dag}))"))),
        ("an error around a shared value".into(), program(&format!("(error \"t\" {dag})"))),
        ("cons onto a growing list".into(), program(&loops("(cons i acc)"))),
        ("cells kept in a list".into(), program(&loops("(cons (new-cell i) acc)"))),
        ("closures kept in a list".into(), program(&loops("(cons (fn (x) (+ x i)) acc)"))),
        ("strings kept in a list".into(), program(&loops("(cons (concat \"ab\" (show i)) acc)"))),
        ("errors with big tags".into(), program(&loops("(cons (error (show acc) i) acc)"))),
        (
            "continuations kept in a list".into(),
            program(&loops("(cons (with-handler ((Park (x k) k)) (do (perform Park i) i)) acc)")),
        ),
        (
            "tasks spawned on the scheduler".into(),
            std_program(
                "(run-scheduled (fn (_)
                   (letrec ((go (i acc) (if (= i 0) (len acc) (go (- i 1) (cons (spawn (fn (_) i)) acc)))))
                     (go 1000000000 (list)))))",
            ),
        ),
    ];
    let (fuel, memory) = (2_000_000, 1_000_000);
    let limits = Limits { fuel, depth: 1_000_000, memory };
    for (what, p) in &cases {
        for e in engines() {
            let (r, peak) = measured(e, p, limits);
            assert!(matches!(r.outcome, Outcome::Exhausted { .. }), "{} on {what}: {}", e.name(), r.outcome);
            // Generous per unit (an engine's own bookkeeping per step), but
            // linear: without the budget these runs reach gigabytes.
            let bound = 256 * (fuel + memory) as usize + (64 << 20);
            assert!(peak < bound, "{} on {what}: peak {peak} bytes, bound {bound}", e.name());
        }
    }
}

/// Memory is exact (SPEC.md §9.2): the same count on both engines, and the
/// run that had one unit less ends at the same step in `exhausted memory`.
#[test]
fn memory_is_exact_on_both_engines() {
    let _one = ONE_AT_A_TIME.lock().unwrap();
    let p = program(
        "(let ((c (new-cell 0)))
           (emit (list 1 \"ab\" (error \"t\" (list 2))))
           (concat (show (cons 1 (append (list 2) (tail (list 3 4))))) (type-of c)))",
    );
    // By hand, in evaluation order (SPEC.md §9.2's table): cell 1; (list 2) 1;
    // error 1 + 1 byte; (list 1 "ab" e) 3; emit size 9 (6 nodes, "ab",
    // tag "t"); (list 3 4) 2; tail 1; (list 2) 1; append 2; cons 3; show
    // "(list 1 2 4)" 12; type-of "cell" 4; concat 16; the outcome string 1 + 16.
    let want = 1 + 1 + 2 + 3 + 9 + 2 + 1 + 1 + 2 + 3 + 12 + 4 + 16 + 17;
    let mut spent = Vec::new();
    for e in engines().into_iter().take(2) {
        let r = e.run(&p, Limits::DEFAULT, RunOptions::default());
        assert!(matches!(r.outcome, Outcome::Value { .. }), "{}", r.outcome);
        spent.push(r.memory);
        let short = e.run(&p, Limits::DEFAULT.with_memory(r.memory - 1), RunOptions::default());
        assert_eq!(short.outcome, EXHAUSTED_MEMORY, "{}", e.name());
    }
    assert_eq!(spent, vec![want, want], "reference and vm");
}
