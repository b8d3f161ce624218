"""The standard effects, as Python handlers on the VM: state (`Get`/`Put`),
reader (`Ask`/`Local`), writer (`Tell`/`Listen`), `Try` (`Ok`/`Err`) and a
cache (`CacheGet`/`CachePut`/`CacheExists`/`CacheDelete`).

Their state lives in the handler (a dict or list the installer makes), never
in continuations: a task or a parked computation that comes back still
reaches the same store. `Local`, `Listen` and `Try` are programs, not
effects: they install what they need where they are yielded, so the handlers
between them and the program's body stay as they are.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Generic, List, Optional, Tuple, TypeVar, Union

from ._api import EffectBase, Resume, TransferThrow, WithHandler, WithObserve, do, handler

T = TypeVar("T")
E = TypeVar("E", bound=BaseException)

__all__ = [
    "Ask",
    "CacheDelete",
    "CacheExists",
    "CacheGet",
    "CacheMissError",
    "CachePut",
    "Err",
    "Get",
    "Listen",
    "Local",
    "MissingEnvKeyError",
    "Ok",
    "Put",
    "Tell",
    "Try",
    "cache",
    "reader",
    "state",
    "writer",
]


# ----- state -----------------------------------------------------------------


class Get(EffectBase):
    """``v = yield Get(key)``: the state's value at ``key`` (``None`` if unset)."""

    def __init__(self, key: Any) -> None:
        self.key = key


class Put(EffectBase):
    """``yield Put(key, value)``: set the state's value at ``key``."""

    def __init__(self, key: Any, value: Any) -> None:
        self.key = key
        self.value = value


def state(initial: Optional[Dict[Any, Any]] = None) -> Callable[[Any], WithHandler]:
    """A state handler installer over a fresh dict (a copy of ``initial``):
    ``state({"n": 0})(program)``."""
    store: Dict[Any, Any] = dict(initial or {})

    @handler
    def state_handler(effect: Union[Get, Put], k):
        if isinstance(effect, Put):
            store[effect.key] = effect.value
            return (yield Resume(k, None))
        return (yield Resume(k, store.get(effect.key)))

    return state_handler


# ----- reader ----------------------------------------------------------------


class MissingEnvKeyError(KeyError):
    """``Ask(key)`` for a key the environment does not have."""


class Ask(EffectBase):
    """``v = yield Ask(key)``: the environment's value at ``key``."""

    def __init__(self, key: Any) -> None:
        self.key = key


class _Environment(EffectBase):
    """Asks the nearest reader for its whole environment (used by ``Local``)."""


def reader(env: Optional[Dict[Any, Any]] = None) -> Callable[[Any], WithHandler]:
    """A reader handler installer: ``reader({"user": "ann"})(program)``."""
    values: Dict[Any, Any] = dict(env or {})

    @handler
    def reader_handler(effect: Union[Ask, _Environment], k):
        if isinstance(effect, _Environment):
            return (yield Resume(k, dict(values)))
        if effect.key not in values:
            # Raised at the Ask (a transfer-throw into the performer), so it can be caught there.
            yield TransferThrow(k, MissingEnvKeyError(effect.key))
        return (yield Resume(k, values[effect.key]))

    return reader_handler


@do
def Local(env: Dict[Any, Any], program: Any):
    """``v = yield Local(overrides, program)``: run ``program`` with the
    environment's keys overridden (a reader installed here, over the nearest
    reader's environment)."""
    outer = yield _Environment()
    return (yield reader({**outer, **env})(program))


# ----- writer ----------------------------------------------------------------


class Tell(EffectBase):
    """``yield Tell(message)``: append ``message`` to the writer's log."""

    def __init__(self, message: Any) -> None:
        self.message = message


def writer(log: Optional[List[Any]] = None) -> Callable[[Any], WithHandler]:
    """A writer handler installer appending every ``Tell``'s message to
    ``log`` (a new list when not given; read it through ``.log``)."""
    messages: List[Any] = log if log is not None else []

    @handler
    def writer_handler(effect: Tell, k):
        messages.append(effect.message)
        return (yield Resume(k, None))

    writer_handler.log = messages  # type: ignore[attr-defined]
    return writer_handler


@do
def Listen(program: Any):
    """``(v, messages) = yield Listen(program)``: run ``program`` and also
    collect the messages of the ``Tell``s it performs that reach here (they
    still go on to the writer)."""
    heard: List[Any] = []
    value = yield WithObserve(lambda e: heard.append(e.message), program, types=(Tell,))
    return value, heard


# ----- Try ---------------------------------------------------------------------


class Ok(Generic[T]):
    """A successful result: ``.value``."""

    __slots__ = ("value",)
    __match_args__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def is_ok(self) -> bool:
        return True

    def is_err(self) -> bool:
        return False

    def __bool__(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ok) and other.value == self.value

    def __repr__(self) -> str:
        return f"Ok({self.value!r})"


class Err(Generic[E]):
    """A failed result: ``.error``, the exception."""

    __slots__ = ("error",)
    __match_args__ = ("error",)

    def __init__(self, error: E) -> None:
        self.error = error

    def is_ok(self) -> bool:
        return False

    def is_err(self) -> bool:
        return True

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Err) and other.error is self.error

    def __repr__(self) -> str:
        return f"Err({self.error!r})"


@do
def Try(program: Any):
    """``r = yield Try(program)``: ``Ok(value)``, or ``Err(exception)`` for an
    ``Exception`` it raised (other ``BaseException``s go on)."""
    try:
        value = yield program
    except Exception as e:  # noqa: BLE001 -- Try's contract
        return Err(e)
    return Ok(value)


# ----- cache -------------------------------------------------------------------


class CacheMissError(KeyError):
    """``CacheGet(key)`` for a key the cache does not hold."""


class CacheGet(EffectBase):
    """``v = yield CacheGet(key)``: the cached value (``CacheMissError`` if absent)."""

    def __init__(self, key: Any) -> None:
        self.key = key


class CachePut(EffectBase):
    """``yield CachePut(key, value)``: cache ``value`` at ``key``."""

    def __init__(self, key: Any, value: Any) -> None:
        self.key = key
        self.value = value


class CacheExists(EffectBase):
    """``b = yield CacheExists(key)``: whether ``key`` is cached."""

    def __init__(self, key: Any) -> None:
        self.key = key


class CacheDelete(EffectBase):
    """``yield CacheDelete(key)``: forget ``key`` (nothing if absent)."""

    def __init__(self, key: Any) -> None:
        self.key = key


def cache(store: Optional[Dict[Any, Any]] = None) -> Callable[[Any], WithHandler]:
    """A cache handler installer over ``store`` (a new dict when not given;
    keys compare as Python values: ``1`` and ``"1"`` are different keys)."""
    entries: Dict[Any, Any] = store if store is not None else {}

    @handler
    def cache_handler(effect: Union[CacheGet, CachePut, CacheExists, CacheDelete], k):
        if isinstance(effect, CachePut):
            entries[effect.key] = effect.value
            return (yield Resume(k, None))
        if isinstance(effect, CacheExists):
            return (yield Resume(k, effect.key in entries))
        if isinstance(effect, CacheDelete):
            entries.pop(effect.key, None)
            return (yield Resume(k, None))
        if effect.key not in entries:
            # Raised at the CacheGet (a transfer-throw into the performer).
            yield TransferThrow(k, CacheMissError(effect.key))
        return (yield Resume(k, entries[effect.key]))

    cache_handler.store = entries  # type: ignore[attr-defined]
    return cache_handler
