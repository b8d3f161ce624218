//! Benchmark programs, shared by the speed and memory benches.

#![allow(dead_code)]

use kont_spec::syntax::parse_program;
use kont_spec::{check_program, Program};

pub fn program(src: &str) -> Program {
    let (p, _) = parse_program(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    check_program(&p).unwrap();
    p
}

/// `n` performs of Tick, each resumed by the one handler: tail (`transfer`)
/// or non-tail (`resume`).
pub fn perform_resume(n: u64, tail: bool) -> Program {
    let clause = if tail { "(transfer k x)" } else { "(resume k x)" };
    program(&format!(
        "(with-handler ((Tick (x k) {clause}))
           (letrec ((loop (i) (if (= i 0) 0 (do (perform Tick i) (loop (- i 1))))))
             (loop {n})))"
    ))
}

/// The same loop with no effect: what the loop alone costs.
pub fn loop_only(n: u64) -> Program {
    program(&format!("(letrec ((loop (i) (if (= i 0) 0 (do i (loop (- i 1)))))) (loop {n}))"))
}

/// `n` performs that pass `d` handlers of other labels before reaching theirs.
pub fn dispatch_depth(n: u64, d: usize) -> Program {
    let mut s = String::from("(with-handler ((Tick (x k) (transfer k x)))");
    for i in 0..d {
        s.push_str(&format!(" (with-handler ((Other{i} (x k) (transfer k x)))"));
    }
    s.push_str(&format!(" (letrec ((loop (i) (if (= i 0) 0 (do (perform Tick i) (loop (- i 1)))))) (loop {n}))"));
    s.push_str(&")".repeat(d + 1));
    program(&s)
}

/// Recurse `frames` deep (non-tail), then perform/resume `n` times from there:
/// every capture and reactivation moves a chain holding all those frames.
pub fn deep_resume(frames: u64, n: u64) -> Program {
    program(&format!(
        "(with-handler ((Tick (x k) (transfer k x)))
           (letrec ((loop (i) (if (= i 0) 0 (do (perform Tick i) (loop (- i 1)))))
                    (deep (d) (if (= d 0) (loop {n}) (+ 0 (deep (- d 1))))))
             (deep {frames})))"
    ))
}

/// `n` suspended continuations held at once, each a parked computation with
/// its own handler boundary (a parked task), each kept in its own cell.
pub fn held_continuations(n: u64) -> Program {
    program(&format!(
        "(letrec ((park (i)
                    (if (= i 0)
                        0
                        (do (new-cell (with-handler ((Park (x k) k)) (do (perform Park i) i)))
                            (park (- i 1))))))
           (park {n}))"
    ))
}

/// `n` nested handlers; the innermost body performs to the outermost.
pub fn nested_handlers(n: usize) -> Program {
    let mut s = String::new();
    for i in (0..n).rev() {
        s.push_str(&format!("(with-handler ((L{} (x k) (resume k (+ x 1)))) ", i % 4));
    }
    s.push_str("(perform L0 0)");
    s.push_str(&")".repeat(n));
    parse_program(&s).unwrap().0
}

/// `n` nested non-tail calls.
pub fn nested_calls(n: u64) -> Program {
    program(&format!("(letrec ((down (n) (if (= n 0) 0 (+ 1 (down (- n 1)))))) (down {n}))"))
}

/// Larger programs for the engine-speed ratio.
pub fn larger() -> Vec<(&'static str, Program)> {
    vec![
        (
            "state handler, 20k get/put",
            program(
                "(let ((s (new-cell 0)))
               (with-handler ((Get (x k) (transfer k (get s))) (Put (v k) (set s v) (transfer k unit)))
                 (letrec ((loop (i) (if (= i 0) (perform Get unit)
                                        (do (perform Put (+ (perform Get unit) i)) (loop (- i 1))))))
                   (loop 20000))))",
            ),
        ),
        ("fib 20, pure", program("(letrec ((fib (n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))) (fib 20))")),
        (
            "generator: 5k yields through 3 handlers",
            program(
                "(with-handler ((Log (x k) (transfer k unit)))
               (with-handler ((Yield (x k) (perform Log x) (resume k unit)))
                 (with-observe :only (Yield) (fn (e) unit)
                   (letrec ((gen (i) (if (= i 0) \"done\" (do (perform Yield i) (gen (- i 1))))))
                     (gen 5000)))))",
            ),
        ),
        ("round-robin scheduler, 200 tasks x 10 yields", scheduler(200, 10)),
    ]
}

/// A user-space round-robin scheduler written in kont.
pub fn scheduler(tasks: u64, yields: u64) -> Program {
    program(&format!(
        "(let ((queue (new-cell (list))) (done (new-cell 0)))
           (letrec ((enqueue (k) (set queue (append (get queue) (list k))))
                    (next (v) (let ((q (get queue)))
                                (if (empty? q) v (do (set queue (tail q)) (transfer (head q) unit))))))
             (with-handler ((Spawn (f k) (enqueue (new-cont f k)) (resume k unit))
                            (Yield (x k) (enqueue k) (next unit))
                            (Done (x k) (set done (+ 1 (get done))) (next x)))
               (letrec ((task (i) (if (= i 0) (perform Done unit) (do (perform Yield i) (task (- i 1)))))
                        (spawn (n) (if (= n 0) unit (do (perform Spawn (fn (_) (task {yields}))) (spawn (- n 1))))))
                 (spawn {tasks})
                 (letrec ((wait () (if (= (get done) {tasks}) (get done) (do (perform Yield unit) (wait)))))
                   (wait))))))"
    ))
}

/// `src` run with the standard prelude (SPEC.md §13).
pub fn with_std(src: &str) -> Program {
    let (p, map) = parse_program(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    let std = kont_spec::prelude::Prelude::load("std").unwrap();
    let (p, _) = std.wrap(p, &map);
    check_program(&p).unwrap();
    p
}

/// `n` tasks on the prelude's scheduler, each performing one effect (handled
/// outside the scheduler, so it crosses the task's scheduler boundary),
/// gathered in batches of 100 (a kont list grows by copying, so one list of
/// 100,000 handles would measure `cons`, not the scheduler).
pub fn spawn_gather(n: u64) -> Program {
    assert!(n.is_multiple_of(100));
    with_std(&format!(
        "(with-handler ((Tick (x k) (transfer k (+ x 1))))
           (run-scheduled (fn (_)
             (letrec ((batch (i acc) (if (= i 0) acc (batch (- i 1) (cons (spawn (fn (_) (perform Tick i))) acc))))
                      (go (b total) (if (= b 0) total (go (- b 1) (+ total (len (gather (batch 100 (list)))))))))
               (go {} 0)))))",
        n / 100
    ))
}

/// `n` tasks parked at once, each waiting for one promise; then the root
/// completes it and gathers nothing (close-out lets them finish).
pub fn parked_tasks(n: u64) -> Program {
    with_std(&format!(
        "(run-scheduled (fn (_)
           (let ((p (new-promise)))
             (letrec ((go (i) (if (= i 0) unit (do (spawn (fn (_) (wait p))) (go (- i 1))))))
               (go {n})
               (complete p 1)
               {n}))))"
    ))
}
