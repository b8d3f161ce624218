//! `kont`: run kont programs, check `.kont` scripts, run difftest campaigns.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

mod difftest;

// Both engines and the generator allocate a lot of small objects; mimalloc
// makes campaigns noticeably faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use kont_difftest::{corpus, engines};
use kont_spec::{check_program, parse_program, Engine, Limits, Outcome, RunOptions};

#[derive(Parser)]
#[command(
    name = "kont",
    version,
    about = "One-shot deep effect handlers: a reference interpreter, a production VM, and proof they agree"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one program (a file holding one expression) and print its outcome.
    Run {
        file: PathBuf,
        /// Engine: vm (native scheduler/await/cache), vm-prelude (their kont clauses) or reference.
        #[arg(long, default_value = "vm")]
        engine: String,
        /// Print the trace projection.
        #[arg(long)]
        trace: bool,
        /// After an error outcome, print its traceback (SPEC.md §13.5; records the trace).
        #[arg(long)]
        traceback: bool,
        /// Print the whole result as one JSON object.
        #[arg(long)]
        json: bool,
        /// Step budget (expressions evaluated).
        #[arg(long, default_value_t = Limits::DEFAULT.fuel)]
        fuel: u64,
        /// Nesting limit (engine-specific unit).
        #[arg(long, default_value_t = Limits::DEFAULT.depth)]
        depth: u32,
        /// Memory budget (SPEC.md §9.2: list elements and string bytes built, values copied out).
        #[arg(long, default_value_t = Limits::DEFAULT.memory)]
        memory: u64,
        /// Run the program with a prelude (`std`: scheduler, await, cache).
        #[arg(long)]
        prelude: Option<String>,
    },
    /// Differential testing: the corpus on both engines, then a campaign of
    /// random programs compared on both engines.
    Difftest {
        /// Number of random programs (default 20,000).
        #[arg(long)]
        cases: Option<u64>,
        /// Campaign seed (default: from the clock; printed).
        #[arg(long)]
        seed: Option<u64>,
        /// Run only shard I of N (`I/N`, 0 <= I < N): the cases whose index is I modulo N.
        /// Needs `--seed`; N machines running 0/N .. N-1/N split the campaign without overlap,
        /// and `kont difftest-sum` adds up their `--json` summaries.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Save a mismatch, shrunk, as corpus/regressions/<hash>.kont.
        #[arg(long)]
        save: bool,
        /// Do not stop at the first mismatch: run every case and count the
        /// mismatches by kind (the first one is still shrunk and reported).
        #[arg(long)]
        keep_going: bool,
        /// Print the summary as one JSON object (the last line).
        #[arg(long)]
        json: bool,
        /// After the campaign, list the N programs the oracle took longest on
        /// (with their share of its time and how to rerun each alone) and
        /// print the slowest one.
        #[arg(long, value_name = "N", default_value_t = 0)]
        slowest: usize,
        /// Skip the corpus check.
        #[arg(long)]
        no_corpus: bool,
        /// Corpus directory checked first.
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
        /// `vm` (the VM and vm-prelude against the reference), `python`
        /// (programs translated to Python on kont's Python package, SPEC.md §14)
        /// or `doeff` (the same Python programs on doeff 0.8.0).
        #[arg(long, default_value = "vm")]
        engine: String,
        /// `--engine doeff`: the virtual environment with doeff 0.8.0 (created
        /// with `pip install doeff==0.8.0` when missing).
        #[arg(long, default_value = "target/doeff-venv")]
        doeff_venv: PathBuf,
        /// `--engine doeff`: seconds one program may run before it counts as a hang.
        #[arg(long, default_value_t = 10.0)]
        doeff_timeout: f64,
    },
    /// Add up the `--json` summaries of shards of one campaign (files holding
    /// `kont difftest --shard I/N --json` output); prints the sum as JSON.
    DifftestSum {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run every assertion of the given `.kont` files or directories.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Engine: vm, vm-prelude, reference, or both (all three, which must also agree).
        #[arg(long, default_value = "vm")]
        engine: String,
        /// Memory budget of cases whose `(limits ...)` do not set `:memory`.
        #[arg(long, default_value_t = Limits::DEFAULT.memory)]
        memory: u64,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run { file, engine, trace, traceback, json, fuel, depth, memory, prelude } => {
            run(file, &engine, trace, traceback, json, Limits { fuel, depth, memory }, prelude.as_deref())
        }
        Command::Check { paths, engine, memory } => check(&paths, &engine, memory),
        Command::Difftest {
            cases,
            seed,
            shard,
            jobs,
            save,
            keep_going,
            json,
            slowest,
            no_corpus,
            corpus,
            engine,
            doeff_venv,
            doeff_timeout,
        } => {
            let args = difftest::Args { cases, seed, shard, jobs, save, keep_going, json, slowest, no_corpus, corpus };
            match engine.as_str() {
                "vm" => difftest::run(args),
                "python" => difftest::run_python(args),
                "doeff" => difftest::run_doeff(args, &doeff_venv, doeff_timeout),
                other => {
                    eprintln!("kont: unknown difftest engine `{other}` (choose from: vm, python, doeff)");
                    ExitCode::from(2)
                }
            }
        }
        Command::DifftestSum { files } => difftest::sum(&files),
    }
}

