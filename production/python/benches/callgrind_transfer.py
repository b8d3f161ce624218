"""One perform + `Transfer` workload for instruction counts (BENCHMARKS.md §9):
`python callgrind_transfer.py {kont|doeff|floor} N` runs N performs.
Run under `valgrind --tool=callgrind` with N and with 0; the difference
divided by N is the cost of one operation."""

import sys

impl, n = sys.argv[1], int(sys.argv[2])

if impl == "floor":
    # The pure-Python floor: a gen.send loop calling a handler generator per effect.
    class Inc:  # the same effect class as the others (no library base)
        def __init__(self, x):
            super().__init__()
            self.x = x

    def handler(e):
        return e.x + 1
        yield  # a generator

    def loop(n):
        t = 0
        for i in range(n):
            t += yield Inc(i)
        return t

    def drive(g):
        v = None
        try:
            while True:
                e = g.send(v)
                h = handler(e)
                try:
                    h.send(None)
                except StopIteration as s:
                    v = s.value
        except StopIteration as s:
            return s.value

    drive(loop(n))
else:
    if impl == "kont":
        from kont import EffectBase, Transfer, do, handler, run

        options = {"trace": False}
    else:
        from doeff import EffectBase, Transfer, do, handler, run

        options = {}

    class Inc(EffectBase):
        def __init__(self, x):
            super().__init__()
            self.x = x

    @handler
    def h_transfer(effect: Inc, k):
        yield Transfer(k, effect.x + 1)

    @do
    def loop(n):
        t = 0
        for i in range(n):
            t += yield Inc(i)
        return t

    assert run(h_transfer(loop(n)), **options) == sum(range(1, n + 1))
