"""Decoding: our typed replies against json.loads and the peers' own decoding paths.

    python benchmarks/decode.py [--quick]

Best time per reply, the cases interleaved round by round after a warm-up round (timeit,
so the garbage collector is off for every case alike):
- ``user/list`` with 1,000 members, every field the vendor documents (the emulator's
  members, with the fields it withholds from self-built apps filled in): ours (the client's
  WeCom ``decipher``, typed ``MemberList``) vs ``json.loads`` + errcode check vs wechatpy's
  own path (its ``_handle_result``: ``json.loads`` of the text, errcode check; its
  ``department.get_users`` then takes ``userlist``). lark-oapi has no WeCom models.
- ``contacts_range_suggest`` with 2,000 open ids: ours (the client's Feishu ``decipher``,
  typed ``ContactsRangeSuggestReply``) vs ``json.loads`` + code check vs lark-oapi's models
  (``JSON.unmarshal`` of the text into its response class, as its client does).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json
import random
from collections.abc import Callable
from typing import Any

import msgspec

from benchmarks._harness import Row, Target, at_least, best_times, peer, skipped, standalone
from wecom_feishu_async import RawResponse
from wecom_feishu_async._core.endpoint import Endpoint
from wecom_feishu_async.emulator import Org
from wecom_feishu_async.emulator.wecom.directory import _member
from wecom_feishu_async.feishu._client import decipher as feishu_decipher
from wecom_feishu_async.feishu.application import CONTACTS_RANGE_SUGGEST
from wecom_feishu_async.feishu.models import ContactsRangeSuggestReply
from wecom_feishu_async.wecom._client import decipher as wecom_decipher
from wecom_feishu_async.wecom.directory import USER_LIST
from wecom_feishu_async.wecom.models import MemberList

MEMBERS, OPEN_IDS = 1_000, 2_000


def user_list_reply(count: int, seed: int = 3) -> bytes:
    """A ``user/list`` reply of ``count`` generated members with every documented field."""
    org = Org.generate(seed, count, max(1, count // 50))
    rng = random.Random(seed)
    users = []
    for m in org.listed_members()[:count]:
        user = _member(org, m)
        picture = "".join(rng.choices("0123456789abcdefABCDEF", k=64))
        user.update(
            mobile=f"1{rng.randrange(3, 10)}{rng.randrange(10**9):09d}",
            gender=rng.choice("12"),
            email=f"{m.userid}@example.com",
            biz_mail=f"{m.userid}@example.wecom.work",
            avatar=f"https://wework.qpic.cn/wwpic/{picture}/0",
            thumb_avatar=f"https://wework.qpic.cn/wwpic/{picture}/100",
            address=rng.choice(("广州市海珠区新港中路397号", "深圳市南山区科技中一路", "")),
            open_userid=m.open_userid,
            qr_code=f"https://open.work.weixin.qq.com/wwopen/userQRCode?vcode={picture[:32]}",
        )
        users.append(user)
    return msgspec.json.encode({"errcode": 0, "errmsg": "ok", "userlist": users})


def range_reply(open_ids: int) -> bytes:
    """A ``contacts_range_suggest`` reply naming ``open_ids`` members."""
    return msgspec.json.encode({"code": 0, "msg": "success", "data": {"contacts_range": {
        "contacts_scope_type": "some",
        "visible_list": {
            "open_ids": [f"ou_{i:032x}" for i in range(open_ids)],
            "department_ids": [f"od-{i:032x}" for i in range(40)],
            "group_ids": [f"{i:016x}" for i in range(5)],
        },
    }}})


def checked(body: bytes, code: str, key: str) -> Any:
    """``json.loads``, the error check every client makes, and the payload."""
    reply = json.loads(body)
    if reply.get(code):
        raise RuntimeError(reply)
    return reply[key]


class _Response:
    """What wechatpy reads of an HTTP response when decoding it."""

    def __init__(self, body: bytes) -> None:
        self.content = body


def user_list_cases(body: bytes, peers: bool = True) -> dict[str, Callable[[], object] | None]:
    endpoint = Endpoint("GET", USER_LIST, MemberList, "access_token")
    raw = RawResponse(200, {}, body)
    enterprise = peer("wechatpy.enterprise") if peers else None
    wechatpy = None
    if enterprise is not None:
        client = enterprise.WeChatClient("corp", "secret")
        response = _Response(body)
        wechatpy = lambda: client._handle_result(response)["userlist"]  # noqa: E731
    return {
        "ours": lambda: wecom_decipher(endpoint, raw).userlist,
        "json.loads": lambda: checked(body, "errcode", "userlist"),
        "wechatpy": wechatpy,
    }


def range_cases(body: bytes, peers: bool = True) -> dict[str, Callable[[], object] | None]:
    endpoint = Endpoint("GET", CONTACTS_RANGE_SUGGEST, ContactsRangeSuggestReply,
                        "tenant_access_token")
    raw = RawResponse(200, {}, body)
    lark = peer("lark_oapi") if peers else None
    v6 = peer("lark_oapi.api.application.v6") if peers else None
    theirs = None
    if lark is not None and v6 is not None:
        response = v6.ContactsRangeSuggestApplicationAppVersionResponse
        theirs = lambda: lark.JSON.unmarshal(str(body, "utf-8"), response)  # noqa: E731
    return {
        "ours": lambda: feishu_decipher(endpoint, raw).suggested(),
        "json.loads": lambda: checked(body, "code", "data"),
        "lark-oapi models": theirs,
    }


def compare(label: str, cases: dict[str, Callable[[], object] | None], rounds: int,
            targets: dict[str, Target | None]) -> list[Row]:
    """Ours against each other case: their time over ours."""
    present = {name: fn for name, fn in cases.items() if fn is not None}
    best = best_times(present, rounds)
    ours = best["ours"]
    rows = []
    for name, target in targets.items():
        figure = f"  vs {name}" if rows else f"{label}: ours vs {name}"
        if name not in best:
            rows.append(skipped(figure, target, "x"))
            continue
        rows.append(Row(figure, f"{ours * 1e6:,.0f} us", f"{name} {best[name] * 1e6:,.0f} us",
                        best[name] / ours, target, ".2f", "x"))
    return rows


def run(quick: bool) -> list[Row]:
    rounds = 5 if quick else 15
    members = user_list_reply(MEMBERS)
    ids = range_reply(OPEN_IDS)
    return [
        *compare(f"decode user/list, {MEMBERS:,} members ({len(members) // 1024} KiB)",
                 user_list_cases(members), rounds,
                 {"json.loads": at_least(1.5), "wechatpy": None}),
        Row("  vs lark-oapi models", "n/a: lark-oapi has no WeCom models"),
        *compare(f"decode contacts_range_suggest, {OPEN_IDS:,} ids ({len(ids) // 1024} KiB)",
                 range_cases(ids), rounds,
                 {"json.loads": at_least(1.5), "lark-oapi models": at_least(8)}),
    ]


if __name__ == "__main__":
    standalone(run, __doc__)
