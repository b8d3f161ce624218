//! Tracebacks (SPEC.md §13.5): one reviewed insta snapshot per program in
//! `tests/tracebacks/*.kont`, each named after the doeff trace scenario it
//! ports where one fits (`t57-…` is T57 of doeff-trace-semantics.md). A
//! program whose first line is `;; prelude: std` runs with the standard
//! prelude. The reference, the VM and the VM running the prelude's clauses
//! must produce the same trace and outcome; the snapshot is the program and
//! the traceback rendered from the reference's trace.
//! Review changes with `cargo insta review`.

#![forbid(unsafe_code)]

use kont_spec::prelude::Prelude;
use kont_spec::syntax::parse_program;
use kont_spec::traceback;
use kont_spec::{check_program, Engine, Limits, RunOptions};

#[test]
fn tracebacks() {
    insta::glob!("../tracebacks", "*.kont", |path| {
        let src = std::fs::read_to_string(path).unwrap();
        let (p, map) = parse_program(&src).unwrap_or_else(|e| panic!("{}:{e}", path.display()));
        let (p, map) = match src.starts_with(";; prelude: std") {
            true => Prelude::load("std").expect("the std prelude parses").wrap(p, &map),
            false => (p, map),
        };
        check_program(&p).unwrap_or_else(|e| panic!("{}:{}", path.display(), e.render(Some(&map))));
        let opts = RunOptions { trace: true };
        let r = kont_reference::Reference.run(&p, Limits::DEFAULT, opts);
        // Fuel is not compared: the VM's native handlers spend none (SPEC §13.6).
        for engine in [&kont_vm::Vm as &dyn Engine, &kont_vm::VmPrelude] {
            let o = engine.run(&p, Limits::DEFAULT, opts);
            assert_eq!(o.outcome, r.outcome, "{}: {} disagrees on the outcome", path.display(), engine.name());
            assert_eq!(o.trace, r.trace, "{}: {} disagrees on the trace", path.display(), engine.name());
        }
        let tb = traceback::render(&r.trace, &r.outcome, Some(&map))
            .unwrap_or_else(|| panic!("{}: ended with {}, not an error", path.display(), r.outcome));
        insta::assert_snapshot!(format!("{src}\n-- traceback\n{tb}"));
    });
}
