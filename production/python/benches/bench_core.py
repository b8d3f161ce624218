"""Core micro-benchmarks: kont vs doeff 0.8.0 vs a pure-Python floor.

Usage:
    python bench_core.py --impl kont|doeff|floor WORKLOAD [--n N] [--reps R]

Workloads (the same program shape for every implementation):
  transfer             one handler answers N performs; tail form `yield Transfer(k, v)`.
  resume_return_yield  handler `return (yield Resume(k, v))`. doeff's source analysis
                       rewrites it into a Transfer; kont does not, so in kont it is a
                       genuine non-tail resume. (kont and doeff only.)
  nontail              genuine non-tail resume: `r = yield Resume(k, v); r2 = r; return r2`
                       (the extra statement keeps doeff from rewriting it into a Transfer);
                       N handler frames stay live until the loop returns.
  plainfn              a plain (non-generator) handler function `return Resume(k, v)`,
                       installed with WithHandler (doeff: the raw doeff_vm.WithHandler).
  dispatch             D = 0/1/10/100 handlers for another effect type between the perform
                       and its (Transfer) handler; prints dispatch_D0..dispatch_D100 and
                       ns_per_skip = (t_D - t_0) / D / N.
  recursion            `r = yield sub(n - 1); return r + 1`, n = N deep (default 1e6); the
                       base case performs one effect. Reports completion, time and peak RSS.
                       Warm-up runs at depth min(N, 1000); the timed reps run at full depth.

floor = no library: a hand-written gen.send loop that calls a handler generator (or
function) per effect, specialised per workload. It is the interpreter's lower bound.

Method: one warm-up run, then gc.collect() before each rep, time.perf_counter, median of
the reps. The program tree is built inside the timed region (as b2 in doeff's benches);
handler installers are made once, outside it. Every run's result is checked.
Output: one JSON line per measurement on stdout.
"""

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
import warnings

WORKLOADS = ["transfer", "resume_return_yield", "nontail", "plainfn", "dispatch", "recursion"]
DEPTHS = [0, 1, 10, 100]


def maxrss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def time_reps(fn, reps, warmup_fn=None):
    """One warm-up, then `reps` timed runs with gc.collect() before each."""
    (warmup_fn or fn)()
    times, result = [], None
    for _ in range(reps):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def emit(impl, workload, n, times, **extra):
    med = statistics.median(times)
    row = {
        "impl": impl,
        "workload": workload,
        "n": n,
        "median_s": round(med, 6),
        "ns_per_op": round(med * 1e9 / n, 1),
        "reps": [round(t, 6) for t in times],
        **extra,
    }
    print(json.dumps(row), flush=True)
    return row


def emit_error(impl, workload, n, err, **extra):
    row = {"impl": impl, "workload": workload, "n": n, "median_s": None, "ns_per_op": None,
           "reps": [], "error": err, **extra}
    print(json.dumps(row), flush=True)
    return row


def expected_sum(n):
    return sum(range(1, n + 1))  # each perform Inc(i) is answered with i + 1


# --------------------------------------------------------------------------------------
# kont / doeff: the same source, with the library's names passed in.
# --------------------------------------------------------------------------------------

def make_lib_programs(impl, run_kwargs=None):
    if impl == "kont":
        import kont as lib
        from kont import WithHandler
        version = getattr(lib, "__version__", None)
        if version is None:
            try:
                from importlib.metadata import version as _v
                version = _v("kont")
            except Exception:  # noqa: BLE001
                version = "?"
    else:
        import doeff as lib
        from doeff_vm import WithHandler  # `from doeff import WithHandler` is an ImportError in 0.8.0
        version = lib.__version__
    EffectBase, do, handler = lib.EffectBase, lib.do, lib.handler
    Resume, Transfer, lib_run = lib.Resume, lib.Transfer, lib.run
    run_kwargs = dict(run_kwargs or {})

    def run(p):
        return lib_run(p, **run_kwargs)

    class Inc(EffectBase):
        def __init__(self, x):
            super().__init__()
            self.x = x

    class Other(EffectBase):
        def __init__(self):
            super().__init__()

    @do
    def loop(n):
        t = 0
        for i in range(n):
            t += yield Inc(i)
        return t

    @do
    def sub(n):
        if n == 0:
            return (yield Inc(0))
        r = yield sub(n - 1)
        return r + 1

    @handler
    def h_transfer(effect: Inc, k):
        yield Transfer(k, effect.x + 1)

    @handler
    def h_resume_return_yield(effect: Inc, k):
        return (yield Resume(k, effect.x + 1))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        @handler
        def h_nontail(effect: Inc, k):
            r = yield Resume(k, effect.x + 1)
            r2 = r  # a statement after the resume: genuinely non-tail in doeff too
            return r2
    nontail_warnings = [f"{w.category.__name__}: {str(w.message)[:120]}" for w in caught]

    def h_plain(effect: Inc, k):
        return Resume(k, effect.x + 1)

    def make_other():
        @handler
        def h_other(effect: Other, k):
            yield Transfer(k, None)
        return h_other

    info = {"lib_version": version}
    if impl == "kont":
        # This kont build's run() may accept only a @do call at the top, not a WithHandler:
        # then every kont program is wrapped in `top(p)` (one extra frame per run).
        @do
        def top(p):
            return (yield p)

        @do
        def one():
            return 1

        try:
            run(WithHandler(h_plain, one()))
        except TypeError as e:
            info["top_wrapper"] = f"run(WithHandler(...)) refused ({e}); programs run as run(top(p))"
            inner_run = run

            def run(p):  # noqa: F811
                return inner_run(top(p))
    if impl == "doeff":
        info["tail_lines"] = {
            "resume_return_yield": list(h_resume_return_yield.__doeff_handler_data__.__doeff_tail_resume_lines__),
            "nontail": list(h_nontail.__doeff_handler_data__.__doeff_tail_resume_lines__),
        }
    if nontail_warnings:
        info["nontail_decoration_warnings"] = nontail_warnings

    def loop_case(installer):
        return lambda n: (lambda: run(installer(loop(n))))

    cases = {
        "transfer": loop_case(h_transfer),
        "resume_return_yield": loop_case(h_resume_return_yield),
        "nontail": loop_case(h_nontail),
        "plainfn": lambda n: (lambda: run(WithHandler(h_plain, loop(n)))),
        "recursion": lambda n: (lambda: run(h_transfer(sub(n)))),
    }

    def dispatch(depth, n):
        others = [make_other() for _ in range(depth)]

        def go():
            prog = loop(n)
            for inst in others:
                prog = inst(prog)
            return run(h_transfer(prog))
        return go

    return cases, dispatch, info


