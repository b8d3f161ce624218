//! The `kont` command on hostile input: deep results through `run --json`
//! and `run --traceback`, invalid UTF-8, and sharded campaigns whose JSON
//! summaries `difftest-sum` adds up.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn kont(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kont")).args(args).output().expect("kont runs")
}

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("kont-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

const DEPTH: usize = 1_000_000;

/// A value `DEPTH` lists deep, built by a tail-recursive loop.
fn build() -> String {
    format!("(letrec ((build (n acc) (if (= n 0) acc (build (- n 1) (list acc))))) (build {DEPTH} 1))")
}

#[test]
fn run_json_prints_a_result_1000000_deep() {
    let f = temp("deep.kont", build().as_bytes());
    let out = kont(&["run", f.to_str().unwrap(), "--engine", "reference", "--json", "--fuel", "100000000"]);
    std::fs::remove_file(&f).ok();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = format!(
        "{{\"outcome\":{{\"outcome\":\"value\",\"value\":{}{{\"int\":1}}{}",
        "{\"list\":[".repeat(DEPTH),
        "]}".repeat(DEPTH)
    );
    assert!(text.starts_with(&expected), "{}", &text[..200.min(text.len())]);
}

#[test]
fn run_traceback_renders_an_error_1000000_deep() {
    let f = temp("deep-error.kont", format!("(raise (error \"deep\" {}))", build()).as_bytes());
    let out = kont(&["run", f.to_str().unwrap(), "--engine", "reference", "--traceback", "--fuel", "100000000"]);
    std::fs::remove_file(&f).ok();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[1], "traceback (most recent last):");
    assert_eq!(lines[2], "  raise @1:1");
    assert!(lines[3].starts_with("error (error \"deep\" (list (list"));
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column() {
    let f = temp("bad.kont", b"(+ 1\n   2 \xff)");
    let out = kont(&["run", f.to_str().unwrap()]);
    std::fs::remove_file(&f).ok();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end(), format!("{}:2:6: invalid UTF-8 (byte 0xff)", f.display()));
}

#[test]
fn difftest_sum_adds_up_shards_to_the_campaign() {
    let run = |shard: Option<&str>| {
        let mut args = vec!["difftest", "--no-corpus", "--cases", "41", "--seed", "7", "--jobs", "1", "--json"];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        let out = kont(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let whole: serde_json::Value = serde_json::from_str(run(None).trim()).unwrap();
    let a = temp("shard0.json", run(Some("0/2")).as_bytes());
    let b = temp("shard1.json", run(Some("1/2")).as_bytes());
    let out = kont(&["difftest-sum", a.to_str().unwrap(), b.to_str().unwrap()]);
    let twice = kont(&["difftest-sum", a.to_str().unwrap(), a.to_str().unwrap()]);
    std::fs::remove_file(&a).ok();
    std::fs::remove_file(&b).ok();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sum: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "cases",
        "concurrent",
        "values",
        "errors",
        "fuel_exhausted",
        "discarded",
        "mismatches",
        "rule_hits_reference",
        "rule_hits_vm",
        "rule_hits_vm_prelude",
        "rules_never_hit",
    ] {
        assert_eq!(sum[key], whole[key], "{key}");
    }
    assert_eq!(sum["cases"], 41);
    assert_eq!(sum["shards"], serde_json::json!(["0/2", "1/2"]));
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("shard 0/2 appears twice"));

    let no_seed = kont(&["difftest", "--no-corpus", "--cases", "4", "--shard", "0/2"]);
    assert_eq!(no_seed.status.code(), Some(2));
    let bad = kont(&["difftest", "--no-corpus", "--cases", "4", "--seed", "1", "--shard", "2/2"]);
    assert_eq!(bad.status.code(), Some(2));
}
