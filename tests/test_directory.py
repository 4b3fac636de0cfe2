"""WeCom directory endpoints: seed 003's payloads, the emulator's answers, member id paging."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from tests.fakes import FakeTransport, Sent, reply
from tests.test_contact import make_client
from wecom_feishu_async import (
    CorpApp,
    DecodeError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    WeComClient,
)
from wecom_feishu_async.emulator import Emulator
from wecom_feishu_async.wecom.models import Member, MemberList

PAYLOADS = Path(__file__).parent / "payloads"
USER_LIST = "/cgi-bin/user/list"
USER_LIST_ID = "/cgi-bin/user/list_id"
WITHHELD = ("mobile", "gender", "email", "biz_mail", "avatar", "thumb_avatar", "address",
            "qr_code", "open_userid")


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[WeComClient]:
    async with make_client(emu) as c:
        yield c


def seed_reply(name: str = "user_list_response.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


# --- seed 003 payloads -------------------------------------------------------------------


def test_seed_reply_decodes_every_field() -> None:
    [m] = msgspec.json.decode((PAYLOADS / "user_list_response.json").read_bytes(),
                              type=MemberList).userlist
    assert (m.userid, m.name, m.position, m.english_name, m.alias) == (
        "zhangsan", "李四", "后台工程师", "jacky", "jackzhang")
    assert (m.department, m.order, m.is_leader_in_dept) == ([1, 2], [1, 2], [1, 0])
    assert (m.direct_leader, m.main_department, m.status) == (["lisi"], 1, 1)
    assert (m.mobile, m.gender, m.email, m.biz_mail) == (
        "13800000000", "1", "zhangsan@gzdev.com", "zhangsan@qyycs2.wecom.work")
    assert m.avatar.endswith("/0") and m.thumb_avatar.endswith("/100")
    assert (m.telephone, m.open_userid) == ("020-123456", "xxxxxx")
    assert m.address == "广州市海珠区新港中路"
    assert m.qr_code.startswith("https://open.work.weixin.qq.com/wwopen/userQRCode")
    text, web = m.extattr.attrs
    assert (text.type, text.name, text.text and text.text.value) == (0, "文本名称", "文本")
    assert web.web is not None and (web.web.url, web.web.title) == ("http://www.test.com", "标题")
    assert m.external_position == "产品经理"
    profile = m.external_profile
    assert profile.external_corp_name == "企业简称"
    assert (profile.wechat_channels.nickname, profile.wechat_channels.status) == ("视频号名称", 1)
    kinds = [a.type for a in profile.external_attr]
    mini = profile.external_attr[2].miniprogram
    assert kinds == [0, 1, 2] and mini is not None
    assert (mini.appid, mini.pagepath, mini.title) == ("wx8bd80126147dFAKE", "/index",
                                                       "miniprogram")


def test_withheld_fields_decode_as_empty() -> None:
    full = msgspec.json.decode((PAYLOADS / "user_list_response.json").read_bytes(),
                               type=MemberList).userlist[0]
    [m] = msgspec.json.decode((PAYLOADS / "user_list_withheld.json").read_bytes(),
                              type=MemberList).userlist
    assert all(getattr(m, f) == "" for f in WITHHELD)
    assert msgspec.structs.replace(full, **{f: "" for f in WITHHELD}) == m
    # A third-party app's minimal view: the userid in place of the name, nothing else.
    bare = msgspec.json.decode(b'{"userid": "wo1", "name": "wo1"}', type=Member)
    assert bare.department == [] and bare.extattr.attrs == [] and bare.status == 0


def seed_handler(sent: Sent) -> Any:
    if sent.path == "/cgi-bin/gettoken":
        return reply({"errcode": 0, "errmsg": "ok", "access_token": "AT", "expires_in": 7200})
    if sent.path == "/cgi-bin/user/get":
        return reply({"errcode": 0, "errmsg": "ok", **seed_reply()["userlist"][0]})
    return reply(seed_reply())


async def test_list_members_and_get_member_send_the_documented_requests() -> None:
    fake = FakeTransport(seed_handler)
    async with WeComClient(corp_app=CorpApp("wwcorp", "secret"), transport=fake) as client:
        [listed] = await client.directory.list_members(2)
        single = await client.directory.get_member("zhangsan")
    assert single == listed and listed.userid == "zhangsan"
    first, second = fake.sent[1:]
    assert (first.method, first.path, first.params) == (
        "GET", USER_LIST, {"department_id": "2", "access_token": "AT"})
    assert (second.path, second.params) == ("/cgi-bin/user/get",
                                             {"userid": "zhangsan", "access_token": "AT"})


async def test_member_without_userid_is_a_decode_error_naming_the_endpoint() -> None:
    fake = FakeTransport(lambda s: seed_handler(s) if s.path == "/cgi-bin/gettoken"
                         else reply({"errcode": 0, "userlist": [{"name": "x"}]}))
    async with WeComClient(corp_app=CorpApp("wwcorp", "secret"), transport=fake) as client:
        with pytest.raises(DecodeError) as info:
            await client.directory.list_members(1)
    assert info.value.endpoint == USER_LIST


# --- against the emulator ----------------------------------------------------------------


def test_generated_members_have_leaders_profiles_and_every_status(emu: Emulator) -> None:
    org = emu.org
    listed = org.listed_members()
    assert {m.status for m in listed} == {1, 2, 4} and {m.status for m in org.departed} == {5}
    assert all(1 <= len(m.department) <= 3 for m in listed)
    assert all(len(m.order) == len(m.is_leader_in_dept) == len(m.department) for m in listed)
    leaders = {d.id: d.department_leader[0] for d in org.departments if d.department_leader}
    for m in listed:
        for department, flag in zip(m.department, m.is_leader_in_dept, strict=True):
            assert flag == (leaders.get(department) == m.userid)
        assert m.userid not in m.direct_leader
    assert sum(bool(m.direct_leader) for m in listed) > len(listed) // 2
    kinds = {a.type for m in listed if m.external_profile for a in m.external_profile.external_attr}
    assert kinds == {0, 1, 2} and any(m.extattr for m in listed)
    assert any(m.external_profile and m.external_profile.channels_nickname for m in listed)


async def test_departments(emu: Emulator, client: WeComClient) -> None:
    org = emu.org
    everything = await client.directory.list_departments()
    assert [d.id for d in everything] == org.subtree_ids(1)
    top = org.children(1)[0]
    sub = await client.directory.list_department_ids(top)
    assert [d.id for d in sub] == org.subtree_ids(top)
    got = await client.directory.get_department(top)
    want = org.department_by_id[top]
    assert (got.id, got.name, got.name_en, got.parentid, got.order) == (
        want.id, want.name, want.name_en, want.parentid, want.order)
    assert list(got.department_leader) == list(want.department_leader)
    with pytest.raises(NotFoundError) as info:
        await client.directory.get_department(999_999)
    assert info.value.code == 60003


async def test_forbidden_departments(emu: Emulator, client: WeComClient) -> None:
    org = emu.org
    hidden = org.children(1)[0]
    org.forbid_departments([hidden])
    # department/list leaves out what the app cannot read; simplelist lists every id.
    assert hidden not in [d.id for d in await client.directory.list_departments()]
    assert hidden in [d.id for d in await client.directory.list_department_ids()]
    with pytest.raises(PermissionDeniedError) as info:
        await client.directory.list_members(hidden)
    assert (info.value.code, info.value.endpoint) == (60011, USER_LIST)
    with pytest.raises(PermissionDeniedError):
        await client.directory.list_departments(hidden)
    only_there = next(m for m in org.listed_in(hidden) if m.department == (hidden,))
    with pytest.raises(PermissionDeniedError):
        await client.directory.get_member(only_there.userid)
    shared = next(m for m in org.listed_members() if len(m.department) > 1)
    org.forbid_departments([shared.department[0]])
    seen = await client.directory.get_member(shared.userid)
    assert seen.department == list(shared.department[1:])
    assert len(seen.order) == len(seen.is_leader_in_dept) == len(seen.department)
    assert seen.main_department == 0  # the main department is not readable


async def test_member_lists_match_the_org(emu: Emulator, client: WeComClient) -> None:
    org = emu.org
    statuses = set()
    for department in org.subtree_ids(1)[:12]:
        full = await client.directory.list_members(department)
        simple = await client.directory.list_simple_members(department)
        expected = org.listed_in(department)
        assert [m.userid for m in full] == [m.userid for m in simple] == [
            m.userid for m in expected]
        for got, want in zip(full, expected, strict=True):
            assert got.department == list(want.department) and got.status == want.status
            assert got.is_leader_in_dept == list(want.is_leader_in_dept)
            assert got.direct_leader == list(want.direct_leader)
            assert len(got.extattr.attrs) == len(want.extattr)
            assert all(getattr(got, f) == "" for f in WITHHELD)
            statuses.add(got.status)
    assert statuses <= {1, 2, 4}
    departed = org.departed[0]
    with pytest.raises(NotFoundError) as info:
        await client.directory.get_member(departed.userid)
    assert info.value.code == 60111


async def test_list_id_pages_return_every_row_once(emu: Emulator, client: WeComClient) -> None:
    org = emu.org
    org.forbid_departments([org.children(1)[0]])
    expected = [(m.userid, d) for m in org.listed_members() for d in m.department
                if org.readable(d)]
    rows = [(r.userid, r.department)
            async for r in client.directory.iter_member_ids(limit=97)]
    assert rows == expected and len(set(rows)) == len(rows) > 400
    assert emu.stats.requests[USER_LIST_ID] == math.ceil(len(rows) / 97)
    everything = [r async for r in client.directory.iter_member_ids()]
    assert len(everything) == len(rows)  # one page at the server's default limit


async def test_list_id_stops_on_a_repeated_cursor(log_capture: Any) -> None:
    pages = iter([{"next_cursor": "A", "dept_user": [{"userid": "a", "department": 1}]},
                  {"next_cursor": "A", "dept_user": [{"userid": "b", "department": 2}]}])

    def handler(sent: Sent) -> Any:
        if sent.path == "/cgi-bin/gettoken":
            return seed_handler(sent)
        return reply({"errcode": 0, "errmsg": "ok", **next(pages)})

    fake = FakeTransport(handler)
    async with WeComClient(corp_app=CorpApp("wwcorp", "secret"), transport=fake) as client:
        rows = [r.userid async for r in client.directory.iter_member_ids(limit=1)]
    assert rows == ["a", "b"] and fake.requests[USER_LIST_ID] == 2
    assert fake.sent[-1].body == {"cursor": "A", "limit": 1}
    assert any("repeated" in line for line in log_capture.lines)


BadCall = Callable[[WeComClient], Awaitable[object]]


async def collect(iterator: Any) -> list[Any]:
    return [x async for x in iterator]


BAD_INPUTS: list[tuple[str, BadCall]] = [
    ("department_id", lambda c: c.directory.list_members(0)),
    ("department_id", lambda c: c.directory.list_members(True)),  # type: ignore[arg-type]
    ("department_id", lambda c: c.directory.list_simple_members("2")),  # type: ignore[arg-type]
    ("department_id", lambda c: c.directory.list_departments(2**31)),
    ("department_id", lambda c: c.directory.get_department(-1)),
    ("userid", lambda c: c.directory.get_member("")),
    ("userid", lambda c: c.directory.get_member("x" * 65)),
    ("limit", lambda c: c.directory.member_id_page(limit=0)),
    ("limit", lambda c: collect(c.directory.iter_member_ids(limit=10_001))),
    ("cursor", lambda c: c.directory.member_id_page(cursor=5)),  # type: ignore[arg-type]
    ("department_id", lambda c: c.walk_departments(0)),
    ("department_id", lambda c: collect(c.walk_members(0))),
    ("concurrency", lambda c: collect(c.walk_members(concurrency=0))),
    ("on_unreadable", lambda c: collect(c.walk_members(on_unreadable="ignore"))),  # type: ignore[call-overload]
]


@pytest.mark.parametrize(("field", "call"), BAD_INPUTS)
async def test_bad_input_raises_before_anything_is_sent(
    emu: Emulator, client: WeComClient, field: str, call: BadCall
) -> None:
    with pytest.raises(InputError) as info:
        await call(client)
    assert info.value.field == field
    assert sum(emu.stats.requests.values()) == 0


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "code"),
    [
        ("GET", "/cgi-bin/user/list", {}, None, 40058),
        ("GET", "/cgi-bin/user/list", {"department_id": "x1"}, None, 60123),
        ("GET", "/cgi-bin/user/simplelist", {"department_id": "424242"}, None, 60003),
        ("GET", "/cgi-bin/department/get", {}, None, 40058),
        ("GET", "/cgi-bin/user/get", {}, None, 40003),
        ("GET", "/cgi-bin/user/get", {"userid": "nobody"}, None, 60111),
        ("POST", USER_LIST_ID, {}, {"limit": 0}, 40058),
        ("POST", USER_LIST_ID, {}, {"limit": 10_001}, 40058),
        ("POST", USER_LIST_ID, {}, {"cursor": "bm90LW1pbmU"}, 40058),
        ("POST", USER_LIST_ID, {}, {"limit": 10_000}, 0),
        ("GET", "/cgi-bin/department/list", {"fetch_child": "1"}, None, 0),
    ],
)
async def test_emulator_answers_bad_requests_with_errcodes(
    emu: Emulator, method: str, path: str, query: dict[str, str], body: Any, code: int
) -> None:
    async with aiohttp.ClientSession() as session:
        creds = emu.credentials
        params = {"corpid": creds.corp_id, "corpsecret": creds.corp_secret}
        async with session.get(emu.url + "/cgi-bin/gettoken", params=params) as resp:
            token = (await resp.json())["access_token"]
        async with session.request(method, emu.url + path, json=body,
                                   params={**query, "access_token": token}) as resp:
            assert (await resp.json())["errcode"] == code