fn pick(name: &str) -> Result<Vec<&'static dyn Engine>, String> {
    engines::by_name(name)
        .ok_or_else(|| format!("unknown engine `{name}` (choose from: {})", engines::NAMES.join(", ")))
}

fn run(
    file: PathBuf,
    engine: &str,
    trace: bool,
    traceback: bool,
    json: bool,
    limits: Limits,
    prelude: Option<&str>,
) -> ExitCode {
    let engine = match pick(engine) {
        Ok(e) if e.len() == 1 => e[0],
        Ok(_) => {
            eprintln!("kont: `run` takes one engine (vm or reference)");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("kont: {e}");
            return ExitCode::from(2);
        }
    };
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("kont: {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let src = match kont_spec::syntax::decode(&bytes) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}:{e}", file.display());
            return ExitCode::from(2);
        }
    };
    let (program, map) = match parse_program(src) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}:{e}", file.display());
            return ExitCode::from(2);
        }
    };
    let (program, map) = match prelude {
        None => (program, map),
        Some(name) => match kont_spec::prelude::Prelude::load(name) {
            Ok(p) => p.wrap(program, &map),
            Err(e) => {
                eprintln!("prelude {name}:{e}");
                return ExitCode::from(2);
            }
        },
    };
    if let Err(e) = check_program(&program) {
        eprintln!("{}:{}", file.display(), e.render(Some(&map)));
        return ExitCode::from(2);
    }
    let r = engine.run(&program, limits, RunOptions { trace: trace || traceback || json });
    if json {
        println!("{}", r.to_json());
    } else {
        for v in &r.output {
            println!("emit {v}");
        }
        if trace {
            print!("{}", kont_spec::trace::render_trace(&r.trace, Some(&map)));
        }
        println!("{}", r.outcome.render(Some(&map)));
        if traceback {
            if let Some(tb) = kont_spec::traceback::render(&r.trace, &r.outcome, Some(&map)) {
                print!("{tb}");
            }
        }
    }
    match r.outcome {
        Outcome::Value { .. } => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}

fn check(paths: &[PathBuf], engine: &str, memory: u64) -> ExitCode {
    let engines = match pick(engine) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("kont: {e}");
            return ExitCode::from(2);
        }
    };
    let scripts = match corpus::load(paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let (mut passed, mut failed) = (0, 0);
    for s in &scripts {
        for rep in corpus::run_script_with(s, &engines, corpus::CASE_LIMITS.with_memory(memory)) {
            if rep.passed() {
                passed += 1;
            } else {
                failed += 1;
                println!("FAIL {}:{} {}", rep.file.display(), rep.line, rep.name);
                for f in &rep.failures {
                    println!("  {f}");
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
