"""A pytest plugin (registered by entry point): the ``wfa_emulator`` fixture.

The fixture yields a started ``Emulator`` serving on 127.0.0.1 from a background thread,
so it works in synchronous tests and under any async test runner. Use its ``url`` as the
client's ``base_url``, its ``credentials`` / ``feishu.credentials`` for the client, and its
``org`` / ``feishu.suggested(...)`` as ground truth; ``stats`` counts requests and
``faults`` injects failures. Options go in a marker::

    @pytest.mark.wfa_emulator(members=50, seed=3, latency=0.01)
    async def test_sync(wfa_emulator): ...
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from .emulator import Emulator

__all__ = ["EmulatorThread", "wfa_emulator"]

T = TypeVar("T")
_DEFAULTS: dict[str, Any] = {"seed": 1, "members": 200, "departments": 20}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "wfa_emulator(**options): options of the wfa_emulator fixture's Emulator "
        "(seed, members, departments, latency, token_ttl, feishu_versions, ...)",
    )


class EmulatorThread:
    """An ``Emulator`` served by an event loop of its own, in a daemon thread."""

    def __init__(self, **options: Any) -> None:
        from .emulator import Emulator

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="wfa-emulator",
                                        daemon=True)
        self.emulator = Emulator(**options)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def start(self) -> Emulator:
        """Start serving; the emulator, with its URL known."""
        self._thread.start()
        self._run(self.emulator.start())
        return self.emulator

    def stop(self) -> None:
        """Stop serving and end the thread."""
        try:
            self._run(self.emulator.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            self._loop.close()


@pytest.fixture
def wfa_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A started emulator for one test (options from ``@pytest.mark.wfa_emulator``)."""
    marker = request.node.get_closest_marker("wfa_emulator")
    options = {**_DEFAULTS, **(marker.kwargs if marker is not None else {})}
    served = EmulatorThread(**options)
    emulator = served.start()
    try:
        yield emulator
    finally:
        served.stop()
