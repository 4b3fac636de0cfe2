"""``python -m wecom_feishu_async``: the ``wfa`` command line."""

from .cli import main

raise SystemExit(main())
