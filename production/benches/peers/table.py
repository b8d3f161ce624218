#!/usr/bin/env python3
"""Render run.py's results as the Markdown tables of BENCHMARKS.md §11.

    python3 production/benches/peers/table.py [target/peers/results.json]

Three tables: the medians per system, the ratios kont ÷ peer (below 1: kont
is faster or smaller), and issue 13's goals with the measured figure and
whether each is met. Missing peers appear as missing, with the reason.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

COLUMNS = [
    ("w1_ns", "W1 ns/op", 0),
    ("w1b_ns", "W1b ns/op", 0),
    ("w2_ns_per_skip", "W2 ns per skipped handler", 1),
    ("w3_us_per_task", "W3 µs/task", 2),
    ("w4_bytes_per_cont", "W4 B/continuation", 0),
    ("w1b_bytes_per_activation", "W1b B/live activation", 0),
    ("w3park_bytes_per_task", "B/parked task", 0),
]

NAMES = {
    "kont": "**kont VM**",
    "ocaml-byte": "OCaml 5.3 bytecode (`ocamlrun`)",
    "ocaml-native": "OCaml 5.3 native",
    "lua5.4": "Lua 5.4 coroutines",
    "luajit": "LuaJIT 2.1",
    "cpython": "CPython 3.11 generators",
    "guile": "Guile 3.0 prompts",
    "doeff": "doeff 0.8.0",
}

# Issue 13's goals: (column, bound on kont's figure, peers kont must be ahead of,
# factor: kont ≤ factor × peer).
GOALS = [
    ("W1 ≤ 60 ns, ≤ 0.75× OCaml bytecode, ahead of Lua 5.4 and CPython", "w1_ns", 60,
     [("ocaml-byte", 0.75), ("lua5.4", 1.0), ("cpython", 1.0)]),
    ("W1b ≤ 150 ns, ahead of OCaml native", "w1b_ns", 150, [("ocaml-native", 1.0)]),
    ("live non-tail clause activation ≤ 100 B", "w1b_bytes_per_activation", 100, []),
    ("W2 ≤ 3 ns per skipped handler, best of all", "w2_ns_per_skip", 3,
     [("ocaml-byte", 1.0), ("ocaml-native", 1.0), ("guile", 1.0), ("doeff", 1.0)]),
    ("W3 ≤ 0.5 µs/task, ahead of OCaml bytecode", "w3_us_per_task", 0.5, [("ocaml-byte", 1.0)]),
    ("≤ 256 B per parked task (100,000 parked)", "w3park_bytes_per_task", 256, []),
    ("W4 ≤ 200 B per continuation, ahead of every peer", "w4_bytes_per_cont", 200,
     [(s, 1.0) for s in ["ocaml-byte", "ocaml-native", "lua5.4", "luajit", "cpython", "guile", "doeff"]]),
]


def fmt(x, digits):
    if x is None:
        return "—"
    return f"{x:,.{digits}f}"


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "target" / "peers" / "results.json"
    r = json.loads(path.read_text())
    m, missing, na = r["metrics"], r["missing"], r["not_applicable"]
    out = []
    out.append(
        f"One run of `run.py --reps {r['reps']}`, {r['started']} – {r['finished']}; medians of {r['reps']} "
        f"repetitions (after a warm-up), start-up subtracted; load average before/after "
        f"{r['load_before'][0]:.1f} / {r['load_after'][0]:.1f} on 2 shared cores."
    )
    out.append("")
    out.append("| system | " + " | ".join(c[1] for c in COLUMNS) + " |")
    out.append("|---" * (len(COLUMNS) + 1) + "|")
    for s in r["systems"]:
        if s in missing:
            out.append(f"| {NAMES[s]} | missing: {missing[s]} |" + " |" * (len(COLUMNS) - 1))
            continue
        cells = []
        for key, _, digits in COLUMNS:
            w = key.split("_")[0]
            v = m[s].get(key)
            if v is None and f"{s}|{w}" in na:
                cells.append("n/a")
            else:
                cells.append(fmt(v, digits))
        out.append(f"| {NAMES[s]} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("Ratios kont ÷ peer (same run; below 1.00 kont is faster or smaller):")
    out.append("")
    out.append("| peer | " + " | ".join(c[1] for c in COLUMNS) + " |")
    out.append("|---" * (len(COLUMNS) + 1) + "|")
    k = m.get("kont", {})
    for s in r["systems"]:
        if s == "kont" or s in missing:
            continue
        cells = []
        for key, _, _ in COLUMNS:
            a, b = k.get(key), m[s].get(key)
            cells.append("—" if a is None or b is None or b <= 0 else f"{a / b:.2f}")
        out.append(f"| {NAMES[s]} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("| goal (issue 13) | kont measured | met? | kont ÷ peer (needed) |")
    out.append("|---|---|---|---|")
    for text, key, bound, peers in GOALS:
        v = k.get(key)
        ok = v is not None and v <= bound
        parts = []
        for p, factor in peers:
            if p in missing:
                parts.append(f"{p}: missing")
                continue
            b = m.get(p, {}).get(key)
            if v is None or b is None or b <= 0:
                parts.append(f"{p}: —")
                continue
            ratio = v / b
            ok = ok and ratio <= factor
            parts.append(f"{p} {ratio:.2f} (≤ {factor:.2f})")
        digits = next(c[2] for c in COLUMNS if c[0] == key)
        out.append(f"| {text} | {fmt(v, digits)} | {'**yes**' if ok else 'no'} | {'; '.join(parts) or '—'} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
