"""A fake transport that answers from a script and counts what it was sent.

Replies are real JSON bytes, so the client's real decode and classify path runs.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wecom_feishu_async import RawResponse

Reply = RawResponse | BaseException
Handler = Callable[["Sent"], Reply | Awaitable[Reply]]


@dataclass
class Sent:
    method: str
    path: str
    params: dict[str, str]
    body: Any
    headers: dict[str, str]


def reply(
    payload: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> RawResponse:
    return RawResponse(status, dict(headers or {}), json.dumps(payload).encode())


TOKEN_REPLIES: dict[str, dict[str, object]] = {
    "/cgi-bin/gettoken": {"errcode": 0, "errmsg": "ok", "access_token": "AT-1", "expires_in": 7200},
    # The provider token's success reply has no errcode (documented quirk).
    "/cgi-bin/service/get_provider_token": {"provider_access_token": "PT-1", "expires_in": 7200},
}


@dataclass
class FakeTransport:
    """Answers each request with ``handler(sent)``; raising replies are raised."""

    handler: Handler
    delay: float = 0.0
    sent: list[Sent] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    closed: bool = False
    timeouts: list[float | None] = field(default_factory=list)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float | None = None,
    ) -> RawResponse:
        self.timeouts.append(timeout)
        sent = Sent(method, path, dict(params), json.loads(body) if body else None, dict(headers))
        self.sent.append(sent)
        self.requests[path] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            result = self.handler(sent)
            if asyncio.iscoroutine(result):
                result = await result
        finally:
            self.in_flight -= 1
        if isinstance(result, BaseException):
            raise result
        assert isinstance(result, RawResponse)
        return result

    async def close(self) -> None:
        self.closed = True


def scripted(*replies: Reply) -> Handler:
    """Token requests succeed; other requests get ``replies`` in turn (the last repeats)."""
    queue = list(replies)

    def handler(sent: Sent) -> Reply:
        if sent.path in TOKEN_REPLIES:
            return reply(TOKEN_REPLIES[sent.path])
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler
