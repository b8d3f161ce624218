//! A difftest campaign: generate cases from a seed, check each on both
//! engines, count what happened, and on the first mismatch shrink it and
//! report it (optionally saving it as a regression case).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kont_spec::syntax::print_program;
use kont_spec::{Engine, Outcome, Program, Rule, RunOptions};
use serde::{Deserialize, Serialize};

use crate::gen::{self, Case, Rng};
use crate::oracle::{check, Class, Coverage, Discard, Mismatch, Verdict};
use crate::shrink::shrink;

/// The seed of case `i` of a campaign seeded with `seed`.
pub fn case_seed(seed: u64, i: u64) -> u64 {
    seed ^ i.wrapping_mul(0xD6E8_FEB8_6659_FD93)
}

/// Case `i` of the campaign seeded with `seed`.
pub fn case_at(seed: u64, i: u64) -> Case {
    gen::case(&mut Rng::new(case_seed(seed, i)))
}

/// One of `count` machines' part of a campaign: the cases whose index `i`
/// has `i % count == index`. Case `i`'s program depends only on the seed and
/// `i` ([`case_at`]), so the shards `0/N` … `N-1/N` of one seed and case count
/// run exactly the campaign's cases, each once, and their counts add up to
/// the campaign's ([`sum`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole campaign.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// `I/N`, with `I < N`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: expected I/N with 0 <= I < N (for example 0/4)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (i.trim().parse::<u64>().map_err(|_| bad())?, n.trim().parse::<u64>().map_err(|_| bad())?);
        if index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The `j`-th case index of this shard.
    pub fn case_index(self, j: u64) -> Option<u64> {
        j.checked_mul(self.count)?.checked_add(self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[derive(Clone)]
pub struct Config<'a> {
    /// The campaign's size: case indices `0..cases` (of which this shard runs its part).
    pub cases: u64,
    pub seed: u64,
    pub shard: Shard,
    pub jobs: usize,
    /// Where to save a found mismatch as a regression case.
    pub save: Option<PathBuf>,
    /// Shrink a found mismatch before reporting it.
    pub shrink: bool,
    /// Go on after a mismatch and count every one by kind (`Counts::mismatches`);
    /// the first (lowest index) is still the one reported and shrunk.
    pub keep_going: bool,
    /// Called every so often with the number of cases done.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// Keep the `slowest` cases to check (by wall clock) in the report.
    pub slowest: usize,
}

/// One case of the campaign and how long the oracle took on it.
#[derive(Clone, Debug)]
pub struct Slow {
    pub index: u64,
    pub time: Duration,
    pub concurrent: bool,
    /// How the engines' runs ended: `value`, `error`, `fuel`, `depth`,
    /// `discarded` or `mismatch`.
    pub class: &'static str,
}

/// Where the campaign's time went: the oracle's time summed over the cases
/// (all threads), and the slowest cases, slowest first.
#[derive(Clone, Debug, Default)]
pub struct Timing {
    pub checking: Duration,
    pub slowest: Vec<Slow>,
}

impl Timing {
    /// Count `slow` in, keeping the `keep` slowest.
    fn add(&mut self, slow: Slow, keep: usize) {
        self.checking += slow.time;
        self.rank(slow, keep);
    }

    /// Another thread's timing: its time adds up, its slow cases compete.
    fn merge(&mut self, other: Timing, keep: usize) {
        self.checking += other.checking;
        for slow in other.slowest {
            self.rank(slow, keep);
        }
    }

    /// Keep `slow` if it is among the `keep` slowest (ties: the earlier first).
    fn rank(&mut self, slow: Slow, keep: usize) {
        let at = self.slowest.partition_point(|s| s.time >= slow.time);
        if at < keep {
            self.slowest.insert(at, slow);
            self.slowest.truncate(keep);
        }
    }

    /// The slowest cases' share of the time spent checking.
    pub fn slowest_share(&self) -> f64 {
        let slow: Duration = self.slowest.iter().map(|s| s.time).sum();
        slow.as_secs_f64() / self.checking.as_secs_f64().max(1e-9)
    }
}

/// A mismatch, shrunk.
#[derive(Clone, Debug)]
pub struct Found {
    pub index: u64,
    pub seed: u64,
    pub original: Program,
    pub shrunk: Program,
    pub before: Option<Program>,
    pub mismatch: Mismatch,
    /// Where it was saved, when saving was asked for.
    pub saved: Option<Result<PathBuf, SaveError>>,
}

/// Why a found mismatch could not be saved as a regression case.
#[derive(Clone, Debug)]
pub enum SaveError {
    /// The reference's first run (`before`) returned no value to hand over.
    NoFirstValue,
    /// Creating the directory or writing the file failed.
    Io { path: PathBuf, error: Arc<std::io::Error> },
}

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaveError::NoFirstValue => write!(f, "the reference's first run returned no value"),
            SaveError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for SaveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SaveError::NoFirstValue => None,
            SaveError::Io { error, .. } => Some(&**error),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Counts {
    pub run: u64,
    /// Programs run with the standard prelude (concurrency, await, cache).
    pub concurrent: u64,
    pub values: u64,
    pub errors: u64,
    pub fuel: u64,
    /// Runs that hit a depth limit on one side or both, agreeing up to it.
    pub depth: u64,
    pub discard_no_previous: u64,
    /// Mismatches by `engine: kind` (all of them with `keep_going`, else the first).
    pub mismatches: std::collections::BTreeMap<String, u64>,
}

impl Counts {
    pub fn mismatch_total(&self) -> u64 {
        self.mismatches.values().sum()
    }
}

#[derive(Clone, Debug)]
pub struct Report {
    pub seed: u64,
    /// The campaign's size and the part of it run.
    pub campaign_cases: u64,
    pub shard: Shard,
    pub counts: Counts,
    pub elapsed: Duration,
    pub coverage: Coverage,
    pub found: Option<Found>,
    pub timing: Timing,
}

impl Report {
    pub fn programs_per_second(&self) -> f64 {
        self.counts.run as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// For each engine, the rules it never fired (each engine on its own).
    pub fn unhit(&self) -> Vec<(&'static str, Vec<Rule>)> {
        self.coverage.engines().iter().map(|(name, c)| (*name, c.unhit())).collect()
    }

    /// The rules `engine` never fired.
    pub fn unhit_by(&self, engine: &str) -> Vec<Rule> {
        self.unhit().into_iter().find(|(n, _)| *n == engine).map(|(_, u)| u).unwrap_or_else(|| Rule::ALL.to_vec())
    }

    /// Rules fired fewer than `n` times by the reference.
    pub fn rare(&self, n: u64) -> Vec<(Rule, u64)> {
        Rule::ALL.iter().map(|r| (*r, self.coverage.reference.get(*r))).filter(|(_, c)| *c < n).collect()
    }
}

/// Run a campaign on `reference` and `vm`.
pub fn run(config: &Config<'_>, reference: &dyn Engine, vm: &dyn Engine) -> Report {
    let start = Instant::now();
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let first_bad: Mutex<Option<(u64, Case, Mismatch)>> = Mutex::new(None);
    let totals = Mutex::new((Counts::default(), Coverage::default(), Timing::default()));
    std::thread::scope(|scope| {
        for _ in 0..config.jobs.max(1) {
            scope.spawn(|| {
                let mut counts = Counts::default();
                let mut cov = Coverage::default();
                let mut timing = Timing::default();
                while !stop.load(Ordering::Relaxed) {
                    let j = next.fetch_add(1, Ordering::Relaxed);
                    let Some(i) = config.shard.case_index(j).filter(|&i| i < config.cases) else { break };
                    let case = case_at(config.seed, i);
                    counts.run += 1;
                    counts.concurrent += case.prelude as u64;
                    let checking = Instant::now();
                    let verdict = check(&case, reference, vm, &mut cov);
                    let (time, concurrent) = (checking.elapsed(), case.prelude);
                    let class = match verdict {
                        Verdict::Agree(Class::Value) => {
                            counts.values += 1;
                            "value"
                        }
                        Verdict::Agree(Class::Error) => {
                            counts.errors += 1;
                            "error"
                        }
                        Verdict::Agree(Class::Fuel) => {
                            counts.fuel += 1;
                            "fuel"
                        }
                        Verdict::Agree(Class::Depth) => {
                            counts.depth += 1;
                            "depth"
                        }
                        Verdict::Discard(Discard::NoPrevious) => {
                            counts.discard_no_previous += 1;
                            "discarded"
                        }
                        Verdict::Mismatch(m) => {
                            *counts.mismatches.entry(m.key()).or_default() += 1;
                            let mut bad = first_bad.lock().unwrap();
                            if bad.as_ref().is_none_or(|(j, _, _)| i < *j) {
                                *bad = Some((i, case, *m));
                            }
                            if !config.keep_going {
                                stop.store(true, Ordering::Relaxed);
                            }
                            "mismatch"
                        }
                    };
                    timing.add(Slow { index: i, time, concurrent, class }, config.slowest);
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if let Some(p) = config.progress {
                        if d.is_multiple_of(256) {
                            p(d);
                        }
                    }
                }
                let mut t = totals.lock().unwrap();
                add_counts(&mut t.0, &counts);
                t.1.add(&cov);
                t.2.merge(timing, config.slowest);
            });
        }
    });
    let elapsed = start.elapsed();
    let (counts, coverage, timing) = totals.into_inner().unwrap();
    let found = first_bad.into_inner().unwrap().map(|(index, case, mismatch)| {
        let shrunk = if config.shrink { shrink_case(&case, reference, vm) } else { case.program.clone() };
        let mismatch =
            match check(&Case { program: shrunk.clone(), ..case.clone() }, reference, vm, &mut Coverage::default()) {
                Verdict::Mismatch(m) => *m,
                _ => mismatch,
            };
        let saved = config.save.as_ref().map(|dir| save(dir, &shrunk, case.before.as_ref(), &case, reference));
        Found {
            index,
            seed: case_seed(config.seed, index),
            original: case.program,
            shrunk,
            before: case.before,
            mismatch,
            saved,
        }
    });
    Report {
        seed: config.seed,
        campaign_cases: config.cases,
        shard: config.shard,
        counts,
        elapsed,
        coverage,
        found,
        timing,
    }
}

fn add_counts(a: &mut Counts, b: &Counts) {
    a.run += b.run;
    a.concurrent += b.concurrent;
    a.values += b.values;
    a.errors += b.errors;
    a.fuel += b.fuel;
    a.depth += b.depth;
    a.discard_no_previous += b.discard_no_previous;
    for (k, n) in &b.mismatches {
        *a.mismatches.entry(k.clone()).or_default() += n;
    }
}

/// Shrink a failing case's program while the engines still disagree.
pub fn shrink_case(case: &Case, reference: &dyn Engine, vm: &dyn Engine) -> Program {
    shrink(&case.program, 3_000, |p| {
        let c = Case { program: p.clone(), ..case.clone() };
        matches!(check(&c, reference, vm, &mut Coverage::default()), Verdict::Mismatch(_))
    })
}

/// A short stable hash of a program's text, for regression file names.
pub fn short_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

/// Save a shrunk mismatch as `<dir>/<hash>.kont`, asserting the reference's outcome.
pub fn save(
    dir: &Path,
    program: &Program,
    before: Option<&Program>,
    case: &Case,
    reference: &dyn Engine,
) -> Result<PathBuf, SaveError> {
    let text = print_program(program);
    let c = Case { program: program.clone(), ..case.clone() };
    let r = match &c.before {
        None => reference.run(&c.runnable(), c.limits, RunOptions { trace: true }),
        Some(first) => reference
            .run_after(first, &c.runnable(), c.limits, RunOptions { trace: true })
            .ok_or(SaveError::NoFirstValue)?,
    };
    let hash = short_hash(&text);
    let mut out =
        format!(";; Found by `kont difftest`; the reference's behaviour is asserted.\n(test \"regression {hash}\"\n");
    out.push_str(&format!("  (limits :fuel {} :depth {})\n", c.limits.fuel, c.limits.depth));
    if c.prelude {
        out.push_str("  (prelude \"std\")\n");
    }
    if let Some(b) = before {
        out.push_str(&format!("  (before\n    {})\n", indent(&print_program(b))));
    }
    out.push_str(&format!("  (program\n    {})\n", indent(&text)));
    out.push_str(&format!(
        "  {}\n",
        match &r.outcome {
            Outcome::Value { value } => format!("(value {value})"),
            Outcome::Error { error, .. } => match error {
                kont_spec::ValueView::Error { tag, payload } => {
                    format!("(error {} {payload})", kont_spec::syntax::quote_str(tag))
                }
                other => format!("(value {other})"),
            },
            Outcome::Exhausted { resource } => format!("(exhausted {})", resource.name()),
        }
    ));
    let outputs: Vec<String> = r.output.iter().map(|v| v.to_string()).collect();
    out.push_str(&format!("  (output {})\n", outputs.join(" ")));
    out.push_str(&format!("  (fuel-spent {})\n", r.steps));
    let lines: Vec<String> =
        r.trace.iter().map(|e| format!("    {}", kont_spec::syntax::quote_str(&e.to_string()))).collect();
    out.push_str(&format!("  (trace\n{}))\n", lines.join("\n")));
    std::fs::create_dir_all(dir).map_err(|e| SaveError::Io { path: dir.to_path_buf(), error: Arc::new(e) })?;
    let path = dir.join(format!("{hash}.kont"));
    std::fs::write(&path, out).map_err(|e| SaveError::Io { path: path.clone(), error: Arc::new(e) })?;
    Ok(path)
}

fn indent(text: &str) -> String {
    text.trim_end().replace('\n', "\n    ")
}

/// The campaign's summary as one JSON object. Summaries of shards of one
/// campaign add up ([`sum`]) to a summary of the same shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JsonSummary {
    pub seed: u64,
    /// The campaign's size (case indices `0..campaign_cases`).
    pub campaign_cases: u64,
    /// The shards this summary covers, as `I/N`: one for a run, several for a sum.
    pub shards: Vec<String>,
    /// Programs run.
    pub cases: u64,
    pub concurrent: u64,
    pub values: u64,
    pub errors: u64,
    pub fuel_exhausted: u64,
    /// Runs that hit a depth limit, compared up to it.
    #[serde(default)]
    pub depth_exhausted: u64,
    pub discarded: u64,
    pub mismatches: u64,
    /// Mismatches by `engine: kind` (every one with `--keep-going`).
    #[serde(default)]
    pub mismatch_kinds: Vec<(String, u64)>,
    /// Wall-clock seconds (summed over shards: machine-seconds).
    pub seconds: f64,
    pub programs_per_second: f64,
    /// Per engine, the rules it never fired.
    pub rules_never_hit: Vec<(String, Vec<String>)>,
    pub rule_hits_reference: Vec<(String, u64)>,
    pub rule_hits_vm: Vec<(String, u64)>,
    pub rule_hits_vm_prelude: Vec<(String, u64)>,
    /// Interaction coverage (`interactions.rs`): per engine, programs in which each situation occurred.
    #[serde(default)]
    pub situations_reference: Vec<(String, u64)>,
    #[serde(default)]
    pub situations_vm: Vec<(String, u64)>,
    #[serde(default)]
    pub situations_vm_prelude: Vec<(String, u64)>,
    /// The first mismatch (of each shard that found one).
    pub mismatch: Option<String>,
}

impl Report {
    pub fn json(&self) -> JsonSummary {
        let hits = |c: &kont_spec::RuleCounts| Rule::ALL.iter().map(|r| (r.name().to_string(), c.get(*r))).collect();
        JsonSummary {
            seed: self.seed,
            campaign_cases: self.campaign_cases,
            shards: vec![self.shard.to_string()],
            cases: self.counts.run,
            concurrent: self.counts.concurrent,
            values: self.counts.values,
            errors: self.counts.errors,
            fuel_exhausted: self.counts.fuel,
            depth_exhausted: self.counts.depth,
            discarded: self.counts.discard_no_previous,
            mismatches: self.counts.mismatch_total(),
            mismatch_kinds: self.counts.mismatches.iter().map(|(k, n)| (k.clone(), *n)).collect(),
            seconds: self.elapsed.as_secs_f64(),
            programs_per_second: self.programs_per_second(),
            rules_never_hit: self
                .unhit()
                .into_iter()
                .map(|(engine, rules)| (engine.to_string(), rules.iter().map(|r| r.name().to_string()).collect()))
                .collect(),
            rule_hits_reference: hits(&self.coverage.reference),
            rule_hits_vm: hits(&self.coverage.vm),
            rule_hits_vm_prelude: hits(&self.coverage.vm_prelude),
            situations_reference: self.coverage.situations.reference.named(),
            situations_vm: self.coverage.situations.vm.named(),
            situations_vm_prelude: self.coverage.situations.vm_prelude.named(),
            mismatch: self.found.as_ref().map(|f| f.mismatch.first.clone()),
        }
    }
}

/// Add up the summaries of shards of one campaign (same seed and size,
/// no shard twice). The sum has the same shape: counts, seconds and rule
/// hits add; a rule is never hit by an engine when no shard's engine hit it.
/// Sums can be summed again.
pub fn sum(parts: &[JsonSummary]) -> Result<JsonSummary, String> {
    let (first, rest) = parts.split_first().ok_or("no summaries to add up")?;
    let mut total = first.clone();
    for p in rest {
        if (p.seed, p.campaign_cases) != (first.seed, first.campaign_cases) {
            return Err(format!(
                "summaries of different campaigns: seed {} with {} cases, and seed {} with {} cases",
                first.seed, first.campaign_cases, p.seed, p.campaign_cases
            ));
        }
        if let Some(s) = p.shards.iter().find(|s| total.shards.contains(s)) {
            return Err(format!("shard {s} appears twice"));
        }
        total.shards.extend(p.shards.iter().cloned());
        total.cases += p.cases;
        total.concurrent += p.concurrent;
        total.values += p.values;
        total.errors += p.errors;
        total.fuel_exhausted += p.fuel_exhausted;
        total.depth_exhausted += p.depth_exhausted;
        add_hits(&mut total.mismatch_kinds, &p.mismatch_kinds);
        total.discarded += p.discarded;
        total.mismatches += p.mismatches;
        total.seconds += p.seconds;
        for (mine, theirs) in [
            (&mut total.rule_hits_reference, &p.rule_hits_reference),
            (&mut total.rule_hits_vm, &p.rule_hits_vm),
            (&mut total.rule_hits_vm_prelude, &p.rule_hits_vm_prelude),
            (&mut total.situations_reference, &p.situations_reference),
            (&mut total.situations_vm, &p.situations_vm),
            (&mut total.situations_vm_prelude, &p.situations_vm_prelude),
        ] {
            add_hits(mine, theirs);
        }
        total.mismatch = match (total.mismatch.take(), &p.mismatch) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or_else(|| b.clone()),
        };
    }
    total.programs_per_second = total.cases as f64 / total.seconds.max(1e-9);
    let never = |hits: &[(String, u64)]| hits.iter().filter(|(_, n)| *n == 0).map(|(r, _)| r.clone()).collect();
    total.rules_never_hit = vec![
        ("reference".to_string(), never(&total.rule_hits_reference)),
        ("vm".to_string(), never(&total.rule_hits_vm)),
        ("vm-prelude".to_string(), never(&total.rule_hits_vm_prelude)),
    ];
    Ok(total)
}

