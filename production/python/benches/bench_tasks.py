"""Tasks from Python (BENCHMARKS.md §10): kont beside doeff 0.8.0, same
programs (doeff's B4/B5 shapes).

  python bench_tasks.py {kont|doeff} spawn N REPS   spawn N tasks, one effect each, then Gather: median s and µs/task
  python bench_tasks.py {kont|doeff} parked N       RSS growth per task with N tasks parked on one promise
  python bench_tasks.py kont await N REPS           N sequential Awaits of an already completed future, µs each

Prints one JSON line. Run each in a fresh process (RSS figures need it).
"""

import gc
import json
import statistics
import sys
import time

impl, what, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
reps = int(sys.argv[4]) if len(sys.argv) > 4 else 3

if impl == "kont":
    from kont import CreatePromise, EffectBase, Gather, Resume, Spawn, Wait, do, handler, run, scheduled

    options = {"trace": False}
    # A 100,000-task Gather nests deeper than the default depth budget.
    options["depth"] = 10_000_000
else:
    from doeff import EffectBase, Resume, do, handler, run
    from doeff_core_effects.scheduler import CreatePromise, Gather, Spawn, Wait, scheduled

    options = {}


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Inc(EffectBase):
    def __init__(self, x):
        super().__init__()
        self.x = x


@handler
def h(effect: Inc, k):
    return (yield Resume(k, effect.x + 1))


@do
def task_effect(i):
    v = yield Inc(i)
    return v


@do
def spawn_gather(n):
    tasks = []
    for i in range(n):
        tasks.append((yield Spawn(task_effect(i))))
    return (yield Gather(*tasks))


parked_rss = []


@do
def parked_task(p):
    # doeff waits on the promise's future; kont on the promise itself.
    return (yield Wait(p if impl == "kont" else p.future))


@do
def park_all(n):
    p = yield CreatePromise()
    for _ in range(n):
        yield Spawn(parked_task(p))
    # Let every task run to its Wait; then measure with all of them parked.
    from_task = yield Spawn(measure())
    return (yield Wait(from_task))


@do
def measure():
    gc.collect()
    parked_rss.append(rss_kib())
    return None
    yield


def main():
    if what == "spawn":
        run(scheduled(h(spawn_gather(10))), **options)
        times = []
        for _ in range(reps):
            gc.collect()
            t0 = time.perf_counter()
            r = run(scheduled(h(spawn_gather(n))), **options)
            times.append(time.perf_counter() - t0)
            assert len(r) == n and sum(r) == n * (n + 1) // 2
        med = statistics.median(times)
        print(json.dumps({"impl": impl, "what": what, "n": n, "median_s": med, "us_per_task": med / n * 1e6, "reps": times}))
    elif what == "parked":
        gc.collect()
        before = rss_kib()
        try:
            run(scheduled(park_all(n)), **options)
        except Exception as e:  # the root ends with tasks still parked: close-out or a warning
            _ = e
        per = (parked_rss[0] - before) * 1024 / n if parked_rss else None
        print(json.dumps({"impl": impl, "what": what, "n": n, "bytes_per_parked_task": per}))
    elif what == "await":
        import asyncio

        from kont import Await

        @do
        def awaits(n):
            loop = asyncio.new_event_loop()
            fut = loop.create_future()
            fut.set_result(1)
            t = 0
            for _ in range(n):
                t += yield Await(fut)
            loop.close()
            return t

        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            assert run(scheduled(awaits(n)), **options) == n
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        print(json.dumps({"impl": impl, "what": what, "n": n, "median_s": med, "us_per_await": med / n * 1e6}))


main()
