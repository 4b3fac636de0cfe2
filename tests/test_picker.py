"""The contact picker's options and result (seed 000)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Capture
from wecom_feishu_async import DecodeError, InputError
from wecom_feishu_async.wecom.picker import (
    PICKER_TICKET_LIFETIME,
    PickerContextRequiresMultiMode,
    PickerError,
    PickerOptions,
    PickerUnsupportedContext,
    decode_picker_result,
)

PAYLOADS = Path(__file__).parent / "payloads"


def seed(name: str) -> dict[str, object]:
    data = json.loads((PAYLOADS / name).read_text())
    assert isinstance(data, dict)
    return data


def test_seed_options_round_trip() -> None:
    options = PickerOptions.from_js(seed("picker_options.json"))
    assert options.from_department_id == -1 and options.mode == "multi"
    assert options.selected_tickets == ("ticket1", "ticket2")
    assert options.to_js() == seed("picker_options.json")
    assert json.loads(options.to_json()) == seed("picker_options.json")


def test_seed_result_round_trips_with_an_absolute_expiry() -> None:
    result = decode_picker_result(seed("picker_result.json"), clock=lambda: 1_000.0)
    assert result.selected_ticket == "TICKET"
    assert (result.expires_in, result.expires_at) == (604800, 605800.0)
    assert result.selected_user_count == 3
    assert result.open_user_ids == ["woAAAA", "woBBBB"]
    assert result.to_js() == seed("picker_result.json")
    assert not result.expired(now=605799.0) and result.expired(now=605800.0)
    assert "TICKET" not in repr(result)


def test_result_as_json_text_and_default_lifetime() -> None:
    payload = seed("picker_result.json")
    del payload["result"]["expiresIn"]  # type: ignore[attr-defined]
    result = decode_picker_result(json.dumps(payload), clock=lambda: 0.0)
    assert result.expires_in == PICKER_TICKET_LIFETIME == 7 * 24 * 3600
    assert result.expires_at == PICKER_TICKET_LIFETIME


@pytest.mark.parametrize(
    ("err_msg", "cls"),
    [
        ("selectPrivilegedContact:fail_unsupported_context", PickerUnsupportedContext),
        ("selectPrivilegedContact:fail_context_require_multi_mode",
         PickerContextRequiresMultiMode),
        ("selectPrivilegedContact:fail_no_permission", PickerError),
        ("selectPrivilegedContact:cancel", PickerError),
    ],
)
def test_failures_are_distinct_typed_errors(err_msg: str, cls: type[PickerError]) -> None:
    with pytest.raises(PickerError) as info:
        decode_picker_result({"err_msg": err_msg})
    assert type(info.value) is cls
    assert info.value.err_msg == err_msg and err_msg in str(info.value)


@pytest.mark.parametrize(
    "payload",
    [
        "{not json",
        "[]",
        {},
        {"err_msg": 3},
        {"err_msg": "selectPrivilegedContact:ok"},
        {"err_msg": "selectPrivilegedContact:ok", "result": {"selectedUserCount": 1}},
        {"err_msg": "selectPrivilegedContact:ok",
         "result": {"selectedTicket": "", "selectedUserCount": 1}},
        {"err_msg": "selectPrivilegedContact:ok",
         "result": {"selectedTicket": "T", "selectedUserCount": "1"}},
        {"err_msg": "selectPrivilegedContact:ok",
         "result": {"selectedTicket": "T", "selectedUserCount": 1, "userList": [{"x": 1}]}},
        {"err_msg": "selectPrivilegedContact:ok",
         "result": {"selectedTicket": "T", "selectedUserCount": 1, "expiresIn": 0}},
    ],
)
def test_malformed_results_are_decode_errors(payload: object) -> None:
    with pytest.raises(DecodeError) as info:
        decode_picker_result(payload)  # type: ignore[arg-type]
    assert "selectPrivilegedContact" in str(info.value)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("mode", {"mode": "many"}),
        ("mode", {"mode": None}),
        ("from_department_id", {"from_department_id": -2}),
        ("from_department_id", {"from_department_id": "1"}),
        ("from_department_id", {"from_department_id": True}),
        ("selected_context_contact", {"selected_context_contact": 2}),
        ("selected_context_contact", {"mode": "single", "selected_context_contact": 1}),
        ("selected_open_user_ids", {"selected_open_user_ids": ["u"] * 2001}),
        ("selected_open_user_ids", {"selected_open_user_ids": "woAAAA"}),
        ("selected_open_user_ids[1]", {"selected_open_user_ids": ["a", ""]}),
        ("selected_tickets", {"selected_tickets": ["t"] * 11}),
        ("selected_tickets[0]", {"selected_tickets": [5]}),
    ],
)
def test_option_rules(field: str, kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"from_department_id": 0, "mode": "multi", **kwargs}
    with pytest.raises(InputError) as info:
        PickerOptions(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_limits_are_inclusive() -> None:
    options = PickerOptions(7, "multi", selected_open_user_ids=["u"] * 2000,
                            selected_tickets=["t"] * 10)
    assert len(options.to_js()["selectedOpenUserIds"]) == 2000  # type: ignore[arg-type]


def test_single_mode_leaves_out_ids_and_tickets_with_a_warning(log_capture: Capture) -> None:
    options = PickerOptions(0, "single", selected_open_user_ids=["a"], selected_tickets=["t"])
    assert options.to_js() == {"fromDepartmentId": 0, "mode": "single",
                               "selectedContextContact": 0}
    assert any("single mode ignores" in line for line in log_capture.lines)
