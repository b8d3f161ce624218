//! SPEC.md, the rule catalogue (`kont_spec::Rule`), the corpus citations and
//! the rules the reference actually fires stay in step.

#![forbid(unsafe_code)]

use std::collections::BTreeSet;

use kont_difftest::corpus;
use kont_spec::{Engine, Rule, RuleCounts, RunOptions};
use kont_tests::root;

fn spec() -> String {
    std::fs::read_to_string(root().join("spec/SPEC.md")).expect("SPEC.md")
}

fn catalogue() -> BTreeSet<String> {
    Rule::ALL.iter().map(|r| r.name().to_string()).collect()
}

/// Rule names defined in SPEC.md: `[Name]` at the start of a line of a rule block.
fn defined_in_spec() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in spec().lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix('[') {
            if let Some(end) = rest.find(']') {
                let name = &rest[..end];
                if name.len() > 2 && name.as_bytes()[1] == b'-' && name.as_bytes()[0].is_ascii_uppercase() {
                    out.insert(name.to_string());
                }
            }
        }
    }
    out
}

/// Rule names in SPEC.md's rule index (§12).
fn indexed_in_spec() -> BTreeSet<String> {
    let spec = spec();
    let index = spec.split("## 12. Rule index").nth(1).expect("SPEC.md has a rule index");
    let index = index.split("\n## ").next().unwrap_or(index);
    index.split(|c: char| c.is_whitespace() || c == '·').filter(|w| !w.is_empty()).map(str::to_string).collect()
}

#[test]
fn every_rule_of_spec_is_in_the_catalogue_and_back() {
    assert_eq!(defined_in_spec(), catalogue(), "rule blocks of SPEC.md vs kont_spec::Rule");
    assert_eq!(indexed_in_spec(), catalogue(), "SPEC.md §12 index vs kont_spec::Rule");
}

#[test]
fn every_rule_is_cited_by_a_corpus_case() {
    let scripts = corpus::load(&[root().join("corpus")]).unwrap_or_else(|e| panic!("{e}"));
    let cited: BTreeSet<String> =
        scripts.iter().flat_map(|s| &s.cases).flat_map(|c| &c.rules).map(|r| r.name().to_string()).collect();
    let missing: Vec<_> = catalogue().difference(&cited).cloned().collect();
    assert!(missing.is_empty(), "rules no corpus case cites: {missing:?}");
}

/// Citations are claims; this checks them: running the corpus on the
/// reference fires every rule, and every case fires the rules it cites.
#[test]
fn the_reference_fires_every_rule_and_every_cited_rule() {
    let scripts = corpus::load(&[root().join("corpus")]).unwrap_or_else(|e| panic!("{e}"));
    let mut total = RuleCounts::default();
    let mut wrong = Vec::new();
    for s in &scripts {
        for case in &s.cases {
            if case.before.is_some() {
                continue; // two runs; K-Stale is checked by the corpus assertions themselves
            }
            let limits = case.limits(corpus::CASE_LIMITS);
            let (_, counts) = kont_reference::Reference.run_counting(&case.program, limits, RunOptions::default());
            for r in &case.rules {
                if counts.get(*r) == 0 {
                    wrong.push(format!("{}: {:?} cites {} but it never fires", s.path.display(), case.name, r.name()));
                }
            }
            total.add(&counts);
        }
    }
    let unhit: Vec<&str> = total.unhit().iter().map(|r| r.name()).filter(|n| *n != "K-Stale").collect();
    assert!(unhit.is_empty(), "rules the corpus never fires on the reference: {unhit:?}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
