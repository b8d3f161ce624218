//! CI's bounded difftest campaign: a fixed seed, and a fresh random seed
//! (printed, so any failure reproduces with `kont difftest --seed S`).

#![forbid(unsafe_code)]

use kont_difftest::campaign::{self, Config, Report, Shard};

fn campaign(seed: u64, cases: u64) -> Report {
    let config = Config {
        cases,
        seed,
        shard: Shard::ALL,
        jobs: 2,
        save: None,
        shrink: true,
        keep_going: false,
        progress: None,
        slowest: 0,
    };
    campaign::run(&config, &kont_reference::Reference, &kont_vm::Vm)
}

fn assert_clean(r: &Report) {
    if let Some(f) = &r.found {
        panic!(
            "mismatch with seed {} at case {}: {}\nshrunk program:\n{}\n{}",
            r.seed,
            f.index,
            f.mismatch.first,
            kont_spec::syntax::print_program(&f.shrunk),
            f.mismatch.trace_context(4)
        );
    }
}

#[test]
fn fixed_seed_campaign_finds_no_mismatch_and_hits_every_rule() {
    let r = campaign(20261123, 20_000);
    eprintln!("fixed seed 20261123: {} programs, {:.0} programs/s", r.counts.run, r.programs_per_second());
    assert_clean(&r);
    assert_eq!(r.counts.run, 20_000);
    // Each engine on its own: a rule one engine fires does not cover another.
    for (engine, unhit) in r.unhit() {
        let unhit: Vec<&str> = unhit.iter().map(|r| r.name()).collect();
        let expected: &[&str] = if engine == "vm-prelude" { VM_PRELUDE_UNREACHABLE } else { &[] };
        assert_eq!(unhit, expected, "rules {engine} never fired");
    }
}

/// The rules `vm-prelude` cannot fire: it runs only the programs with the
/// standard prelude, which run under a generous depth limit (R-Depth). (Some
/// of them are two-run cases, so it fires K-Stale.)
const VM_PRELUDE_UNREACHABLE: &[&str] = &["R-Depth"];

#[test]
fn random_seed_campaign_finds_no_mismatch() {
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    eprintln!("random seed for this run: {seed} (reproduce: kont difftest --seed {seed} --cases 10000)");
    let r = campaign(seed, 10_000);
    assert_clean(&r);
}

/// Two machines split one campaign with `--shard 0/2` and `--shard 1/2`: they
/// run disjoint cases, and their JSON summaries add up (`kont difftest-sum`)
/// to the unsharded campaign's counts and rule hits, exactly.
#[test]
fn two_shards_add_up_to_the_whole_campaign() {
    let run = |shard: Shard| {
        let config = Config {
            cases: 301,
            seed: 20261202,
            shard,
            jobs: 2,
            save: None,
            shrink: false,
            keep_going: false,
            progress: None,
            slowest: 0,
        };
        campaign::run(&config, &kont_reference::Reference, &kont_vm::Vm).json()
    };
    let whole = run(Shard::ALL);
    let (a, b) = (run(Shard::parse("0/2").unwrap()), run(Shard::parse("1/2").unwrap()));
    assert_eq!((a.cases, b.cases), (151, 150));
    let sum = campaign::sum(&[b.clone(), a.clone()]).unwrap();
    assert_eq!(campaign::missing_shards(&sum.shards), Ok(Vec::new()));
    let counts = |s: &campaign::JsonSummary| {
        (s.cases, s.concurrent, s.values, s.errors, s.fuel_exhausted, s.discarded, s.mismatches)
    };
    assert_eq!(counts(&sum), counts(&whole));
    assert_eq!(counts(&whole).0, 301);
    assert_eq!(sum.rule_hits_reference, whole.rule_hits_reference);
    assert_eq!(sum.rule_hits_vm, whole.rule_hits_vm);
    assert_eq!(sum.rule_hits_vm_prelude, whole.rule_hits_vm_prelude);
    assert_eq!(sum.rules_never_hit, whole.rules_never_hit);
    // The sum round-trips through JSON and sums again; a shard twice is refused.
    let text = serde_json::to_string(&sum).unwrap();
    let mut back = serde_json::from_str::<campaign::JsonSummary>(&text).unwrap();
    // Seconds are floats: JSON keeps them to within a rounding step.
    assert!((back.seconds - sum.seconds).abs() < 1e-9);
    (back.seconds, back.programs_per_second) = (sum.seconds, sum.programs_per_second);
    assert_eq!(back, sum);
    assert!(campaign::sum(&[a.clone(), a]).unwrap_err().contains("shard 0/2 appears twice"));
    assert_eq!(campaign::missing_shards(&b.shards), Ok(vec![Shard { index: 0, count: 2 }]));
}
