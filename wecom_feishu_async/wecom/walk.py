"""Concurrent walks of a WeCom department sub-tree: its departments and everyone in them.

``user/list`` lists the members of one department only; a sub-tree is read by listing its
departments and then each department's members (seed 003). A walk fetches the sub-tree once
and fans the member lists out with bounded concurrency, streaming members as replies arrive.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from .._core.errors import APIError, DecodeError
from .models import Department, Member, SimpleDepartment, SimpleMember

if TYPE_CHECKING:
    from .._core.loop import ClientStats

__all__ = ["MemberWalk", "OnUnreadable", "WalkProgress", "in_tree_order"]

D = TypeVar("D", Department, SimpleDepartment)
M = TypeVar("M", Member, SimpleMember)

OnUnreadable = Literal["raise", "skip"]

# Departments a walk may meet but not read: 60011 outside the app's range, 60003 deleted
# since the sub-tree was listed.
UNREADABLE_CODES = frozenset({60011, 60003})


def in_tree_order(departments: Iterable[D], path: str) -> list[D]:
    """Departments with every parent before its children; siblings by ``order``, larger first.

    Departments whose parent is not among them (the sub-tree's top, or children of
    departments the app cannot see) start the order. A repeated id keeps its first entry.

    Raises:
        DecodeError: the parent links form a cycle (nothing is dropped silently).
    """
    by_id: dict[int, D] = {}
    for d in departments:
        by_id.setdefault(d.id, d)
    children: dict[int, list[D]] = {}
    roots: list[D] = []
    for d in by_id.values():
        if d.parentid in by_id and d.parentid != d.id:
            children.setdefault(d.parentid, []).append(d)
        else:
            roots.append(d)

    def key(d: D) -> tuple[int, int]:
        return (d.order, -d.id)  # popped from the end: larger order, then smaller id, first

    out: list[D] = []
    stack = sorted(roots, key=key)
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(sorted(children.get(current.id, ()), key=key))
    if len(out) != len(by_id):
        raise DecodeError(path, f"{len(by_id) - len(out)} departments form a parent cycle")
    return out


def _naming(error: BaseException, department: int) -> BaseException:
    """``error`` of one department's member list, its message naming the department.

    API errors say which department failed (one deleted mid-walk answers 60003), so that
    a walk that stops is never mistaken for one that finished; others are left as they are.
    """
    if not isinstance(error, APIError):
        return error
    named = type(error)(
        vendor=error.vendor,
        endpoint=error.endpoint,
        code=error.code,
        message=f"department {department}: {error.msg}",
        status=error.status,
        request_id=error.request_id,
        retry_after=error.retry_after,
        troubleshooter=error.troubleshooter,
    )
    named.__cause__ = error
    named.__suppress_context__ = True
    return named


@dataclass(frozen=True, slots=True)
class WalkProgress:
    """Where a member walk stands.

    ``requests`` and ``retries`` count the client's attempts on the walk's paths since it
    started (token requests excluded; other calls on the same paths of the same client at
    the same time are included).
    """

    departments_total: int
    departments_done: int
    members: int
    requests: int
    retries: int
    skipped: int

    @property
    def fraction(self) -> float:
        """Departments done as a fraction of the total (0.0 before the tree is known)."""
        return self.departments_done / self.departments_total if self.departments_total else 0.0


@dataclass
class _State:
    """Counters shared by a walk and its generator (which must not reference the walk)."""

    stats: ClientStats
    paths: tuple[str, ...]
    on_progress: Callable[[WalkProgress], None] | None
    total: int = 0
    done: int = 0
    members: int = 0
    base_requests: int = 0
    base_retries: int = 0
    skipped: dict[int, APIError] = field(default_factory=dict)

    def start(self) -> None:
        self.base_requests = sum(self.stats.requests[p] for p in self.paths)
        self.base_retries = sum(self.stats.retries[p] for p in self.paths)

    def __post_init__(self) -> None:
        self.start()

    def snapshot(self) -> WalkProgress:
        return WalkProgress(
            departments_total=self.total,
            departments_done=self.done,
            members=self.members,
            requests=sum(self.stats.requests[p] for p in self.paths) - self.base_requests,
            retries=sum(self.stats.retries[p] for p in self.paths) - self.base_retries,
            skipped=len(self.skipped),
        )

    def notify(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.snapshot())


async def _walk(
    state: _State,
    tree: Callable[[], Awaitable[Sequence[SimpleDepartment]]],
    fetch: Callable[[int], Awaitable[Sequence[M]]],
    concurrency: int,
    skip: bool,
) -> AsyncGenerator[M, None]:
    state.start()
    ids = [d.id for d in await tree()]
    state.total = len(ids)
    state.notify()
    pending = iter(ids)
    running: dict[asyncio.Future[Sequence[M]], int] = {}
    finished: deque[asyncio.Future[Sequence[M]]] = deque()
    wakeup: list[asyncio.Future[None]] = []  # the generator's waiter, while it waits
    seen: set[str] = set()

    def on_done(task: asyncio.Future[Sequence[M]]) -> None:
        finished.append(task)
        if wakeup and not wakeup[0].done():
            wakeup[0].set_result(None)

    def refill() -> bool:
        # Called only while the consumer waits for a member, so once it stops asking nothing
        # new starts. The caller then gives the new requests a turn of the loop to go out
        # before handing anything over: a consumer that breaks off leaves none unsent.
        started = False
        if len(running) < concurrency:
            for department in itertools.islice(pending, concurrency - len(running)):
                task = asyncio.ensure_future(fetch(department))
                task.add_done_callback(on_done)
                running[task] = department
                started = True
        return started

    def collect() -> list[Sequence[M]]:
        pages: list[Sequence[M]] = []
        fatal: BaseException | None = None
        while finished:
            task = finished.popleft()
            department = running.pop(task)
            error = task.exception()  # read for every task, so none goes unretrieved
            state.done += 1
            if error is None:
                pages.append(task.result())
            elif skip and isinstance(error, APIError) and error.code in UNREADABLE_CODES:
                state.skipped[department] = error
            elif fatal is None:
                fatal = _naming(error, department)
        if fatal is not None:
            raise fatal
        state.notify()
        return pages

    try:
        refill()
        while running:
            if not finished:
                wakeup.append(asyncio.get_running_loop().create_future())
                try:
                    await wakeup[0]
                finally:
                    wakeup.clear()
            for page in collect():
                for member in page:
                    if member.userid not in seen:
                        seen.add(member.userid)
                        state.members += 1
                        if refill():  # requests stay in flight while the consumer works
                            await asyncio.sleep(0)
                        yield member
            if refill():
                await asyncio.sleep(0)
        state.notify()
    finally:
        for task in running:
            task.remove_done_callback(on_done)
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)


class MemberWalk(Generic[M]):
    """An async iterator over every member of a department sub-tree, each member once.

    Iterate it with ``async for``. Read ``progress`` at any time and ``skipped`` after the
    walk. Leaving the loop early stops sending at once; ``aclose()`` (or ``async with``)
    also cancels the requests still in flight, and a walk dropped without closing is closed
    by the event loop soon after. A walk can be iterated once.
    """

    def __init__(
        self,
        stats: ClientStats,
        paths: tuple[str, ...],
        tree: Callable[[], Awaitable[Sequence[SimpleDepartment]]],
        fetch: Callable[[int], Awaitable[Sequence[M]]],
        *,
        concurrency: int,
        on_unreadable: OnUnreadable,
        on_progress: Callable[[WalkProgress], None] | None,
    ) -> None:
        self._state = _State(stats, paths, on_progress)
        self._members: AsyncGenerator[M, None] = _walk(
            self._state, tree, fetch, concurrency, on_unreadable == "skip"
        )

    @property
    def progress(self) -> WalkProgress:
        """A snapshot of the walk's progress."""
        return self._state.snapshot()

    @property
    def skipped(self) -> dict[int, APIError]:
        """Departments skipped as unreadable (60011, 60003), with the error each answered."""
        return dict(self._state.skipped)

    def __aiter__(self) -> MemberWalk[M]:
        return self

    def __anext__(self) -> Awaitable[M]:
        return self._members.__anext__()

    async def aclose(self) -> None:
        """Stop the walk: cancel and await every request in flight (idempotent)."""
        await self._members.aclose()

    async def __aenter__(self) -> MemberWalk[M]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"MemberWalk({self.progress})"
