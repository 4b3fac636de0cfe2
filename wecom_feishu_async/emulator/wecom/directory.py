"""WeCom directory routes (corp access_token): departments, member lists, member ids.

The emulated corp app is a self-built app created after mid-2022 that was granted the
"organisation structure" permission:
- `department/simplelist` and `department/get` answer for every department (api-facts A3.2:
  such apps see all department ids), while `department/list` returns only the departments it
  may read (A3.1);
- member reads answer 60011 for departments outside its range (`Org.forbid_departments`), and
  a member's `department` lists only readable departments;
- member replies leave out the fields withheld from such apps since 2022-06-20 (avatar,
  thumb_avatar, gender, mobile, email, biz_mail, qr_code, address: A4.2), and `open_userid`,
  which only third-party apps receive.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
from aiohttp import web

from ..pipeline import ApiError, Call, Route
from ..world.model import Attr, Department, ExternalProfile, Member
from ..world.org import Org
from .common import ACCESS_TOKEN, json_reply, read_object, render_error

DEPARTMENT_LIST = "/cgi-bin/department/list"
DEPARTMENT_SIMPLELIST = "/cgi-bin/department/simplelist"
DEPARTMENT_GET = "/cgi-bin/department/get"
USER_LIST = "/cgi-bin/user/list"
USER_SIMPLELIST = "/cgi-bin/user/simplelist"
USER_GET = "/cgi-bin/user/get"
USER_LIST_ID = "/cgi-bin/user/list_id"

# UNCERTAIN: user/list_id documents the range 1..10000 but no default; 1000 here.
LIST_ID_DEFAULT, LIST_ID_MAX = 1000, 10_000

# Errcodes these routes answer with, and the English start of their errmsg.
_TEXT = {
    40003: "invalid userid",
    40058: "invalid Request Parameter",
    60003: "department not found",
    60011: "no privilege to access/modify contact/party/agent",
    60111: "userid not found",
    60123: "invalid party id",
}


def _fail(code: int) -> ApiError:
    return ApiError(code, _TEXT[code])


def _optional_department(call: Call, name: str) -> int | None:
    """The department id in query parameter `name`, if given: 60123 if malformed, 60003 if
    there is no such department (UNCERTAIN: the code for a malformed id is not documented)."""
    raw = call.request.query.get(name, "")
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise _fail(60123)
    value = int(raw)
    if value not in call.state.org.department_by_id:
        raise _fail(60003)
    return value


def _department_param(call: Call, name: str) -> int:
    """A required department id; 40058 when missing (UNCERTAIN: undocumented code)."""
    value = _optional_department(call, name)
    if value is None:
        raise _fail(40058)
    return value


def _readable_department(call: Call, name: str) -> int:
    value = _department_param(call, name)
    if not call.state.org.readable(value):
        raise _fail(60011)
    return value


def _sees(org: Org, userid: str) -> bool:
    member = org.member_by_userid.get(userid)
    return member is not None and org.member_readable(member)


def _department(org: Org, d: Department) -> dict[str, Any]:
    # Only leaders the app can see are listed (api-facts A3.3).
    leaders = [u for u in d.department_leader if _sees(org, u)]
    return {
        "id": d.id,
        "name": d.name,
        "name_en": d.name_en,
        "department_leader": leaders,
        "parentid": d.parentid,
        "order": d.order,
    }


def _attr(a: Attr) -> dict[str, Any]:
    if a.type == 0:
        return {"type": 0, "name": a.name, "text": {"value": a.value}}
    if a.type == 1:
        return {"type": 1, "name": a.name, "web": {"url": a.url, "title": a.title}}
    return {
        "type": 2,
        "name": a.name,
        "miniprogram": {"appid": a.appid, "pagepath": a.pagepath, "title": a.title},
    }


def _profile(p: ExternalProfile) -> dict[str, Any]:
    out: dict[str, Any] = {
        "external_corp_name": p.external_corp_name,
        "external_attr": [_attr(a) for a in p.external_attr],
    }
    if p.channels_nickname:
        out["wechat_channels"] = {"nickname": p.channels_nickname, "status": p.channels_status}
    return out


def _simple_member(org: Org, m: Member) -> dict[str, Any]:
    return {
        "userid": m.userid,
        "name": m.name,
        "department": [d for d in m.department if org.readable(d)],
    }


def _member(org: Org, m: Member) -> dict[str, Any]:
    keep = [i for i, d in enumerate(m.department) if org.readable(d)]
    leaders = m.is_leader_in_dept or (0,) * len(m.department)
    out: dict[str, Any] = {
        "userid": m.userid,
        "name": m.name,
        "department": [m.department[i] for i in keep],
        "order": [m.order[i] for i in keep],
        "position": m.position,
        "is_leader_in_dept": [leaders[i] for i in keep],
        "direct_leader": [u for u in m.direct_leader if _sees(org, u)],
        "telephone": m.telephone,
        "alias": m.alias,
        "status": m.status,
        "english_name": m.english_name,
        "extattr": {"attrs": [_attr(a) for a in m.extattr]},
        "external_position": m.external_position,
    }
    # The main department is returned only when the app may read it.
    if org.readable(m.main_department):
        out["main_department"] = m.main_department
    if m.external_profile is not None:
        out["external_profile"] = _profile(m.external_profile)
    return out


def _ok(**payload: Any) -> web.Response:
    return json_reply({"errcode": 0, "errmsg": "ok", **payload})


def _member_list(call: Call, render: Callable[[Org, Member], dict[str, Any]]) -> web.Response:
    # Member lists are rendered once per department until the directory changes: walks ask
    # for every department, and the emulator should not be what a benchmark measures.
    org = call.state.org
    department = _readable_department(call, "department_id")
    body = org.reply(
        (call.request.path, department),
        lambda: msgspec.json.encode(
            {"errcode": 0, "errmsg": "ok",
             "userlist": [render(org, m) for m in org.listed_in(department)]}
        ),
    )
    return web.Response(body=body, content_type="application/json", charset="utf-8")


async def department_list(call: Call) -> web.StreamResponse:
    """GET department/list[?id=]: the department and its descendants that the app may read."""
    org = call.state.org
    top = _optional_department(call, "id")
    if top is not None and not org.readable(top):
        raise _fail(60011)
    ids = org.subtree_ids(1 if top is None else top)
    return _ok(
        department=[_department(org, org.department_by_id[i]) for i in ids if org.readable(i)]
    )


async def department_simplelist(call: Call) -> web.StreamResponse:
    """GET department/simplelist[?id=]: ids, parents and order of the sub-tree, parents first."""
    org = call.state.org
    top = _optional_department(call, "id")
    rows = [org.department_by_id[i] for i in org.subtree_ids(1 if top is None else top)]
    return _ok(department_id=[{"id": d.id, "parentid": d.parentid, "order": d.order}
                              for d in rows])


async def department_get(call: Call) -> web.StreamResponse:
    """GET department/get?id=: one department."""
    org = call.state.org
    value = _department_param(call, "id")
    return _ok(department=_department(org, org.department_by_id[value]))


async def user_list(call: Call) -> web.StreamResponse:
    """GET user/list?department_id=: full members listed directly in the department.

    `fetch_child` is ignored: it is gone from the current docs (api-facts A4.2).
    """
    return _member_list(call, _member)


async def user_simplelist(call: Call) -> web.StreamResponse:
    """GET user/simplelist?department_id=: userid, name and departments of each member."""
    return _member_list(call, _simple_member)


async def user_get(call: Call) -> web.StreamResponse:
    """GET user/get?userid=: one member, fields flat beside errcode."""
    org = call.state.org
    userid = call.request.query.get("userid", "")
    if not userid or len(userid.encode()) > 64:
        raise _fail(40003)
    member = org.member_by_userid.get(userid)
    # A departed member is no longer found (api-facts A4.4).
    if member is None or member.has_left:
        raise _fail(60111)
    if not org.member_readable(member):
        raise _fail(60011)
    return _ok(**_member(org, member))


def _rows(org: Org) -> Iterator[dict[str, Any]]:
    for m in org.listed_members():
        for d in m.department:
            if org.readable(d):
                yield {"userid": m.userid, "department": d}


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"list_id:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: object) -> int:
    if cursor is None or cursor == "":
        return 0
    if not isinstance(cursor, str):
        raise _fail(40058)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _fail(40058) from None
    prefix, _, number = raw.partition(":")
    if prefix != "list_id" or not number.isascii() or not number.isdigit():
        raise _fail(40058)
    return int(number)


async def user_list_id(call: Call) -> web.StreamResponse:
    """POST user/list_id {cursor, limit}: one row per (member, department), cursor paged.

    UNCERTAIN: the vendor allows only the contacts-sync secret here (api-facts A4.3); the
    emulator accepts the corp app token, and lists the departments that app may read.
    """
    body = await read_object(call.request)
    limit = body.get("limit", LIST_ID_DEFAULT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIST_ID_MAX:
        raise _fail(40058)
    offset = _offset(body.get("cursor"))
    # One more row than asked tells whether another page follows.
    rows = list(itertools.islice(_rows(call.state.org), offset, offset + limit + 1))
    more = len(rows) > limit
    return _ok(next_cursor=_cursor(offset + limit) if more else "", dept_user=rows[:limit])


def routes() -> list[Route]:
    """The directory routes."""
    table = [
        ("GET", DEPARTMENT_LIST, department_list),
        ("GET", DEPARTMENT_SIMPLELIST, department_simplelist),
        ("GET", DEPARTMENT_GET, department_get),
        ("GET", USER_LIST, user_list),
        ("GET", USER_SIMPLELIST, user_simplelist),
        ("GET", USER_GET, user_get),
        ("POST", USER_LIST_ID, user_list_id),
    ]
    return [Route(method, path, handler, render_error, token=ACCESS_TOKEN)
            for method, path, handler in table]
