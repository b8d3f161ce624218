"""Markdown table from the JSON lines that run_benches.sh collects.

Usage: python report.py [RESULTS_DIR=results] [--stat median|min]
(--stat min recomputes every cell and ratio from the fastest rep: less sensitive to other load)
Reads RESULTS_DIR/*.jsonl (lines {"impl","workload","n","median_s","ns_per_op","reps",...};
"missing" or "error" lines mark an implementation that did not run).
"""

import glob
import json
import os
import sys

IMPLS = ["floor", "kont", "kont-notrace", "doeff"]
ORDER = ["transfer", "resume_return_yield", "nontail", "plainfn",
         "dispatch_D0", "dispatch_D1", "dispatch_D10", "dispatch_D100", "recursion"]
LABEL = {
    "transfer": "(a) `yield Transfer(k, v)`",
    "resume_return_yield": "(a') `return (yield Resume(k, v))` (doeff: rewritten to Transfer; kont: non-tail)",
    "nontail": "(b) non-tail `r = yield Resume(k, v); ...; return r2`",
    "plainfn": "(c) plain function `return Resume(k, v)`",
    "dispatch_D0": "(d) dispatch, D=0",
    "dispatch_D1": "(d) dispatch past D=1 `Other` handlers",
    "dispatch_D10": "(d) dispatch past D=10",
    "dispatch_D100": "(d) dispatch past D=100",
    "recursion": "(e) recursion `r = yield sub(n-1)`",
}


STAT = "median"


def load(d):
    rows = {}
    for path in sorted(glob.glob(os.path.join(d, "*.jsonl"))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                if STAT == "min" and r.get("reps"):
                    r["median_s"] = min(r["reps"])
                    r["ns_per_op"] = r["median_s"] * 1e9 / r["n"]
                w = r.get("workload")
                if w == "dispatch" and ("missing" in r or "error" in r):
                    for dw in ORDER:  # one failed dispatch process stands for every D
                        if dw.startswith("dispatch_"):
                            rows[(r["impl"], dw)] = r
                    continue
                rows[(r["impl"], w)] = r
    return rows


def cell(r):
    if r is None:
        return "not run"
    if "missing" in r:
        return "MISSING"
    if r.get("error"):
        return "n/a" if r["error"].startswith("n/a") else "ERROR"
    s = f"{r['median_s']:.4g} s ({r['ns_per_op']:,.0f} ns/op)"
    return s


def ratio(a, b):
    try:
        if a.get("median_s") and b.get("median_s"):
            return f"{a['ns_per_op'] / b['ns_per_op']:.2f}"
    except AttributeError:
        pass
    return "–"


def main():
    global STAT
    args = sys.argv[1:]
    if "--stat" in args:
        i = args.index("--stat")
        STAT = args[i + 1]
        del args[i:i + 2]
    d = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    rows = load(d)
    if STAT == "min":  # ns per skipped handler from the fastest reps as well
        for (impl, w), r in rows.items():
            if w.startswith("dispatch_D") and r.get("depth") and rows.get((impl, "dispatch_D0"), {}).get("median_s"):
                t0 = rows[(impl, "dispatch_D0")]["median_s"]
                r["ns_per_skip"] = (r["median_s"] - t0) * 1e9 / r["depth"] / r["n"]
    out = [f"statistic: {STAT} of the timed reps", ""]
    out.append("| workload | n | floor | kont | kont trace=False | doeff 0.8.0 | kont÷doeff | kont÷floor "
               "| kont trace=False÷doeff | kont trace=False÷floor |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    notes = []
    for w in ORDER:
        rs = {i: rows.get((i, w)) for i in IMPLS}
        if all(v is None for v in rs.values()):
            continue
        n = next((v.get("n") for v in rs.values() if v and v.get("n")), "")
        k, kn, dd, fl = rs["kont"] or {}, rs["kont-notrace"] or {}, rs["doeff"] or {}, rs["floor"] or {}
        ns = f"{n:,}" if isinstance(n, int) else str(n)
        out.append(f"| {LABEL.get(w, w)} | {ns} | {cell(rs['floor'])} | {cell(rs['kont'])} "
                   f"| {cell(rs['kont-notrace'])} | {cell(rs['doeff'])} "
                   f"| {ratio(k, dd)} | {ratio(k, fl)} | {ratio(kn, dd)} | {ratio(kn, fl)} |")
        for i in IMPLS:
            r = rs[i]
            if r and r.get("top_wrapper"):
                notes.append(f"- {i} {w}: NOTE: {r['top_wrapper']}")
        for i in IMPLS:
            r = rs[i]
            if r is None:
                continue
            if "missing" in r:
                notes.append(f"- {i} {w}: MISSING: {r['missing']}")
            elif r.get("error") and not r["error"].startswith("n/a"):
                notes.append(f"- {i} {w}: ERROR: {r['error']}")
    # dispatch: ns per skipped handler
    skip = []
    for i in IMPLS:
        vals = []
        for D in (1, 10, 100):
            r = rows.get((i, f"dispatch_D{D}"))
            vals.append(f"{r['ns_per_skip']:.0f}" if r and r.get("ns_per_skip") is not None else "–")
        skip.append(f"| {i} | " + " | ".join(vals) + " |")
    out.append("")
    out.append("ns per skipped handler, (t_D - t_0) / D / N:")
    out.append("")
    out.append("| impl | D=1 | D=10 | D=100 |")
    out.append("|---|---|---|---|")
    out.extend(skip)
    # recursion: completion and peak RSS
    rec = [(i, rows.get((i, "recursion"))) for i in IMPLS]
    if any(r for _, r in rec):
        out.append("")
        out.append("recursion: completed / peak RSS (ru_maxrss, includes the interpreter):")
        out.append("")
        for i, r in rec:
            if r is None:
                continue
            if r.get("completed"):
                extra = ""
                if r.get("default_limits_error"):
                    extra = (f"; with default run() limits: {r['default_limits_error']}, "
                             f"so timed with run(..., {', '.join(f'{a}={b}' for a, b in r['run_kwargs'].items())})")
                out.append(f"- {i}: completed, depth {r['n']:,}, {r['median_s']:.3f} s, "
                           f"peak RSS {r['maxrss_kib'] / 1024:.0f} MiB (start {r['rss_start_kib'] / 1024:.0f} MiB)"
                           + extra)
            elif "missing" in r:
                out.append(f"- {i}: MISSING")
            else:
                out.append(f"- {i}: did not complete: {r.get('error')}")
    vers = sorted({(r.get("impl"), r.get("python"), r.get("lib_version"), r.get("executable"))
                   for r in rows.values() if r.get("python")}, key=lambda t: IMPLS.index(t[0]))
    if vers:
        out.append("")
        out.append("interpreters: " + "; ".join(f"{i}: Python {p} {e}" + (f" (lib {v})" if v else "")
                                               for i, p, v, e in vers))
    if notes:
        out.append("")
        out.append("errors / missing:")
        seen = set()
        for line in notes:  # one line per (impl, message)
            impl, _, msg = line[2:].partition(" ")
            msg = msg.partition(": ")[2]
            if (impl, msg) in seen:
                continue
            seen.add((impl, msg))
            out.append(line)
    print("\n".join(out))


if __name__ == "__main__":
    main()
