"""A worker process of the Redis tests: one client whose tokens and quotas live in Redis.

Run as ``python -m tests.redis_worker``, configured by the environment (``WFA_*``). It prints
``{"ready": true}``, then answers each JSON command read from stdin with one JSON line:
``{"op": "calls", "n": N}`` (N concurrent WeCom calls) or ``{"op": "suggest", "ids": [...]}``
(a Feishu ``contacts_range_suggest_all`` over those versions). It ends when stdin closes.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import msgspec

from wecom_feishu_async import (
    CorpApp,
    FeishuApp,
    FeishuClient,
    Quota,
    RetryPolicy,
    WeComClient,
)
from wecom_feishu_async.redis import RedisLimiterBackend, RedisTokenStore

FAST = RetryPolicy(base_delay=0.001, max_delay=0.005, rate_limit_delay=0.001)


def _client(env: dict[str, str], store: RedisTokenStore,
            backend: RedisLimiterBackend) -> WeComClient | FeishuClient:
    shared: dict[str, Any] = {"base_url": env["WFA_BASE_URL"], "token_store": store,
                              "limiter_backend": backend, "retry": FAST}
    if env["WFA_VENDOR"] == "feishu":
        limit, period, slack = (float(x) for x in env["WFA_QUOTA"].split(","))
        return FeishuClient(FeishuApp(env["WFA_APP_ID"], env["WFA_SECRET"]),
                            quotas=[Quota(int(limit), period, slack=slack)], **shared)
    return WeComClient(corp_app=CorpApp(env["WFA_APP_ID"], env["WFA_SECRET"]), **shared)


async def _run(client: WeComClient | FeishuClient, command: dict[str, Any]) -> dict[str, Any]:
    errors: list[str] = []
    ranges: dict[str, Any] = {}
    if command["op"] == "calls":
        assert isinstance(client, WeComClient)
        replies = await asyncio.gather(
            *(client.directory.list_department_ids() for _ in range(command["n"])),
            return_exceptions=True)
        errors = [type(r).__name__ for r in replies if isinstance(r, BaseException)]
    else:
        assert isinstance(client, FeishuClient)
        try:
            found = await client.application.contacts_range_suggest_all(
                os.environ["WFA_APP_ID"], version_ids=command["ids"], concurrency=10)
            ranges = {k: None if r is None else msgspec.to_builtins(r) for k, r in found.items()}
        except Exception as exc:
            errors = [type(exc).__name__]
    stats = client.stats
    return {"errors": errors, "ranges": ranges,
            "token_fetches": sum(stats.token_fetches.values()),
            "token_rejections": sum(stats.token_rejections.values()),
            "retries": sum(stats.retries.values())}


async def main() -> None:
    env = dict(os.environ)
    url, namespace = env["WFA_REDIS_URL"], env["WFA_NAMESPACE"]
    async with RedisTokenStore(url, namespace=namespace) as store, \
            RedisLimiterBackend(url, namespace=namespace) as backend, \
            _client(env, store, backend) as client:
        print(json.dumps({"ready": True}), flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            print(json.dumps(await _run(client, json.loads(line))), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
