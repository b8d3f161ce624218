"""Type stubs of the compiled extension ``kont._kont`` (the production VM)."""

from typing import Any, Optional

class K:
    """A one-shot continuation: a suspended computation with its handlers,
    interceptors and observers. Not constructible from Python."""

    @property
    def live(self) -> bool:
        """Whether it can still be used (not used yet, and on its run's thread)."""
    @property
    def id(self) -> int:
        """Its canonical id in its run (``k3`` in traces)."""

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
    program: Any, *, fuel: Optional[int] = None, depth: Optional[int] = None, trace: bool = True
) -> RunReport:
    """Run ``program`` on the VM; the program's own errors are in the report."""

def _register(namespace: dict[str, Any]) -> None:
    """Register the classes of ``kont._api`` with the VM (done on import)."""
