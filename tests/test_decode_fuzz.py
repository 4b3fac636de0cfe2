"""Decoding fuzz: whatever bytes a server sends, a reply decodes, or raises the library's
``DecodeError`` or an ``APIError`` naming the endpoint; nothing else ever comes out.

Every endpoint the library calls (token endpoints included) is fed random bytes, random
JSON, and mutations of real replies (the vendors' examples in ``payloads/`` and the
emulator's answers, recorded once per module) through the client's real ``_decipher``.
Endpoints are found by running every public call against the emulator; a test checks the
list below is exactly what the library calls, so a new endpoint cannot go unfuzzed.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import json
import math
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec.inspect as mi
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

import wecom_feishu_async.feishu
import wecom_feishu_async.wecom
from tests.conftest import SENSITIVE, emulator_secrets, find_leaks
from tests.fakes import FakeTransport, reply
from wecom_feishu_async import (
    APIError,
    AuthorizedCorp,
    CorpApp,
    DecodeError,
    Endpoint,
    FeishuApp,
    FeishuClient,
    FeishuStoreApp,
    PickerError,
    Provider,
    RateLimitedError,
    RawResponse,
    RetryPolicy,
    SuiteApp,
    TemplateMessage,
    WeComClient,
    WFAError,
    decode_picker_result,
)
from wecom_feishu_async.emulator import Emulator
from wecom_feishu_async.feishu import application as app_api
from wecom_feishu_async.feishu._auth import (
    APP_TOKEN_PATH,
    INTERNAL_TENANT_TOKEN_PATH,
    TENANT_TOKEN_PATH,
)

PAYLOADS = Path(__file__).parent / "payloads"
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Every endpoint the library calls, by its quota bucket (the path, or the path template).
WECOM_ENDPOINTS = [
    "/cgi-bin/gettoken",
    "/cgi-bin/service/get_provider_token",
    "/cgi-bin/service/get_suite_token",
    "/cgi-bin/service/get_corp_token",
    "/cgi-bin/service/contact/search",
    "/cgi-bin/service/contact/batchsearch",
    "/cgi-bin/department/list",
    "/cgi-bin/department/simplelist",
    "/cgi-bin/department/get",
    "/cgi-bin/user/list",
    "/cgi-bin/user/simplelist",
    "/cgi-bin/user/get",
    "/cgi-bin/user/list_id",
    "/cgi-bin/message/send",
    "/cgi-bin/user/list_selected_ticket_user",
    "/cgi-bin/miniprogram/jscode2session",
    "/cgi-bin/service/miniprogram/jscode2session",
]
FEISHU_ENDPOINTS = [
    INTERNAL_TENANT_TOKEN_PATH,
    APP_TOKEN_PATH,
    TENANT_TOKEN_PATH,
    app_api.APP_VERSIONS,
    app_api.APP_VERSION,
    app_api.CONTACTS_RANGE_SUGGEST,
    app_api.CONTACTS_RANGE_CONFIGURATION,
]
ENDPOINTS = WECOM_ENDPOINTS + FEISHU_ENDPOINTS
NOT_ENDPOINTS = {app_api.APPLICATION}  # a prefix the templates are built from

# The vendors' example replies, by endpoint.
EXAMPLES = {
    "/cgi-bin/service/contact/search": ["contact_search_response.json"],
    "/cgi-bin/service/contact/batchsearch": ["contact_batchsearch_response.json"],
    "/cgi-bin/user/list": ["user_list_response.json", "user_list_withheld.json"],
    app_api.CONTACTS_RANGE_SUGGEST: ["feishu_contacts_range_suggest_response.json"],
}

Corpus = dict[str, tuple[Endpoint[Any], list[bytes]]]


# Recording every endpoint and reply of every public call, once ----------------------------


class Recorder:
    """A transport that keeps every reply body, in front of the real one."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.bodies: dict[str, list[bytes]] = {}

    async def request(self, method: str, path: str, **kwargs: Any) -> RawResponse:
        raw: RawResponse = await self.inner.request(method, path, **kwargs)
        self.bodies.setdefault(path, []).append(raw.body)
        return raw

    async def close(self) -> None:
        await self.inner.close()


def recording(client: Any, corpus: Corpus, recorder: Recorder) -> Any:
    decipher = client._decipher

    def record(endpoint: Endpoint[Any], raw: RawResponse) -> Any:
        key = endpoint.bucket or endpoint.path
        corpus.setdefault(key, (endpoint, []))[1].append(raw.body)
        return decipher(endpoint, raw)

    client._decipher = record
    return client


async def every_public_call(emu: Emulator, corpus: Corpus) -> None:
    from wecom_feishu_async._core.transport import AiohttpTransport

    recorder = Recorder(AiohttpTransport(emu.url))
    creds, suite, feishu = emu.credentials, emu.suite, emu.feishu.credentials
    fast = RetryPolicy(max_retries=0)

    async def ticket() -> str:
        return suite.suite_ticket

    wecom = recording(WeComClient(provider=Provider(creds.provider_corp_id,
                                                    creds.provider_secret),
                                  corp_app=CorpApp(creds.corp_id, creds.corp_secret),
                                  transport=recorder, retry=fast), corpus, recorder)
    third = recording(WeComClient(suite=SuiteApp(suite.credentials.suite_id,
                                                 suite.credentials.suite_secret, ticket),
                                  authorized_corp=AuthorizedCorp(suite.credentials.auth_corpid,
                                                                 suite.credentials.permanent_code),
                                  transport=recorder, retry=fast), corpus, recorder)
    lark = recording(FeishuClient(FeishuApp(feishu.app_id, feishu.app_secret),
                                  transport=recorder, retry=fast), corpus, recorder)
    store = recording(FeishuClient(FeishuStoreApp(feishu.store_app_id, feishu.store_app_secret,
                                                  app_ticket=feishu.app_ticket,
                                                  tenant_key=feishu.tenant_key),
                                   transport=recorder, retry=fast), corpus, recorder)
    corp = creds.corp_id
    member = emu.org.members[0].userid
    chosen = [m.userid for m in emu.org.members[:4]]
    picked = decode_picker_result(suite.pick(chosen, operator=member)).selected_ticket
    versions: list[str] = []

    async def listed_versions() -> None:
        async for version in lark.application.app_versions(feishu.app_id, lang="zh_cn",
                                                            page_size=3):
            versions.append(version.version_id)

    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: wecom.contact.search(corp, emu.org.sample_words(1)[0], limit=2),
        lambda: wecom.contact.batch_search(corp, emu.org.sample_words(3)),
        lambda: wecom.directory.list_departments(),
        lambda: wecom.directory.list_department_ids(1),
        lambda: wecom.directory.get_department(1),
        lambda: wecom.directory.list_members(1),
        lambda: wecom.directory.list_simple_members(1),
        lambda: wecom.directory.get_member(member),
        lambda: wecom.directory.member_id_page(limit=5),
        lambda: wecom.miniprogram.code_to_session(suite.login_code()),
        lambda: wecom.miniprogram.code_to_session("used-or-unknown-code"),
        lambda: third.miniprogram.code_to_session(suite.login_code()),
        lambda: third.messages.list_selected_ticket_user(picked),
        lambda: third.messages.send_template(TemplateMessage(
            agentid=suite.credentials.agentid, template_id="tpl", content={"k": "v"},
            url="https://example.com", selected_tickets=[picked])),
        listed_versions,
        lambda: lark.application.app_version(feishu.app_id, versions[0], lang="en_us"),
        lambda: lark.application.contacts_range_suggest(feishu.app_id, versions[0]),
        lambda: lark.application.contacts_range_configuration(feishu.app_id, page_size=20),
        lambda: lark.application.app_version(feishu.app_id, "oav_unknown", lang="en_us"),
        lambda: store.application.contacts_range_suggest(feishu.store_app_id, "oav_x"),
    ]
    try:
        for call in calls:
            with contextlib.suppress(WFAError):  # an error reply is a reply to fuzz from too
                await call()
    finally:
        for client in (wecom, third, lark, store):
            await client.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def corpus() -> AsyncIterator[Corpus]:
    found: Corpus = {}
    async with Emulator(seed=5, members=60, departments=8, feishu_versions=7) as emu:
        await every_public_call(emu, found)
        SENSITIVE.update(emulator_secrets(emu))
    for key, names in EXAMPLES.items():
        if key in found:
            found[key][1].extend((PAYLOADS / name).read_bytes() for name in names)
    yield found


def path_constants() -> set[str]:
    """Every API path named by a module of the wecom and feishu packages."""
    found: set[str] = set()
    for package in (wecom_feishu_async.wecom, wecom_feishu_async.feishu):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            found |= {v for v in vars(module).values()
                      if isinstance(v, str) and v.startswith(("/cgi-bin/", "/open-apis/"))}
    return found - NOT_ENDPOINTS


def test_the_list_is_every_endpoint_the_library_calls(corpus: Corpus) -> None:
    assert sorted(corpus) == sorted(ENDPOINTS)
    assert path_constants() <= set(ENDPOINTS)
    assert all(bodies for _, bodies in corpus.values())


