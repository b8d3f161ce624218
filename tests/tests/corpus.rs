//! Every `.kont` case of `corpus/` passes on every engine — the reference,
//! the VM with native handlers, and the VM running the prelude's clauses —
//! and they agree on outcome, output, trace and (where both count it
//! exactly) fuel.

#![forbid(unsafe_code)]

use kont_difftest::corpus;
use kont_tests::root;

#[test]
fn corpus_passes_on_both_engines_and_they_agree() {
    let scripts = corpus::load(&[root().join("corpus")]).unwrap_or_else(|e| panic!("{e}"));
    let engines: Vec<&dyn kont_spec::Engine> = vec![&kont_reference::Reference, &kont_vm::Vm, &kont_vm::VmPrelude];
    let mut failures = Vec::new();
    let mut total = 0;
    for s in &scripts {
        for rep in corpus::run_script(s, &engines) {
            total += 1;
            if !rep.passed() {
                failures.push(format!(
                    "{}:{} {}\n  {}",
                    rep.file.display(),
                    rep.line,
                    rep.name,
                    rep.failures.join("\n  ")
                ));
            }
        }
    }
    assert!(total >= 80, "the corpus should hold at least 80 cases, found {total}");
    assert!(failures.is_empty(), "{} of {total} cases failed:\n{}", failures.len(), failures.join("\n"));
}
