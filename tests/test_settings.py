"""Client settings of the wrong type or out of range: ConfigurationError naming the setting."""

from __future__ import annotations

from typing import Any

import pytest

from wecom_feishu_async import ConfigurationError, Provider, Quota, RetryPolicy, WeComClient


def client(**kwargs: Any) -> WeComClient:
    return WeComClient(provider=Provider("wwp", "secret"), **kwargs)


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("quota limit", lambda: Quota("10", 60.0)),
        ("quota limit", lambda: Quota(10.5, 60.0)),
        ("quota period", lambda: Quota(10, float("nan"))),
        ("quota period", lambda: Quota(10, float("inf"))),
        ("quota burst", lambda: Quota(10, 60.0, burst="2")),
        ("quota slack", lambda: Quota(10, 60.0, slack=None)),
        ("max_retries", lambda: RetryPolicy(max_retries=-1)),
        ("max_retries", lambda: RetryPolicy(max_retries=True)),
        ("max_time", lambda: RetryPolicy(max_time=0)),
        ("max_time", lambda: RetryPolicy(max_time="60")),
        ("base_delay", lambda: RetryPolicy(base_delay=-0.1)),
        ("max_retry_after", lambda: RetryPolicy(max_retry_after=float("nan"))),
        ("jitter", lambda: RetryPolicy(jitter="yes")),
        ("quotas", lambda: client(quotas=[1])),
        ("endpoint_quotas", lambda: client(endpoint_quotas={"/cgi-bin/user/list": 5})),
        ("max_in_flight", lambda: client(max_in_flight="3")),
        ("base_url", lambda: client(base_url=5)),
        ("base_url", lambda: client(base_url="qyapi.weixin.qq.com")),
        ("pool_size", lambda: client(pool_size=0)),
        ("timeout", lambda: client(timeout=-1)),
        ("token_margin", lambda: client(token_margin=-5)),
        ("retry", lambda: client(retry="fast")),
    ],
)
def test_bad_settings_are_configuration_errors(name: str, make: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        make()
    assert name in str(info.value)


def test_good_settings_are_accepted() -> None:
    Quota(100, 60.0, burst=5, slack=0.5)
    RetryPolicy(max_retries=0, max_time=float("inf"), base_delay=0, jitter=False)
    client(quotas=(), endpoint_quotas={"/x": [Quota(1, 1.0)]}, timeout=0.5, pool_size=1,
           token_margin=0)
