"""Feishu contacts-range fan-out under the 100-a-window quota, side by side with lark-oapi.

    python benchmarks/feishu_fanout.py [--quick]

An emulator process enforces 100 calls per API per window, the minute scaled down to 5 s
(2 s with ``--quick``). Our client fetches the suggested contacts range of 320 versions
(220 with ``--quick``: enough to outlast three windows, two with ``--quick``) with its
default quota scaled to the window:
- quota saturation: suggest calls sent in those full windows over their quotas
  (target >= 0.95), the busiest sliding window over the quota (target <= 1) and 429
  answers (target 0); every result is checked against the emulator's ground truth;
- the same fan-out by lark-oapi (its async ``acontacts_range_suggest`` under
  ``asyncio.gather``, on a fresh emulator): its 429s, failures, correct results, wall time.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from benchmarks._harness import (
    Row,
    at_least,
    at_most,
    emulator,
    equal,
    peer,
    skipped,
    standalone,
)
from wecom_feishu_async import Quota, RawResponse, RetryPolicy
from wecom_feishu_async._core.transport import AiohttpTransport
from wecom_feishu_async.emulator import FeishuWorld, Org
from wecom_feishu_async.feishu import FeishuApp, FeishuClient

QUOTA = 100
SUGGEST_TAIL = "/contacts_range_suggest"
SEED, MEMBERS, DEPARTMENTS = 1, 500, 40
RATE_LIMITED = 99991400  # Feishu's "too many requests" code


@contextlib.contextmanager
def feishu_emulator(window: float, versions: int) -> Iterator[dict[str, Any]]:
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


async def ours(info: dict[str, Any], window: float) -> tuple[dict[str, Any], list[str],
                                                                float, Recorder]:
    """Every version's suggested range (as builtins), the version ids, wall, the record."""
    recorder = Recorder(info["url"])
    # The default quota scaled to the window: the same burst, and slack of 1/120 window.
    quota = Quota(QUOTA, window, slack=window / 120)
    async with FeishuClient(FeishuApp(info["app_id"], info["app_secret"]), transport=recorder,
                            quotas=[quota], retry=RetryPolicy(max_time=600)) as client:
        app = client.application
        ids = [v.version_id async for v in app.app_versions("me", lang="zh_cn")]
        started = time.perf_counter()
        found = await app.contacts_range_suggest_all("me", version_ids=ids)
        wall = time.perf_counter() - started
    got = {k: None if v is None else msgspec.to_builtins(v) for k, v in found.items()}
    return got, ids, wall, recorder


async def lark_fanout(info: dict[str, Any], ids: list[str]) -> tuple[dict[str, Any], int, int]:
    """lark-oapi's results (as builtins), its 429 answers and its other failures."""
    lark, v6 = peer("lark_oapi"), peer("lark_oapi.api.application.v6")
    assert lark is not None and v6 is not None
    client = (lark.Client.builder().app_id(info["app_id"]).app_secret(info["app_secret"])
              .domain(info["url"]).log_level(lark.LogLevel.ERROR).build())

    async def one(version_id: str) -> Any:
        request = (v6.ContactsRangeSuggestApplicationAppVersionRequest.builder()
                   .app_id("me").version_id(version_id).build())
        return await client.application.v6.application_app_version.acontacts_range_suggest(
            request)

    replies = await asyncio.gather(*(one(v) for v in ids), return_exceptions=True)
    results: dict[str, Any] = {}
    limited = failed = 0
    for version_id, got in zip(ids, replies, strict=True):
        if isinstance(got, BaseException) or got.code != 0:
            limited += not isinstance(got, BaseException) and got.code == RATE_LIMITED
            failed += isinstance(got, BaseException) or got.code != RATE_LIMITED
            continue
        found = got.data.contacts_range if got.data is not None else None
        results[version_id] = None if found is None else json.loads(lark.JSON.marshal(found))
    return results, limited, failed


def theirs(window: float, ids: list[str], expected: dict[str, Any]) -> str | None:
    """What lark-oapi made of the same fan-out on a fresh emulator (None: not installed)."""
    if peer("lark_oapi") is None:
        return None
    with feishu_emulator(window, len(ids)) as info:
        started = time.perf_counter()
        results, limited, failed = asyncio.run(lark_fanout(info, ids))
        wall = time.perf_counter() - started
    right = sum(1 for k, v in results.items() if expected.get(k, ...) == v)
    return (f"{limited} x 429, {failed} other failures, {right}/{len(ids)} correct "
            f"in {wall:.2f} s")


def saturation(recorder: Recorder, window: float, windows: int) -> tuple[list[int], int, int]:
    """Suggest calls sent in each of the first ``windows`` windows, the busiest sliding
    window, and the 429 answers."""
    times = sorted(at for at, _ in recorder.sent)
    start = times[0]
    per_window = [sum(1 for t in times if k * window <= t - start < (k + 1) * window)
                  for k in range(windows)]
    busiest = max(sum(1 for u in times[i:] if u - t < window) for i, t in enumerate(times))
    refused = sum(1 for _, status in recorder.sent if status == 429)
    return per_window, busiest, refused


def run(quick: bool) -> list[Row]:
    window, windows = (2.0, 2) if quick else (5.0, 3)
    versions = windows * QUOTA + 20
    logger = logging.getLogger("wecom_feishu_async")
    level = logger.level
    logger.setLevel(logging.ERROR)  # refusals and retries are counted, not logged
    try:
        with feishu_emulator(window, versions) as info:
            mine, ids, wall, recorder = asyncio.run(ours(info, window))
        # The emulator's ground truth, generated here from the same seed.
        world = FeishuWorld(Org.generate(SEED, MEMBERS, DEPARTMENTS), SEED, versions)
        expected = world.suggested(info["app_id"])
        lark = theirs(window, ids, expected)
    finally:
        logger.setLevel(level)
    per_window, busiest, refused = saturation(recorder, window, windows)
    correct = sum(1 for k, v in mine.items() if expected.get(k, ...) == v)
    label = f"{len(ids)} versions, quota {QUOTA}/{window:g} s"
    lark_name = "  lark-oapi (asyncio.gather), same fan-out"
    return [
        Row(f"suggest fan-out {label}: calls in windows 1-{windows}",
            " / ".join(map(str, per_window)), f"{windows} x quota = {windows * QUOTA}",
            sum(per_window) / (windows * QUOTA), at_least(0.95), ".3f"),
        Row("  busiest sliding window", str(busiest), f"quota {QUOTA}", busiest / QUOTA,
            at_most(1.0)),
        Row("  429 answers", str(refused), "none allowed", refused, equal(0), ".0f"),
        Row("  correct results", f"{correct}/{len(ids)} in {wall:.2f} s",
            f"all {len(ids)}", correct / len(ids), equal(1.0)),
        skipped(lark_name) if lark is None else Row(
            lark_name, lark, f"ours: {refused} x 429, {correct}/{len(ids)} correct "
            f"in {wall:.2f} s"),
    ]


if __name__ == "__main__":
    standalone(run, __doc__)
