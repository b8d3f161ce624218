//! The `python` engine: the corpus's translatable cases round-trip through
//! kont's Python package and agree with the reference, and a small campaign
//! finds no mismatch. Skipped (with a message) when the package is not built
//! (`production/python/test.sh` builds it into `.venv`), unless
//! `KONT_PYTHON_REQUIRED` is set (the pytest suite sets it).

use std::path::PathBuf;

use kont_difftest::campaign::case_at;
use kont_difftest::python::campaign::{corpus_round_trip, PyCounts};
use kont_difftest::python::compare::{check, PyVerdict};
use kont_difftest::python::translate::{translate, Untranslatable};
use kont_difftest::python::worker::{self, Worker};
use kont_spec::parse_program;

fn worker() -> Option<Worker> {
    if let Err(e) = worker::available() {
        if std::env::var_os("KONT_PYTHON_REQUIRED").is_some() {
            panic!("the Python engine is required: {e}");
        }
        eprintln!("SKIPPED: kont's Python package is not built ({e}); run production/python/test.sh");
        return None;
    }
    Some(Worker::start().expect("the Python worker starts"))
}

#[test]
fn corpus_round_trips_through_python() {
    let Some(mut w) = worker() else { return };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let rt = corpus_round_trip(&dir, &mut w).expect("the corpus loads");
    assert!(
        rt.failures.is_empty(),
        "corpus cases where Python disagrees with the reference:\n{}",
        rt.failures.join("\n")
    );
    // Every case but the prelude's (native handlers) and a known few translates.
    let c = &rt.counts;
    assert!(c.translated >= 150, "only {} of {} corpus cases translated: {:?}", c.translated, rt.cases, c.untranslated);
    assert!(c.values + c.errors >= 150, "{c:?}");
}

#[test]
fn a_campaign_through_python_finds_no_mismatch() {
    let Some(mut w) = worker() else { return };
    let mut counts = PyCounts::default();
    for i in 0..400 {
        let case = case_at(0x5eed_0011, i);
        let v = check(&case, &mut w);
        if let PyVerdict::Mismatch(m) = &v {
            panic!("case {i}: {}\n{}", m.first, m.translation);
        }
        counts.count(&v);
    }
    assert!(counts.translated > 150, "{counts:?}");
}

/// Handcrafted programs whose translations must agree with the reference.
const AGREE: &[&str] = &[
    // A transfer deferred past a finally that performs; the cleanup's own use of k is a one-shot error.
    "(with-handler ((B (y k2) (resume k2 (+ y 1)))) (with-handler ((A (x k) (try (transfer k 1) (finally (emit (perform B 2)) (emit (try (resume k 5) (catch e (error-tag e)))))))) (+ 10 (perform A 0))))",
    // The checks of a deferred transfer raise at the transfer, inside the try: catch sees them.
    "(with-handler ((B (y k2) (resume k2 y))) (with-handler ((A (x k) (do (resume k 1) (try (transfer k 2) (catch e (emit e) 7) (finally (perform B 3)))))) (perform A 0)))",
    "(with-handler ((B (y k2) (resume k2 y))) (with-handler ((A (x k) (try (transfer-throw k 5) (catch e (emit (error-tag e)) 7) (finally (perform B 3))))) (perform A 0)))",
    // A deferred pass, and a finally that raises replacing the escape.
    "(with-handler ((A (x k) (resume k (* x 3)))) (with-handler ((B (y k2) (resume k2 y))) (with-handler ((A (x k) (try (pass k) (finally (emit (perform B 4)))))) (perform A 5))))",
    "(with-handler ((B (y k2) (resume k2 y))) (with-handler ((A (x k) (try (transfer k 1) (finally (perform B 1) (raise (error \"cleanup\" 2)))))) (perform A 0)))",
    // Lists, cells, functions and effects in traces and output.
    "(let ((c (new-cell (list 1 \"a\")))) (with-handler ((A (x k) (resume k (list x c (fn (z) z))))) (do (emit (perform A (effect B (list 2)))) (get c))))",
];

#[test]
fn handcrafted_programs_agree() {
    let Some(mut w) = worker() else { return };
    for src in AGREE {
        let program = parse_program(src).unwrap().0;
        let case = kont_difftest::gen::Case {
            program,
            before: None,
            limits: kont_spec::Limits::DEFAULT,
            features: Default::default(),
            prelude: false,
        };
        match check(&case, &mut w) {
            PyVerdict::Agree { .. } => {}
            PyVerdict::Mismatch(m) => panic!("{src}\n{}\n{}", m.first, m.translation),
            other => panic!("{src}: {other:?}"),
        }
    }
}

