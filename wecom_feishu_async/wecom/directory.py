"""WeCom directory: departments, members and member ids (corp ``access_token``).

Docs, under https://developer.work.weixin.qq.com/document/path/ (api-facts A3, A4):
``department/list`` 90208 (third-party 90344), ``department/simplelist`` 95406,
``department/get`` 95407, ``user/list`` 96260 (seed 003), ``user/simplelist`` 90336,
``user/get`` 90332, ``user/list_id`` 96067.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Literal, TypeVar, overload

from .._core import validation as check
from .._core.endpoint import Endpoint
from .._core.errors import InputError
from .._core.paging import Cursor
from .models import (
    Department,
    DepartmentIdList,
    DepartmentList,
    DepartmentReply,
    Member,
    MemberDepartment,
    MemberIdPage,
    MemberList,
    MemberReply,
    SimpleDepartment,
    SimpleMember,
    SimpleMemberList,
    WeComReply,
)
from .walk import MemberWalk, OnUnreadable, WalkProgress, in_tree_order

if TYPE_CHECKING:
    from .._core.loop import BaseClient

__all__ = ["DirectoryAPI"]

R = TypeVar("R", bound=WeComReply)
M = TypeVar("M", Member, SimpleMember)

DEPARTMENT_LIST = "/cgi-bin/department/list"
DEPARTMENT_SIMPLELIST = "/cgi-bin/department/simplelist"
DEPARTMENT_GET = "/cgi-bin/department/get"
USER_LIST = "/cgi-bin/user/list"
USER_SIMPLELIST = "/cgi-bin/user/simplelist"
USER_GET = "/cgi-bin/user/get"
USER_LIST_ID = "/cgi-bin/user/list_id"

DEPARTMENT_ID_MAX = check.INT32_MAX  # department ids are int32
USERID_MAX_BYTES = 64
LIST_ID_LIMIT_MAX = 10_000


def _department_id(value: object) -> int:
    return check.integer("department_id", value, low=1, high=DEPARTMENT_ID_MAX)


def _optional_department_id(value: object) -> dict[str, str]:
    return {} if value is None else {"id": str(_department_id(value))}


class DirectoryAPI:
    """The company directory (``client.directory``), read with the corp ``access_token``.

    The client needs ``corp_app=CorpApp(...)`` (or ``suite=`` with ``authorized_corp=``).

    Every call reads only what the app may see; WeCom answers 60011
    (``PermissionDeniedError``) for departments or members outside its range.
    """

    def __init__(self, client: BaseClient, scope: str) -> None:
        self._client = client
        self._scope = scope  # WeCom counts quotas per company per API (api-facts A7.1)

    async def _get(self, path: str, response: type[R], params: dict[str, str]) -> R:
        return await self._client.call(
            Endpoint("GET", path, response, "access_token", params=params, scope=self._scope)
        )

    async def list_departments(self, department_id: int | None = None) -> list[Department]:
        """The department and all its descendants (the whole visible tree when omitted).

        WeCom calls this endpoint slow; ``list_department_ids`` is the light form.

        Raises:
            InputError: ``department_id`` is not an id (nothing is sent).
            NotFoundError: no such department (60003).
            PermissionDeniedError: outside the app's range (60011).
        """
        params = _optional_department_id(department_id)
        return (await self._get(DEPARTMENT_LIST, DepartmentList, params)).department

    async def list_department_ids(
        self, department_id: int | None = None
    ) -> list[SimpleDepartment]:
        """Ids, parents and order of the department and all its descendants.

        Raises: as ``list_departments``.
        """
        params = _optional_department_id(department_id)
        return (await self._get(DEPARTMENT_SIMPLELIST, DepartmentIdList, params)).department_id

    async def get_department(self, department_id: int) -> Department:
        """One department. Raises: as ``list_departments``."""
        params = {"id": str(_department_id(department_id))}
        return (await self._get(DEPARTMENT_GET, DepartmentReply, params)).department

    async def list_members(self, department_id: int) -> list[Member]:
        """Every field of the members listed directly in one department (not sub-departments).

        Raises: as ``list_departments``.
        """
        params = {"department_id": str(_department_id(department_id))}
        return (await self._get(USER_LIST, MemberList, params)).userlist

    async def list_simple_members(self, department_id: int) -> list[SimpleMember]:
        """Userid, name and departments of the members listed directly in one department.

        Raises: as ``list_departments``.
        """
        params = {"department_id": str(_department_id(department_id))}
        return (await self._get(USER_SIMPLELIST, SimpleMemberList, params)).userlist

    async def get_member(self, userid: str) -> Member:
        """One member by userid (1..64 bytes).

        Raises:
            InputError: ``userid`` is empty or too long (nothing is sent).
            NotFoundError: no such member, or the member has left (60111).
            PermissionDeniedError: outside the app's range (60011).
        """
        check.text("userid", userid)
        if len(userid.encode()) > USERID_MAX_BYTES:
            raise InputError("userid", f"must be at most {USERID_MAX_BYTES} bytes")
        reply = await self._get(USER_GET, MemberReply, {"userid": userid})
        return Member(**{name: getattr(reply, name) for name in Member.__struct_fields__})

    async def member_id_page(self, *, cursor: str = "", limit: int | None = None) -> MemberIdPage:
        """One page of ``user/list_id``: (userid, department) rows, one per membership.

        Only the contacts-sync secret (or a third-party app allowed to edit contacts) may
        call it; other apps get 48002 (``PermissionDeniedError``).

        Args:
            cursor: ``next_cursor`` of the previous page ("" for the first).
            limit: rows per page, 1..10000 (server default when omitted).

        Raises:
            InputError: ``limit`` or ``cursor`` is invalid (nothing is sent).
        """
        body: dict[str, object] = {}
        if check.string("cursor", cursor):
            body["cursor"] = cursor
        if limit is not None:
            body["limit"] = check.integer("limit", limit, low=1, high=LIST_ID_LIMIT_MAX)
        return await self._client.call(
            Endpoint("POST", USER_LIST_ID, MemberIdPage, "access_token", body=body,
                     scope=self._scope)
        )

    def iter_member_ids(
        self, *, limit: int | None = None, cursor: str = ""
    ) -> AsyncIterator[MemberDepartment]:
        """Every (member, department) row of ``user/list_id``, page after page.

        Ends on an empty ``next_cursor`` (or, defensively, a repeated one). Arguments are
        checked at once: ``InputError`` before anything is sent.
        """
        check.string("cursor", cursor)
        if limit is not None:
            check.integer("limit", limit, low=1, high=LIST_ID_LIMIT_MAX)
        return self._member_ids(limit, cursor)

    async def _member_ids(self, limit: int | None, cursor: str) -> AsyncIterator[MemberDepartment]:
        position = Cursor(cursor)
        while not position.done:
            page = await self.member_id_page(cursor=position.value, limit=limit)
            position.advance(not page.next_cursor, page.next_cursor, USER_LIST_ID)
            for row in page.dept_user:
                yield row

    @overload
    async def walk_departments(
        self, department_id: int = 1, *, simple: Literal[False] = False
    ) -> list[Department]: ...

    @overload
    async def walk_departments(
        self, department_id: int = 1, *, simple: Literal[True]
    ) -> list[SimpleDepartment]: ...

    async def walk_departments(
        self, department_id: int = 1, *, simple: bool = False
    ) -> list[Department] | list[SimpleDepartment]:
        """The sub-tree of ``department_id`` with every parent before its children.

        Siblings come larger ``order`` first. ``simple=True`` reads ``department/simplelist``
        (ids, parents and order only) instead of ``department/list``.

        Raises: as ``list_departments``; ``DecodeError`` if the parent links form a cycle.
        """
        _department_id(department_id)
        if check.flag("simple", simple):
            return in_tree_order(await self.list_department_ids(department_id),
                                 DEPARTMENT_SIMPLELIST)
        return in_tree_order(await self.list_departments(department_id), DEPARTMENT_LIST)

    @overload
    def walk_members(
        self,
        department_id: int = 1,
        *,
        concurrency: int = 16,
        simple: Literal[False] = False,
        on_unreadable: OnUnreadable = "raise",
        on_progress: Callable[[WalkProgress], None] | None = None,
    ) -> MemberWalk[Member]: ...

    @overload
    def walk_members(
        self,
        department_id: int = 1,
        *,
        concurrency: int = 16,
        simple: Literal[True],
        on_unreadable: OnUnreadable = "raise",
        on_progress: Callable[[WalkProgress], None] | None = None,
    ) -> MemberWalk[SimpleMember]: ...

    def walk_members(
        self,
        department_id: int = 1,
        *,
        concurrency: int = 16,
        simple: bool = False,
        on_unreadable: OnUnreadable = "raise",
        on_progress: Callable[[WalkProgress], None] | None = None,
    ) -> MemberWalk[Member] | MemberWalk[SimpleMember]:
        """Every member of ``department_id`` and all its sub-departments, each once.

        Lists the sub-tree once (``department/simplelist``), then reads each department's
        members (``user/list``; ``user/simplelist`` with ``simple=True``) with at most
        ``concurrency`` requests in flight, parents first, yielding members as replies
        arrive. Memory holds at most two replies per request slot plus the set of userids
        seen so far (needed to yield a member of several departments once).

        Args:
            department_id: the top of the sub-tree (1: the whole company).
            concurrency: requests in flight at most (the client's ``max_in_flight`` also
                caps it).
            simple: yield ``SimpleMember`` (userid, name, departments) instead of
                ``Member``.
            on_unreadable: for a department that answers 60011 (outside the app's range)
                or 60003 (deleted since the tree was listed): ``"raise"`` the error, or
                ``"skip"`` it and record it in ``walk.skipped``.
            on_progress: called with a ``WalkProgress`` when the tree is known and as
                departments complete.

        Raises:
            InputError: an argument is invalid (at once; nothing is sent).
            APIError: while iterating, as ``list_members``; reading the sub-tree itself
                always raises.
        """
        top = _department_id(department_id)
        check.integer("concurrency", concurrency, low=1)
        if on_unreadable not in ("raise", "skip"):
            raise InputError("on_unreadable", f'must be "raise" or "skip", got {on_unreadable!r}')
        check.callback("on_progress", on_progress)
        if check.flag("simple", simple):
            return self._walk(top, USER_SIMPLELIST, self.list_simple_members, concurrency,
                              on_unreadable, on_progress)
        return self._walk(top, USER_LIST, self.list_members, concurrency, on_unreadable,
                          on_progress)

    def _walk(
        self,
        top: int,
        path: str,
        fetch: Callable[[int], Awaitable[Sequence[M]]],
        concurrency: int,
        on_unreadable: OnUnreadable,
        on_progress: Callable[[WalkProgress], None] | None,
    ) -> MemberWalk[M]:
        async def tree() -> list[SimpleDepartment]:
            return await self.walk_departments(top, simple=True)

        return MemberWalk(
            self._client.stats,
            (DEPARTMENT_SIMPLELIST, path),
            tree,
            fetch,
            concurrency=concurrency,
            on_unreadable=on_unreadable,
            on_progress=on_progress,
        )
