"""Shared fixtures, and the suite-wide guard that no secret, token, session key or ticket
reaches a log record, an exception message or a repr.

The guard (``no_secrets_anywhere``, autouse) watches, for every test: every log record of
every logger at every level (formatted with its arguments and traceback); every library
exception created (``WFAError``: message, repr and chained causes); the repr of every client,
credential, token, token store, picker and message value created and of every reply a call
returns. It fails the test if any of them holds a value of ``SENSITIVE`` or a secret of an
emulator started during the test (credentials, tokens, suite tickets, session keys, picker
tickets). A test that fails for another reason gets those values masked in its report.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import pytest

from wecom_feishu_async import (
    AuthorizedCorp,
    CorpApp,
    FeishuApp,
    FeishuStoreApp,
    PickerOptions,
    PickerResult,
    Provider,
    SuiteApp,
    TemplateMessage,
    Token,
    TokenStore,
    WFAError,
)
from wecom_feishu_async._core.loop import BaseClient
from wecom_feishu_async.emulator import Emulator

pytest_plugins = ["pytester"]

if __name__ == "conftest":
    # pytest imports this file as "conftest" and tests import it as "tests.conftest": make
    # both names one module, so that what tests add to SENSITIVE is what the guard checks.
    sys.modules.setdefault("tests.conftest", sys.modules[__name__])

LOGGER = "wecom_feishu_async"


class Capture(logging.Handler):
    """Keeps every formatted record (message, arguments, traceback) it handles."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a record whose arguments do not format is still checked
            line = f"{record.msg!r} {record.args!r}"
        self.lines.append(line)


@contextlib.contextmanager
def capturing(name: str | None = LOGGER) -> Iterator[Capture]:
    """Log records of ``name`` (default the library's; None: every logger) at DEBUG."""
    handler = Capture()
    logger = logging.getLogger(name)
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


# Values that must never appear in a log record, an error message or a repr of any test;
# tests add to it. Secrets of emulators started in a test are added automatically.
SENSITIVE: set[str] = {"provider-secret-xyz", "corp-secret-xyz"}

# Shorter values could occur by chance; every real secret and token is longer.
MIN_SECRET_LENGTH = 8


def emulator_secrets(emu: Emulator) -> set[str]:
    """Everything secret an emulator knows: credentials, tokens, tickets, session keys."""
    values = set(emu.state.issued_secrets())
    suite = emu.suite
    values |= {suite.credentials.suite_secret, suite.credentials.permanent_code,
               suite.suite_ticket, *suite.sessions, *suite.tickets}
    # Every suite ticket pushed so far, not only the newest (no public accessor yet).
    values |= set(getattr(suite, "_suite_tickets", ()))
    feishu = emu.feishu
    values |= {feishu.credentials.app_secret, feishu.credentials.store_app_secret,
               feishu.credentials.app_ticket, *(app.app_secret for app in feishu.apps.values())}
    return values


def find_leaks(texts: Iterable[tuple[str, str]], sensitive: Iterable[str]) -> list[str]:
    """Where a sensitive value occurs in ``(where, text)`` pairs; the value is never named."""
    values = [v for v in set(sensitive) if len(v) >= MIN_SECRET_LENGTH]
    return [
        f"{where} holds a secret ({len(value)} characters)"
        for where, text in texts
        for value in values
        if value in text
    ]


# A run of characters secrets and tokens are made of; a report may show a fragment of one
# (pytest shortens long values in the middle).
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-+/=]{12,}")


def mask(text: str, sensitive: Iterable[str]) -> str:
    """``text`` with every sensitive value, or a long enough piece of one, as ``***``."""
    values = sorted((v for v in set(sensitive) if len(v) >= MIN_SECRET_LENGTH), key=len,
                    reverse=True)
    for value in values:
        text = text.replace(value, "***")

    def piece(match: re.Match[str]) -> str:
        run = match.group()
        return "***" if any(run in value for value in values) else run

    return _TOKEN_LIKE.sub(piece, text)


def error_texts(error: BaseException) -> list[str]:
    """The message and repr of an error and of every error chained to it."""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return out


# Values whose repr a user may print or log: checked when created and again at the end.
def _watched_classes() -> list[type]:
    roots: list[type] = [BaseClient, TokenStore]
    found: list[type] = [CorpApp, Provider, SuiteApp, AuthorizedCorp, FeishuApp,
                         FeishuStoreApp, Token, PickerOptions, PickerResult, TemplateMessage]
    while roots:
        cls = roots.pop()
        found.append(cls)
        roots.extend(cls.__subclasses__())
    return [cls for cls in found if "__init__" in vars(cls)]


