"""No secret, token or ticket reaches a log record, a repr or an exception message."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import Capture
from wecom_feishu_async import (
    CorpApp,
    MemoryTokenStore,
    Provider,
    RetryPolicy,
    WeComClient,
    WFAError,
)
from wecom_feishu_async.emulator import Emulator, Fault

SEARCH = "/cgi-bin/service/contact/search"


def texts_of(error: BaseException) -> list[str]:
    """The message and repr of an error and of every error in its chain."""
    out: list[str] = []
    seen: BaseException | None = error
    while seen is not None:
        out += [str(seen), repr(seen)]
        seen = seen.__cause__ or seen.__context__
    return out


async def test_no_secret_or_token_in_logs_reprs_or_errors(
    emu: Emulator, log_capture: Capture
) -> None:
    creds = emu.credentials
    store = MemoryTokenStore()
    policy = RetryPolicy(max_retries=1, base_delay=0.001, rate_limit_delay=0.001)
    seen: list[str] = []

    async with WeComClient(provider=Provider(creds.provider_corp_id, creds.provider_secret),
                           corp_app=CorpApp(creds.corp_id, creds.corp_secret),
                           base_url=emu.url, token_store=store,
                           retry=RetryPolicy(base_delay=0.001)) as client:
        # Success, a retried fault and a token refresh, logged at DEBUG.
        emu.faults.script(SEARCH, [Fault.errcode(-1), Fault.expire_token(), Fault.http(502)])
        page = await client.contact.search(creds.corp_id, "li")
        seen += [repr(client), repr(client.provider), repr(client.corp_app), repr(store),
                 repr(page)]
        token = await store.get(client.provider.store_key)  # type: ignore[union-attr]
        seen.append(repr(token))
        # API errors: a bad agentid, a persistent fault.
        emu.faults.rate(1.0, [Fault.errcode(-1)], seed=1, paths=[SEARCH])
        for call in (client.contact.search(creds.corp_id, "li", agentid=5),
                     client.contact.search(creds.corp_id, "li")):
            with pytest.raises(WFAError) as info:
                await call
            seen += texts_of(info.value)
        emu.faults.clear()

    # A wrong secret, a timeout and a refused connection.
    wrong = Provider(creds.provider_corp_id, creds.provider_secret + "x")
    async with WeComClient(provider=wrong, base_url=emu.url, retry=policy) as client:
        with pytest.raises(WFAError) as info:
            await client.contact.search(creds.corp_id, "li")
        seen += texts_of(info.value)
    emu.latency = 0.3
    async with WeComClient(corp_app=CorpApp(creds.corp_id, creds.corp_secret), base_url=emu.url,
                           timeout=0.05, retry=policy) as client:
        with pytest.raises(WFAError) as info:
            await client.call(_gettoken_probe())
        seen += texts_of(info.value)
    emu.latency = 0.0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with WeComClient(provider=Provider("p", creds.provider_secret),
                           base_url=f"http://127.0.0.1:{port}", retry=policy) as client:
        with pytest.raises(WFAError) as info:
            await client.contact.search(creds.corp_id, "li")
        seen += texts_of(info.value)

    sensitive = [creds.provider_secret, creds.corp_secret, *emu.issued_tokens()]
    assert len(sensitive) >= 4  # both secrets and at least two provider tokens
    everything = "\n".join(seen + log_capture.lines)
    assert log_capture.lines, "DEBUG logging should have produced records"
    for value in sensitive:
        assert value not in everything


def _gettoken_probe():  # type: ignore[no-untyped-def]
    from wecom_feishu_async import Endpoint
    from wecom_feishu_async.wecom import WeComReply

    return Endpoint("GET", "/cgi-bin/user/get", WeComReply, "access_token",
                    params={"userid": "zhangsan"})