#[test]
fn untranslatable_programs_say_why() {
    let p = |s: &str| parse_program(s).unwrap().0;
    // The transfer is in a function: the try cannot defer it.
    let escape =
        p("(with-handler ((A (x k) (try ((fn (kk) (transfer kk 1)) k) (finally (perform B 2))))) (perform A 0))");
    assert_eq!(translate(&escape).err(), Some(Untranslatable::FinallyYieldsOnEscape));
    let pass = p("(let ((f (fn (k) (pass k)))) (with-handler ((A (x k) (f k))) (perform A 1)))");
    assert_eq!(translate(&pass).err(), Some(Untranslatable::PassEffectUnknown));
    // In the body of a handler installed inside a clause, the pass may run
    // under that handler's own clause (it resumes the continuation holding
    // the pass): the enclosing clause's effect would be wrong (found by a
    // campaign, seed 20261203).
    let nested = p("(with-handler ((C (x k) (with-handler ((A (x k) (resume k 0))) \
                    (with-intercept :only (C) (fn (e) (effect A 0)) \
                    (do (perform C 0) (pass (new-cont (fn (z) z)))))))) (perform C 0))");
    assert_eq!(translate(&nested).err(), Some(Untranslatable::PassEffectUnknown));
    let native = p("(with-handler :native \"cache\" ((A (x k) 1)) 2)");
    assert_eq!(translate(&native).err(), Some(Untranslatable::Native));
    // A finally that only emits is fine around a transfer.
    let ok = p("(with-handler ((A (x k) (try (transfer k 1) (finally (emit 3))))) (perform A 0))");
    assert!(translate(&ok).is_ok());
}

#[test]
fn the_corpus_prelude_cases_round_trip_through_the_python_scheduler() {
    let Some(mut w) = worker() else { return };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/prelude");
    let rt = corpus_round_trip(&dir, &mut w).expect("the corpus loads");
    assert!(rt.failures.is_empty(), "prelude cases where Python disagrees:\n{}", rt.failures.join("\n"));
    // The scheduler's cases (spawn, wait, gather, race, cancel, promises,
    // semaphores, virtual time) translate; the cache's and run-await's do not.
    let c = &rt.counts;
    assert!(c.values + c.errors >= 60, "only {} prelude cases agree of {}: {:?}", c.values + c.errors, rt.cases, c);
}

#[test]
fn generated_concurrency_programs_agree_through_the_python_scheduler() {
    use kont_difftest::gen::{case_with, Features, Rng};
    let Some(mut w) = worker() else { return };
    let mut counts = PyCounts::default();
    let mut i = 0u64;
    while counts.values + counts.errors < 40 {
        assert!(i < 2_000, "too few concurrency programs translate: {counts:?}");
        let mut rng = Rng::new(0x5c4e_d000 + i);
        let mut f = Features::swarm(&mut rng);
        f.concurrency = true;
        let case = case_with(&mut rng, f);
        assert!(case.prelude);
        let v = check(&case, &mut w);
        if let PyVerdict::Mismatch(m) = &v {
            panic!("concurrency case {i}: {}\n{}", m.first, m.translation);
        }
        counts.count(&v);
        i += 1;
    }
}

#[test]
fn prelude_calls_translate_to_the_python_scheduler() {
    use kont_difftest::python::translate::translate_prelude;
    let p = |s: &str| parse_program(s).unwrap().0;
    let t = translate_prelude(&p(
        "(run-scheduled (fn (_) (let ((t (spawn-at (fn (_) (await 2 5)) 20)) (p (new-promise))) (complete p 1) (+ (nth (gather (list t p)) 0) (race (list p))))))",
    ))
    .expect("translates");
    for node in [
        "scheduled(task(",
        "Spawn(task(",
        "priority=arg(20)",
        "Delay(arg(2), arg(5))",
        "CreatePromise()",
        "CompletePromise(",
        "Gather(arg(",
        "Race(arg(",
    ] {
        assert!(t.contains(node), "{node} missing from:\n{t}");
    }
    let reason = |s: &str| translate_prelude(&p(s)).err();
    // run-await is the runtime's Python handler of the same clauses.
    let t = translate_prelude(&p("(run-await (fn (_) (+ (await 1 2) (now))))")).expect("translates");
    assert!(
        t.contains("run_await(") && t.contains("AwaitEff(KList((1, True, 2)))") && t.contains("NowEff(None)"),
        "{t}"
    );
    // The prelude's cache is the runtime's Python handler of the same clauses.
    assert!(translate_prelude(&p("(with-cache (fn (_) (do (cache-put 1 2) (cache-get 1))))")).is_ok());
    // await-fail under the scheduler is DelayFail.
    let t = translate_prelude(&p("(run-scheduled (fn (_) (await-fail 1 (error \"e\" 1))))")).expect("translates");
    assert!(t.contains("DelayFail(arg(1), arg("), "{t}");
    assert_eq!(reason("(run-scheduled (fn (_) (gather (cons 1 (list)))))"), Some(Untranslatable::PreludeShape));
    assert_eq!(reason("(run-scheduled (fn (_) (let ((f spawn)) 1)))"), Some(Untranslatable::PreludeShape));
    // An observer in a task that looks at the effect would see the prelude's as text…
    assert_eq!(
        reason("(run-scheduled (fn (_) (with-observe (fn (e) (emit (effect-label e))) (wait (spawn (fn (_) 1))))))"),
        Some(Untranslatable::PreludeEffectsToPython)
    );
    // … one that does not look is translated.
    assert_eq!(reason("(run-scheduled (fn (_) (with-observe (fn (e) unit) (wait (spawn (fn (_) 1))))))"), None);
    assert_eq!(reason("(try (now) (catch e 0))"), Some(Untranslatable::PreludeEffectsToPython));
}
