from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from wecom_feishu_async.emulator import Emulator

LOGGER = "wecom_feishu_async"


class Capture(logging.Handler):
    """Keeps every formatted record of the library's logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def capturing() -> Iterator[Capture]:
    """The library's log records at DEBUG, for the duration of the block."""
    handler = Capture()
    logger = logging.getLogger(LOGGER)
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


@pytest.fixture
def log_capture() -> Iterator[Capture]:
    with capturing() as handler:
        yield handler


# Values that must never appear in a log record of any test; fixtures add to it.
SENSITIVE: set[str] = {"provider-secret-xyz", "corp-secret-xyz"}


@pytest.fixture(autouse=True)
def no_secrets_in_logs() -> Iterator[None]:
    """Every test runs with DEBUG logging captured; no record may carry a secret."""
    with capturing() as handler:
        yield
    leaked = [v for v in SENSITIVE if any(v in line for line in handler.lines)]
    assert not leaked, "a secret or token reached the logs"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(seed=7, members=400, departments=40) as server:
        SENSITIVE.update((server.credentials.corp_secret, server.credentials.provider_secret))
        yield server
        SENSITIVE.update(server.issued_tokens())
