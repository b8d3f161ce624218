"""W4: N generators each suspended at a perform (yield), held in a list; then
each is resumed (it returns i). Checksum N(N+1)/2."""
import sys


def computation(i):
    yield ("Park", i)
    return i


def resumed(gen):
    try:
        gen.send(0)
    except StopIteration as done:
        return done.value
    raise RuntimeError("parked twice")


held = []
for i in range(1, int(sys.argv[1]) + 1):
    g = computation(i)
    next(g)
    held.append(g)
print(sum(resumed(g) for g in held))
