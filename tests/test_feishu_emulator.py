"""The Feishu side of the emulator, over plain HTTP (not through the library's client)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import SENSITIVE
from wecom_feishu_async.emulator import Emulator, Fault

INTERNAL_TOKEN = "/open-apis/auth/v3/tenant_access_token/internal"
APP_TOKEN = "/open-apis/auth/v3/app_access_token"
TENANT_TOKEN = "/open-apis/auth/v3/tenant_access_token"
BASE = "/open-apis/application/v6/applications/"
SUGGEST = BASE + "{app_id}/app_versions/{version_id}/contacts_range_suggest"


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(seed=2, members=120, departments=12, feishu_versions=30) as server:
        creds = server.feishu.credentials
        SENSITIVE.update((creds.app_secret, creds.store_app_secret, creds.app_ticket))
        yield server
        SENSITIVE.update(server.issued_tokens())


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def post(session: aiohttp.ClientSession, emu: Emulator, path: str,
               body: object) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else None
    async with session.post(emu.url + path, data=raw,
                            json=None if raw is not None else body) as resp:
        data: dict[str, Any] = await resp.json()
        return resp.status, data


async def get(session: aiohttp.ClientSession, emu: Emulator, path: str, token: str | None,
              **params: str) -> tuple[int, dict[str, Any], Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with session.get(emu.url + BASE + path, params=params, headers=headers) as resp:
        data: dict[str, Any] = await resp.json()
        return resp.status, data, resp.headers


async def tenant_token(session: aiohttp.ClientSession, emu: Emulator) -> dict[str, Any]:
    creds = emu.feishu.credentials
    status, data = await post(session, emu, INTERNAL_TOKEN,
                              {"app_id": creds.app_id, "app_secret": creds.app_secret})
    assert status == 200 and data["code"] == 0
    return data


async def test_same_token_while_a_quarter_of_its_life_remains(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    now = [1000.0]
    emulator.state.tokens.clock = lambda: now[0]
    first = await tenant_token(session, emulator)
    assert first["tenant_access_token"].startswith("t-") and first["expire"] == 7200
    now[0] += 5400  # 30 min left: still the same token, with its remaining life
    second = await tenant_token(session, emulator)
    assert second["tenant_access_token"] == first["tenant_access_token"]
    assert second["expire"] == 1800
    now[0] += 1  # under 30 min: a new token; the old one stays valid until it expires
    third = await tenant_token(session, emulator)
    assert third["tenant_access_token"] != first["tenant_access_token"]
    assert third["expire"] == 7200
    app = emulator.feishu.credentials.app_id
    version = emulator.feishu.apps[app].versions[0].version_id
    for token in (first, third):
        status, data, _ = await get(session, emulator,
                                    f"me/app_versions/{version}/contacts_range_suggest",
                                    token["tenant_access_token"])
        assert status == 200 and data["code"] == 0
    assert emulator.stats.tokens_issued["tenant_access_token"] == 2


@pytest.mark.parametrize(("body", "code"), [
    (b"{not json", 10003),
    ({"app_id": "", "app_secret": "x"}, 10003),
    ({"app_id": "cli_0000000000000000", "app_secret": "x"}, 10014),
    ({"app_id": "APP", "app_secret": "wrong"}, 10015),
])
async def test_token_errors_come_with_http_200(
    emulator: Emulator, session: aiohttp.ClientSession, body: object, code: int
) -> None:
    if isinstance(body, dict) and body["app_id"] == "APP":
        body["app_id"] = emulator.feishu.credentials.app_id
    status, data = await post(session, emulator, INTERNAL_TOKEN, body)
    assert status == 200 and data["code"] == code and data["msg"]


async def test_store_app_chain(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    creds = emulator.feishu.credentials
    app_body = {"app_id": creds.store_app_id, "app_secret": creds.store_app_secret}
    status, data = await post(session, emulator, APP_TOKEN, {**app_body, "app_ticket": "stale"})
    assert (status, data["code"]) == (200, 10012)
    status, data = await post(session, emulator, APP_TOKEN,
                              {**app_body, "app_ticket": creds.app_ticket})
    app_token = data["app_access_token"]
    assert app_token.startswith("a-") and data["expire"] == 7200
    status, data = await post(session, emulator, TENANT_TOKEN,
                              {"app_access_token": app_token, "tenant_key": "other"})
    assert data["code"] == 10013
    status, data = await post(session, emulator, TENANT_TOKEN,
                              {"app_access_token": "a-unknown", "tenant_key": creds.tenant_key})
    assert data["code"] == 99991664
    status, data = await post(session, emulator, TENANT_TOKEN,
                              {"app_access_token": app_token, "tenant_key": creds.tenant_key})
    status, listing, _ = await get(session, emulator, "me/app_versions",
                                   data["tenant_access_token"], lang="zh_cn")
    assert status == 200
    assert {v["app_id"] for v in listing["data"]["items"]} == {creds.store_app_id}


@pytest.mark.parametrize(("token", "code"), [
    (None, 99991661), ("t-unknown", 99991663), ("garbage", 99991671)])
async def test_bad_bearer_tokens(
    emulator: Emulator, session: aiohttp.ClientSession, token: str | None, code: int
) -> None:
    status, data, headers = await get(session, emulator, "me/app_versions", token, lang="zh_cn")
    assert status == 400 and data["code"] == code
    assert data["error"]["log_id"] == headers["X-Tt-Logid"]
    assert data["error"]["log_id"] in data["error"]["troubleshooter"]


async def test_validation_and_paging_errors(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    token = (await tenant_token(session, emulator))["tenant_access_token"]
    status, data, _ = await get(session, emulator, "me/app_versions", token)
    assert (status, data["code"]) == (400, 99992402)
    assert data["error"]["field_violations"][0]["field"] == "lang"
    _, data, _ = await get(session, emulator, "me/app_versions", token, lang="zh_cn", order="2")
    assert data["code"] == 210514
    _, data, _ = await get(session, emulator, "me/app_versions", token, lang="zh_cn",
                           page_size="10")
    assert data["data"]["has_more"] and len(data["data"]["items"]) == 10
    page_token = data["data"]["page_token"]
    _, data, _ = await get(session, emulator, "me/app_versions", token, lang="zh_cn",
                           page_token=page_token + "x")
    assert data["code"] == 210501
    _, last, _ = await get(session, emulator, "me/app_versions", token, lang="zh_cn",
                           page_size="50", page_token=page_token)
    assert len(last["data"]["items"]) == 20 and not last["data"]["has_more"]
    assert "page_token" not in last["data"]


async def test_quota_is_a_sliding_window_per_app_and_api(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    emulator.feishu_quota = (3, 60.0)
    token = (await tenant_token(session, emulator))["tenant_access_token"]
    for _ in range(3):
        status, _, _ = await get(session, emulator, "me/app_versions", token, lang="en_us")
        assert status == 200
    status, data, headers = await get(session, emulator, "me/app_versions", token, lang="en_us")
    assert (status, data["code"]) == (429, 99991400)
    assert headers["x-ogw-ratelimit-limit"] == "3"
    assert 1 <= int(headers["x-ogw-ratelimit-reset"]) <= 60
    # Another API of the same app has a quota of its own.
    version = emulator.feishu.apps[emulator.feishu.credentials.app_id].versions[0].version_id
    status, _, _ = await get(session, emulator, f"me/app_versions/{version}", token,
                             lang="en_us")
    assert status == 200
    assert emulator.stats.quota_refused == {BASE + "{app_id}/app_versions": 1}
    assert emulator.stats.busiest_window(BASE + "{app_id}/app_versions", 60.0) == 3


async def test_scripted_faults_render_as_feishu_errors(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    token = (await tenant_token(session, emulator))["tenant_access_token"]
    emulator.faults.script(SUGGEST, [Fault.errcode(99991400), Fault.errcode(5000),
                                     Fault.http(502)])
    path = "me/app_versions/oav_x/contacts_range_suggest"
    status, data, headers = await get(session, emulator, path, token)
    assert (status, data["code"], headers["x-ogw-ratelimit-reset"]) == (429, 99991400, "1")
    status, data, _ = await get(session, emulator, path, token)
    assert (status, data["code"]) == (500, 5000)
    async with session.get(emulator.url + BASE + path,
                           headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 502 and resp.content_type == "text/html"
