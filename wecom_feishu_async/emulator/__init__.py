"""A local emulator of the WeCom endpoints this library wraps, over a generated organisation.

    async with Emulator(seed=1, members=300) as emu:
        ...  # point a client at emu.url with emu.credentials; read emu.org and emu.stats

Run it standalone with `python -m wecom_feishu_async.emulator`.
"""

from ._faults import Fault, Faults
from ._model import App, Department, Member, SearchTruth
from ._org import Org
from ._server import Emulator, build_app
from ._state import Credentials, ServerState, Stats

__all__ = [
    "App",
    "Credentials",
    "Department",
    "Emulator",
    "Fault",
    "Faults",
    "Member",
    "Org",
    "SearchTruth",
    "ServerState",
    "Stats",
    "build_app",
]
