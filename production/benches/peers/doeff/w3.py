"""W3 with doeff 0.8.0 and its (Rust) scheduler. Usage: w3.py N [park]
N batches: main spawns 100 tasks; each performs Tick(i), handled outside the
scheduler (answer i+1), and returns it; each batch is gathered and summed.
Checksum N * 5150. With "park": N tasks wait on one promise that is never
completed while the peak is taken (main returns N)."""
import sys

from doeff import EffectBase, Transfer, do, handler, run
from doeff_core_effects.scheduler import CreatePromise, Gather, Spawn, Wait, scheduled


class Tick(EffectBase):
    def __init__(self, x):
        super().__init__()
        self.x = x


@handler
def tick(effect: Tick, k):
    yield Transfer(k, effect.x + 1)


@do
def ticker(i):
    v = yield Tick(i)
    return v


@do
def batches(n):
    total = 0
    for _ in range(n):
        hs = []
        for i in range(100, 0, -1):
            hs.append((yield Spawn(ticker(i))))
        total += sum((yield Gather(*reversed(hs))))
    return total


@do
def waiter(p):
    return (yield Wait(p.future))


@do
def nothing():
    return 0


@do
def parked(n):
    p = yield CreatePromise()
    for _ in range(n):
        yield Spawn(waiter(p))
    last = yield Spawn(nothing())
    yield Wait(last)
    return n


n = int(sys.argv[1])
try:
    print(run(tick(scheduled(parked(n) if sys.argv[2:] == ["park"] else batches(n)))))
except Exception as e:  # the run may end with the parked tasks still waiting
    print(n if sys.argv[2:] == ["park"] else f"error {e!r}")
