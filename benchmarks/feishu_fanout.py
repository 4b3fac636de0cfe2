"""Feishu contacts-range fan-out under the 100-a-window quota, against the emulator in a
separate process, side by side with lark-oapi (the official SDK).

    python benchmarks/feishu_fanout.py            # windows of 5 s, ~40 s in all
    python benchmarks/feishu_fanout.py --quick    # windows of 2 s, well under a minute

The emulator enforces 100 calls per API per window (scaled down from a minute). Prints:
1. quota saturation: suggest calls our client sent in each of the first three windows,
   over the quota (target >= 0.95), the busiest sliding window, and 429s (target 0);
2. the same 250-version fan-out by lark-oapi (its async ``acontacts_range_suggest`` under
   ``asyncio.gather``) and by ours: 429s, other failures, correct results, wall time;
3. decoding one ``contacts_range_suggest`` reply of 2,000 open ids: our msgspec models vs
   lark-oapi's models vs plain ``json.loads``, as ratios from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import time
import timeit
from collections.abc import Iterator, Mapping
from typing import Any

import lark_oapi as lark
import msgspec
from _harness import emulator, print_table
from lark_oapi.api.application.v6 import (
    ContactsRangeSuggestApplicationAppVersionRequest,
    ContactsRangeSuggestApplicationAppVersionResponse,
)

from wecom_feishu_async import Quota, RawResponse, RetryPolicy
from wecom_feishu_async._codec import decoder_for
from wecom_feishu_async._transport import AiohttpTransport
from wecom_feishu_async.emulator import FeishuWorld, Org
from wecom_feishu_async.feishu import FeishuApp, FeishuClient
from wecom_feishu_async.feishu.models import ContactsRangeSuggestReply

QUOTA = 100
SUGGEST_TAIL = "/contacts_range_suggest"
SEED, MEMBERS, DEPARTMENTS = 1, 500, 40


@contextlib.contextmanager
def feishu_emulator(versions: int, window: float) -> Iterator[dict[str, Any]]:
    """An emulator process; yields its URL and Feishu credentials."""
    with emulator("--seed", str(SEED), "--members", str(MEMBERS),
                  "--departments", str(DEPARTMENTS), "--feishu-versions", str(versions),
                  "--feishu-quota", f"{QUOTA}/{window}") as info:
        yield {"url": info["url"], **info["feishu"]}


class Recorder(AiohttpTransport):
    """Our transport, noting when each suggest request left and how it was answered."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.sent: list[tuple[float, int]] = []

    async def request(self, method: str, path: str, *, params: Mapping[str, str],
                      body: bytes | None, headers: Mapping[str, str],
                      timeout: float | None = None) -> RawResponse:
        at = time.monotonic()
        raw = await super().request(method, path, params=params, body=body, headers=headers,
                                    timeout=timeout)
        if path.endswith(SUGGEST_TAIL):
            self.sent.append((at, raw.status))
        return raw


def ours(info: dict[str, Any], window: float, recorder: Recorder) -> FeishuClient:
    # The default quota scaled to the window: the same burst, and slack of 1/120 window.
    quota = Quota(QUOTA, window, slack=window / 120)
    return FeishuClient(FeishuApp(info["app_id"], info["app_secret"]), transport=recorder,
                        quotas=[quota], retry=RetryPolicy(max_time=600))


async def bench_saturation(window: float, versions: int) -> list[tuple[str, str, str]]:
    with feishu_emulator(versions, window) as info:
        recorder = Recorder(info["url"])
        async with ours(info, window, recorder) as client:
            await client.application.contacts_range_suggest_all("me")
    times = sorted(at for at, _ in recorder.sent)
    start = times[0]
    per_window = [sum(1 for t in times if k * window <= t - start < (k + 1) * window)
                  for k in range(3)]
    busiest = max(sum(1 for u in times[i:] if u - t < window) for i, t in enumerate(times))
    refused = sum(1 for _, status in recorder.sent if status == 429)
    ratio = sum(per_window) / (3 * QUOTA)
    return [
        ("saturation: calls per window", " / ".join(map(str, per_window)),
         f"{ratio:.3f} of the quota (target >= 0.95)"),
        ("saturation: busiest sliding window", str(busiest), f"quota {QUOTA}"),
        ("saturation: 429 answers", str(refused), "target 0"),
    ]


