//! Properties both engines must show, checked on each: typed errors for
//! one-shot and stale continuations, deep nesting without crashing, and the
//! host seam of the production VM.

#![forbid(unsafe_code)]

use kont_spec::syntax::parse_program;
use kont_spec::{Engine, Limits, Outcome, Resource, RunOptions, ValueView};

fn engines() -> [&'static dyn Engine; 2] {
    [&kont_reference::Reference, &kont_vm::Vm]
}

fn program(src: &str) -> kont_spec::Program {
    program_with(src, &[])
}

/// A checked program whose `inputs` are bound by the host.
fn program_with(src: &str, inputs: &[&str]) -> kont_spec::Program {
    let (mut p, _) = parse_program(src).unwrap();
    p.inputs = inputs.iter().map(|s| s.to_string()).collect();
    kont_spec::check_program(&p).unwrap();
    p
}

#[test]
fn double_resume_is_a_typed_catchable_error_on_both_engines() {
    let p = program(
        "(with-handler ((Ping (x k)
            (let ((a (resume k 1)))
              (try (resume k 2) (catch e (list a (error-tag e) (error-payload e)))))))
           (perform Ping 0))",
    );
    for e in engines() {
        let r = e.run(&p, Limits::DEFAULT, RunOptions::default());
        let want = ValueView::List(vec![
            ValueView::Int(1),
            ValueView::str("one-shot"),
            ValueView::Cont { id: 1, earlier: false },
        ]);
        assert_eq!(r.outcome, Outcome::Value { value: want }, "{}", e.name());
    }
}

#[test]
fn a_continuation_from_another_run_is_rejected_on_both_engines() {
    let first = program("(with-handler ((Park (x k) k)) (perform Park unit))");
    let second = program_with("(try (resume prev 1) (catch e (list (error-tag e) (live? prev))))", &["prev"]);
    for e in engines() {
        let r = e.run_after(&first, &second, Limits::DEFAULT, RunOptions::default()).unwrap();
        // `live?` itself rejects the foreign continuation, so the catch re-raises: assert the tag.
        assert_eq!(r.outcome.error_tag(), Some("stale"), "{}: {}", e.name(), r.outcome);
    }
    let third = program_with("(try (resume prev 1) (catch e (error-tag e)))", &["prev"]);
    for e in engines() {
        let r = e.run_after(&first, &third, Limits::DEFAULT, RunOptions::default()).unwrap();
        assert_eq!(r.outcome, Outcome::Value { value: ValueView::str("stale") }, "{}", e.name());
    }
}

/// SPEC.md §3.2–§3.3: a continuation or cell of an earlier run prints as
/// `#earlier-kN` / `#earlier-cellN`, never as the current run's `#kN`, and
/// `=` compares identities as they print: the earlier run's is not equal to
/// the current one with the same id, but equals itself; every use of it is
/// still rejected. (Before: both printed `#k1` and compared equal.)
#[test]
fn identities_of_an_earlier_run_print_apart_and_compare_as_printed_on_both_engines() {
    let first = program("(list (new-cell 0) (with-handler ((Park (x k) k)) (perform Park unit)))");
    let second = program_with(
        "(let ((c (new-cell 1)))
           (with-handler ((Park (x k)
                            (list (= k (nth prev 1)) (= c (head prev)) (= (head prev) (head prev))
                                  (try (get (head prev)) (catch e (error-payload e)))
                                  k c prev)))
             (perform Park unit)))",
        &["prev"],
    );
    let cont = |id, earlier| ValueView::Cont { id, earlier };
    let cell = |id, earlier| ValueView::Cell { id, earlier };
    for e in engines() {
        let r = e.run_after(&first, &second, Limits::DEFAULT, RunOptions { trace: true }).unwrap();
        let want = ValueView::List(vec![
            ValueView::Bool(false),
            ValueView::Bool(false),
            ValueView::Bool(true),
            cell(1, true),
            cont(1, false),
            cell(1, false),
            ValueView::List(vec![cell(1, true), cont(1, true)]),
        ]);
        assert_eq!(r.outcome, Outcome::Value { value: want }, "{}", e.name());
        assert_eq!(
            r.outcome.to_string(),
            "value (list false false true #earlier-cell1 #k1 #cell1 (list #earlier-cell1 #earlier-k1))",
            "{}",
            e.name()
        );
        // The stale error's payload in the trace is the earlier run's cell.
        let raise = r.trace.iter().map(|ev| ev.to_string()).find(|ev| ev.starts_with("raise"));
        assert_eq!(raise.as_deref(), Some("raise (error \"stale\" #earlier-cell1)"), "{}", e.name());
    }
}

/// A continuation from another VM *instance* (a separate `Vm` value) is
/// equally foreign: identities are per run, not per engine object.
#[test]
fn a_continuation_from_another_vm_instance_is_rejected() {
    let first = program("(with-handler ((Park (x k) k)) (perform Park unit))");
    let second = program_with("(try (resume prev 1) (catch e (error-tag e)))", &["prev"]);
    let a = kont_vm::Vm;
    let b = kont_vm::Vm;
    let k = a.run_raw(&first, vec![], Limits::DEFAULT, RunOptions::default(), false).value.unwrap();
    let r = b.run_raw(&second, vec![k], Limits::DEFAULT, RunOptions::default(), false).result;
    assert_eq!(r.outcome, Outcome::Value { value: ValueView::str("stale") });
}

