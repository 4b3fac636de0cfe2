"""Tests of the local WeCom emulator, over plain HTTP (not through the library's client)."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from wecom_feishu_async.emulator import Emulator, Fault, Org, SearchTruth

GETTOKEN = "/cgi-bin/gettoken"
PROVIDER_TOKEN = "/cgi-bin/service/get_provider_token"
SEARCH = "/cgi-bin/service/contact/search"
BATCH = "/cgi-bin/service/contact/batchsearch"
ERRMSG = re.compile(
    r"^.+, hint: \[[^\]]+\], from ip: 127\.0\.0\.1, "
    r"more info at https://open\.work\.weixin\.qq\.com/devtool/query\?e=(-?\d+)$"
)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(seed=1, members=300, departments=30) as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def provider_token(session: aiohttp.ClientSession, emu: Emulator) -> str:
    creds = emu.credentials
    body = {"corpid": creds.provider_corp_id, "provider_secret": creds.provider_secret}
    async with session.post(emu.url + PROVIDER_TOKEN, json=body) as resp:
        data = await resp.json()
    token = data["provider_access_token"]
    assert isinstance(token, str)
    return token


async def access_token(session: aiohttp.ClientSession, emu: Emulator) -> dict[str, Any]:
    creds = emu.credentials
    params = {"corpid": creds.corp_id, "corpsecret": creds.corp_secret}
    async with session.get(emu.url + GETTOKEN, params=params) as resp:
        assert resp.status == 200
        data: dict[str, Any] = await resp.json()
    return data


async def call(
    session: aiohttp.ClientSession,
    emu: Emulator,
    path: str,
    body: Any,
    token: str | None,
) -> dict[str, Any]:
    params = {} if token is None else {"provider_access_token": token}
    raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
    async with session.post(emu.url + path, params=params, data=raw) as resp:
        assert resp.status == 200, await resp.text()
        data: dict[str, Any] = await resp.json()
        if data.get("errcode"):
            assert resp.headers["error-code"] == str(data["errcode"])
            assert resp.headers["error-msg"] == data["errmsg"]
            match = ERRMSG.match(data["errmsg"])
            assert match is not None, data["errmsg"]
            assert match.group(1) == str(data["errcode"])
    return data


def search_body(emu: Emulator, word: str, **extra: Any) -> dict[str, Any]:
    return {"auth_corpid": emu.org.corp_id, "query_word": word, **extra}


async def walk(
    session: aiohttp.ClientSession, emu: Emulator, token: str, word: str, **extra: Any
) -> tuple[SearchTruth, list[dict[str, Any]]]:
    """All pages of a single search, concatenated, plus the raw pages."""
    merged, pages, cursor = SearchTruth(), [], ""
    while True:
        body = search_body(emu, word, cursor=cursor, **extra)
        data = await call(session, emu, SEARCH, body, token)
        assert data["errcode"] == 0, data
        pages.append(data)
        result = data["query_result"]
        merged.extend(
            SearchTruth(
                result["user"]["userid"],
                result["user"]["open_userid"],
                result["party"]["department_id"],
                result["dismiss_user"]["userid"],
                result["dismiss_user"]["open_userid"],
            )
        )
        if data["is_last"]:
            assert data["next_cursor"] == ""
            return merged, pages
        assert data["next_cursor"]
        cursor = data["next_cursor"]
        assert len(pages) < 500


# --- organisation -------------------------------------------------------------------------


def test_org_is_reproducible_and_well_formed() -> None:
    org = Org.generate(3, members=120, departments=12)
    again = Org.generate(3, members=120, departments=12)
    assert org.members == again.members and org.departments == again.departments
    assert org.apps == again.apps and org.corp_id == again.corp_id
    assert Org.generate(4, members=120, departments=12).members != org.members

    root = org.department_by_id[1]
    assert root.parentid == 0 and len(org.departments) == 12
    ids = {d.id for d in org.departments}
    for d in org.departments[1:]:
        assert d.parentid in ids and d.pinyin.isascii() and d.name_en
        depth, current = 0, d
        while current.parentid:
            current, depth = org.department_by_id[current.parentid], depth + 1
        assert depth <= 5
    everyone = org.members + org.departed
    assert len(org.members) == 120 and len(org.departed) == 6  # about 5% departed
    assert len({m.userid for m in everyone}) == len(everyone)
    assert len({m.open_userid for m in everyone}) == len(everyone)
    for m in org.members:
        assert 1 <= len(m.department) <= 3 and set(m.department) <= ids and m.status == 1
        assert m.pinyin.isascii() and m.pinyin.islower() and m.userid.startswith(m.pinyin)
    for m in org.departed:
        assert m.department == () and m.former_department and m.status == 5


def test_common_words_match_dozens() -> None:
    org = Org.generate(1)
    for word in ("wang", "张", "li"):
        assert len(org.search(word).userid) >= 20, word
    words = org.sample_words(8, seed=2)
    assert len(set(words)) == 8
    assert all(len(org.search(w, query_type=1).userid) >= 2 for w in words)
    assert any(w.isascii() and w.islower() for w in words)  # a pinyin syllable
    assert any(not w.isascii() for w in words)  # a surname character
    assert any(w[:1].isupper() for w in words)  # an English name
    assert Org.generate(1, members=0, departments=1).sample_words(5) == []
    many = org.sample_words(400, seed=2)
    assert len(many) == 400 and len(set(many)) > 150 and many[:8] == words


def test_app_visible_ranges(emulator: Emulator) -> None:
    org = emulator.org
    whole = org.apps[1000002]
    assert all(whole.sees_member(m) for m in org.members)
    partial = org.apps[emulator.credentials.agentid]
    seen = [m for m in org.members if partial.sees_member(m)]
    assert 0 < len(seen) < len(org.members)
    for top in partial.visible_department_ids:
        for sub in org.subtree_ids(top):  # a listed sub-tree makes its descendants visible
            assert partial.sees_department(org.department_by_id[sub])
            assert all(partial.sees_member(m) for m in org.members_of(sub))
    assert not partial.sees_department(org.department_by_id[1])


def test_credentials_repr_hides_secrets(emulator: Emulator) -> None:
    creds = emulator.credentials
    assert creds.corp_secret not in repr(creds) and creds.provider_secret not in repr(creds)
    assert creds.corp_id == emulator.org.corp_id and emulator.url.startswith("http://127.0.0.1:")


# --- tokens -------------------------------------------------------------------------------


async def test_gettoken_same_token_until_revoked(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    first = await access_token(session, emulator)
    assert first["errcode"] == 0 and first["expires_in"] == 7200
    assert len(first["access_token"]) >= 100
    second = await access_token(session, emulator)
    assert second["access_token"] == first["access_token"]
    assert emulator.stats.tokens_issued["access_token"] == 1
    emulator.revoke_tokens()
    third = await access_token(session, emulator)
    assert third["access_token"] != first["access_token"]
    assert emulator.stats.tokens_issued["access_token"] == 2
    assert emulator.stats.token_requests["access_token"] == 3


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"corpsecret": "x"}, 41002),
        ({"corpid": "CORP"}, 41004),
        ({"corpid": "wwnotmine", "corpsecret": "x"}, 40013),
        ({"corpid": "CORP", "corpsecret": "wrong"}, 40001),
    ],
)
async def test_gettoken_errors(
    emulator: Emulator, session: aiohttp.ClientSession, params: dict[str, str], code: int
) -> None:
    params = {k: emulator.credentials.corp_id if v == "CORP" else v for k, v in params.items()}
    async with session.get(emulator.url + GETTOKEN, params=params) as resp:
        assert resp.status == 200
        data = await resp.json()
    assert data["errcode"] == code and resp.headers["error-code"] == str(code)
    assert ERRMSG.match(data["errmsg"])
    assert emulator.stats.errors[code] == 1 and emulator.stats.tokens_issued["access_token"] == 0


async def test_provider_token(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    creds = emulator.credentials
    body = {"corpid": creds.provider_corp_id, "provider_secret": creds.provider_secret}
    data = await call(session, emulator, PROVIDER_TOKEN, body, None)
    assert "errcode" not in data and data["expires_in"] == 7200  # documented quirk
    assert await provider_token(session, emulator) == data["provider_access_token"]
    assert emulator.stats.tokens_issued["provider_access_token"] == 1
    for bad, code in [
        ({**body, "provider_secret": "nope"}, 40001),
        ({"provider_secret": creds.provider_secret}, 41002),
        ({"corpid": creds.provider_corp_id}, 41004),
    ]:
        assert (await call(session, emulator, PROVIDER_TOKEN, bad, None))["errcode"] == code
    data = await call(session, emulator, PROVIDER_TOKEN, b"{not json", None)
    assert data["errcode"] == 40058 and "Warning: wrong json format." in data["errmsg"]


async def test_provider_token_checks(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    body = search_body(emulator, "wang")
    assert (await call(session, emulator, SEARCH, body, None))["errcode"] == 41001
    assert (await call(session, emulator, SEARCH, body, "garbage"))["errcode"] == 40082
    wrong_kind = (await access_token(session, emulator))["access_token"]
    assert (await call(session, emulator, SEARCH, body, wrong_kind))["errcode"] == 40082
    token = await provider_token(session, emulator)
    assert (await call(session, emulator, SEARCH, body, token))["errcode"] == 0
    emulator.revoke_tokens()
    assert (await call(session, emulator, SEARCH, body, token))["errcode"] == 40082
    emulator.token_ttl = 0.05
    short = await provider_token(session, emulator)
    assert short != token
    await asyncio.sleep(0.1)
    assert (await call(session, emulator, SEARCH, body, short))["errcode"] == 40082
    assert await provider_token(session, emulator) != short  # expired → a new one is minted
    assert emulator.stats.tokens_issued["provider_access_token"] == 3


# --- search -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"query_word": ""}, 40058),
        ({"query_word": "王" * 65}, 40058),
        ({"query_word": 5}, 40058),
        ({"limit": 201}, 40058),
        ({"limit": -1}, 40058),
        ({"query_type": 3}, 40058),
        ({"query_type": True}, 40058),
        ({"query_range": 2}, 40058),
        ({"full_match_field": 3}, 40058),
        ({"cursor": "not-a-cursor"}, 40058),
        ({"auth_corpid": "wwsomebodyelse"}, 40013),
        ({"agentid": 999}, 40056),
        ({"query_word": "王" * 64}, 0),  # 64 characters (192 UTF-8 bytes) is allowed
        ({"limit": 200, "agentid": 1000002}, 0),
    ],
)
async def test_search_validation(
    emulator: Emulator, session: aiohttp.ClientSession, extra: dict[str, Any], code: int
) -> None:
    token = await provider_token(session, emulator)
    body = {**search_body(emulator, "wang"), **extra}
    assert (await call(session, emulator, SEARCH, body, token))["errcode"] == code


async def test_cursor_of_another_query_is_refused(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    token = await provider_token(session, emulator)
    first = await call(session, emulator, SEARCH, search_body(emulator, "li", limit=2), token)
    assert first["is_last"] is False
    other = search_body(emulator, "wang", limit=2, cursor=first["next_cursor"])
    assert (await call(session, emulator, SEARCH, other, token))["errcode"] == 40058


async def test_pages_concatenate_to_truth(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    token = await provider_token(session, emulator)
    org = emulator.org
    words = [*org.sample_words(5, seed=3), "wang", "li"]
    for word in words:
        for agentid in (0, emulator.credentials.agentid):
            extra = {"agentid": agentid, "query_range": 1, "limit": 4}
            merged, pages = await walk(session, emulator, token, word, **extra)
            truth = org.search(word, query_range=1, agentid=agentid)
            assert merged == truth, (word, agentid)
            for data in pages:
                result = data["query_result"]
                assert len(result["user"]["userid"]) <= 4
                assert len(result["dismiss_user"]["userid"]) <= 4
                assert len(result["party"]["department_id"]) <= 4


async def test_short_pages_before_the_last(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    token = await provider_token(session, emulator)
    agentid = emulator.credentials.agentid
    _, unfiltered = await walk(session, emulator, token, "li", query_type=1, limit=5)
    assert len(unfiltered) > 3
    assert all(len(p["query_result"]["user"]["userid"]) == 5 for p in unfiltered[:-1])
    _, filtered = await walk(session, emulator, token, "li", query_type=1, limit=5, agentid=agentid)
    assert len(filtered) == len(unfiltered)  # filtering happens after the limit is applied
    short = [p for p in filtered[:-1] if len(p["query_result"]["user"]["userid"]) < 5]
    assert short and all(p["is_last"] is False for p in short)


async def test_search_semantics_against_the_org(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    token = await provider_token(session, emulator)
    org = emulator.org

    async def ids(word: str, **extra: Any) -> SearchTruth:
        return (await walk(session, emulator, token, word, limit=200, **extra))[0]

    # Fuzzy match, computed here independently of the emulator's matcher.
    expected = [
        m.userid
        for m in org.members
        if "wang" in m.pinyin or "wang" in m.name or "wang" in m.english_name.lower()
    ]
    assert (await ids("WANG", query_type=1)).userid == expected
    departed = org.departed[0]
    found = await ids(departed.name, query_type=1, query_range=1)
    assert departed.userid in found.dismiss_userid and departed.userid not in found.userid
    assert (await ids(departed.name, query_type=1)).dismiss_userid == []
    member = org.members[0]
    exact = await ids(member.name, query_type=1, full_match_field=1)
    assert member.userid in exact.userid
    assert all(org.member_by_userid[u].name == member.name for u in exact.userid)
    english = next(m for m in org.members if m.english_name)
    by_english = await ids(english.english_name.upper(), full_match_field=2)
    assert english.userid in by_english.userid and by_english.department_id == []
    department = org.departments[3]
    parties = await ids(department.pinyin, query_type=2)
    assert department.id in parties.department_id and parties.userid == []
    users_only = await ids(department.name, query_type=1)
    assert users_only.department_id == []


async def test_batch_search(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    token = await provider_token(session, emulator)
    items: list[dict[str, Any]] = [
        {"query_word": "li", "query_type": 1, "limit": 3, "query_range": 1},
        {"query_word": "张", "limit": 2, "full_match_field": 0, "cursor": ""},
        {"query_word": "nobody-matches-this"},
    ]
    body = {"auth_corpid": emulator.org.corp_id, "agentid": 0, "query_request_list": items}
    data = await call(session, emulator, BATCH, body, token)
    assert data["errcode"] == 0
    results = data["query_result_list"]
    assert [r["query_request"] for r in results] == items
    for item, result in zip(items, results, strict=True):
        one = {"auth_corpid": emulator.org.corp_id, **item}
        single = await call(session, emulator, SEARCH, one, token)
        assert result["query_result"] == single["query_result"]
        assert result["is_last"] == single["is_last"]
    assert results[2]["is_last"] is True and results[2]["next_cursor"] == ""
    assert results[0]["is_last"] is False and results[0]["next_cursor"]

    def many(n: int) -> dict[str, Any]:
        return {**body, "query_request_list": [{"query_word": "li"}] * n}

    assert (await call(session, emulator, BATCH, many(51), token))["errcode"] == 40058
    assert (await call(session, emulator, BATCH, many(0), token))["errcode"] == 40058
    assert (await call(session, emulator, BATCH, many(50), token))["errcode"] == 0
    no_list = {"auth_corpid": emulator.org.corp_id}
    assert (await call(session, emulator, BATCH, no_list, token))["errcode"] == 40058
    assert emulator.stats.batch_sizes == [3, 51, 0, 50, 0]


# --- knobs --------------------------------------------------------------------------------


async def test_fault_script(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    token = await provider_token(session, emulator)
    emulator.faults.script(BATCH, [Fault.errcode(-1), Fault.http(502), Fault.errcode(45009)])
    body = {"auth_corpid": emulator.org.corp_id, "query_request_list": [{"query_word": "li"}]}
    url = emulator.url + BATCH
    outcomes = []
    for _ in range(4):
        async with session.post(url, params={"provider_access_token": token}, json=body) as resp:
            if resp.status != 200:
                outcomes.append(resp.status)
            else:
                outcomes.append((await resp.json())["errcode"])
    assert outcomes == [-1, 502, 45009, 0]
    assert emulator.stats.requests[BATCH] == 4 and emulator.stats.batch_sizes == [1] * 4
    assert emulator.stats.errors == {-1: 1, 45009: 1}
    assert emulator.stats.http_errors == {502: 1}


async def test_fault_rate_is_reproducible(session: aiohttp.ClientSession) -> None:
    async def run() -> list[int]:
        async with Emulator(seed=1, members=50, departments=5) as emu:
            emu.faults.rate(0.3, [Fault.errcode(-1), Fault.http(503)], seed=7)
            for _ in range(10):  # token endpoints get no random faults
                assert (await access_token(session, emu))["errcode"] == 0
            token = await provider_token(session, emu)
            for _ in range(10):
                assert await provider_token(session, emu) == token
            out = []
            for _ in range(40):
                url = emu.url + SEARCH
                params = {"provider_access_token": token}
                async with session.post(url, params=params, json=search_body(emu, "li")) as resp:
                    out.append(
                        resp.status if resp.status != 200 else (await resp.json())["errcode"]
                    )
            assert emu.stats.requests[SEARCH] == 40
            return out

    first, second = await run(), await run()
    assert first == second
    assert {-1, 503, 0} <= set(first)


async def test_fault_expire_token(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    token = await provider_token(session, emulator)
    emulator.faults.script(SEARCH, [Fault.expire_token()])
    body = search_body(emulator, "wang")
    assert (await call(session, emulator, SEARCH, body, token))["errcode"] == 40082
    assert (await call(session, emulator, SEARCH, body, token))["errcode"] == 40082
    fresh = await provider_token(session, emulator)
    assert fresh != token
    assert (await call(session, emulator, SEARCH, body, fresh))["errcode"] == 0


async def test_latency_shows_in_max_in_flight(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    token = await provider_token(session, emulator)
    emulator.latency = 0.05
    started = time.monotonic()
    replies = await asyncio.gather(
        *(call(session, emulator, SEARCH, search_body(emulator, "li"), token) for _ in range(10))
    )
    assert time.monotonic() - started >= 0.05
    assert all(r["errcode"] == 0 for r in replies)
    assert emulator.stats.max_in_flight[SEARCH] >= 5
    emulator.stats.reset()
    assert emulator.stats.requests == {} and emulator.stats.max_in_flight == {}


async def test_concurrency_cap(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    token = await provider_token(session, emulator)
    emulator.latency = 0.2
    emulator.max_concurrency = 3
    replies = await asyncio.gather(
        *(call(session, emulator, SEARCH, search_body(emulator, "li"), token) for _ in range(8))
    )
    codes = sorted(r["errcode"] for r in replies)
    assert codes == [0, 0, 0] + [45033] * 5


async def test_quota(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    token = await provider_token(session, emulator)
    emulator.quota_per_minute = 5
    body = search_body(emulator, "li")
    codes = [(await call(session, emulator, SEARCH, body, token))["errcode"] for _ in range(7)]
    assert codes == [0] * 5 + [45009] * 2
    # The window is per path: batch search still has its own quota; tokens have none.
    batch = {"auth_corpid": emulator.org.corp_id, "query_request_list": [{"query_word": "li"}]}
    assert (await call(session, emulator, BATCH, batch, token))["errcode"] == 0
    for _ in range(6):
        assert await provider_token(session, emulator) == token


# --- command ------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
async def test_command(session: aiohttp.ClientSession) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wecom_feishu_async.emulator",
        "--port",
        "0",
        "--members",
        "40",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=10)
        info = msgspec.json.decode(line)
        assert info["url"].startswith("http://127.0.0.1:")
        params = {"corpid": info["corp_id"], "corpsecret": info["corp_secret"]}
        async with session.get(info["url"] + GETTOKEN, params=params) as resp:
            assert (await resp.json())["errcode"] == 0
        proc.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(proc.communicate(), timeout=10)
        assert proc.returncode == 0 and rest == b""
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
