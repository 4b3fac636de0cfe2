"""A local emulator of the WeCom and Feishu endpoints this library wraps, over a generated org.

    async with Emulator(seed=1, members=300) as emu:
        ...  # point a client at emu.url with emu.credentials; read emu.org and emu.stats

Run it standalone with `python -m wecom_feishu_async.emulator`.
"""

from ._chaos import CHAOS_KINDS, ChaosKind
from ._faults import Arrival, Fault, Faults, Injected
from ._feishu_world import FeishuCredentials, FeishuWorld
from ._model import App, Department, Member, SearchTruth
from ._org import Org
from ._server import Emulator, build_app
from ._state import Credentials, ServerState, Stats
from ._suite_world import Delivery, SuiteCredentials, SuiteWorld

__all__ = [
    "CHAOS_KINDS",
    "App",
    "Arrival",
    "ChaosKind",
    "Credentials",
    "Delivery",
    "Department",
    "Emulator",
    "Fault",
    "Faults",
    "FeishuCredentials",
    "FeishuWorld",
    "Injected",
    "Member",
    "Org",
    "SearchTruth",
    "ServerState",
    "Stats",
    "SuiteCredentials",
    "SuiteWorld",
    "build_app",
]
