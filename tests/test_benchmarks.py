"""The benchmark harness: verdicts, ratios, tables and the results page from fixed figures
(nothing here is timed)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarks import run as runner
from benchmarks._harness import (
    Row,
    at_least,
    at_most,
    equal,
    format_table,
    median_ratio,
    rows_from_json,
    rows_to_json,
    skipped,
)
from benchmarks._report import Section, machine, markdown, tally
from benchmarks.decode import range_cases, range_reply, user_list_cases, user_list_reply
from benchmarks.feishu_fanout import saturation

ROWS = [
    Row("overhead", "5,468/s", "bare 6,000/s", 5468 / 6000, at_least(0.85)),
    Row("walk vs wechatpy", "0.2 s", "wechatpy 4.5 s", 22.5, at_least(20), ".1f", "x"),
    Row("requests sent", "46", "minimum 46", 1.0, equal(1.0)),
    Row("peak RSS", "180 MB", "limit 150 MB", 1.2, at_most(1.0)),
    Row("  wall vs ideal", "1.00 s", "ideal 0.80 s", 0.8),
    skipped("  lark-oapi", at_least(8)),
]


def test_verdicts_follow_the_targets() -> None:
    assert [r.verdict for r in ROWS] == ["pass", "pass", "pass", "FAIL", "", "skip"]
    assert at_least(0.85).met(0.85) and not at_least(0.85).met(0.849)
    assert at_most(15).met(15) and not at_most(15).met(15.1)
    assert equal(0).met(0) and not equal(0).met(1)


def test_ratio_and_target_are_formatted_alike() -> None:
    assert ROWS[0].cells()[3:] == ("0.91", ">= 0.85", "pass")
    assert ROWS[1].cells()[3:] == ("22.5x", ">= 20x", "pass")
    assert ROWS[5].cells() == ("  lark-oapi", "skipped: install .[bench]", "", "", ">= 8", "skip")


def test_median_ratio_of_pairs() -> None:
    assert median_ratio([(90, 100), (50, 100), (100, 100)]) == pytest.approx(0.9)


def test_rows_survive_the_trip_between_processes() -> None:
    text = rows_to_json(ROWS)
    assert "\n" not in text
    assert rows_from_json(text) == ROWS


def test_table_aligns_columns() -> None:
    lines = format_table([r.cells() for r in ROWS]).splitlines()
    assert len(lines) == 1 + len(ROWS)
    column = lines[0].index("ratio")
    assert lines[1][column:].startswith("0.91") and lines[2][column:].startswith("22.5x")


def sections() -> list[Section]:
    return [Section("overhead", "Per-request overhead", ROWS[:3], 2.5),
            Section("memory", "Memory", ROWS[3:], 7.0),
            Section("decode", "Decoding", [], 1.0, error="exit status 1")]


def test_results_page_has_figures_machine_date_and_command() -> None:
    host = machine()
    assert {"CPU", "cores", "RAM", "OS", "Python", "packages"} <= host.keys()
    assert "msgspec" in host["packages"] and "lark-oapi" in host["packages"]
    page = markdown(sections(), command="python -m benchmarks --quick",
                    started="2026-01-02 03:04 UTC", quick=True, host=host)
    assert "`python -m benchmarks --quick` on 2026-01-02 03:04 UTC (quick run, 10 s)" in page
    assert "**3 passed, 1 failed, 1 skipped, 1 benchmarks broke.**" in page
    assert "| overhead | 5,468/s | bare 6,000/s | 0.91 | >= 0.85 | pass |" in page
    assert "| peak RSS | 180 MB | limit 150 MB | 1.20 | <= 1 | FAIL |" in page
    assert "| ↳ wall vs ideal | 1.00 s | ideal 0.80 s | 0.80 |   |   |" in page
    # The summary: figures with a target, an indented one named after the one above.
    assert "| peak RSS | 1.20 | <= 1 | FAIL |" in page
    assert "| peak RSS: lark-oapi |   | >= 8 | skip |" in page
    assert "peak RSS: wall vs ideal" not in page
    assert "Stopped by an error: `exit status 1`" in page
    assert f"- cores: {host['cores']}" in page
    assert tally(sections()) == {"pass": 3, "FAIL": 1, "skip": 1, "error": 1}


def test_runner_prints_one_table_writes_the_page_and_fails_on_a_miss(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = {s.name: s for s in sections()}
    monkeypatch.setattr(runner, "run_one", lambda name, quick: done[name])
    out = tmp_path / "RESULTS.md"
    status = runner.main(["--quick", "--only", "overhead,memory", "--out", str(out)],
                         prog="python -m benchmarks")
    assert status == 1  # the peak RSS row missed its target
    printed = capsys.readouterr().out
    assert "[overhead] Per-request overhead (2.5 s)" in printed and "[memory] Memory" in printed
    assert "[decode]" not in printed
    page = out.read_text()
    assert "`python -m benchmarks --quick --only overhead,memory --out " in page
    assert "3 passed, 1 failed, 1 skipped" in page


def test_runner_refuses_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        runner.main(["--only", "walk,nope", "--no-write"])
    assert "unknown benchmark nope" in capsys.readouterr().err


def test_user_list_payload_carries_every_documented_field() -> None:
    body = user_list_reply(30)
    users = json.loads(body)["userlist"]
    assert len(users) == 30
    documented = {"userid", "name", "department", "order", "position", "mobile", "gender",
                  "email", "biz_mail", "is_leader_in_dept", "direct_leader", "avatar",
                  "thumb_avatar", "telephone", "alias", "status", "address", "open_userid",
                  "main_department", "extattr", "qr_code", "external_position"}
    assert all(documented <= u.keys() for u in users)
    assert any("external_profile" in u for u in users)
    cases = user_list_cases(body, peers=False)
    ours, theirs = cases["ours"], cases["json.loads"]
    assert ours is not None and theirs is not None
    assert [m.userid for m in ours()] == [u["userid"] for u in theirs()]  # type: ignore[attr-defined]


def test_range_cases_decode_the_same_ids() -> None:
    cases = range_cases(range_reply(50), peers=False)
    ours, theirs = cases["ours"], cases["json.loads"]
    assert ours is not None and theirs is not None
    found = ours()
    assert found.visible_list.open_ids == (  # type: ignore[attr-defined]
        theirs()["contacts_range"]["visible_list"]["open_ids"])  # type: ignore[index]


def test_saturation_counts_windows_sliding_peak_and_refusals() -> None:
    # Windows of 10 s: 10 calls in the first, 8 in the second, then one refused.
    sent = [(float(t), 200) for t in range(10)] + [(10.0 + t, 200) for t in range(8)]
    sent.append((25.0, 429))
    recorder = SimpleNamespace(sent=sent)
    per_window, busiest, refused = saturation(recorder, 10.0, 2)  # type: ignore[arg-type]
    assert per_window == [10, 8]
    assert busiest == 10 and refused == 1
