//! A persistent Python interpreter running translated programs: one JSON
//! request per line on its stdin, one JSON answer per line on its stdout.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::translate::RUNTIME;

/// The worker's Python source: the runtime, then the request loop.
pub const WORKER: &str = include_str!("worker.py");

/// What a Python run gave (see `run_main` in runtime.py).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct PyRun {
    /// `value`, `error` or `exhausted`.
    pub outcome: String,
    /// The value or error in kont's observable form; the resource when exhausted.
    pub value: String,
    pub output: Vec<String>,
    /// `mark tag v` lines, in order (marks have no Python API: kept on the side).
    pub marks: Vec<String>,
    /// The VM's trace events, as rendered by `kont.run_traced`.
    pub events: Vec<String>,
    pub steps: u64,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(flatten)]
    run: Option<PyRun>,
    #[serde(default)]
    no_previous: bool,
    crash: Option<String>,
}

/// How a request ended.
#[derive(Clone, Debug)]
pub enum Reply {
    Ran(PyRun),
    /// The `before` program did not return a value.
    NoPrevious,
    /// The worker raised outside the program (a translation that does not compile…) or died.
    Crash(String),
}

/// The Python interpreter to use: `$KONT_PYTHON`, else the workspace's `.venv`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("KONT_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python")
}

/// Whether `python()` can `import kont` (the package is built); the error otherwise.
pub fn available() -> Result<(), String> {
    let py = python();
    match Command::new(&py).args(["-c", "import kont"]).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!("{}: import kont failed: {}", py.display(), String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Err(format!("{}: {e}", py.display())),
    }
}

/// How a crash report starts when the worker ran out of time / died.
pub const TIMED_OUT: &str = "timeout";
pub const DIED: &str = "the Python worker died";

/// How long one program may run before its worker is killed and restarted.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// How to start a worker: the interpreter, the source it runs, the time one program may take.
#[derive(Clone, Debug)]
pub struct WorkerSpec {
    pub python: PathBuf,
    pub source: String,
    pub timeout: Duration,
    /// Drop the worker's stderr (a crashing VM's messages are results, not the tool's output).
    pub quiet: bool,
}

impl WorkerSpec {
    /// The `python` engine's worker: kont's Python package.
    pub fn kont() -> WorkerSpec {
        WorkerSpec { python: python(), source: format!("{RUNTIME}\n{WORKER}"), timeout: TIMEOUT, quiet: false }
    }
}

pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    /// Lines of the worker's stdout, read by a thread (so a hung run times out).
    lines: Receiver<String>,
    spec: WorkerSpec,
}

#[derive(Serialize)]
struct Request<'a> {
    code: &'a str,
    before: Option<&'a str>,
    fuel: u64,
}

impl Worker {
    pub fn start() -> std::io::Result<Worker> {
        Worker::start_with(WorkerSpec::kont())
    }

    /// A worker as `spec` says.
    pub fn start_with(spec: WorkerSpec) -> std::io::Result<Worker> {
        let mut child = Command::new(&spec.python)
            .args(["-u", "-c", &spec.source])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if spec.quiet { Stdio::null() } else { Stdio::inherit() })
            .spawn()?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Worker { child, stdin, lines, spec })
    }

    /// Run translation `code` (after `before`, whose value becomes `prev`).
    pub fn run(&mut self, code: &str, before: Option<&str>, fuel: u64) -> Reply {
        let req = serde_json::to_string(&Request { code, before, fuel }).expect("serializes");
        if let Err(e) = writeln!(self.stdin, "{req}").and_then(|_| self.stdin.flush()) {
            return self.died(format!("writing to the worker: {e}"));
        }
        let line = match self.lines.recv_timeout(self.spec.timeout) {
            Ok(l) => l,
            Err(RecvTimeoutError::Timeout) => {
                return self.died(format!("{TIMED_OUT}: no answer in {}s", self.spec.timeout.as_secs_f64()))
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                return self.died(format!("{DIED}: {status}"));
            }
        };
        match serde_json::from_str::<Answer>(&line) {
            Ok(Answer { crash: Some(c), .. }) => Reply::Crash(c),
            Ok(Answer { no_previous: true, .. }) => Reply::NoPrevious,
            Ok(Answer { run: Some(r), .. }) => Reply::Ran(r),
            _ => Reply::Crash(format!("unreadable answer: {line}")),
        }
    }

    /// The worker is gone: start a new one for the next request.
    fn died(&mut self, why: String) -> Reply {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(w) = Worker::start_with(self.spec.clone()) {
            *self = w;
        }
        Reply::Crash(why)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
