"""The examples, run against the emulator and checked against its ground truth."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import aiohttp
import msgspec
import pytest

from tests.conftest import SENSITIVE
from wecom_feishu_async import CorpApp, RetryPolicy
from wecom_feishu_async.emulator import Emulator, Fault

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEND = "/cgi-bin/message/send"
USER_LIST = "/cgi-bin/user/list"
FAST = RetryPolicy(base_delay=0.001, max_delay=0.005, rate_limit_delay=0.001)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


web_handler = _load("web_handler")
queue_worker = _load("queue_worker")


def _run(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, *args], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


# The web handler ----------------------------------------------------------------------------


def _secrets(emu: Emulator) -> set[str]:
    world = emu.suite
    return {world.credentials.suite_secret, world.credentials.permanent_code,
            world.suite_ticket, *world.tickets, *world.sessions, *emu.issued_tokens()}


@pytest.fixture
async def backend(emu: Emulator) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    config = web_handler.emulator_config(emu, retry=FAST, timeout=0.3)
    async with web_handler.serving(config) as url, aiohttp.ClientSession() as http:
        yield url, http
    SENSITIVE.update(_secrets(emu))


async def test_web_handler_sends_once_to_exactly_the_picked_users(
    emu: Emulator, backend: tuple[str, aiohttp.ClientSession]
) -> None:
    url, http = backend
    operator, userids = web_handler.demo_pick(emu)
    picked = {emu.org.member_by_userid[u].open_userid for u in userids}
    assert sum(not emu.suite.app.sees_member(emu.org.member_by_userid[u]) for u in userids) == 3

    status, answer, posted = await web_handler.post_pick(http, url, emu, operator, userids)

    assert status == 200
    assert sorted(answer["recipients"]) == sorted(picked)  # those outside the range too
    assert answer["selected_user_count"] == len(userids)
    assert answer["sender"]["userid"] == operator
    [delivery] = emu.suite.deliveries
    assert delivery.msgid == answer["msgid"] and delivery.recipients == picked
    text = msgspec.json.encode(answer).decode()
    assert not any(s in text for s in _secrets(emu) | {str(posted["code"])})


async def test_web_handler_rejects_bad_input_before_sending(
    emu: Emulator, backend: tuple[str, aiohttp.ClientSession]
) -> None:
    url, http = backend
    operator, userids = web_handler.demo_pick(emu)
    good = emu.suite.pick(userids, operator=operator)
    no_ticket = {"err_msg": good["err_msg"], "result": {"selectedUserCount": 1}}
    failed = {"err_msg": "selectPrivilegedContact:fail_unsupported_context"}
    cases = [
        (b"{not json", "body"),
        ({"picker": good}, "code"),
        ({"code": "c"}, "picker"),
        ({"code": "c", "picker": no_ticket}, "picker"),
        ({"code": "c", "picker": failed}, "picker"),
    ]
    for body, field in cases:
        kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
        async with http.post(url + web_handler.ROUTE, **kwargs) as response:
            answer = await response.json()
        assert (response.status, answer["field"]) == (400, field), body
    assert answer["err_msg"] == failed["err_msg"]
    assert sum(emu.stats.requests.values()) == 0  # nothing reached WeCom


async def test_web_handler_maps_vendor_errors(
    emu: Emulator, backend: tuple[str, aiohttp.ClientSession]
) -> None:
    url, http = backend
    operator, userids = web_handler.demo_pick(emu)
    route = url + web_handler.ROUTE

    async def post(body: dict[str, object]) -> tuple[int, dict[str, object]]:
        async with http.post(route, json=body) as response:
            return response.status, await response.json()

    status, _, posted = await web_handler.post_pick(http, url, emu, operator, userids)
    assert status == 200
    # The same login code again: spent.
    assert await post(posted) == (400, {
        "error": "invalid_input", "field": "code", "code": 40029,
        "message": "login code used, expired or wrong; log in again"})
    # An expired ticket.
    picker = emu.suite.pick(userids, operator=operator)
    emu.suite.expire_ticket(str(picker["result"]["selectedTicket"]))  # type: ignore[index]
    status, answer = await post({"code": emu.suite.login_code(operator), "picker": picker})
    assert (status, answer["field"], answer["code"]) == (400, web_handler.TICKET_FIELD, 60222)
    # Someone else's ticket.
    other = userids[0]
    picker = emu.suite.pick(userids[1:], operator=operator)
    status, answer = await post({"code": emu.suite.login_code(other), "picker": picker})
    assert (status, answer["error"]) == (403, "forbidden")
    # WeCom refuses the send: 502 with its code.
    emu.faults.script(SEND, [Fault.errcode(48002)])
    status, answer = await post({"code": emu.suite.login_code(operator),
                                 "picker": emu.suite.pick(userids, operator=operator)})
    assert (status, answer["error"], answer["code"]) == (502, "upstream", 48002)
    # No reply in time: maybe delivered, never sent twice.
    emu.faults.script(SEND, [Fault.hold(0.6)])
    status, answer = await post({"code": emu.suite.login_code(operator),
                                 "picker": emu.suite.pick(userids, operator=operator)})
    assert (status, answer["may_have_been_sent"]) == (504, True)
    assert len(emu.suite.deliveries) == 2 and emu.stats.requests[SEND] == 3


def test_web_handler_script_plays_a_round_trip() -> None:
    process = _run(str(EXAMPLES / "web_handler.py"), "--emulator")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    first = out[: out.index("\n}\n") + 2]
    reply = msgspec.json.decode(first)
    assert reply["status"] == 200 and len(reply["response"]["recipients"]) == 6
    assert "messages delivered by the emulator: 1" in err


# The queue worker ---------------------------------------------------------------------------


@pytest.fixture
async def org() -> AsyncIterator[Emulator]:
    async with Emulator(seed=5, members=2000, departments=100) as server:
        yield server
        SENSITIVE.update((server.credentials.corp_secret, *server.issued_tokens()))


def _userids(path: Path) -> list[str]:
    return [msgspec.json.decode(line)["userid"] for line in path.read_bytes().splitlines()]


async def test_queue_worker_writes_the_ground_truth_once(org: Emulator, tmp_path: Path) -> None:
    creds = org.credentials
    out = tmp_path / "members.jsonl"
    org.latency = 0.002
    summary = await queue_worker.sync_members(
        CorpApp(creds.corp_id, creds.corp_secret), out, base_url=org.url, workers=4,
        concurrency=4, retry=FAST)
    userids = _userids(out)
    truth = {m.userid for m in org.org.visible_members(1)}
    assert len(userids) == len(set(userids)) == len(truth) and set(userids) == truth
    assert sum(len(m.department) > 1 for m in org.org.visible_members(1)) > 50  # deduplicated
    assert summary.ok and len(summary.done) == summary.jobs > 4
    assert summary.members_written == len(truth)
    assert summary.tokens_fetched == 1 == org.stats.tokens_issued["access_token"]  # one client
    assert summary.requests == sum(org.stats.requests.values())
    assert org.stats.requests[USER_LIST] == len(org.org.departments)  # each department once
    assert org.stats.max_in_flight[USER_LIST] <= 4 * 4


async def test_queue_worker_retries_transient_jobs_and_records_permanent_ones(
    org: Emulator, tmp_path: Path
) -> None:
    tree = org.org
    first, second = tree.children(1)[:2]
    hidden = tree.children(first)[0]
    tree.forbid_departments([hidden])
    # The first member list fails four times: the client's three retries, then the job's.
    org.faults.script(USER_LIST, [Fault.errcode(-1)] * 4)
    creds = org.credentials
    out = tmp_path / "members.jsonl"
    summary = await queue_worker.sync_members(
        CorpApp(creds.corp_id, creds.corp_secret), out, base_url=org.url,
        departments=[first, second, 99_999], workers=1, concurrency=1, backoff=0.001,
        retry=FAST)
    truth = {m.userid for d in (first, second) for m in tree.visible_members(d)}
    userids = _userids(out)
    assert len(userids) == len(set(userids)) and set(userids) == truth
    assert summary.done == [first, second]
    assert summary.failed == [queue_worker.Failure(99_999, "NotFoundError", 60003, 1, False)]
    assert summary.skipped_departments == {hidden: 60011}
    assert (summary.job_retries, summary.client_retries) == (1, 3)
    assert not summary.ok


def test_queue_worker_script_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    out = tmp_path / "members.jsonl"
    process = _run(str(EXAMPLES / "queue_worker.py"), "--emulator", "--members", "3000",
                   "--departments", "200", "--latency", "0.03", "--workers", "2",
                   "--concurrency", "2", "--out", str(out))
    assert process.stderr is not None
    for line in process.stderr:  # the first job finished: others are in flight or queued
        if "new members" in line:
            break
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    found = re.search(r"jobs: (\d+) \((\d+) done, (\d+) failed, (\d+) cancelled, "
                      r"(\d+) not started\)", stdout)
    assert found is not None, stdout
    jobs, done, failed, cancelled, not_started = map(int, found.groups())
    assert done + failed + cancelled + not_started == jobs and not_started > 0
    assert (failed, cancelled) == (0, 0)  # in-flight jobs finished
    userids = _userids(out)
    assert len(userids) == len(set(userids)) > 0
    assert f"members written: {len(userids)}" in stdout


def test_queue_worker_script_syncs_the_emulator(tmp_path: Path) -> None:
    out = tmp_path / "members.jsonl"
    process = _run(str(EXAMPLES / "queue_worker.py"), "--emulator", "--members", "2000",
                   "--out", str(out))
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "each member once: yes, equal to the truth: yes" in stdout
    assert len(_userids(out)) == int(re.findall(r"members written: (\d+)", stdout)[0])
