"""Third-party (suite) tokens: ``suite_access_token`` and an authorised company's token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._core.credentials import AuthorizedCorp, SuiteApp
from .._core.endpoint import Endpoint
from .models import TokenLifetime, WeComReply

if TYPE_CHECKING:
    from .._core.loop import BaseClient


class SuiteTokenReply(WeComReply):
    """``POST /cgi-bin/service/get_suite_token`` (errcode only on failure)."""

    suite_access_token: str
    expires_in: TokenLifetime = 7200

    def __repr__(self) -> str:
        return f"SuiteTokenReply(suite_access_token=***, expires_in={self.expires_in})"


class CorpTokenReply(WeComReply):
    """``POST /cgi-bin/service/get_corp_token`` (errcode only on failure)."""

    access_token: str
    expires_in: TokenLifetime = 7200

    def __repr__(self) -> str:
        return f"CorpTokenReply(access_token=***, expires_in={self.expires_in})"


@dataclass(frozen=True, slots=True)
class SuiteTokenSource:
    """``suite_access_token`` from the suite id, secret and the newest suite ticket."""

    suite: SuiteApp
    kind: str = "suite_access_token"

    @property
    def store_key(self) -> str:
        return self.suite.store_key

    async def fetch(self, client: BaseClient) -> tuple[str, float]:
        # 40085 (bad or stale ticket) raises SuiteTicketError, which says what to do.
        reply = await client.call(
            Endpoint(
                "POST",
                "/cgi-bin/service/get_suite_token",
                SuiteTokenReply,
                auth=None,
                body={
                    "suite_id": self.suite.suite_id,
                    "suite_secret": self.suite.suite_secret,
                    "suite_ticket": await self.suite.ticket(),
                },
                scope=self.suite.suite_id,
            )
        )
        return reply.suite_access_token, float(reply.expires_in)


@dataclass(frozen=True, slots=True)
class AuthorizedCorpTokenSource:
    """An authorised company's ``access_token``, through the suite token."""

    suite: SuiteApp
    corp: AuthorizedCorp
    kind: str = "access_token"

    @property
    def store_key(self) -> str:
        return self.corp.store_key(self.suite)

    async def fetch(self, client: BaseClient) -> tuple[str, float]:
        # The suite token rides in the URL; the core refreshes it once on 40082 / 42009.
        reply = await client.call(
            Endpoint(
                "POST",
                "/cgi-bin/service/get_corp_token",
                CorpTokenReply,
                auth="suite_access_token",
                body={
                    "auth_corpid": self.corp.auth_corpid,
                    "permanent_code": self.corp.permanent_code,
                },
                scope=self.suite.suite_id,
            )
        )
        return reply.access_token, float(reply.expires_in)
