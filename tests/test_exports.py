"""The package's public names all resolve."""

import wecom_feishu_async


def test_every_public_name_is_importable() -> None:
    missing = [n for n in wecom_feishu_async.__all__ if not hasattr(wecom_feishu_async, n)]
    assert missing == []
