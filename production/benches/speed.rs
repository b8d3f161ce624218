//! Speed of the production VM (BENCHMARKS.md §1–4). Each benchmark runs a
//! whole compiled program; throughput is in effect operations (or programs),
//! so criterion's `thrpt` reads directly as ops/s.
//!
//! cargo bench -p kont-vm --bench speed

mod programs;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kont_spec::{Engine, Limits, Outcome, Program, RunOptions};
use kont_vm::{compile, Vm};

const LIMITS: Limits = Limits { fuel: u64::MAX, depth: 10_000_000, memory: u64::MAX };

fn run_vm(code: &kont_vm::Code) {
    let r = Vm.run_code(code, Vec::new(), LIMITS, RunOptions::default(), false);
    assert!(matches!(r.result.outcome, Outcome::Value { .. }), "{}", r.result.outcome);
}

/// §1: perform + resume with one handler, tail and non-tail; and the bare loop.
fn perform_resume(c: &mut Criterion) {
    const N: u64 = 100_000;
    let mut g = c.benchmark_group("perform_resume");
    g.throughput(Throughput::Elements(N));
    for (name, p) in [
        ("tail", programs::perform_resume(N, true)),
        ("non_tail", programs::perform_resume(N, false)),
        ("loop_only", programs::loop_only(N)),
    ] {
        let code = compile(&p);
        g.bench_function(name, |b| b.iter(|| run_vm(&code)));
    }
    g.finish();
}

/// §2: dispatch past D handlers for other labels.
fn dispatch_depth(c: &mut Criterion) {
    const N: u64 = 10_000;
    let mut g = c.benchmark_group("dispatch_depth");
    g.throughput(Throughput::Elements(N));
    for d in [1usize, 10, 100, 1000] {
        let p = programs::dispatch_depth(N, d);
        let code = compile(&p);
        g.bench_with_input(BenchmarkId::from_parameter(d), &code, |b, code| b.iter(|| run_vm(code)));
    }
    g.finish();
}

/// §3: perform + resume when the captured chain holds F frames. The `setup`
/// runs (no effects) measure the recursion alone, to subtract it.
fn resume_depth(c: &mut Criterion) {
    const N: u64 = 100_000;
    let mut g = c.benchmark_group("resume_depth");
    g.throughput(Throughput::Elements(N));
    for f in [10u64, 1_000, 100_000] {
        let p = programs::deep_resume(f, N);
        let code = compile(&p);
        g.bench_with_input(BenchmarkId::new("ops", f), &code, |b, code| b.iter(|| run_vm(code)));
        let p = programs::deep_resume(f, 0);
        let code = compile(&p);
        g.bench_with_input(BenchmarkId::new("setup", f), &code, |b, code| b.iter(|| run_vm(code)));
    }
    g.finish();
}

/// §4: the same programs on the reference and on the VM.
fn engines(c: &mut Criterion) {
    let corpus = corpus_programs();
    let mut g = c.benchmark_group("engines");
    g.sample_size(10);
    g.throughput(Throughput::Elements(corpus.len() as u64));
    let codes: Vec<_> = corpus.iter().map(compile).collect();
    g.bench_function("corpus/vm", |b| {
        b.iter(|| {
            for code in &codes {
                Vm.run_code(code, Vec::new(), Limits::DEFAULT, RunOptions::default(), false);
            }
        })
    });
    g.bench_function("corpus/reference", |b| {
        b.iter(|| {
            for p in &corpus {
                kont_reference::Reference.run(p, Limits::DEFAULT, RunOptions::default());
            }
        })
    });
    g.throughput(Throughput::Elements(1));
    for (name, p) in programs::larger() {
        let code = compile(&p);
        g.bench_function(format!("{name}/vm"), |b| b.iter(|| run_vm(&code)));
        g.bench_function(format!("{name}/reference"), |b| {
            b.iter(|| {
                let r = kont_reference::Reference.run(&p, LIMITS, RunOptions::default());
                assert!(matches!(r.outcome, Outcome::Value { .. }));
            })
        });
    }
    g.finish();
}

/// §7: spawn + one effect + gather per task on the prelude's scheduler, run
/// natively, and the native/kont-clauses ratio at a size the clauses manage
/// (their task table is a kont list, copied on every update: O(tasks) each).
fn scheduler(c: &mut Criterion) {
    let mut g = c.benchmark_group("scheduler");
    g.sample_size(10);
    for n in [10_000u64, 100_000] {
        let p = programs::spawn_gather(n);
        let code = compile(&p);
        g.throughput(Throughput::Elements(n));
        g.bench_with_input(BenchmarkId::new("native", n), &code, |b, code| b.iter(|| run_vm(code)));
    }
    let n = 1_000;
    let p = programs::spawn_gather(n);
    g.throughput(Throughput::Elements(n));
    for (name, natives) in [("native", true), ("clauses", false)] {
        let code = kont_vm::compile_with(&p, natives);
        g.bench_with_input(BenchmarkId::new(name, n), &code, |b, code| b.iter(|| run_vm(code)));
    }
    g.finish();
}

/// Every corpus program that runs in one run (cases with `before` excluded).
fn corpus_programs() -> Vec<Program> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut out = Vec::new();
    for f in kont_spec::script::collect_files(&root).unwrap() {
        let s = kont_spec::script::Script::load(&f).unwrap();
        for c in s.cases {
            // The 1,000,000-iteration loop cases would dominate; the larger programs cover loops.
            // Cases with their own limits are left out: run under the defaults, the
            // memory-budget cases would build lists 100 times larger than they test.
            let own_limits = c.fuel.is_some() || c.depth.is_some() || c.memory.is_some();
            if c.before.is_none() && !own_limits && c.program.size() < 2_000 {
                out.push(c.program);
            }
        }
    }
    out
}

criterion_group!(benches, perform_resume, dispatch_depth, resume_depth, engines, scheduler);
criterion_main!(benches);
