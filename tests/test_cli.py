"""The ``wfa`` command line against the emulator (served from a thread by ``wfa_emulator``)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wecom_feishu_async.cli import main
from wecom_feishu_async.cli._config import ENVIRONMENT
from wecom_feishu_async.emulator import Emulator, Org

pytestmark = pytest.mark.wfa_emulator(seed=5, members=120, departments=12, feishu_versions=5)


def emulator_env(emu: Emulator) -> dict[str, str]:
    creds, feishu = emu.credentials, emu.feishu.credentials
    return {
        "WFA_BASE_URL": emu.url,
        "WECOM_CORP_ID": creds.corp_id,
        "WECOM_CORP_SECRET": creds.corp_secret,
        "WECOM_PROVIDER_CORP_ID": creds.provider_corp_id,
        "WECOM_PROVIDER_SECRET": creds.provider_secret,
        "FEISHU_APP_ID": feishu.app_id,
        "FEISHU_APP_SECRET": feishu.app_secret,
    }


@pytest.fixture
def env(wfa_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The emulator's settings in the environment, and nothing else of ours."""
    for name in [*ENVIRONMENT, "WFA_BASE_URL", "WFA_CONFIG"]:
        monkeypatch.delenv(name, raising=False)
    values = emulator_env(wfa_emulator)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def secrets_of(emu: Emulator) -> list[str]:
    return [emu.credentials.corp_secret, emu.credentials.provider_secret,
            emu.feishu.credentials.app_secret, *emu.issued_tokens()]


