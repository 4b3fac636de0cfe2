"""The ``wfa_emulator`` pytest fixture, used as a user's own test would use it."""

from __future__ import annotations

import io

import pytest

from wecom_feishu_async import CorpApp, WeComClient
from wecom_feishu_async.cli._ui import Output
from wecom_feishu_async.emulator import Emulator


@pytest.mark.wfa_emulator(seed=11, members=60, departments=6, latency=0.001)
async def test_an_async_test_walks_the_fixtures_organisation(wfa_emulator: Emulator) -> None:
    creds = wfa_emulator.credentials
    async with WeComClient(corp_app=CorpApp(creds.corp_id, creds.corp_secret),
                           base_url=wfa_emulator.url) as client:
        got = [m.userid async for m in client.walk_members()]
    truth = [m.userid for m in wfa_emulator.org.visible_members()]
    assert sorted(got) == sorted(truth) and len(wfa_emulator.org.subtree_ids(1)) == 6
    assert wfa_emulator.stats.token_requests["access_token"] == 1


def test_a_sync_test_gets_the_default_organisation(wfa_emulator: Emulator) -> None:
    assert wfa_emulator.url.startswith("http://127.0.0.1:")
    assert len(wfa_emulator.org.subtree_ids(1)) == 20  # the fixture's default size


def test_progress_bars_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert not Output(stderr=io.StringIO()).progress_enabled
    terminal = Terminal()
    output = Output(stderr=terminal)
    assert output.progress_enabled
    with output.progress() as bars:
        bars.bar("walk members", total=10).update(5, note="50 members")
    assert "walk members" in terminal.getvalue()
    assert not Output(stderr=Terminal(), progress=False).progress_enabled