def test_endpoint_reprs_hold_no_secret(corpus: Corpus) -> None:
    # Tracebacks, debuggers and error trackers show the arguments of failing frames.
    reprs = [(f"repr of the {key} endpoint", repr(endpoint)) for key, (endpoint, _) in
             corpus.items()]
    leaks = find_leaks(reprs, SENSITIVE)
    assert not leaks


# Decoding through the client, and what may come out ----------------------------------------

WECOM = WeComClient(provider=Provider("wwp", "p-secret"), transport=FakeTransport(reply))
FEISHU = FeishuClient(FeishuApp("cli_a", "f-secret"), transport=FakeTransport(reply))
HEADERS = st.dictionaries(
    st.sampled_from(["X-Tt-Logid", "x-ogw-ratelimit-reset"]),
    st.sampled_from(["3", "-1", "nan", "inf", "1e999"]) | st.text(max_size=12), max_size=2)


def decipher(endpoint: Endpoint[Any], body: bytes, headers: dict[str, str]) -> None:
    """Decode ``body`` as ``endpoint``'s reply: a value, or only the library's errors."""
    client: Any = FEISHU if endpoint.path.startswith("/open-apis/") else WECOM
    try:
        client._decipher(endpoint, RawResponse(200, headers, body))
    except (DecodeError, APIError) as exc:
        assert exc.endpoint == endpoint.path
        assert endpoint.path in str(exc)
        if isinstance(exc, RateLimitedError):  # a wait the retry loop can sleep out
            assert exc.retry_after is None or math.isfinite(exc.retry_after)
        outcome = "decode error" if isinstance(exc, DecodeError) else "API error"
    else:
        outcome = "decoded"
    if currently_in_test_context():
        event(outcome)  # shown by --hypothesis-show-statistics


def fields_of(tp: Any) -> set[str]:
    """The JSON keys of a reply type, nested types included."""
    names: set[str] = {"errcode", "errmsg", "code", "msg", "data", "error"}
    stack = [mi.type_info(tp)]
    seen: set[int] = set()
    while stack:
        info = stack.pop()
        if id(info) in seen:
            continue
        seen.add(id(info))
        if isinstance(info, mi.StructType):
            names |= {f.encode_name for f in info.fields}
            stack += [f.type for f in info.fields]
        for attr in ("item_type", "key_type", "value_type"):
            if hasattr(info, attr):
                stack.append(getattr(info, attr))
        stack += list(getattr(info, "types", ()))
    return names