# --------------------------------------------------------------------------------------
# floor: plain generators and hand-written drivers, no library.
# --------------------------------------------------------------------------------------

def make_floor_programs():
    class EffectBase:
        pass

    class Inc(EffectBase):
        def __init__(self, x):
            super().__init__()
            self.x = x

    class Other(EffectBase):
        pass

    class Resume:  # stands for Resume/Transfer commands
        __slots__ = ("k", "value")

        def __init__(self, k, value):
            self.k = k
            self.value = value

    class Call:  # stands for `yield sub(n - 1)`
        __slots__ = ("fn", "args")

        def __init__(self, fn, args):
            self.fn = fn
            self.args = args

    def loop(n):
        t = 0
        for i in range(n):
            t += yield Inc(i)
        return t

    def h_gen(effect, k):
        yield Resume(k, effect.x + 1)

    def h_other(effect, k):
        yield Resume(k, None)

    def h_nontail(effect, k):
        r = yield Resume(k, effect.x + 1)
        r2 = r
        return r2

    def h_plain(effect, k):
        return Resume(k, effect.x + 1)

    def drive_transfer(gen, handler=h_gen):
        # per effect: create the handler generator, take its command, drop it (tail).
        try:
            eff = gen.send(None)
            while True:
                cmd = handler(eff, None).send(None)
                if type(cmd) is Resume:
                    eff = gen.send(cmd.value)
                else:
                    raise RuntimeError(cmd)
        except StopIteration as e:
            return e.value

    def drive_nontail(gen):
        # the handler generators stay suspended; the body's result is sent back through all.
        stack = []
        try:
            eff = gen.send(None)
            while True:
                hg = h_nontail(eff, None)
                cmd = hg.send(None)
                stack.append(hg)
                eff = gen.send(cmd.value)
        except StopIteration as e:
            v = e.value
        while stack:
            try:
                stack.pop().send(v)
                raise RuntimeError("handler did not return")
            except StopIteration as e:
                v = e.value
        return v

    def drive_plain(gen):
        try:
            eff = gen.send(None)
            while True:
                cmd = h_plain(eff, None)
                if type(cmd) is Resume:
                    eff = gen.send(cmd.value)
                else:
                    raise RuntimeError(cmd)
        except StopIteration as e:
            return e.value

    def drive_dispatch(gen, stack):
        # stack: [(effect_type, handler_gen_fn)], innermost first; skip by isinstance.
        try:
            eff = gen.send(None)
            while True:
                for types, hfn in stack:
                    if isinstance(eff, types):
                        break
                else:
                    raise RuntimeError("unhandled")
                cmd = hfn(eff, None).send(None)
                eff = gen.send(cmd.value)
        except StopIteration as e:
            return e.value

    def sub(n):
        if n == 0:
            return (yield Inc(0))
        r = yield Call(sub, (n - 1,))
        return r + 1

    def drive_recursion(gen):
        # trampoline: a list of suspended generators instead of the C stack.
        stack = []
        cur, val = gen, None
        while True:
            try:
                y = cur.send(val)
            except StopIteration as e:
                if not stack:
                    return e.value
                cur, val = stack.pop(), e.value
                continue
            if type(y) is Call:
                stack.append(cur)
                cur, val = y.fn(*y.args), None
            else:
                val = h_gen(y, None).send(None).value

    cases = {
        "transfer": lambda n: (lambda: drive_transfer(loop(n))),
        "nontail": lambda n: (lambda: drive_nontail(loop(n))),
        "plainfn": lambda n: (lambda: drive_plain(loop(n))),
        "recursion": lambda n: (lambda: drive_recursion(sub(n))),
    }

    def dispatch(depth, n):
        def make_other():
            def h(effect, k):  # a distinct function per level, as in the library versions
                return h_other(effect, k)
            return (Other, h)
        stack = [make_other() for _ in range(depth)] + [(Inc, h_gen)]
        return lambda: drive_dispatch(loop(n), stack)

    return cases, dispatch, {}


