"""A local emulator of the WeCom and Feishu endpoints this library wraps, over a generated org.

    async with Emulator(seed=1, members=300) as emu:
        ...  # point a client at emu.url with emu.credentials; read emu.org and emu.stats

Run it standalone with `python -m wecom_feishu_async.emulator`.
"""

from .server import Emulator, build_app
from .world.chaos import CHAOS_KINDS, ChaosKind
from .world.faults import Arrival, Fault, Faults, Injected
from .world.feishu import FeishuCredentials, FeishuWorld
from .world.model import App, Department, Member, SearchTruth
from .world.org import Org
from .world.state import Credentials, ServerState, Stats
from .world.suite import Delivery, SuiteCredentials, SuiteWorld

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
