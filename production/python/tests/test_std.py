"""The standard effects (kont.std): state, reader, writer, Try and cache."""

from __future__ import annotations

import pytest

from kont import Gather, Spawn, YieldTask, do, run, scheduled
from kont.std import (
    Ask,
    CacheDelete,
    CacheExists,
    CacheGet,
    CacheMissError,
    CachePut,
    Err,
    Get,
    Listen,
    Local,
    MissingEnvKeyError,
    Ok,
    Put,
    Tell,
    Try,
    cache,
    reader,
    state,
    writer,
)


def test_state_get_put_and_missing_key_is_none():
    @do
    def main():
        yield Put("n", 1)
        n = yield Get("n")
        yield Put("n", n + 1)
        return (yield Get("n")), (yield Get("missing"))

    assert run(state()(main())) == (2, None)


def test_state_is_shared_by_tasks_across_switches():
    @do
    def bump():
        n = yield Get("n")
        yield YieldTask()
        yield Put("n", (yield Get("n")) + 1)
        return n

    @do
    def main():
        ts = []
        for _ in range(3):
            ts.append((yield Spawn(bump())))
        yield Gather(*ts)
        return (yield Get("n"))

    assert run(state({"n": 0})(scheduled(main()))) == 3


def test_reader_ask_local_and_missing_key():
    @do
    def who():
        return (yield Ask("user")), (yield Ask("role"))

    @do
    def main():
        outer = yield who()
        inner = yield Local({"role": "admin"}, who())
        after = yield who()
        return outer, inner, after

    assert run(reader({"user": "ann", "role": "guest"})(main())) == (
        ("ann", "guest"),
        ("ann", "admin"),
        ("ann", "guest"),
    )

    @do
    def missing():
        try:
            yield Ask("nope")
        except MissingEnvKeyError as e:
            return "missing " + e.args[0]

    # Raised at the Ask, so the asker can catch it.
    assert run(reader({})(missing())) == "missing nope"

    @do
    def uncaught():
        yield Ask("nope")

    with pytest.raises(MissingEnvKeyError):
        run(reader({})(uncaught()))


def test_writer_tell_and_listen():
    log = []

    @do
    def body():
        yield Tell("a")
        yield Tell("b")
        return 7

    @do
    def main():
        yield Tell("before")
        heard = yield Listen(body())
        return heard

    assert run(writer(log)(main())) == (7, ["a", "b"])
    assert log == ["before", "a", "b"]


def test_try_gives_ok_or_err():
    boom = ValueError("boom")

    @do
    def fails():
        raise boom
        yield

    @do
    def fine():
        return 5
        yield

    @do
    def main():
        return (yield Try(fine())), (yield Try(fails()))

    ok, err = run(main())
    assert ok == Ok(5) and ok.is_ok() and bool(ok)
    assert isinstance(err, Err) and err.error is boom and not err


def test_cache_put_get_exists_delete_and_typed_miss():
    @do
    def main():
        yield CachePut(1, "int key")
        yield CachePut("1", "str key")  # prints like 1, but a different key
        a, b = (yield CacheGet(1)), (yield CacheGet("1"))
        e1 = yield CacheExists(1)
        yield CacheDelete(1)
        e2 = yield CacheExists(1)
        try:
            yield CacheGet(1)
        except CacheMissError as e:
            miss = e.args[0]
        return a, b, e1, e2, miss

    assert run(cache()(main())) == ("int key", "str key", True, False, 1)


def test_cache_outside_the_scheduler_serves_every_task():
    @do
    def task(i):
        yield CachePut(i, i * i)
        yield YieldTask()
        return (yield CacheGet(i))

    @do
    def main():
        ts = []
        for i in range(4):
            ts.append((yield Spawn(task(i))))
        return (yield Gather(*ts))

    assert run(cache()(scheduled(main()))) == [0, 1, 4, 9]
