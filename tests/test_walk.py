"""Member and department walks over the emulator: exact, bounded, skippable, cancellable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.conftest import SENSITIVE
from tests.test_contact import make_client
from wecom_feishu_async import (
    DecodeError,
    NotFoundError,
    PermissionDeniedError,
    ServerBusyError,
    WeComClient,
)
from wecom_feishu_async.emulator import Emulator, Fault
from wecom_feishu_async.wecom import Member, SimpleDepartment, SimpleMember, WalkProgress
from wecom_feishu_async.wecom.walk import in_tree_order

USER_LIST = "/cgi-bin/user/list"
USER_SIMPLELIST = "/cgi-bin/user/simplelist"
SIMPLELIST = "/cgi-bin/department/simplelist"


@pytest.fixture
async def big() -> AsyncIterator[Emulator]:
    async with Emulator(seed=11, members=2000, departments=200) as server:
        SENSITIVE.update((server.credentials.corp_secret, server.credentials.provider_secret))
        yield server
        SENSITIVE.update(server.issued_tokens())


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[WeComClient]:
    async with make_client(emu) as c:
        yield c


def truth(emu: Emulator, department_id: int = 1) -> set[str]:
    return {m.userid for m in emu.org.visible_members(department_id)}


async def test_walk_yields_every_visible_member_once_within_the_concurrency(
    big: Emulator,
) -> None:
    org = big.org
    assert len(org.listed_members()) >= 2000 and len(org.departments) >= 200
    big.latency = 0.005  # enough for requests to overlap
    snapshots: list[WalkProgress] = []
    async with make_client(big) as client:
        walk = client.walk_members(concurrency=8, on_progress=snapshots.append)
        members = [m async for m in walk]
    userids = [m.userid for m in members]
    assert len(userids) == len(set(userids)) and set(userids) == truth(big)
    assert {m.status for m in members} == {1, 2, 4}
    assert sum(len(m.department) > 1 for m in members) > 100  # listed several times, kept once
    assert big.stats.requests[SIMPLELIST] == 1
    assert big.stats.requests[USER_LIST] == len(org.departments)  # one per department
    assert big.stats.max_in_flight[USER_LIST] == 8  # reached, never exceeded
    final = walk.progress
    assert (final.departments_total, final.departments_done) == (200, 200)
    assert (final.members, final.requests, final.retries, final.skipped) == (
        len(userids), 201, 0, 0)
    assert snapshots[0].departments_done == 0 and snapshots[0].departments_total == 200
    assert snapshots[-1] == final and final.fraction == 1.0
    done = [s.departments_done for s in snapshots]
    assert done == sorted(done)


async def test_walk_of_a_sub_tree_and_the_light_form(emu: Emulator, client: WeComClient) -> None:
    org = emu.org
    top = max(org.children(1), key=lambda d: len(org.subtree_ids(d)))
    members = [m async for m in client.walk_members(top)]
    assert all(isinstance(m, Member) for m in members)
    assert {m.userid for m in members} == truth(emu, top) and len(members) == len(truth(emu, top))
    assert emu.stats.requests[USER_LIST] == len(org.subtree_ids(top))
    light = [m async for m in client.walk_members(simple=True)]
    assert all(isinstance(m, SimpleMember) for m in light)
    assert {m.userid for m in light} == truth(emu) and len(light) == len(truth(emu))
    assert emu.stats.requests[USER_SIMPLELIST] == len(org.departments)


async def test_walk_departments_lists_parents_first(emu: Emulator, client: WeComClient) -> None:
    org = emu.org
    for simple in (False, True):
        tree = await client.walk_departments(simple=simple)
        assert [d.id for d in tree] == org.subtree_ids(1)
        position = {d.id: i for i, d in enumerate(tree)}
        assert all(position[d.parentid] < position[d.id] for d in tree[1:])


def test_tree_order_of_a_partial_tree_and_a_cycle() -> None:
    def node(i: int, parent: int, order: int = 0) -> SimpleDepartment:
        return SimpleDepartment(id=i, parentid=parent, order=order)

    # 5's parent is not listed (hidden): it starts a tree of its own.
    nodes = [node(3, 1, 5), node(5, 9), node(1, 0), node(2, 1, 7), node(4, 2), node(3, 1, 5)]
    assert [d.id for d in in_tree_order(nodes, "p")] == [1, 2, 4, 3, 5]
    with pytest.raises(DecodeError) as info:
        in_tree_order([node(1, 0), node(2, 3), node(3, 2)], "/cgi-bin/department/list")
    assert info.value.endpoint == "/cgi-bin/department/list"


async def test_forbidden_departments_raise_by_default(emu: Emulator, client: WeComClient) -> None:
    org = emu.org
    hidden = [d for d in org.subtree_ids(1) if org.listed_in(d)][5:8]
    org.forbid_departments(hidden)
    before = asyncio.all_tasks()
    with pytest.raises(PermissionDeniedError) as info:
        async for _ in client.walk_members(concurrency=4):
            pass
    assert (info.value.code, info.value.endpoint) == (60011, USER_LIST)
    assert leftover(before) == []
    assert emu.stats.requests[USER_LIST] < len(org.departments)  # it stopped early


async def test_forbidden_departments_are_skipped_and_reported(
    emu: Emulator, client: WeComClient
) -> None:
    org = emu.org
    hidden = [d for d in org.subtree_ids(1) if org.listed_in(d)][5:8]
    org.forbid_departments(hidden)
    walk = client.walk_members(concurrency=4, on_unreadable="skip")
    members = [m async for m in walk]
    assert {m.userid for m in members} == truth(emu) and len(members) == len(truth(emu))
    assert set(walk.skipped) == set(hidden)
    assert all(isinstance(e, PermissionDeniedError) and e.code == 60011
               for e in walk.skipped.values())
    assert walk.progress.skipped == 3 and walk.progress.departments_done == len(org.departments)
    # Members of a hidden department who are also elsewhere are still there, once.
    elsewhere = {m.userid for d in hidden for m in org.listed_in(d) if org.member_readable(m)}
    assert elsewhere and elsewhere <= {m.userid for m in members}


async def test_walk_with_an_apps_visible_range(emu: Emulator, client: WeComClient) -> None:
    org = emu.org
    app = org.apps[emu.credentials.agentid]
    org.limit_to_app(app.agentid)
    walk = client.walk_members(on_unreadable="skip")
    members = {m.userid async for m in walk}
    assert members == truth(emu) and members
    assert all(app.sees_member(org.member_by_userid[u]) for u in members)
    assert set(walk.skipped) == {d.id for d in org.departments if not app.sees_department(d)}


@pytest.mark.parametrize("mode", ["skip", "raise"])
async def test_a_department_deleted_during_the_walk(
    emu: Emulator, client: WeComClient, mode: str
) -> None:
    org = emu.org
    last = org.subtree_ids(1)[-1]  # the last to be listed: a leaf
    untouched = {m.userid for m in org.visible_members() if last not in m.department}
    walk = client.walk_members(concurrency=2, on_unreadable=mode)  # type: ignore[call-overload]
    got: set[str] = set()
    try:
        async for member in walk:
            if not got:
                org.delete_department(last)  # the tree was listed before
            got.add(member.userid)
    except NotFoundError as exc:
        assert mode == "raise" and exc.code == 60003
    else:
        assert mode == "skip" and list(walk.skipped) == [last]
        assert walk.skipped[last].code == 60003 and untouched <= got


async def test_transient_errors_are_retried_and_counted(
    emu: Emulator, client: WeComClient
) -> None:
    emu.faults.script(USER_LIST, [Fault.errcode(-1), Fault.http(502)])
    walk = client.walk_members()
    members = [m async for m in walk]
    assert {m.userid for m in members} == truth(emu)
    assert walk.progress.retries == 2 and walk.progress.requests == len(emu.org.departments) + 3


async def test_persistent_failure_raises_and_leaves_nothing(emu: Emulator) -> None:
    emu.faults.rate(1.0, [Fault.errcode(-1)], paths=[USER_LIST])
    before = asyncio.all_tasks()
    async with make_client(emu) as client:
        with pytest.raises(ServerBusyError):
            async for _ in client.walk_members(concurrency=4):
                pass
        assert leftover(before) == []


def leftover(before: set[asyncio.Task[object]]) -> list[asyncio.Task[object]]:
    """Tasks started since ``before`` and still pending, except the emulator's own.

    The emulator shares the loop, and aiohttp's server keeps a task per open connection.
    """

    def server(task: asyncio.Task[object]) -> bool:
        code = getattr(task.get_coro(), "cr_code", None)
        return code is not None and "aiohttp" in code.co_filename and "web_" in code.co_filename

    return [t for t in asyncio.all_tasks() - before if not server(t)]


async def settled_tasks(before: set[asyncio.Task[object]]) -> list[asyncio.Task[object]]:
    """``leftover(before)`` once the loop has run what it had scheduled (at most 100 turns).

    A walk dropped without ``aclose()`` is closed by the loop's async-generator finaliser,
    which schedules the close as a task of its own.
    """
    for _ in range(100):
        if not leftover(before):
            break
        await asyncio.sleep(0)
    return leftover(before)


def acquired(client: WeComClient) -> int:
    """Connections the client's pool has handed out and not got back."""
    connector = client._transport.session.connector  # type: ignore[attr-defined]
    return len(connector._acquired)