def wfa(capsys: pytest.CaptureFixture[str], emu: Emulator | None, *argv: str
        ) -> tuple[int, str, str]:
    """Run ``wfa ARGV`` in this process; its exit status, stdout and stderr (no secrets)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    if emu is not None:
        leaked = [s for s in secrets_of(emu) if s in out or s in err]
        assert not leaked, "a secret or token was printed"
    return status, out, err


def json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# Help, usage and configuration errors ---------------------------------------------------

COMMANDS = [
    [], ["demo"], ["wecom"], ["wecom", "search"], ["wecom", "batch-search"], ["wecom", "walk"],
    ["wecom", "departments"], ["feishu"], ["feishu", "versions"], ["feishu", "contacts-range"],
    ["emulator"], ["emulator", "serve"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "wfa")
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = wfa(capsys, None, *command, "--help")
    assert status == 0
    assert out.startswith("usage: wfa") and " ".join(["wfa", *command]) in out


def test_a_bad_flag_is_a_usage_error(env: dict[str, str], wfa_emulator: Emulator,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = wfa(capsys, wfa_emulator, "wecom", "walk", "--concurency", "3")
    assert status == 2 and "unrecognized arguments: --concurency" in err
    status, _, err = wfa(capsys, wfa_emulator, "feishu", "contacts-range", "cli_x")
    assert status == 2 and "one of the arguments --version --all is required" in err
    assert wfa_emulator.stats.requests.total() == 0


def test_missing_credentials_are_a_configuration_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, wfa_emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("FEISHU_APP_SECRET")
    status, out, err = wfa(capsys, wfa_emulator, "feishu", "versions", "me")
    assert status == 2 and out == ""
    assert err == "wfa: error: FEISHU_APP_SECRET not set (environment, --config file or flags)\n"
    assert wfa_emulator.stats.requests.total() == 0


def test_bad_input_is_named_before_sending(env: dict[str, str], wfa_emulator: Emulator,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = wfa(capsys, wfa_emulator, "wecom", "walk", "--concurrency", "0")
    assert status == 2 and err.startswith("wfa: error: concurrency:")
    status, _, err = wfa(capsys, wfa_emulator, "wecom", "search", "x" * 65)
    assert status == 2 and "query_word" in err
    assert wfa_emulator.stats.requests.total() == 0


def test_a_bad_credential_is_an_api_error_on_one_line(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, wfa_emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WECOM_CORP_SECRET", "not-the-secret")
    status, out, err = wfa(capsys, wfa_emulator, "wecom", "departments")
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("wfa: error: AuthError (wecom code 40001)")
    assert "not-the-secret" not in err
    status, _, err = wfa(capsys, wfa_emulator, "wecom", "departments", "--debug")
    assert status == 1 and "Traceback (most recent call last)" in err
    assert err.splitlines()[-1].startswith("wfa: error: AuthError (wecom code 40001)")
    assert "not-the-secret" not in err


def test_an_unreachable_server_is_a_network_error(env: dict[str, str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = wfa(capsys, None, "wecom", "departments", "--base-url", "http://127.0.0.1:9")
    assert status == 1 and err.startswith("wfa: error: NetworkError")


# Results against ground truth --------------------------------------------------------------


def test_search_words(env: dict[str, str], wfa_emulator: Emulator,
                      capsys: pytest.CaptureFixture[str]) -> None:
    words = wfa_emulator.org.sample_words(3, seed=2)
    status, out, _ = wfa(capsys, wfa_emulator, "wecom", "search", *words, "--json")
    assert status == 0
    for word, line in zip(words, json_lines(out), strict=True):
        truth = wfa_emulator.org.search(word)
        assert line["query_word"] == word
        assert line["user"]["userid"] == truth.userid
        assert line["party"]["department_id"] == truth.department_id
    status, out, _ = wfa(capsys, wfa_emulator, "wecom", "search", words[0])
    assert status == 0 and words[0] in out and "members" in out.splitlines()[1]


def test_batch_search_from_words_and_json_lines(
    env: dict[str, str], wfa_emulator: Emulator, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    org = wfa_emulator.org
    words = org.sample_words(60, seed=4)
    file = tmp_path / "queries.txt"
    lines = [*words[:59], json.dumps({"query_word": words[59], "query_type": 1, "limit": 2}), ""]
    file.write_text("\n".join(lines), encoding="utf-8")
    status, out, _ = wfa(capsys, wfa_emulator, "wecom", "batch-search", str(file), "--json")
    assert status == 0
    got = json_lines(out)
    assert [g["query_word"] for g in got] == words
    for word, line in zip(words[:59], got, strict=False):
        assert line["user"]["userid"] == org.search(word).userid
    assert got[59]["user"]["userid"] == org.search(words[59], query_type=1).userid
    assert got[59]["party"]["department_id"] == []

    file.write_text('a\n{"query_word": "b", "colour": 1}\n', encoding="utf-8")
    sent = wfa_emulator.stats.requests.total()
    status, _, err = wfa(capsys, wfa_emulator, "wecom", "batch-search", str(file))
    assert status == 2 and f"{file}:2" in err
    assert wfa_emulator.stats.requests.total() == sent


def visible(emu: Emulator) -> set[str]:
    return {m.userid for m in emu.org.visible_members()}


def test_walk_to_jsonl_csv_and_stdout(env: dict[str, str], wfa_emulator: Emulator,
                                      tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth = visible(wfa_emulator)
    jsonl = tmp_path / "members.jsonl"
    status, out, err = wfa(capsys, wfa_emulator, "wecom", "walk", "--out", str(jsonl))
    assert status == 0 and out == ""
    assert f"{len(truth):,} members written to {jsonl}" in err
    rows = json_lines(jsonl.read_text(encoding="utf-8"))
    assert len(rows) == len(truth) and {r["userid"] for r in rows} == truth
    assert all(r["name"] and r["department"] for r in rows)

    table = tmp_path / "members.csv"
    status, _, _ = wfa(capsys, wfa_emulator, "wecom", "walk", "--out", str(table), "--simple")
    with table.open(encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))
    assert status == 0 and {r["userid"] for r in records} == truth and len(records) == len(truth)

    status, out, _ = wfa(capsys, wfa_emulator, "wecom", "walk", "--json")
    assert status == 0 and {r["userid"] for r in json_lines(out)} == truth


def test_walk_skips_forbidden_departments_only_when_asked(
    env: dict[str, str], wfa_emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    org = wfa_emulator.org
    leaf = org.subtree_ids(1)[-1]
    org.forbid_departments([leaf])
    status, out, err = wfa(capsys, wfa_emulator, "wecom", "walk", "--json")
    assert status == 1 and "PermissionDeniedError (wecom code 60011)" in err
    status, out, err = wfa(capsys, wfa_emulator, "wecom", "walk", "--json", "--skip-forbidden")
    assert status == 0 and f"skipped department {leaf}" in err
    assert {r["userid"] for r in json_lines(out)} == {m.userid for m in org.visible_members()}


def test_departments(env: dict[str, str], wfa_emulator: Emulator,
                     capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = wfa(capsys, wfa_emulator, "wecom", "departments", "--json")
    tree = json.loads(out)
    assert status == 0 and sorted(d["id"] for d in tree) == sorted(wfa_emulator.org.subtree_ids(1))
    assert tree[0]["id"] == 1
    status, out, _ = wfa(capsys, wfa_emulator, "wecom", "departments")
    assert status == 0 and tree[1]["name"] in out


def test_feishu_versions_and_contacts_ranges(env: dict[str, str], wfa_emulator: Emulator,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    app_id = wfa_emulator.feishu.credentials.app_id
    truth = wfa_emulator.feishu.suggested(app_id)
    status, out, _ = wfa(capsys, wfa_emulator, "feishu", "versions", app_id, "--json")
    assert status == 0 and [v["version_id"] for v in json.loads(out)] == list(truth)

    status, out, _ = wfa(capsys, wfa_emulator, "feishu", "contacts-range", app_id, "--all",
                         "--json")
    assert status == 0 and json.loads(out) == truth
    version = next(iter(truth))
    status, out, _ = wfa(capsys, wfa_emulator, "feishu", "contacts-range", app_id,
                         "--version", version, "--json")
    assert status == 0 and json.loads(out) == {version: truth[version]}
    status, out, _ = wfa(capsys, wfa_emulator, "feishu", "contacts-range", app_id, "--all")
    assert status == 0 and all(v in out for v in truth)


def test_settings_from_a_toml_file(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, wfa_emulator: Emulator,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    for name in env:
        monkeypatch.delenv(name)
    config = tmp_path / "wfa.toml"
    config.write_text(
        f'base_url = "{env["WFA_BASE_URL"]}"\n[wecom]\ncorp_id = "{env["WECOM_CORP_ID"]}"\n'
        f'corp_secret = "{env["WECOM_CORP_SECRET"]}"\n', encoding="utf-8")
    status, out, _ = wfa(capsys, wfa_emulator, "wecom", "departments", "--json",
                         "--config", str(config))
    assert status == 0 and len(json.loads(out)) == len(wfa_emulator.org.subtree_ids(1))
    config.write_text('[wecom]\ncorp_secrets = "x"\n', encoding="utf-8")
    status, _, err = wfa(capsys, wfa_emulator, "wecom", "departments", "--config", str(config))
    assert status == 2 and "unknown key wecom.corp_secrets" in err


# The demo and the emulator server -----------------------------------------------------------


def test_demo_writes_the_ground_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "demo.jsonl"
    status, out, err = wfa(capsys, None, "demo", "--members", "300", "--departments", "15",
                           "--queries", "40", "--versions", "8", "--latency", "0",
                           "--feishu-window", "0.5", "--faults", "0.05", "--seed", "3",
                           "--out", str(out_file), "--json")
    assert status == 0, err
    summary = json.loads(out)
    assert [p["matches_ground_truth"] for p in summary["phases"]] == [True, True, True]
    # One access token revoked on purpose (the demo's faults), refreshed once; the others kept.
    assert summary["tokens"] == {"access_token": 2, "provider_access_token": 1,
                                 "tenant_access_token": 1}
    assert sum(summary["retries"].values()) > 0  # 5% of requests failed and were retried
    org = Org.generate(3, 300, 15)
    truth = {m.userid for m in org.visible_members()}
    rows = json_lines(out_file.read_text(encoding="utf-8"))
    assert len(rows) == len(truth) and {r["userid"] for r in rows} == truth
    status, out, _ = wfa(capsys, None, "demo", "--members", "100", "--versions", "3",
                         "--queries", "10", "--latency", "0", "--out", str(out_file))
    assert status == 0 and "Requests per endpoint" in out and "matches" in out


def test_emulator_serve_prints_settings_and_stops_on_interrupt(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "wecom_feishu_async", "emulator", "serve", "--members", "40",
         "--departments", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            announced = json.loads(proc.stdout.readline())
            client = subprocess.run(
                [sys.executable, "-m", "wecom_feishu_async", "wecom", "departments", "--json"],
                env={**os.environ, **announced["env"]}, capture_output=True, text=True,
                timeout=60,
            )
            assert client.returncode == 0, client.stderr
            assert len(json.loads(client.stdout)) == 4
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=20) == 0


def test_commands_share_tokens_through_redis(env: dict[str, str], wfa_emulator: Emulator,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from tests.redis_server import RedisServer

    server = RedisServer(password="cli-redis-password")
    try:
        for _ in range(3):
            status, out, err = wfa(capsys, wfa_emulator, "wecom", "departments", "--json",
                                   "--redis-url", server.url)
            assert status == 0, err
            assert "cli-redis-password" not in out + err
        # Three separate runs (three processes' worth of clients): one token between them.
        assert wfa_emulator.stats.token_requests["access_token"] == 1
        server.kill()
        status, _, err = wfa(capsys, wfa_emulator, "wecom", "departments",
                             "--redis-url", server.url)
        assert status == 1 and err.startswith("wfa: error: RedisUnavailableError")
        assert "cli-redis-password" not in err
    finally:
        server.kill()
