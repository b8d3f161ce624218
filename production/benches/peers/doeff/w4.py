"""W4 with doeff 0.8.0. Usage: w4.py N
N computations, each suspended at Park(i) under its own handler whose clause
returns k; the k objects are held in a list, then each is resumed (returns i).
Checksum N(N+1)/2."""
import sys

from doeff import EffectBase, Resume, do, handler, run


class Park(EffectBase):
    def __init__(self, x):
        super().__init__()
        self.x = x


@handler
def keep(effect: Park, k):
    return k


@do
def computation(i):
    yield Park(i)
    return i


@do
def main(n):
    held = []
    for i in range(1, n + 1):
        held.append((yield keep(computation(i))))
    total = 0
    for k in held:
        total += yield Resume(k, 0)
    return total


print(run(main(int(sys.argv[1]))))