def hold_after(emu: Emulator, fast: int) -> None:
    """The first ``fast`` member lists answer at once; later ones are held for a minute."""
    emu.faults.script(USER_LIST, [Fault.hold(0)] * fast + [Fault.hold(60)] * 1000)


async def quiet(emu: Emulator) -> int:
    """The emulator's member-list request count, once nothing more arrives for a while."""
    await asyncio.sleep(0.05)
    return emu.stats.requests[USER_LIST]


async def test_breaking_out_after_10_members_stops_the_walk(big: Emulator) -> None:
    hold_after(big, 8)
    before = asyncio.all_tasks()
    async with make_client(big) as client:
        seen = 0
        async with client.walk_members(concurrency=8) as walk:
            async for _ in walk:
                seen += 1
                if seen == 10:
                    at_break = client.stats.requests[USER_LIST]
                    break
        # The held requests were cancelled, not waited for.
        assert leftover(before) == [] and acquired(client) == 0
        assert walk.progress.departments_done == 8 and walk.progress.members == 10
        sent = await quiet(big)
        assert sent == at_break <= 8 + 8 and await quiet(big) == sent
        assert client.stats.requests[USER_LIST] == at_break  # nothing sent after the break
    assert client._transport._session.closed  # type: ignore[attr-defined]


