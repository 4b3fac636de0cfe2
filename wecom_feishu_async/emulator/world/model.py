"""Value types of the emulated organisation: departments, members, apps, search truth."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Department:
    """A department. Id 1 is the root; its `parentid` is 0 (as WeCom returns it)."""

    id: int
    name: str
    name_en: str
    pinyin: str
    parentid: int
    order: int
    department_leader: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attr:
    """An extended or external attribute: text (`type` 0), web page (1) or mini program (2)."""

    type: int
    name: str
    value: str = ""  # text
    url: str = ""  # web page
    title: str = ""  # web page, mini program
    appid: str = ""  # mini program
    pagepath: str = ""  # mini program


@dataclass(frozen=True)
class ExternalProfile:
    """What external contacts see of a member: corp short name, attributes, video channel."""

    external_corp_name: str
    external_attr: tuple[Attr, ...] = ()
    channels_nickname: str = ""  # empty: no 视频号 (wechat_channels) shown
    channels_status: int = 0


@dataclass(frozen=True)
class Member:
    """A member: active (`status` 1), disabled (2), not yet activated (4) or departed (5).

    `department`, `order` and `is_leader_in_dept` are parallel; a departed member has none, and
    keeps the departments held when leaving in `former_department` (used only for app
    visibility of departed members).
    """

    userid: str
    open_userid: str
    name: str
    pinyin: str
    english_name: str
    department: tuple[int, ...]
    order: tuple[int, ...]
    main_department: int
    position: str = ""
    status: int = 1
    former_department: tuple[int, ...] = ()
    is_leader_in_dept: tuple[int, ...] = ()
    direct_leader: tuple[str, ...] = ()
    alias: str = ""
    telephone: str = ""
    extattr: tuple[Attr, ...] = ()
    external_position: str = ""
    external_profile: ExternalProfile | None = None

    @property
    def is_active(self) -> bool:
        """Whether the member is active (status 1: in the company and activated)."""
        return self.status == 1

    @property
    def has_left(self) -> bool:
        """Whether the member has left the company (status 5)."""
        return self.status == 5


@dataclass(frozen=True)
class App:
    """An app (agentid) and its visible range: department sub-trees plus individual users.

    `covered_department_ids` is the range's departments with all their descendants; `Org`
    fills it in from the department tree when the app is added to an organisation.
    """

    agentid: int
    visible_department_ids: tuple[int, ...]
    visible_userids: tuple[str, ...] = ()
    covered_department_ids: frozenset[int] = field(default=frozenset(), repr=False)

    def sees_department(self, department: Department) -> bool:
        """Whether the department lies inside the app's visible range."""
        return department.id in self.covered_department_ids

    def sees_member(self, member: Member) -> bool:
        """Whether the member lies inside the app's visible range.

        UNCERTAIN: the docs do not say how the range applies to departed members; here a departed
        member is visible when a department held when leaving (or the userid) is in range.
        """
        if member.userid in self.visible_userids:
            return True
        departments = member.former_department if member.has_left else member.department
        return any(d in self.covered_department_ids for d in departments)


@dataclass
class SearchTruth:
    """Every match of a contact search, in the order the pages return them.

    `userid`/`open_userid` and `dismiss_userid`/`dismiss_open_userid` are parallel lists.
    """

    userid: list[str] = field(default_factory=list)
    open_userid: list[str] = field(default_factory=list)
    department_id: list[int] = field(default_factory=list)
    dismiss_userid: list[str] = field(default_factory=list)
    dismiss_open_userid: list[str] = field(default_factory=list)

    def extend(self, other: SearchTruth) -> None:
        """Append another page's (or truth's) lists to this one."""
        self.userid.extend(other.userid)
        self.open_userid.extend(other.open_userid)
        self.department_id.extend(other.department_id)
        self.dismiss_userid.extend(other.dismiss_userid)
        self.dismiss_open_userid.extend(other.dismiss_open_userid)
