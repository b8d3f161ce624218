#!/bin/bash -eu
# Build kont's cargo-fuzz targets the way OSS-Fuzz's Rust projects do
# (`cargo fuzz build -O`, then copy the binaries to $OUT), with what
# libFuzzer picks up beside each binary:
#   parse_seed_corpus.zip   every .kont file of the repository (corpus/,
#                           spec/examples/, tests/tracebacks/)
#   parse.dict              the language's keywords and primitives
#   <target>.options        per-input limits (-rss_limit_mb, -timeout, -max_len)
#
# In ClusterFuzzLite's builder image SRC and OUT are set (the repository is
# $SRC/kont) and cargo-fuzz is installed. Locally, with a nightly toolchain
# and `cargo install cargo-fuzz`, from anywhere (without SRC the script
# builds the repository it sits in):
#   OUT=/tmp/kont-fuzz-out bash .clusterfuzzlite/build.sh

OUT=${OUT:?set OUT to the directory that receives the fuzzers}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=${SRC:+$SRC/kont}
if [ -z "$repo" ] || [ ! -d "$repo/difftest/fuzz" ]; then
    repo=$here
fi
fuzz=$repo/difftest/fuzz
mkdir -p "$OUT"

# ClusterFuzzLite's image has a default nightly toolchain; elsewhere ask for it.
cargo=(cargo)
if ! cargo fuzz --version >/dev/null 2>&1 || ! rustc --version | grep -q nightly; then
    cargo=(cargo +nightly)
fi

cd "$fuzz"
"${cargo[@]}" fuzz build -O

release=$fuzz/target/x86_64-unknown-linux-gnu/release
for src in fuzz_targets/*.rs; do
    target=$(basename "${src%.rs}")
    cp "$release/$target" "$OUT/"
    if [ -f "$fuzz/$target.options" ]; then
        cp "$fuzz/$target.options" "$OUT/"
    fi
done
cp "$fuzz/parse.dict" "$OUT/parse.dict"

# The seed corpus: every .kont file, flat (zip -j), for the parse target.
rm -f "$OUT/parse_seed_corpus.zip"
(cd "$repo" && find corpus spec/examples tests/tracebacks -name '*.kont' -print0 | sort -z |
    xargs -0 zip -q -j "$OUT/parse_seed_corpus.zip")
ls -l "$OUT"