# --------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", required=True, choices=["kont", "doeff", "floor"])
    ap.add_argument("workload", choices=WORKLOADS)
    ap.add_argument("--n", type=int, default=None, help="performs per run (recursion: depth)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--trace", choices=["default", "on", "off"], default="default",
                    help="kont only: run(..., trace=...); 'off' is labelled impl kont-notrace")
    ap.add_argument("--depth-limit", type=int, default=None,
                    help="kont only: run(..., depth=...); for recursion, a retry with a raised limit is "
                         "made automatically when the default limit stops the run")
    a = ap.parse_args()
    impl, wl = a.impl, a.workload
    run_kwargs = {}
    label = impl
    if impl == "kont":
        if a.trace != "default":
            run_kwargs["trace"] = a.trace == "on"
        if a.trace == "off":
            label = "kont-notrace"
        if a.depth_limit is not None:
            run_kwargs["depth"] = a.depth_limit
    n = a.n if a.n is not None else (1_000_000 if wl == "recursion" else 200_000)
    env = {"python": sys.version.split()[0], "executable": sys.executable}

    try:
        if impl == "floor":
            cases, dispatch, info = make_floor_programs()
        else:
            cases, dispatch, info = make_lib_programs(impl, run_kwargs)
    except BaseException as e:  # noqa: BLE001 - report, do not crash silently
        emit_error(impl, wl, n, f"setup: {type(e).__name__}: {e}", **env)
        return 1
    # library-specific notes only on the lines they concern
    if wl in ("resume_return_yield", "nontail") and "tail_lines" in info:
        env["doeff_tail_resume_lines"] = info["tail_lines"][wl]
    if wl == "nontail" and "nontail_decoration_warnings" in info:
        env["decoration_warnings"] = info["nontail_decoration_warnings"]
    env["lib_version"] = info.get("lib_version")
    if run_kwargs:
        env["run_kwargs"] = run_kwargs
    if "top_wrapper" in info:
        env["top_wrapper"] = info["top_wrapper"]
    impl = label

    if wl == "dispatch":
        t0_med = None
        exp = expected_sum(n)
        for depth in DEPTHS:
            name = f"dispatch_D{depth}"
            try:
                times, result = time_reps(dispatch(depth, n), a.reps)
                if result != exp:
                    raise AssertionError(f"result {result!r} != {exp}")
            except BaseException as e:  # noqa: BLE001
                emit_error(impl, name, n, f"{type(e).__name__}: {str(e)[:300]}", depth=depth, **env)
                continue
            med = statistics.median(times)
            extra = {"depth": depth}
            if depth == 0:
                t0_med = med
            elif t0_med is not None:
                extra["ns_per_skip"] = round((med - t0_med) * 1e9 / depth / n, 2)
            emit(impl, name, n, times, **extra, **env)
        return 0

    if wl not in cases:
        emit_error(impl, wl, n, "n/a: workload not defined for this implementation", **env)
        return 0

    make = cases[wl]
    if wl == "recursion":
        exp = n + 1
        warm = make(min(n, 1000))
    else:
        exp = expected_sum(n)
        warm = None
    rss0 = rss_kib()
    try:
        times, result = time_reps(make(n), a.reps, warmup_fn=warm)
        if result != exp:
            raise AssertionError(f"result {result!r} != {exp}")
    except BaseException as e:  # noqa: BLE001 - e.g. RecursionError, MemoryError
        err = f"{type(e).__name__}: {str(e)[:300]}"
        if not (wl == "recursion" and a.impl == "kont" and type(e).__name__ == "ExhaustedError"
                and a.depth_limit is None):
            emit_error(impl, wl, n, err, completed=False, **env)
            return 0
        # kont's default limits stopped the run: record that, and rerun with a raised depth limit.
        del e
        gc.collect()
        limit = 2 * n + 1000
        run_kwargs["depth"] = limit
        env["run_kwargs"] = run_kwargs
        env["default_limits_error"] = err
        cases, dispatch, info = make_lib_programs("kont", run_kwargs)
        make = cases[wl]
        try:
            times, result = time_reps(make(n), a.reps, warmup_fn=make(min(n, 1000)))
            if result != exp:
                raise AssertionError(f"result {result!r} != {exp}")
        except BaseException as e2:  # noqa: BLE001
            emit_error(impl, wl, n, f"{type(e2).__name__}: {str(e2)[:300]}", completed=False, **env)
            return 0
    extra = {}
    if wl == "recursion":
        extra = {"completed": True, "maxrss_kib": maxrss_kib(), "rss_start_kib": rss0}
    emit(impl, wl, n, times, **extra, **env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