def json_values(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    scalars = (st.none() | st.booleans() | st.integers() | st.integers(-(10**30), 10**30)
               | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
    return st.recursive(
        scalars,
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(keys, kids, max_size=5),
        max_leaves=24,
    )


ANY_JSON = json_values(st.text(max_size=8))


def nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every node of a JSON value, the root first."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from nodes(child, (*path, index))


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    out = copy.copy(value)
    out[path[0]] = replaced(value[path[0]], path[1:], new)
    return out


def dropped(value: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        out = copy.copy(value)
        del out[path[0]]
        return out
    out = copy.copy(value)
    out[path[0]] = dropped(value[path[0]], path[1:])
    return out


def at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


ERROR_CODES = st.one_of(st.integers(1, 99_999_999), st.sampled_from(
    [-1, 40014, 42001, 45009, 45033, 60011, 60020, 60222, 99991400, 99991663, 2**63, -(2**70)]))
WRONG_TYPES = st.one_of(st.text(max_size=5), st.floats(), st.booleans(), st.none(),
                        st.lists(st.integers(), max_size=2), st.just({"x": 1}))


@st.composite
def mutated(draw: st.DrawFn, bodies: list[bytes]) -> bytes:
    """A real reply spoilt a few times: fields dropped or retyped, huge numbers, error codes
    with garbage, wrapped in a list, or cut short."""
    body = draw(st.sampled_from(bodies))
    try:
        value = json.loads(body)
    except ValueError:
        return body[: draw(st.integers(0, len(body)))]
    for _ in range(draw(st.integers(1, 3))):
        paths = list(nodes(value))
        path = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["drop", "retype", "huge", "wrap", "code", "codetype",
                                    "nest", "truncate"]))
        if how == "drop" and path:
            value = dropped(value, path)
        elif how == "retype":
            value = replaced(value, path, draw(json_values(st.text(max_size=6))))
        elif how == "huge":
            value = replaced(value, path, draw(st.sampled_from([1, -1])) * 10 ** draw(
                st.integers(18, 400)))
        elif how == "wrap":
            value = replaced(value, path, [at(value, path)])
        elif how == "nest":
            value = replaced(value, path, json.loads("[" * 200 + "0" + "]" * 200))
        elif how in ("code", "codetype") and isinstance(value, dict):
            key = "code" if "code" in value or "data" in value else "errcode"
            value = {**value, key: draw(ERROR_CODES if how == "code" else WRONG_TYPES),
                     ("msg" if key == "code" else "errmsg"): draw(st.text(max_size=9) | ANY_JSON)}
        elif how == "truncate":
            text = json.dumps(value).encode()
            return text[: draw(st.integers(0, max(len(text) - 1, 0)))]
    return json.dumps(value).encode()


def endpoint_and_bodies(corpus: Corpus, key: str) -> tuple[Endpoint[Any], list[bytes]]:
    assert key in corpus, f"{key} was not called against the emulator"
    return corpus[key]


@pytest.mark.parametrize("key", ENDPOINTS)
def test_real_replies_decode(corpus: Corpus, key: str) -> None:
    endpoint, bodies = endpoint_and_bodies(corpus, key)
    for body in bodies:
        decipher(endpoint, body, {})


def random_json(endpoint: Endpoint[Any], bodies: list[bytes]) -> st.SearchStrategy[bytes]:
    # Keys the reply type knows, so that decoding gets past the first level.
    keys = st.sampled_from(sorted(fields_of(endpoint.response))) | st.text(max_size=6)
    values = json_values(keys) | st.dictionaries(keys, json_values(keys), max_size=6)
    return values.map(lambda value: json.dumps(value).encode())


FUZZ: dict[str, Callable[[Endpoint[Any], list[bytes]], st.SearchStrategy[bytes]]] = {
    "random bytes": lambda endpoint, bodies: st.binary(max_size=200),
    "random JSON": random_json,
    "mutated real replies": lambda endpoint, bodies: mutated(bodies),
}


@pytest.mark.parametrize("kind", sorted(FUZZ))
@pytest.mark.parametrize("key", ENDPOINTS)
@SETTINGS
@given(data=st.data(), headers=HEADERS)
def test_fuzzed_replies_decode_or_raise_only_library_errors(
    corpus: Corpus, key: str, kind: str, data: st.DataObject, headers: dict[str, str]
) -> None:
    endpoint, bodies = endpoint_and_bodies(corpus, key)
    decipher(endpoint, data.draw(FUZZ[kind](endpoint, bodies), label=kind), headers)


def test_replies_nested_too_deeply_are_decode_errors(corpus: Corpus) -> None:
    # msgspec stops at a nesting depth of about 1000, with RecursionError.
    deep = b"[" * 5000 + b"]" * 5000
    escaped = []
    for key, (endpoint, _) in corpus.items():
        for body in (deep, b'{"errcode": 0, "code": 0, "unknown": ' + deep + b"}"):
            try:
                decipher(endpoint, body, {})
            except Exception as exc:
                escaped.append(f"{key}: {type(exc).__name__}")
    assert not escaped


def test_a_rate_limit_reset_that_is_no_number_asks_for_no_wait(corpus: Corpus) -> None:
    endpoint, _ = endpoint_and_bodies(corpus, app_api.CONTACTS_RANGE_SUGGEST)
    waits = {}
    for body in (b"", b'{"code": 99991400, "msg": "too many requests"}'):
        for reset in ("nan", "inf", "-inf", "1e999", "soon"):
            raw = RawResponse(429, {"x-ogw-ratelimit-reset": reset}, body)
            with pytest.raises(RateLimitedError) as info:
                FEISHU._decipher(endpoint, raw)
            waits[reset, len(body)] = info.value.retry_after
    # A nan wait would never end: the policy's own rate-limit wait applies instead.
    assert set(waits.values()) == {None}, waits


# The picker's result, posted by the front end, is decoded the same way ---------------------


PICKER_BODIES = [(PAYLOADS / "picker_result.json").read_bytes(),
                 json.dumps({"err_msg": "selectPrivilegedContact:fail_unsupported_context"})
                 .encode()]


def decode_picker(payload: Any) -> None:
    try:
        decode_picker_result(payload)
    except DecodeError as exc:
        assert exc.endpoint == "wx.qy.selectPrivilegedContact"
    except PickerError:
        pass


@SETTINGS
@given(data=st.data())
def test_picker_results_decode_or_raise_only_picker_errors(data: st.DataObject) -> None:
    keys = st.sampled_from(["err_msg", "result", "selectedTicket", "selectedUserCount",
                            "expiresIn", "userList", "openUserId"]) | st.text(max_size=5)
    value = data.draw(json_values(keys))
    decode_picker(value)
    decode_picker(json.dumps(value))
    decode_picker(data.draw(mutated(PICKER_BODIES)))
    decode_picker(data.draw(st.binary(max_size=100)))


def test_fuzz_clients_were_never_used_to_send() -> None:
    for client in (WECOM, FEISHU):
        transport = client._transport
        assert isinstance(transport, FakeTransport) and not transport.sent

