#!/bin/sh
# Instructions per operation of the W1, W1b, W2 and W3 kont programs, from
# `valgrind --tool=callgrind` (counts that do not move with the machine's
# load, unlike wall clocks): (I refs at size N - I refs at size 0) / ops.
#   sh production/benches/peers/callgrind.sh [KONT_BINARY]   # default target/release/kont
# W1, W1b: N = 50,000 performs; W2: N = 5,000 performs past D = 100 other
# handlers against D = 0, per skipped handler; W3: 10 batches of 100 tasks
# (std prelude, native scheduler), per task.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
kont=$(realpath "${1:-target/release/kont}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for w in w1 w1b w3; do
    for n in 0 50000 10; do
        sed "s/@N@/$n/" "$here/kont/$w.kont" > "$work/${w}_$n.kont"
    done
done
for d in 0 100; do
    python3 -c "import sys; sys.path.insert(0, '$here'); import run; print(run.kont_w2(5000, $d))" > "$work/w2_$d.kont"
done

# I refs of one run.
ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$kont" run "$@" 2>&1 \
        | awk '/I *refs:/ { gsub(",", "", $NF); print $NF }'
}
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (a - b) / n }'; }

echo "W1  $(per "$(ir "$work/w1_50000.kont")" "$(ir "$work/w1_0.kont")" 50000) instructions per perform + transfer"
echo "W1b $(per "$(ir "$work/w1b_50000.kont")" "$(ir "$work/w1b_0.kont")" 50000) instructions per perform + resume"
echo "W2  $(per "$(ir "$work/w2_100.kont")" "$(ir "$work/w2_0.kont")" 500000) instructions per skipped handler"
echo "W3  $(per "$(ir --prelude std "$work/w3_10.kont")" "$(ir --prelude std "$work/w3_0.kont")" 1000) instructions per task"