fn nested_handlers(n: usize) -> kont_spec::Program {
    let mut s = String::new();
    for i in (0..n).rev() {
        s.push_str(&format!("(with-handler ((L{} (x k) (resume k (+ x 1)))) ", i % 4));
    }
    s.push_str("(perform L0 0)");
    s.push_str(&")".repeat(n));
    parse_program(&s).unwrap().0
}

/// 1,000,000 nested handlers on the VM: completes, in bounded native stack.
#[test]
fn a_million_nested_handlers_run_on_the_vm() {
    let p = nested_handlers(1_000_000);
    let r = kont_vm::Vm.run(&p, Limits::DEFAULT.with_depth(4_000_000), RunOptions::default());
    assert_eq!(r.outcome, Outcome::Value { value: ValueView::Int(1) });
}

/// 1,000,000 nested non-tail calls on the VM: completes.
#[test]
fn a_million_nested_calls_run_on_the_vm() {
    let p = program("(letrec ((down (n) (if (= n 0) 0 (+ 1 (down (- n 1)))))) (down 1000000))");
    let r = kont_vm::Vm.run(&p, Limits::DEFAULT.with_depth(4_000_000), RunOptions::default());
    assert_eq!(r.outcome, Outcome::Value { value: ValueView::Int(1_000_000) });
}

/// Both engines end runaway depth cleanly.
#[test]
fn depth_limits_end_runs_cleanly_on_both_engines() {
    let p = program("(letrec ((down (n) (+ 1 (down (+ n 1))))) (down 0))");
    for e in engines() {
        let r = e.run(&p, Limits::DEFAULT.with_depth(50_000), RunOptions::default());
        assert_eq!(r.outcome, Outcome::Exhausted { resource: Resource::Depth }, "{}", e.name());
    }
}

/// The host seam: host code runs as a frame on a fiber. Its effects are
/// dispatched like any other, and it moves inside continuations: here the
/// handler parks the continuation holding the host frame and resumes it later.
mod host {
    use super::*;
    use kont_vm::host::{HostFrame, HostInput, HostStep, HostValue};
    use kont_vm::Value;

    /// Host code: `x = perform(Ask 21); return x + 1`.
    struct AskTwice {
        state: u8,
        label: kont_vm::Value,
    }

    impl HostFrame for AskTwice {
        fn resume(&mut self, input: HostInput) -> HostStep {
            self.state += 1;
            match (self.state, input) {
                (1, _) => HostStep::Perform(self.label.clone()),
                (2, HostInput::Value(Value::Int(x))) => HostStep::Return(Value::Int(x + 1)),
                (_, HostInput::Throw(e, at)) => HostStep::Unwind(e, at),
                _ => HostStep::Raise(Value::error("host", Value::Unit)),
            }
        }
    }

    /// A host function that starts `AskTwice` with the effect value it is given.
    struct Starter;

    impl HostValue for Starter {
        fn view(&self, _run: u64) -> ValueView {
            ValueView::str("<host fn>")
        }
        fn callable(&self) -> bool {
            true
        }
        fn call(&self, args: Vec<Value>) -> Option<Box<dyn HostFrame>> {
            Some(Box::new(AskTwice { state: 0, label: args.into_iter().next()? }))
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    #[test]
    fn host_frames_perform_and_move_with_continuations() {
        let p = program_with(
            "(let ((parked (new-cell unit)))
               (with-handler ((Ask (x k) (resume k (* x 2))))
                 (let ((r (with-handler ((Ask (x k) (set parked k) \"parked\"))
                            (host (effect Ask 21)))))
                   (list r (resume (get parked) 50)))))",
            &["host"],
        );
        let host = Value::Host(std::rc::Rc::new(Box::new(Starter)));
        let r = kont_vm::Vm.run_raw(&p, vec![host], Limits::DEFAULT, RunOptions { trace: true }, false).result;
        let want = ValueView::List(vec![ValueView::str("parked"), ValueView::Int(51)]);
        assert_eq!(r.outcome, Outcome::Value { value: want });
        let trace: Vec<String> = r.trace.iter().map(|e| e.to_string()).collect();
        let want = [
            "install s1 handler \"Ask\"",
            "install s2 handler \"Ask\"",
            "perform d1 Ask 21",
            "handle d1 s2 k1",
            "return d1 s2 \"parked\"",
            "resume k1 50",
        ];
        assert_eq!(trace, want);
    }

    /// A host value that is not callable.
    struct Opaque;

    impl HostValue for Opaque {
        fn view(&self, _run: u64) -> ValueView {
            ValueView::Host { repr: "opaque".into() }
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    /// E-Call-NotFn: the payload is the value that was called, host values included.
    #[test]
    fn calling_an_uncallable_host_value_raises_not_a_function_with_the_value() {
        let p = program_with("(opaque 1)", &["opaque"]);
        let host = Value::Host(std::rc::Rc::new(Box::new(Opaque)));
        let r = kont_vm::Vm.run_raw(&p, vec![host], Limits::DEFAULT, RunOptions::default(), false).result;
        let Outcome::Error { error, .. } = r.outcome else { panic!("an error, got {:?}", r.outcome) };
        assert_eq!(error, ValueView::error("not-a-function", ValueView::Host { repr: "opaque".into() }));
    }
}
