#!/bin/bash
# Runs every bench_core.py workload for floor, kont and doeff in one run, interleaved per
# workload (floor, kont, kont-notrace, doeff for each workload in turn;
# kont = kont.run(p) with its defaults (trace on), kont-notrace = kont.run(p, trace=False)), writes results/<workload>.jsonl
# and prints a markdown table (report.py; also saved as results/report.md).
#
# Usage: ./run_benches.sh [N=200000] [REPS=5] [DEPTH=1000000] [REC_REPS=3]
# Env:   KONT_PY  (default /work/main/.venv/bin/python)
#        DOEFF_PY (default /work/venvs/doeff/bin/python)
#        FLOOR_PY (default: KONT_PY if it exists, else DOEFF_PY, else python3)
#        WORKLOADS (default "transfer resume_return_yield nontail plainfn dispatch recursion")
#        TIMEOUT_S (per process, default 1200)
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
N=${1:-200000}
REPS=${2:-5}
DEPTH=${3:-1000000}
REC_REPS=${4:-3}
KONT_PY=${KONT_PY:-/work/main/.venv/bin/python}
DOEFF_PY=${DOEFF_PY:-/work/venvs/doeff/bin/python}
if [ -z "${FLOOR_PY:-}" ]; then
  if [ -x "$KONT_PY" ]; then FLOOR_PY=$KONT_PY
  elif [ -x "$DOEFF_PY" ]; then FLOOR_PY=$DOEFF_PY
  else FLOOR_PY=$(command -v python3); fi
fi
WORKLOADS=${WORKLOADS:-"transfer resume_return_yield nontail plainfn dispatch recursion"}
TIMEOUT_S=${TIMEOUT_S:-1200}
IMPLS=${IMPLS:-"floor kont kont-notrace doeff"}

mkdir -p results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
if ls results/*.jsonl >/dev/null 2>&1; then
  mkdir -p "results/prev-$stamp" && mv results/*.jsonl results/*.err results/run.log results/report.md "results/prev-$stamp/" 2>/dev/null
fi

py_for() { case $1 in kont|kont-notrace) echo "$KONT_PY";; doeff) echo "$DOEFF_PY";; floor) echo "$FLOOR_PY";; esac; }
mod_for() { case $1 in kont|kont-notrace) echo kont;; doeff) echo doeff;; floor) echo "";; esac; }
# bench_core.py arguments per implementation label
args_for() { case $1 in kont-notrace) echo "--impl kont --trace off";; *) echo "--impl $1";; esac; }

# json_line IMPL WORKLOAD KEY MESSAGE  -> one JSON line with {"impl","workload",KEY: MESSAGE}
json_line() {
  python3 -c 'import json,sys; print(json.dumps({"impl":sys.argv[1],"workload":sys.argv[2],"median_s":None,"ns_per_op":None,"reps":[],sys.argv[3]:sys.argv[4]}))' "$@"
}

# Which implementations are available (checked once, recorded on every workload).
declare -A MISSING
for impl in $IMPLS; do
  py=$(py_for $impl); mod=$(mod_for $impl)
  if [ ! -x "$py" ]; then
    MISSING[$impl]="no interpreter at $py"
  elif [ "$impl" != floor ] && ! out=$("$py" -c "import $mod; $mod.run" 2>&1 >/dev/null); then
    MISSING[$impl]="$py cannot import $mod.run: $(echo "$out" | tail -1)"
  fi
done

echo "# run $stamp N=$N REPS=$REPS DEPTH=$DEPTH REC_REPS=$REC_REPS" | tee results/run.log
for impl in $IMPLS; do
  echo "# $impl: $(py_for $impl) ${MISSING[$impl]:+MISSING: ${MISSING[$impl]}}" | tee -a results/run.log
done

for w in $WORKLOADS; do
  if [ "$w" = recursion ]; then n=$DEPTH; r=$REC_REPS; else n=$N; r=$REPS; fi
  for impl in $IMPLS; do
    out=results/$w.jsonl
    if [ -n "${MISSING[$impl]:-}" ]; then
      json_line "$impl" "$w" missing "${MISSING[$impl]}" >> "$out"
      echo "== $w $impl: MISSING" | tee -a results/run.log
      continue
    fi
    py=$(py_for $impl)
    echo "== $(date -u +%T) $w $impl n=$n reps=$r (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a results/run.log
    tmp=$(mktemp)
    timeout "$TIMEOUT_S" "$py" bench_core.py $(args_for $impl) "$w" --n "$n" --reps "$r" > "$tmp" 2> "results/$w.$impl.err"
    rc=$?
    grep '^{' "$tmp" >> "$out"
    cut -c1-200 "$tmp" | tee -a results/run.log
    if [ $rc -ne 0 ] && ! grep -q '"error"' "$tmp"; then
      if [ $rc -eq 124 ]; then msg="timeout after ${TIMEOUT_S}s"
      elif [ $rc -gt 128 ]; then msg="killed by signal $((rc - 128)) (exit $rc)"
      else msg="exit code $rc"; fi
      msg="$msg; stderr: $(tail -c 300 "results/$w.$impl.err" | tr '\n' ' ')"
      json_line "$impl" "$w" error "$msg" >> "$out"
      echo "   ERROR: $msg" | tee -a results/run.log
    fi
    rm -f "$tmp"
  done
done

find results -maxdepth 1 -name '*.err' -empty -delete
echo "# end $(date -u +%T) (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a results/run.log
python3 report.py results | tee results/report.md
