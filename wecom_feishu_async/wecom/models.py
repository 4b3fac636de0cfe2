"""msgspec models of WeCom replies, named as the vendor names the JSON fields.

Optional fields have defaults and unknown fields are ignored, so replies that omit
withheld fields, or carry fields added later, still decode.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated

import msgspec

__all__ = [
    "AccessTokenReply",
    "Attribute",
    "BatchSearchItem",
    "BatchSearchReply",
    "Department",
    "DepartmentIdList",
    "DepartmentList",
    "DepartmentReply",
    "ExtAttr",
    "ExternalProfile",
    "Member",
    "MemberDepartment",
    "MemberIdPage",
    "MemberList",
    "MemberReply",
    "MemberStatus",
    "MiniprogramValue",
    "PartyIds",
    "ProviderTokenReply",
    "QueryRequestEcho",
    "QueryResult",
    "SearchPage",
    "SimpleDepartment",
    "SimpleMember",
    "SimpleMemberList",
    "TextValue",
    "TokenLifetime",
    "UserIds",
    "WeComReply",
    "WebValue",
    "WechatChannels",
]


TokenLifetime = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
"""Seconds a token lives (7200 as documented); anything outside 0..2**31-1 is malformed."""


class WeComReply(msgspec.Struct, kw_only=True):
    """Fields every WeCom reply carries; ``errcode`` absent means success."""

    errcode: int = 0
    errmsg: str = ""


class AccessTokenReply(WeComReply):
    """``GET /cgi-bin/gettoken``."""

    access_token: str
    expires_in: TokenLifetime = 7200

    def __repr__(self) -> str:
        return f"AccessTokenReply(access_token=***, expires_in={self.expires_in})"


class ProviderTokenReply(WeComReply):
    """``POST /cgi-bin/service/get_provider_token`` (no errcode on success)."""

    provider_access_token: str
    expires_in: TokenLifetime = 7200

    def __repr__(self) -> str:
        return f"ProviderTokenReply(provider_access_token=***, expires_in={self.expires_in})"


class UserIds(msgspec.Struct):
    """Matched members: ``userid`` and ``open_userid`` are parallel lists."""

    userid: list[str] = msgspec.field(default_factory=list)
    open_userid: list[str] = msgspec.field(default_factory=list)


class PartyIds(msgspec.Struct):
    """Matched departments."""

    department_id: list[int] = msgspec.field(default_factory=list)


class QueryResult(msgspec.Struct):
    """Results of one query: active members, departments and departed members."""

    user: UserIds = msgspec.field(default_factory=UserIds)
    party: PartyIds = msgspec.field(default_factory=PartyIds)
    dismiss_user: UserIds = msgspec.field(default_factory=UserIds)


class SearchPage(WeComReply):
    """One page of ``service/contact/search``.

    A page may be short, or empty, while ``is_last`` is false: the server filters each
    page by the app's visible range after choosing it.
    """

    query_result: QueryResult = msgspec.field(default_factory=QueryResult)
    is_last: bool = False
    next_cursor: str = ""


class QueryRequestEcho(msgspec.Struct):
    """The request item a batch result answers, as echoed by the server."""

    query_word: str = ""
    query_type: int = 0
    query_range: int = 0
    limit: int = 0
    full_match_field: int = 0
    cursor: str = ""


class BatchSearchItem(msgspec.Struct):
    """One query's page within ``service/contact/batchsearch``."""

    query_request: QueryRequestEcho = msgspec.field(default_factory=QueryRequestEcho)
    query_result: QueryResult = msgspec.field(default_factory=QueryResult)
    is_last: bool = False
    next_cursor: str = ""


class BatchSearchReply(WeComReply):
    """``service/contact/batchsearch``: one item per request item."""

    query_result_list: list[BatchSearchItem] = msgspec.field(default_factory=list)


# Directory: departments and members (api-facts A3, A4) -------------------------------------
# These hold no references back to one another, so the garbage collector need not track them
# (``gc=False``): walks decode many of them.


class Department(msgspec.Struct, kw_only=True, gc=False):
    """A department. The root is id 1 (its ``parentid`` is 0); larger ``order`` sorts first.

    Third-party apps get the id in place of ``name`` and no ``name_en``.
    """

    id: int
    name: str = ""
    name_en: str = ""
    department_leader: list[str] = msgspec.field(default_factory=list)
    parentid: int = 0
    order: int = 0


class SimpleDepartment(msgspec.Struct, kw_only=True, gc=False):
    """A department as ``department/simplelist`` gives it: ids and order only."""

    id: int
    parentid: int = 0
    order: int = 0


class DepartmentList(WeComReply):
    """``department/list``: a department and its descendants."""

    department: list[Department] = msgspec.field(default_factory=list)


class DepartmentIdList(WeComReply):
    """``department/simplelist``: the list is under the key ``department_id``."""

    department_id: list[SimpleDepartment] = msgspec.field(default_factory=list)