async def lark_fanout(info: dict[str, Any], ids: list[str]) -> tuple[dict[str, Any], int, int]:
    client = (lark.Client.builder().app_id(info["app_id"]).app_secret(info["app_secret"])
              .domain(info["url"]).log_level(lark.LogLevel.ERROR).build())

    async def one(version_id: str) -> ContactsRangeSuggestApplicationAppVersionResponse:
        request = (ContactsRangeSuggestApplicationAppVersionRequest.builder()
                   .app_id("me").version_id(version_id).build())  # type: ignore[arg-type]
        return await client.application.v6.application_app_version.acontacts_range_suggest(
            request)

    replies = await asyncio.gather(*(one(v) for v in ids), return_exceptions=True)
    results: dict[str, Any] = {}
    limited = failed = 0
    for version_id, got in zip(ids, replies, strict=True):
        if isinstance(got, BaseException) or got.code != 0:
            limited += not isinstance(got, BaseException) and got.code == 99991400
            failed += isinstance(got, BaseException) or got.code != 99991400
            continue
        found = got.data.contacts_range if got.data is not None else None
        results[version_id] = None if found is None else json.loads(lark.JSON.marshal(found))
    return results, limited, failed


async def bench_fanout(window: float, count: int) -> list[tuple[str, str, str]]:
    rows = []
    with feishu_emulator(count, window) as info:
        recorder = Recorder(info["url"])
        async with ours(info, window, recorder) as client:
            ids = [v.version_id async for v in client.application.app_versions("me",
                                                                                lang="zh_cn")]
            started = time.perf_counter()
            mine = await client.application.contacts_range_suggest_all("me", version_ids=ids)
            wall = time.perf_counter() - started
        # The emulator's ground truth, generated here from the same seed.
        world = FeishuWorld(Org.generate(SEED, MEMBERS, DEPARTMENTS), SEED, count)
        truth = world.suggested(info["app_id"])
        got = {k: None if v is None else msgspec.to_builtins(v) for k, v in mine.items()}
        correct = sum(1 for k, v in got.items() if truth.get(k, ...) == v)
        refused = sum(1 for _, status in recorder.sent if status == 429)
        rows.append((f"ours: {count} versions", f"{wall:.2f} s",
                     f"{refused} x 429, 0 failed, {correct}/{count} correct"))
    with feishu_emulator(count, window) as info:  # a fresh quota window for lark-oapi
        started = time.perf_counter()
        theirs, limited, failed = await lark_fanout(info, ids)
        wall = time.perf_counter() - started
    correct = sum(1 for k, v in theirs.items() if truth.get(k, ...) == v)
    rows.append((f"lark-oapi: {count} versions", f"{wall:.2f} s",
                 f"{limited} x 429, {failed} other failures, {correct}/{count} correct"))
    return rows


def reply_with_open_ids(n: int) -> bytes:
    return msgspec.json.encode({"code": 0, "msg": "success", "data": {"contacts_range": {
        "contacts_scope_type": "some",
        "visible_list": {
            "open_ids": [f"ou_{i:032x}" for i in range(n)],
            "department_ids": [f"od-{i:032x}" for i in range(40)],
            "group_ids": [f"{i:016x}" for i in range(5)],
        },
    }}})


def bench_decode() -> list[tuple[str, str, str]]:
    raw = reply_with_open_ids(2000)
    text = raw.decode()
    decoder = decoder_for(ContactsRangeSuggestReply)
    cases = {
        "ours (msgspec models)": lambda: decoder.decode(raw).suggested(),
        "lark-oapi models": lambda: lark.JSON.unmarshal(
            text, ContactsRangeSuggestApplicationAppVersionResponse),
        "json.loads": lambda: json.loads(raw),
    }
    best = {}
    for name, fn in cases.items():
        number = max(1, int(0.2 / timeit.timeit(fn, number=1)))
        best[name] = min(timeit.repeat(fn, number=number, repeat=5)) / number
    base = best["ours (msgspec models)"]
    return [(f"decode 2,000 ids: {name}", f"{seconds * 1e6:,.0f} us",
             f"{seconds / base:.2f} x ours") for name, seconds in best.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="windows of 2 s")
    parser.add_argument("--window", type=float, default=5.0, help="quota window, seconds")
    parser.add_argument("--versions", type=int, default=250, help="versions in the fan-out")
    args = parser.parse_args()
    if args.quick:
        args.window = 2.0
    logging.getLogger("wecom_feishu_async").setLevel(logging.ERROR)
    # Enough versions that the calls outlast three windows.
    rows = asyncio.run(bench_saturation(args.window, 3 * QUOTA + 20))
    rows += asyncio.run(bench_fanout(args.window, args.versions))
    rows += bench_decode()
    print(f"emulator quota: {QUOTA} calls per {args.window:g} s per API and app")
    print_table(("figure", "measured", "against"), rows)


if __name__ == "__main__":
    main()
