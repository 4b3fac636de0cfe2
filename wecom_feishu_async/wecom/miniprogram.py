"""Mini-program login on the server: ``jscode2session`` (the code from ``wx.qy.login``).

Docs: third-party https://developer.work.weixin.qq.com/document/path/92423,
self-built https://developer.work.weixin.qq.com/document/path/91507.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._core import validation as check
from .._core.endpoint import Endpoint
from .models import WeComReply

if TYPE_CHECKING:
    from .._core.loop import BaseClient

__all__ = ["MiniProgramAPI", "MiniProgramSession"]

THIRD_PARTY_PATH = "/cgi-bin/service/miniprogram/jscode2session"
SELF_BUILT_PATH = "/cgi-bin/miniprogram/jscode2session"


class MiniProgramSession(WeComReply):
    """A logged-in mini-program user. Keep ``session_key`` on the server; never send it on.

    ``userid`` is encrypted when the user's company has not installed the app;
    ``open_userid`` is returned to third-party apps only.
    """

    session_key: str
    corpid: str = ""
    userid: str = ""
    open_userid: str = ""

    def __repr__(self) -> str:
        return (
            f"MiniProgramSession(corpid={self.corpid!r}, userid={self.userid!r}, "
            f"open_userid={self.open_userid!r}, session_key=***)"
        )


class MiniProgramAPI:
    """Mini-program login (``client.miniprogram``)."""

    def __init__(self, client: BaseClient, *, third_party: bool) -> None:
        self._client = client
        self._third_party = third_party

    async def code_to_session(self, js_code: str) -> MiniProgramSession:
        """Exchange a ``wx.qy.login`` code for the user's session.

        A client configured with a ``SuiteApp`` uses the third-party endpoint (suite
        token); otherwise the self-built one (the company app's token).

        Raises:
            InputError: ``js_code`` is empty.
            InvalidCodeError: the code was already used, is older than 5 minutes or wrong.
        """
        code = check.text("js_code", js_code)
        path, auth = (
            (THIRD_PARTY_PATH, "suite_access_token")
            if self._third_party
            else (SELF_BUILT_PATH, "access_token")
        )
        # A code is single-use: a retry after the server may have consumed it could only
        # fail, so the call is not idempotent.
        return await self._client.call(
            Endpoint(
                "GET",
                path,
                MiniProgramSession,
                auth,
                params={"js_code": code, "grant_type": "authorization_code"},
                idempotent=False,
            )
        )
