"""The suite-wide secret guard of conftest.py catches deliberate leaks, and masks them."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from tests.conftest import Capture, LeakWatch, error_texts, find_leaks, mask
from wecom_feishu_async import InputError

SECRET = "LEAKY-SECRET-0123456789abcdef"


def test_a_leaky_log_record_is_found_by_its_arguments_and_traceback() -> None:
    handler = Capture()
    try:
        raise RuntimeError(f"token={SECRET}")
    except RuntimeError:
        exc_info = sys.exc_info()
    for record in (
        logging.LogRecord("any", logging.INFO, __file__, 1, "got %s", (SECRET,), None),
        logging.LogRecord("any", logging.ERROR, __file__, 1, "failed", (), exc_info),
        logging.LogRecord("any", logging.DEBUG, __file__, 1, "bad %d", (SECRET,), None),
    ):
        handler.emit(record)
    leaks = find_leaks([(f"record {i}", line) for i, line in enumerate(handler.lines)],
                       {SECRET})
    assert leaks == [f"record {i} holds a secret ({len(SECRET)} characters)" for i in range(3)]
    assert not any(SECRET in leak for leak in leaks)  # the report never repeats the secret
    assert find_leaks([("clean", "GET /cgi-bin/gettoken status=200")], {SECRET}) == []


def test_chained_errors_and_reprs_are_looked_at() -> None:
    try:
        try:
            raise KeyError(SECRET)
        except KeyError as exc:
            raise InputError("corpsecret", "bad") from exc
    except InputError as exc:
        caught = exc
    assert any(SECRET in text for text in error_texts(caught))

    class Leaky:
        def __repr__(self) -> str:
            return f"Leaky({SECRET})"

    watch = LeakWatch()
    watch.note("repr of a Leaky", Leaky())
    watch.note("repr of a clean value", 42)
    assert find_leaks(watch.everything(), {SECRET}) == [
        f"repr of a Leaky holds a secret ({len(SECRET)} characters)"
    ]
    assert mask(f"a {SECRET} b {SECRET}", {SECRET, "short"}) == "a *** b ***"
    # pytest shortens long values in the middle: a piece of a secret is masked too.
    assert mask(f"'{SECRET[:6]}...{SECRET[-14:]}'", {SECRET}) == f"'{SECRET[:6]}...***'"


INNER_TESTS = f'''
import logging

import pytest

from conftest import SENSITIVE
from wecom_feishu_async import InputError, MemoryTokenStore
from wecom_feishu_async.emulator import Emulator

SECRET = "{SECRET}"


class LeakyStore(MemoryTokenStore):
    def __repr__(self):
        return "LeakyStore(" + SECRET + ")"


@pytest.fixture(autouse=True)
def secret():
    SENSITIVE.add(SECRET)


def test_clean():
    logging.getLogger("wecom_feishu_async").debug("GET /cgi-bin/user/list status=200")


def test_logged_by_any_logger_at_any_level():
    logging.getLogger("somewhere.else").log(5, "value %s", SECRET)


def test_in_a_caught_library_error():
    with pytest.raises(InputError):
        raise InputError("field", SECRET)


def test_in_a_repr():
    LeakyStore()


def test_an_emulator_secret_is_known_without_being_declared():
    emu = Emulator(seed=3, members=20, departments=3)
    logging.getLogger("app").warning("suite secret %s", emu.suite.credentials.suite_secret)


def test_a_failure_message_is_masked():
    assert SECRET == "something else"
'''


def test_the_guard_fails_leaky_tests_and_masks_their_reports(
    pytester: pytest.Pytester, no_secrets_anywhere: LeakWatch
) -> None:
    pytester.makeconftest(Path(__file__).with_name("conftest.py").read_text())
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    # The inner run shares this process: forget what it exposed on purpose (its emulator
    # stays known, so a failure of this test would still be masked).
    no_secrets_anywhere.texts.clear()
    no_secrets_anywhere.live.clear()
    no_secrets_anywhere.log.lines.clear()

    result.assert_outcomes(passed=5, failed=1, errors=4)
    output = result.stdout.str()
    assert SECRET not in output
    for name in ("logged_by_any_logger", "caught_library_error", "in_a_repr",
                 "emulator_secret_is_known"):
        assert f"ERROR at teardown of test_{name}" in output or name in output
    assert "LEAK: failure report holds a secret" in output
    assert "a secret, token, session key or ticket leaked" in output
