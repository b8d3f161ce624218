//! One reviewed insta snapshot per spec example (`spec/examples/*.kont`):
//! the program, its output log, its trace projection (sites as line:col) and
//! its outcome, in the readable form. Both engines must produce exactly this.
//! Review changes with `cargo insta review`.

#![forbid(unsafe_code)]

use std::fmt::Write;

use kont_spec::syntax::parse_program;
use kont_spec::trace::render_trace;
use kont_spec::{check_program, Engine, Limits, RunOptions};

#[test]
fn spec_examples() {
    insta::glob!("../../spec/examples", "*.kont", |path| {
        let src = std::fs::read_to_string(path).unwrap();
        let (p, map) = parse_program(&src).unwrap_or_else(|e| panic!("{}:{e}", path.display()));
        check_program(&p).unwrap_or_else(|e| panic!("{}:{}", path.display(), e.render(Some(&map))));
        let r = kont_reference::Reference.run(&p, Limits::DEFAULT, RunOptions { trace: true });
        let vm = kont_vm::Vm.run(&p, Limits::DEFAULT, RunOptions { trace: true });
        assert_eq!(r, vm, "{}: the engines disagree", path.display());
        let mut out = String::new();
        out.push_str(&src);
        out.push_str("\n-- output\n");
        for v in &r.output {
            writeln!(out, "{v}").unwrap();
        }
        out.push_str("-- trace\n");
        out.push_str(&render_trace(&r.trace, Some(&map)));
        writeln!(out, "-- outcome\n{}", r.outcome.render(Some(&map))).unwrap();
        writeln!(out, "-- fuel\n{}", r.steps).unwrap();
        insta::assert_snapshot!(out);
    });
}
