"""Third-party app state: suite credentials, login codes, picker tickets, delivered messages."""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .model import App, Member
from .org import Org

CODE_LIFETIME = 300.0  # a wx.qy.login code is single-use and good for 5 minutes
TICKET_LIFETIME = 7 * 24 * 3600  # picker tickets live 7 days by default
SUITE_TICKET_LIFETIME = 1800.0  # pushed every 10 minutes, each good for 30


@dataclass(frozen=True)
class SuiteCredentials:
    """A third-party app (suite) authorised by the org's company. Secrets stay out of repr."""

    suite_id: str
    suite_secret: str = field(repr=False)
    permanent_code: str = field(repr=False)
    auth_corpid: str
    agentid: int


@dataclass
class Ticket:
    """A picker selection: who picked (operator) and whom, split by the app's range."""

    value: str = field(repr=False)
    agentid: int
    operator: Member
    in_range: list[Member]
    out_of_range: list[Member]
    expires_at: float


@dataclass(frozen=True)
class Delivery:
    """One accepted message send and the open_userids it reached."""

    msgid: str
    template_id: str
    recipients: frozenset[str]


class SuiteWorld:
    """Everything the suite routes share; tests drive it (``pick``, ``login_code``)."""

    def __init__(self, org: Org, seed: int, clock: Callable[[], float] = time.monotonic) -> None:
        rng = random.Random(f"wfa-emulator:{seed}:suite")
        self.org = org
        self.clock = clock
        agentids = sorted(org.apps)
        # The suite's app sees part of the org, so tickets reach members outside its range.
        self.app: App = org.apps[agentids[-1]] if agentids else App(1, (1,))
        self.credentials = SuiteCredentials(
            suite_id=f"ww{rng.getrandbits(64):016x}",
            suite_secret=secrets.token_urlsafe(32),
            permanent_code=secrets.token_urlsafe(24),
            auth_corpid=org.corp_id,
            agentid=self.app.agentid,
        )
        self._suite_tickets: dict[str, float] = {}
        self.suite_ticket = self.push_suite_ticket()
        self._codes: dict[str, tuple[Member, float]] = {}
        self.sessions: dict[str, str] = {}  # session_key -> userid, never sent to clients
        self.tickets: dict[str, Ticket] = {}
        self.deliveries: list[Delivery] = []

    # Suite tickets -----------------------------------------------------------------

    def push_suite_ticket(self) -> str:
        """A new suite ticket, as WeCom pushes every 10 minutes (older ones stay valid 30)."""
        value = secrets.token_urlsafe(48)
        self._suite_tickets[value] = self.clock() + SUITE_TICKET_LIFETIME
        self.suite_ticket = value
        return value

    def expire_suite_tickets(self) -> None:
        """Every suite ticket pushed so far stops being valid."""
        self._suite_tickets.clear()

    def suite_ticket_valid(self, value: str) -> bool:
        """Whether ``value`` is a pushed, unexpired suite ticket."""
        return self._suite_tickets.get(value, 0.0) > self.clock()

    # Login codes -------------------------------------------------------------------

    def login_code(self, userid: str | None = None) -> str:
        """A ``wx.qy.login`` code for a member (default: the first active one)."""
        member = self.org.member_by_userid[userid] if userid else self.org.members[0]
        code = secrets.token_urlsafe(24)
        self._codes[code] = (member, self.clock() + CODE_LIFETIME)
        return code

    def redeem(self, code: str) -> Member | None:
        """The member a code was issued for; the code is spent either way."""
        member, expires_at = self._codes.pop(code, (None, 0.0))
        return member if member is not None and self.clock() < expires_at else None

    # Picker tickets ----------------------------------------------------------------

    def pick(
        self,
        userids: Sequence[str],
        *,
        operator: str | None = None,
        expires_in: int = TICKET_LIFETIME,
        agentid: int | None = None,
    ) -> dict[str, object]:
        """Play the picker: the exact result object the front end receives.

        ``userids`` are the members picked; ``userList`` holds those inside the app's
        visible range, the ticket stands for all of them.
        """
        chosen = [self.org.member_by_userid[u] for u in userids]
        who = self.org.member_by_userid[operator] if operator else self.org.members[0]
        app = self.org.apps.get(agentid, self.app) if agentid is not None else self.app
        ticket = Ticket(
            value=secrets.token_urlsafe(32),
            agentid=app.agentid,
            operator=who,
            in_range=[m for m in chosen if app.sees_member(m)],
            out_of_range=[m for m in chosen if not app.sees_member(m)],
            expires_at=self.clock() + expires_in,
        )
        self.tickets[ticket.value] = ticket
        return {
            "err_msg": "selectPrivilegedContact:ok",
            "result": {
                "selectedTicket": ticket.value,
                "expiresIn": expires_in,
                "selectedUserCount": len(chosen),
                "userList": [{"openUserId": m.open_userid} for m in ticket.in_range],
            },
        }

    def expire_ticket(self, value: str) -> None:
        """Make one ticket expire now."""
        self.tickets[value].expires_at = self.clock()
