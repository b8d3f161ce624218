"""W3: a FIFO generator scheduler (Spawn / Await). N batches: main spawns 100
tasks; each yields Tick i, which the scheduler forwards to the outer handler
(answer i+1), and returns it; main awaits the handles, last spawned first, and
sums them. Checksum N * 5150. With a second argument "park": N tasks all await
one promise, and stay parked when the run ends."""
import sys
from collections import deque


class Task:
    __slots__ = ("gen", "done", "value", "waiters")

    def __init__(self, gen):
        self.gen, self.done, self.value, self.waiters = gen, False, None, []


def scheduled(main):
    queue = deque([(Task(main), None)])
    root = queue[0][0]
    while queue:
        task, v = queue.popleft()
        while True:
            try:
                tag, x = task.gen.send(v)
            except StopIteration as done:
                task.done, task.value = True, done.value
                queue.extend((w, done.value) for w in task.waiters)
                task.waiters = task.gen = None
                break
            if tag == "Spawn":
                v = Task(x)
                queue.append((v, None))
            elif tag == "Await":
                if x.done:
                    v = x.value
                else:
                    x.waiters.append(task)
                    break
            else:
                v = yield (tag, x)  # not the scheduler's: forward outward
    return root.value


def ticker(i):
    return (yield ("Tick", i))


def batches(n):
    total = 0
    for _ in range(n):
        hs = []
        for i in range(100, 0, -1):
            hs.append((yield ("Spawn", ticker(i))))
        for h in reversed(hs):
            total += yield ("Await", h)
    return total


def waiter(p):
    return (yield ("Await", p))


def nothing():
    return 0
    yield


def parked(n):
    p = Task(None)
    for _ in range(n):
        yield ("Spawn", waiter(p))
    yield ("Await", (yield ("Spawn", nothing())))
    return n


def with_tick(gen):
    send = gen.send
    try:
        eff = send(None)
        while True:
            eff = send(eff[1] + 1)
    except StopIteration as done:
        return done.value


n = int(sys.argv[1])
print(with_tick(scheduled(parked(n) if len(sys.argv) > 2 else batches(n))))
