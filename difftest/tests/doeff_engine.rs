//! Smoke test of the `doeff` engine: a few programs on doeff 0.8.0, each
//! classified. The virtual environment is `$KONT_DOEFF_VENV`, else
//! `target/doeff-venv` (created with `pip install doeff==0.8.0`). Skipped,
//! with a message, when doeff cannot be installed (no network, no venv).

use std::path::PathBuf;
use std::time::Duration;

use kont_difftest::gen::Case;
use kont_difftest::python::doeff::{check, ensure_venv, worker, DoeffSkip, DoeffVerdict, Expected, Unexpected};
use kont_spec::{parse_program, Limits};

fn case(src: &str, before: Option<&str>) -> Case {
    let p = |s: &str| parse_program(s).unwrap().0;
    let mut program = p(src);
    if before.is_some() {
        program.inputs = vec!["prev".into()];
    }
    Case { program, before: before.map(p), limits: Limits::DEFAULT, features: Default::default(), prelude: false }
}

#[test]
fn doeff_engine_classifies_a_few_programs() {
    let dir = std::env::var_os("KONT_DOEFF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/doeff-venv"));
    let python = match ensure_venv(&dir) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("SKIPPED: doeff 0.8.0 cannot be installed into {} ({e})", dir.display());
            return;
        }
    };
    let mut w = worker(&python, Duration::from_secs(20)).expect("the doeff worker starts");
    let verdict = |w: &mut _, src: &str, before: Option<&str>| check(&case(src, before), w);
    // Deep handlers, a non-tail resume, output: the same on doeff.
    let v = verdict(&mut w, "(with-handler ((A (x k) (* 10 (resume k (+ x 1))))) (do (emit 1) (perform A 1)))", None);
    assert!(matches!(v, DoeffVerdict::Agree), "{v:?}");
    // A second resume: kont's catchable one-shot error; doeff aborts the run (§11.1).
    let v = verdict(
        &mut w,
        "(with-handler ((A (x k) (do (resume k 1) (try (resume k 2) (catch e (error-tag e)))))) (perform A 0))",
        None,
    );
    assert!(matches!(v, DoeffVerdict::Expected(Expected::OneShot)), "{v:?}");
    // The worker survived (or was restarted): the next program runs.
    let v = verdict(&mut w, "(+ 1 2)", None);
    assert!(matches!(v, DoeffVerdict::Agree), "{v:?}");
    // Resuming a non-continuation: kont's `not-a-continuation`, doeff's TypeError (DOEFF-FINDINGS.md).
    let v = verdict(&mut w, "(resume 5 0)", None);
    assert!(matches!(v, DoeffVerdict::Unexpected(Unexpected::WrongError, _)), "{v:?}");
    // What doeff does not have is not run, and says why.
    let v = verdict(&mut w, "(new-cont (fn (x) x))", None);
    assert!(matches!(v, DoeffVerdict::Skip(DoeffSkip::NewCont)), "{v:?}");
}
