"""Mini-program login, picker tickets and what spends them, against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import SENSITIVE
from wecom_feishu_async import (
    AuthorizedCorp,
    ConfigurationError,
    CorpApp,
    ForeignTicketError,
    InputError,
    InvalidCodeError,
    InvalidTicketError,
    RequestTimeout,
    RetryPolicy,
    SuiteApp,
    SuiteTicketError,
    WeComClient,
)
from wecom_feishu_async.emulator import Emulator, Fault
from wecom_feishu_async.wecom.messages import MiniProgramLink, TemplateMessage
from wecom_feishu_async.wecom.picker import decode_picker_result

SEND = "/cgi-bin/message/send"
FAST = RetryPolicy(base_delay=0.001, max_delay=0.005, rate_limit_delay=0.001)


def suite_client(emu: Emulator, **kwargs: object) -> WeComClient:
    world = emu.suite
    creds = world.credentials
    SENSITIVE.update((creds.suite_secret, creds.permanent_code, world.suite_ticket))

    async def newest_ticket() -> str:
        return world.suite_ticket

    kwargs.setdefault("retry", FAST)
    return WeComClient(
        suite=SuiteApp(creds.suite_id, creds.suite_secret, suite_ticket=newest_ticket),
        authorized_corp=AuthorizedCorp(creds.auth_corpid, creds.permanent_code),
        base_url=emu.url,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[WeComClient]:
    async with suite_client(emu) as c:
        yield c
    SENSITIVE.update(emu.suite.sessions)


def picked(emu: Emulator, count: int = 6) -> tuple[str, list[str]]:
    """An operator and members on both sides of the suite app's visible range."""
    app = emu.suite.app
    inside = [m.userid for m in emu.org.members if app.sees_member(m)]
    outside = [m.userid for m in emu.org.members if not app.sees_member(m)]
    assert len(inside) > count and len(outside) > count
    return inside[0], inside[1 : 1 + count // 2] + outside[: count // 2]


def message(emu: Emulator, tickets: list[str], **kwargs: object) -> TemplateMessage:
    return TemplateMessage(
        agentid=emu.suite.credentials.agentid,
        template_id="tpl_approved",
        content={"title": "Weekly sync", "owner": "张三"},
        url="https://example.com/report",
        selected_tickets=tickets,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_login_pick_send_and_list_agree(emu: Emulator, client: WeComClient) -> None:
    operator, chosen = picked(emu)
    session = await client.miniprogram.code_to_session(emu.suite.login_code(operator))
    assert session.userid == operator
    assert session.open_userid == emu.org.member_by_userid[operator].open_userid
    assert session.session_key not in repr(session)

    result = decode_picker_result(emu.suite.pick(chosen, operator=operator))
    app = emu.suite.app
    visible = [emu.org.member_by_userid[u].open_userid for u in chosen
               if app.sees_member(emu.org.member_by_userid[u])]
    assert result.open_user_ids == visible
    assert result.selected_user_count == len(chosen) > len(visible)

    reply = await client.messages.send_template(message(emu, [result.selected_ticket]))
    [delivery] = emu.suite.deliveries
    assert delivery.msgid == reply.msgid
    assert delivery.recipients == {emu.org.member_by_userid[u].open_userid for u in chosen}

    users = await client.messages.list_selected_ticket_user(result.selected_ticket)
    assert users.open_userid_list == visible
    assert set(users.open_userid_list) | set(users.unauth_open_userid_list) == \
        delivery.recipients
    assert users.total == len(chosen)
    assert users.operator_open_userid == session.open_userid


async def test_a_login_code_works_once(emu: Emulator, client: WeComClient) -> None:
    code = emu.suite.login_code()
    await client.miniprogram.code_to_session(code)
    with pytest.raises(InvalidCodeError) as info:
        await client.miniprogram.code_to_session(code)
    assert info.value.code == 40029


async def test_self_built_login_has_no_open_userid(emu: Emulator) -> None:
    creds = emu.credentials
    async with WeComClient(corp_app=CorpApp(creds.corp_id, creds.corp_secret),
                           base_url=emu.url) as client:
        session = await client.miniprogram.code_to_session(emu.suite.login_code())
    assert session.userid and session.open_userid == ""
    SENSITIVE.update(emu.suite.sessions)


async def test_a_send_whose_reply_never_arrives_is_not_retried(emu: Emulator) -> None:
    operator, chosen = picked(emu)
    ticket = decode_picker_result(emu.suite.pick(chosen, operator=operator)).selected_ticket
    async with suite_client(emu, timeout=0.2) as client:
        await client.messages.list_selected_ticket_user(ticket)  # tokens in hand
        emu.faults.script(SEND, [Fault.hold(1.0)])
        with pytest.raises(RequestTimeout) as info:
            await client.messages.send_template(message(emu, [ticket]))
    assert info.value.may_have_reached_server
    assert emu.stats.requests[SEND] == 1
    assert len(emu.suite.deliveries) == 1  # delivered once, though the caller saw a timeout


async def test_expired_and_foreign_tickets_have_their_own_errors(
    emu: Emulator, client: WeComClient
) -> None:
    operator, chosen = picked(emu)
    expired = decode_picker_result(emu.suite.pick(chosen, operator=operator)).selected_ticket
    emu.suite.expire_ticket(expired)
    other_app = min(emu.org.apps)
    assert other_app != emu.suite.app.agentid
    foreign = decode_picker_result(
        emu.suite.pick(chosen, operator=operator, agentid=other_app)).selected_ticket
    with pytest.raises(InvalidTicketError) as info:
        await client.messages.send_template(message(emu, [expired]))
    assert info.value.code == 60222
    with pytest.raises(ForeignTicketError) as foreign_info:
        await client.messages.list_selected_ticket_user(foreign)
    assert foreign_info.value.code == 60219
    assert emu.suite.deliveries == []


async def test_eleven_tickets_are_refused_before_sending(emu: Emulator) -> None:
    with pytest.raises(InputError) as info:
        message(emu, [f"ticket{i}" for i in range(11)])
    assert info.value.field == "selected_tickets"
    assert sum(emu.stats.requests.values()) == 0


async def test_a_stale_suite_ticket_says_to_supply_a_fresh_one(
    emu: Emulator, client: WeComClient
) -> None:
    emu.suite.expire_suite_tickets()
    with pytest.raises(SuiteTicketError) as info:
        await client.miniprogram.code_to_session(emu.suite.login_code())
    assert info.value.code == 40085 and "newest suite_ticket" in str(info.value)
    emu.suite.push_suite_ticket()  # the callable reads the new one on the next fetch
    SENSITIVE.add(emu.suite.suite_ticket)
    await client.miniprogram.code_to_session(emu.suite.login_code())


async def test_revoked_tokens_refresh_through_the_chain(
    emu: Emulator, client: WeComClient
) -> None:
    operator, chosen = picked(emu)
    ticket = decode_picker_result(emu.suite.pick(chosen, operator=operator)).selected_ticket
    await client.messages.list_selected_ticket_user(ticket)
    emu.revoke_tokens()
    # The corp token fails (42001), and fetching a new one finds the suite token revoked
    # too (42009): each is refreshed once and the call succeeds.
    await client.messages.list_selected_ticket_user(ticket)
    assert emu.stats.tokens_issued["suite_access_token"] == 2
    assert emu.stats.tokens_issued["access_token"] == 2


def test_authorized_corp_needs_a_suite() -> None:
    with pytest.raises(ConfigurationError):
        WeComClient(authorized_corp=AuthorizedCorp("ww1", "code"))


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("agentid", {"agentid": 0}),
        ("template_id", {"template_id": "t" * 65}),
        ("content", {"content": {}}),
        ("content", {"content": {str(i): "v" for i in range(6)}}),
        ("content key", {"content": {"k" * 21: "v"}}),
        ("content['k']", {"content": {"k": "v" * 41}}),
        ("content['k']", {"content": {"k": ""}}),
        ("url", {"url": None}),
        ("url", {"url": "ftp://example.com"}),
        ("url", {"url": "https://e.com/" + "a" * 2048}),
        ("miniprogram.appid", {"url": None, "miniprogram": MiniProgramLink("")}),
        ("touser", {"touser": ["u"] * 1001}),
        ("toparty", {"toparty": ["1"] * 101}),
        ("totag", {"totag": "1|2"}),
        ("selected_tickets", {"selected_tickets": ["t"] * 11}),
        ("only_unauth", {"only_unauth": True, "touser": ["u"]}),
        ("touser", {"touser": ["@all"], "member_auth_mode": True}),
        ("toparty", {"toparty": ["2"], "member_auth_mode": True}),
        ("touser", {}),
    ],
)
def test_template_message_rules(field: str, kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {
        "agentid": 1000002,
        "template_id": "tpl",
        "content": {"k": "v"},
        "url": "https://example.com",
        **kwargs,
    }
    with pytest.raises(InputError) as info:
        TemplateMessage(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_template_message_body() -> None:
    msg = TemplateMessage(agentid=7, template_id="tpl", content={"a": "1"},
                          miniprogram=MiniProgramLink("wxapp", "pages/x"),
                          touser=["u1", "u2"], selected_tickets=["T"], only_unauth=True)
    assert msg.body() == {
        "agentid": 7,
        "msgtype": "template_msg",
        "template_msg": {"template_id": "tpl", "content_item": [{"key": "a", "value": "1"}],
                         "miniprogram": {"appid": "wxapp", "pagepath": "pages/x"}},
        "touser": "u1|u2",
        "selected_ticket_list": ["T"],
        "only_unauth": True,
    }