class DepartmentReply(WeComReply):
    """``department/get``."""

    department: Department


class TextValue(msgspec.Struct, gc=False):
    """The value of a text attribute."""

    value: str = ""


class WebValue(msgspec.Struct, gc=False):
    """The link of a web-page attribute."""

    url: str = ""
    title: str = ""


class MiniprogramValue(msgspec.Struct, gc=False):
    """The target of a mini-program attribute."""

    appid: str = ""
    pagepath: str = ""
    title: str = ""


class Attribute(msgspec.Struct, kw_only=True, gc=False):
    """An extended or external attribute: ``type`` 0 text, 1 web page, 2 mini program.

    Exactly the sub-object of its type is set.
    """

    type: int = 0
    name: str = ""
    text: TextValue | None = None
    web: WebValue | None = None
    miniprogram: MiniprogramValue | None = None


class ExtAttr(msgspec.Struct, gc=False):
    """A member's extended attributes."""

    attrs: list[Attribute] = msgspec.field(default_factory=list)


class WechatChannels(msgspec.Struct, gc=False):
    """The video channel (视频号) shown on a member's external profile."""

    nickname: str = ""
    status: int = 0


class ExternalProfile(msgspec.Struct, gc=False):
    """What external contacts see of a member."""

    external_corp_name: str = ""
    wechat_channels: WechatChannels = msgspec.field(default_factory=WechatChannels)
    external_attr: list[Attribute] = msgspec.field(default_factory=list)


class MemberStatus(IntEnum):
    """Values of ``Member.status``."""

    ACTIVE = 1
    DISABLED = 2
    NOT_ACTIVATED = 4
    LEFT = 5


class Member(msgspec.Struct, kw_only=True, gc=False):
    """A member as ``user/list`` and ``user/get`` give it.

    ``department``, ``order`` and ``is_leader_in_dept`` are parallel lists covering only the
    departments the app may read. ``status``: a ``MemberStatus`` value (0: not returned).
    Many fields are withheld from most apps (since 2022: avatar, gender, mobile, email,
    biz_mail, qr_code, address; ``open_userid`` goes only to third-party apps, which also get
    the userid in place of ``name``): a withheld field reads as empty.
    """

    userid: str
    name: str = ""
    department: list[int] = msgspec.field(default_factory=list)
    order: list[int] = msgspec.field(default_factory=list)
    position: str = ""
    mobile: str = ""
    gender: str = ""
    email: str = ""
    biz_mail: str = ""
    is_leader_in_dept: list[int] = msgspec.field(default_factory=list)
    direct_leader: list[str] = msgspec.field(default_factory=list)
    avatar: str = ""
    thumb_avatar: str = ""
    telephone: str = ""
    alias: str = ""
    status: int = 0
    address: str = ""
    english_name: str = ""
    open_userid: str = ""
    main_department: int = 0
    extattr: ExtAttr = msgspec.field(default_factory=ExtAttr)
    qr_code: str = ""
    external_position: str = ""
    external_profile: ExternalProfile = msgspec.field(default_factory=ExternalProfile)


class MemberList(WeComReply):
    """``user/list``: the members listed directly in one department."""

    userlist: list[Member] = msgspec.field(default_factory=list)


class SimpleMember(msgspec.Struct, kw_only=True, gc=False):
    """A member as ``user/simplelist`` gives it."""

    userid: str
    name: str = ""
    department: list[int] = msgspec.field(default_factory=list)
    open_userid: str = ""


class SimpleMemberList(WeComReply):
    """``user/simplelist``."""

    userlist: list[SimpleMember] = msgspec.field(default_factory=list)


# ``user/get`` puts the member's fields beside errcode/errmsg. Structs inherit from one base
# only, so the reply type is built from Member's fields on a WeComReply base.
def _spec(f: msgspec.structs.FieldInfo) -> tuple[str, object, object] | tuple[str, object]:
    if f.default_factory is not msgspec.NODEFAULT:
        return (f.name, f.type, msgspec.field(default_factory=f.default_factory))
    return (f.name, f.type) if f.required else (f.name, f.type, f.default)


MemberReply: type[WeComReply] = msgspec.defstruct(  # type: ignore[assignment]
    "MemberReply",
    [_spec(f) for f in msgspec.structs.fields(Member)],
    bases=(WeComReply,),
    kw_only=True,
    module=__name__,
)


class MemberDepartment(msgspec.Struct, kw_only=True, gc=False):
    """One (member, department) row of ``user/list_id``; third parties get ``open_userid``."""

    userid: str = ""
    open_userid: str = ""
    department: int = 0


class MemberIdPage(WeComReply):
    """One page of ``user/list_id``; an empty ``next_cursor`` means the last page."""

    next_cursor: str = ""
    dept_user: list[MemberDepartment] = msgspec.field(default_factory=list)
