"""Type stubs of the compiled extension ``kont._kont`` (the production VM)."""

from typing import Any, Callable, Optional

class K:
    """A one-shot continuation: a suspended computation with its handlers,
    interceptors and observers. Not constructible from Python."""

    @property
    def live(self) -> bool:
        """Whether it can still be used (not used yet, and on its run's thread)."""
    @property
    def id(self) -> int:
        """Its canonical id in its run (``k3`` in traces)."""

class Resume:
    """``yield Resume(k, v)``: continue ``k`` with ``v``; the yield gets the
    value of the resumed computation up to its handler (non-tail)."""

    k: K
    value: Any
    def __init__(self, k: K, value: Any) -> None: ...

class Transfer:
    """``yield Transfer(k, v)``: the handler ends (its generator is closed)
    and ``k`` continues with ``v`` in its place (tail)."""

    k: K
    value: Any
    def __init__(self, k: K, value: Any) -> None: ...

class ResumeThrow:
    """``yield ResumeThrow(k, exc)``: raise ``exc`` inside ``k`` at its perform."""

    k: K
    value: BaseException
    def __init__(self, k: K, exc: BaseException) -> None: ...

class TransferThrow:
    """``yield TransferThrow(k, exc)``: the handler ends; ``exc`` is raised inside ``k``."""

    k: K
    value: BaseException
    def __init__(self, k: K, exc: BaseException) -> None: ...

class Pass:
    """``yield Pass(effect, k)``: decline; the dispatch goes on outward with ``k``."""

    effect: Any
    k: K
    def __init__(self, effect: Any, k: K) -> None: ...

class RunReport:
    """How a run ended, with its trace."""

    @property
    def value(self) -> Any: ...
    @property
    def error(self) -> Optional[BaseException]: ...
    @property
    def events(self) -> list[str]: ...
    @property
    def traceback(self) -> Optional[str]: ...
    @property
    def steps(self) -> int: ...

def run_report(
    program: Any,
    *,
    fuel: Optional[int] = None,
    depth: Optional[int] = None,
    memory: Optional[int] = None,
    trace: bool = True,
    external: Optional[Callable[[], list[tuple[int, bool, Any]]]] = None,
) -> RunReport:
    """Run ``program`` on the VM; the program's own errors are in the report.
    ``external`` settles promises from outside when every task is parked
    (``kont._awaiting.Waiter``, SPEC.md section 14.9)."""

def _register(namespace: dict[str, Any]) -> None:
    """Register the classes of ``kont._api`` with the VM (done on import)."""