class LeakWatch:
    """What one test exposed, and the emulators it started."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.live: list[tuple[str, weakref.ref[Any]]] = []
        self.emulators: list[Emulator] = []
        self.log = Capture()
        self.final: set[str] = set()

    def note(self, where: str, value: object) -> None:
        """Remember ``value``'s repr now, and look at it again at the end if it lives."""
        with contextlib.suppress(Exception):  # e.g. a base __init__ before the subclass's
            self.texts.append((where, repr(value)))
        with contextlib.suppress(TypeError):  # slotted values cannot be weakly referenced
            self.live.append((where, weakref.ref(value)))

    def note_error(self, error: WFAError) -> None:
        self.texts += [(f"{type(error).__name__} message", t) for t in error_texts(error)]
        self.live.append((f"{type(error).__name__} (chained)", weakref.ref(error)))

    def sensitive(self) -> set[str]:
        values = set(SENSITIVE) | self.final
        for emu in self.emulators:
            values |= emulator_secrets(emu)
        return values

    def close(self) -> None:
        """Keep only the sensitive values (for the test's report); drop everything else."""
        self.final = self.sensitive()
        self.texts, self.live, self.emulators, self.log.lines = [], [], [], []

    def everything(self) -> list[tuple[str, str]]:
        out = list(self.texts)
        out += [(f"log record {i}", line) for i, line in enumerate(self.log.lines)]
        for where, ref in self.live:
            value = ref()
            if isinstance(value, BaseException):
                out += [(where, t) for t in error_texts(value)]
            elif value is not None:
                with contextlib.suppress(Exception):
                    out.append((where, repr(value)))
        return out

    def leaks(self) -> list[str]:
        return find_leaks(self.everything(), self.sensitive())


WATCH = pytest.StashKey[LeakWatch]()


def _wrap_init(cls: type, watch: LeakWatch) -> Callable[..., None]:
    original = vars(cls)["__init__"]

    def __init__(self: object, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        watch.note(f"repr of a {type(self).__name__}", self)

    return __init__


@pytest.fixture(autouse=True)
def no_secrets_anywhere(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LeakWatch]:
    """Fail the test if a secret reached a log record, an error message or a repr."""
    watch = LeakWatch()
    request.node.stash[WATCH] = watch
    for cls in _watched_classes():
        monkeypatch.setattr(cls, "__init__", _wrap_init(cls, watch))

    error_init = WFAError.__init__

    def init_error(self: WFAError, *args: object, **kwargs: object) -> None:
        error_init(self, *args, **kwargs)
        watch.note_error(self)

    monkeypatch.setattr(WFAError, "__init__", init_error)

    call = BaseClient.call

    async def watched_call(self: BaseClient, endpoint: Any) -> Any:
        result = await call(self, endpoint)
        watch.note(f"repr of a {type(result).__name__} reply", result)
        return result

    monkeypatch.setattr(BaseClient, "call", watched_call)

    emulator_init = Emulator.__init__

    def init_emulator(self: Emulator, *args: Any, **kwargs: Any) -> None:
        emulator_init(self, *args, **kwargs)
        watch.emulators.append(self)

    monkeypatch.setattr(Emulator, "__init__", init_emulator)

    root = logging.getLogger()
    level = root.level
    root.addHandler(watch.log)
    root.setLevel(1)  # every level, below DEBUG too
    try:
        yield watch
    finally:
        root.removeHandler(watch.log)
        root.setLevel(level)
    leaks = watch.leaks()
    watch.close()
    assert not leaks, "a secret, token, session key or ticket leaked: " + "; ".join(leaks[:5])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failure whose text holds a secret is reported as a leak, with the secret masked."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if not report.failed:
        return
    watch = item.stash.get(WATCH, None)
    sensitive = watch.sensitive() if watch is not None else set(SENSITIVE)
    text = str(report.longrepr)
    texts = [("failure report", text)]
    if call.excinfo is not None:
        texts += [("failing exception", t) for t in error_texts(call.excinfo.value)]
    leaks = find_leaks(texts, sensitive)
    if leaks or mask(text, sensitive) != text:
        report.longrepr = "\n".join([*(f"LEAK: {leak}" for leak in leaks[:5]),
                                     mask(text, sensitive)])
    report.sections = [(name, mask(body, sensitive)) for name, body in report.sections]


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(seed=7, members=400, departments=40) as server:
        SENSITIVE.update((server.credentials.corp_secret, server.credentials.provider_secret))
        yield server
        SENSITIVE.update(server.issued_tokens())
