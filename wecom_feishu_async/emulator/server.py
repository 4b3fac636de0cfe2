"""The emulator: an aiohttp.web application over a generated organisation, and its server."""

from __future__ import annotations

from types import TracebackType

from aiohttp import web

from .feishu import application as _feishu_application
from .feishu import auth as _feishu_auth
from .feishu.common import FEISHU_KEY
from .pipeline import Route, make_handler
from .wecom import auth as _wecom_auth
from .wecom import contact as _wecom_contact
from .wecom import directory as _wecom_directory
from .wecom import suite as _wecom_suite
from .world.faults import Faults
from .world.feishu import FeishuWorld
from .world.generate import PARTIAL_AGENTIDS, WHOLE_ORG_AGENTID
from .world.org import Org
from .world.state import STATE_KEY, Credentials, ServerState, Stats, make_credentials
from .world.suite import SuiteWorld


def _all_routes() -> list[Route]:
    return [*_wecom_auth.routes(), *_wecom_contact.routes(), *_wecom_suite.routes(),
            *_wecom_directory.routes(), *_feishu_auth.routes(), *_feishu_application.routes()]


def build_app(state: ServerState) -> web.Application:
    """A web.Application serving every emulated route from `state`."""
    app = web.Application()
    app[STATE_KEY] = state
    for route in _all_routes():
        app.router.add_route(route.method, route.path, make_handler(route, state))
    return app


class Emulator:
    """A local WeCom and Feishu server with a reproducible organisation, knobs and counters.

    Use as `async with Emulator(seed=1) as emu:`; `emu.url` is then the base URL. The
    application (`emu.app`) can also be mounted into another server without starting this one.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        members: int = 300,
        departments: int = 30,
        departed: int | None = None,
        latency: float = 0.0,
        token_ttl: float = 7200,
        quota_per_minute: int = 10_000,
        max_concurrency: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        org: Org | None = None,
        feishu_versions: int = 120,
        feishu_quota: tuple[int, float] = (100, 60.0),
    ) -> None:
        self.org = org if org is not None else Org.generate(seed, members, departments, departed)
        partial = [a for a in PARTIAL_AGENTIDS if a in self.org.apps]
        agentid = partial[0] if partial else min(self.org.apps, default=WHOLE_ORG_AGENTID)
        self.credentials: Credentials = make_credentials(seed, self.org, agentid)
        self._state = ServerState(
            self.org,
            self.credentials,
            latency=latency,
            token_ttl=token_ttl,
            quota_per_minute=quota_per_minute,
            max_concurrency=max_concurrency,
        )
        self.app = build_app(self._state)
        self.suite = SuiteWorld(self.org, seed)
        """The third-party app: its credentials, login codes, picker tickets, deliveries."""
        self.app[_wecom_suite.SUITE_KEY] = self.suite
        self.feishu = FeishuWorld(self.org, seed, feishu_versions)
        """The Feishu tenant: its apps (`feishu.credentials`), versions and ranges."""
        self.app[FEISHU_KEY] = self.feishu
        self.feishu_quota = feishu_quota
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. "http://127.0.0.1:54321" (only once started)."""
        if self._url is None:
            raise RuntimeError("the emulator is not started")
        return self._url

    @property
    def state(self) -> ServerState:
        """The shared server state behind the routes."""
        return self._state

    @property
    def stats(self) -> Stats:
        """Request, token and error counters."""
        return self._state.stats

    @property
    def faults(self) -> Faults:
        """The fault plan (scripts and rate)."""
        return self._state.faults

    @property
    def latency(self) -> float:
        """Seconds added to every request."""
        return self._state.latency

    @latency.setter
    def latency(self, value: float) -> None:
        self._state.latency = value

    @property
    def token_ttl(self) -> float:
        """Seconds of life given to newly issued tokens."""
        return self._state.token_ttl

    @token_ttl.setter
    def token_ttl(self, value: float) -> None:
        self._state.token_ttl = value

    @property
    def quota_per_minute(self) -> int:
        """Calls allowed per (corp, path) in any 60 s window; more answer 45009."""
        return self._state.quota_per_minute

    @quota_per_minute.setter
    def quota_per_minute(self, value: int) -> None:
        self._state.quota_per_minute = value

    @property
    def max_concurrency(self) -> int | None:
        """Requests allowed in flight per path (None: no cap); more answer 45033."""
        return self._state.max_concurrency

    @max_concurrency.setter
    def max_concurrency(self, value: int | None) -> None:
        self._state.max_concurrency = value

    @property
    def feishu_quota(self) -> tuple[int, float]:
        """(calls, window seconds) allowed per Feishu application API per app and tenant;
        more answer 99991400 with HTTP 429."""
        return self._state.quota_for(_feishu_application.QUOTA_PATHS[0])

    @feishu_quota.setter
    def feishu_quota(self, value: tuple[int, float]) -> None:
        limit, window = value
        self._state.path_quotas.update(
            dict.fromkeys(_feishu_application.QUOTA_PATHS, (int(limit), float(window)))
        )

    def revoke_tokens(self) -> None:
        """Invalidate every issued token now (early expiry)."""
        self._state.tokens.revoke_all()

    def issued_tokens(self) -> list[str]:
        """Every token value issued so far, alive or not (tests look for them in logs)."""
        return self._state.tokens.values()

    async def start(self) -> None:
        """Start serving on host:port (port 0 picks a free port)."""
        if self._runner is not None:
            return
        # Short shutdown timeout: closing must not wait long for requests still in flight.
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._url = f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"

    async def close(self) -> None:
        """Stop serving (idempotent)."""
        runner, self._runner = self._runner, None
        self._url = None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        where = self._url or "not started"
        return f"Emulator({where}, {self.org!r})"