async def test_dropping_the_walk_without_closing_it_stops_it(big: Emulator) -> None:
    hold_after(big, 8)
    before = asyncio.all_tasks()
    async with make_client(big) as client:
        async for _ in client.walk_members(concurrency=8):
            at_break = client.stats.requests[USER_LIST]
            break  # the walk is unreferenced now: the loop closes it
        assert await settled_tasks(before) == [] and acquired(client) == 0
        sent = await quiet(big)
        assert sent == at_break <= 8 + 8 and await quiet(big) == sent
        assert client.stats.requests[USER_LIST] == at_break


async def test_cancelling_the_consumer_stops_the_walk(big: Emulator) -> None:
    hold_after(big, 8)
    before = asyncio.all_tasks()
    async with make_client(big) as client:
        got: list[str] = []
        enough = asyncio.Event()

        async def consume() -> None:
            async for member in client.walk_members(concurrency=8):
                got.append(member.userid)
                if len(got) == 10:
                    enough.set()
                await asyncio.sleep(0.001)  # a consumer that does some work of its own

        task = asyncio.ensure_future(consume())
        await enough.wait()
        at_cancel = client.stats.requests[USER_LIST]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await settled_tasks(before) == [] and acquired(client) == 0
        sent = await quiet(big)
        assert sent == at_cancel <= 8 + 8 and await quiet(big) == sent
        assert client.stats.requests[USER_LIST] == at_cancel
