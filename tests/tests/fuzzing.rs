//! The fuzzing setup stays in step with the language and the targets:
//! `difftest/fuzz/parse.dict` holds every keyword and primitive, and every
//! cargo-fuzz target has an options file with per-input limits, which
//! `.clusterfuzzlite/build.sh` ships beside it.

#![forbid(unsafe_code)]

use kont_spec::ast::Prim;
use kont_spec::syntax::KEYWORDS;
use kont_tests::root;

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_parse_dictionary_holds_every_keyword_and_primitive() {
    let dict = read("difftest/fuzz/parse.dict");
    let entries: Vec<String> = dict
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (_, v) = l.split_once('=').unwrap_or_else(|| panic!("not a dictionary entry: {l}"));
            assert!(v.starts_with('"') && v.ends_with('"'), "not quoted: {l}");
            v[1..v.len() - 1].replace("\\\"", "\"").replace("\\\\", "\\")
        })
        .collect();
    let words = KEYWORDS.iter().copied().chain(Prim::ALL.iter().map(|p| p.name()));
    for w in words.chain([":name", ":only", ":native"]) {
        assert!(entries.iter().any(|e| e == w), "parse.dict lacks {w:?}");
    }
}

#[test]
fn every_fuzz_target_has_per_input_limits_and_is_shipped() {
    let build = read(".clusterfuzzlite/build.sh");
    assert!(build.contains("fuzz build -O") && build.contains("$OUT"));
    assert!(build.contains("parse_seed_corpus.zip") && build.contains("parse.dict"));
    let targets = std::fs::read_dir(root().join("difftest/fuzz/fuzz_targets")).unwrap();
    let mut n = 0;
    for t in targets {
        let name = t.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned();
        let options = read(&format!("difftest/fuzz/{name}.options"));
        assert!(options.starts_with('#') || options.starts_with("[libfuzzer]"));
        for key in ["[libfuzzer]", "rss_limit_mb = ", "timeout = "] {
            assert!(options.contains(key), "{name}.options lacks {key}");
        }
        n += 1;
    }
    assert_eq!(n, 2, "the parse and differential targets");
}