fn add_hits(mine: &mut Vec<(String, u64)>, theirs: &[(String, u64)]) {
    for (rule, n) in theirs {
        match mine.iter_mut().find(|(r, _)| r == rule) {
            Some((_, m)) => *m += n,
            None => mine.push((rule.clone(), *n)),
        }
    }
}

/// Which shards of `count` a set of shard names is missing (empty when complete).
pub fn missing_shards(shards: &[String]) -> Result<Vec<Shard>, String> {
    let parsed: Vec<Shard> = shards.iter().map(|s| Shard::parse(s)).collect::<Result<_, _>>()?;
    let Some(count) = parsed.first().map(|s| s.count) else { return Ok(Vec::new()) };
    if let Some(s) = parsed.iter().find(|s| s.count != count) {
        return Err(format!("shards of different splits: {}/{count} and {s}", parsed[0].index));
    }
    Ok((0..count).map(|index| Shard { index, count }).filter(|s| !parsed.contains(s)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(index: u64, ms: u64) -> Slow {
        Slow { index, time: Duration::from_millis(ms), concurrent: false, class: "value" }
    }

    fn order(t: &Timing) -> Vec<u64> {
        t.slowest.iter().map(|s| s.index).collect()
    }

    #[test]
    fn timing_keeps_the_slowest_first_and_counts_every_case() {
        let mut t = Timing::default();
        for (i, ms) in [(0, 5), (1, 50), (2, 1), (3, 20), (4, 50), (5, 30)] {
            t.add(slow(i, ms), 3);
        }
        // Ties keep the earlier case first.
        assert_eq!(order(&t), [1, 4, 5]);
        assert_eq!(t.checking, Duration::from_millis(156));
        assert!((t.slowest_share() - 130.0 / 156.0).abs() < 1e-9);

        // Another thread's cases merge in: its times add up, its slow cases compete.
        let mut other = Timing::default();
        other.add(slow(6, 40), 3);
        other.add(slow(7, 2), 3);
        t.merge(other, 3);
        assert_eq!(order(&t), [1, 4, 6]);
        assert_eq!(t.checking, Duration::from_millis(198));

        // Keeping none still counts the time.
        let mut none = Timing::default();
        none.add(slow(0, 7), 0);
        assert!(none.slowest.is_empty());
        assert_eq!(none.checking, Duration::from_millis(7));
    }
}
