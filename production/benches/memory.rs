//! Memory of the production VM (BENCHMARKS.md §5–6): each case runs in a
//! fresh child process, which reports its peak resident set (VmHWM) and the
//! run's wall time.
//!
//! cargo bench -p kont-vm --bench memory

mod programs;

use std::process::Command;
use std::time::Instant;

use kont_spec::{Limits, Outcome, Program, RunOptions};
use kont_vm::Vm;

const HELD: u64 = 100_000;
const PARKED: u64 = 100_000;
const DEEP: u64 = 1_000_000;

fn case(name: &str) -> Program {
    match name {
        "held-0" => programs::held_continuations(0),
        "held" => programs::held_continuations(HELD),
        "handlers" => programs::nested_handlers(DEEP as usize),
        "calls" => programs::nested_calls(DEEP),
        "parked-0" => programs::parked_tasks(0),
        "parked" => programs::parked_tasks(PARKED),
        _ => panic!("unknown case {name}"),
    }
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One case's numbers, all in KiB and seconds.
struct Sample {
    /// Resident set once the program is parsed and compiled.
    before_run: u64,
    /// Peak resident set during the run alone.
    run_peak: u64,
    /// Peak resident set of the whole process (parsing included).
    total_peak: u64,
    run_secs: f64,
    total_secs: f64,
    outcome: String,
}

/// In the child: build, compile and run one case; print its sample.
fn child(name: &str) {
    let t0 = Instant::now();
    let p = case(name);
    let code = kont_vm::compile(&p);
    let total_peak_so_far = status_kib("VmHWM:");
    // Reset the peak to the current resident set, so VmHWM after the run is the run's peak.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before_run = status_kib("VmRSS:");
    let t = Instant::now();
    let r = Vm.run_code(
        &code,
        Vec::new(),
        Limits { fuel: u64::MAX, depth: 10_000_000, memory: u64::MAX },
        RunOptions::default(),
        false,
    );
    let run_secs = t.elapsed().as_secs_f64();
    let run_peak = status_kib("VmHWM:");
    let outcome = r.result.outcome.to_string();
    assert!(matches!(r.result.outcome, Outcome::Value { .. }), "{name}: {outcome}");
    drop((r, code));
    drop(p);
    let total_secs = t0.elapsed().as_secs_f64();
    println!("{before_run} {run_peak} {} {run_secs} {total_secs} {outcome}", total_peak_so_far.max(run_peak));
}

fn measure(name: &str) -> Sample {
    let out = Command::new(std::env::current_exe().unwrap()).args(["--case", name]).output().unwrap();
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let f: Vec<&str> = text.trim().splitn(6, ' ').collect();
    Sample {
        before_run: f[0].parse().unwrap(),
        run_peak: f[1].parse().unwrap(),
        total_peak: f[2].parse().unwrap(),
        run_secs: f[3].parse().unwrap(),
        total_secs: f[4].parse().unwrap(),
        outcome: f[5].to_string(),
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--case") {
        return child(&args[i + 1]);
    }
    const REPS: usize = 5;
    // Medians over REPS fresh processes of each number.
    let rep = |name: &str| {
        let runs: Vec<Sample> = (0..REPS).map(|_| measure(name)).collect();
        let m = |f: &dyn Fn(&Sample) -> f64| median(runs.iter().map(f).collect());
        (
            m(&|s| s.run_peak as f64 - s.before_run as f64),
            m(&|s| s.total_peak as f64),
            m(&|s| s.run_secs),
            m(&|s| s.total_secs),
            runs[0].outcome.clone(),
        )
    };
    println!("medians of {REPS} child processes each");
    let (base, ..) = rep("held-0");
    let (held, ..) = rep("held");
    let per = (held - base) * 1024.0 / HELD as f64;
    println!(
        "| §5 | {HELD} suspended continuations held at once | {per:.0} B per continuation \
         (run peak {held:.0} KiB over its start, vs {base:.0} KiB holding none) |"
    );
    let (base, ..) = rep("parked-0");
    let (parked, ..) = rep("parked");
    let per = (parked - base) * 1024.0 / PARKED as f64;
    println!(
        "| §8 | {PARKED} tasks parked at once on the native scheduler | {per:.0} B per parked task \
         (run peak {parked:.0} KiB over its start, vs {base:.0} KiB with none) |"
    );
    for (name, what) in [("handlers", "1,000,000 nested handlers"), ("calls", "1,000,000 nested calls")] {
        let (run_kib, total_kib, run_secs, total_secs, outcome) = rep(name);
        println!(
            "| §6 | {what} | completes ({outcome}); run {:.0} ms using {:.0} MiB ({:.0} B per level); \
             whole process from text {:.0} ms, peak {:.0} MiB |",
            run_secs * 1000.0,
            run_kib / 1024.0,
            run_kib * 1024.0 / DEEP as f64,
            total_secs * 1000.0,
            total_kib / 1024.0
        );
    }
}
