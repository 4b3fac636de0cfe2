"""Reproducible random generation of an organisation from a seed and sizes."""

from __future__ import annotations

import dataclasses
import itertools
import random
from typing import TYPE_CHECKING

from . import names as _names
from .model import App, Attr, Department, ExternalProfile, Member

if TYPE_CHECKING:
    from .org import Org

_SURNAME_CUM = list(itertools.accumulate(w for _, _, w in _names.SURNAMES))
_MEMBER_DEPARTMENT_COUNTS = (1, 2, 3)
_MEMBER_DEPARTMENT_WEIGHTS = (80, 15, 5)
MAX_DEPTH = 5  # the root is depth 0; the deepest departments are depth 5
# agentid of the app that sees the whole organisation; the next two have partial ranges.
WHOLE_ORG_AGENTID = 1000002
PARTIAL_AGENTIDS = (1000003, 1000004)


def _rng(seed: int, stage: str, *sizes: int | None) -> random.Random:
    # One generator per stage, seeded by a string (stable across runs and PYTHONHASHSEED).
    return random.Random(f"wfa-emulator:{seed}:{stage}:{sizes}")


def _department_name(rng: random.Random, depth: int, used: set[str]) -> tuple[str, str, str]:
    for _ in range(30):
        function = rng.choice(_names.FUNCTIONS)
        if depth == 1:
            if rng.random() < 0.35:
                parts = [rng.choice(_names.REGIONS), _names.BRANCH_SUFFIX]
            else:
                parts = [function, rng.choice(_names.TOP_SUFFIXES)]
        else:
            parts = [function, rng.choice(_names.SUB_SUFFIXES)]
            if rng.random() < 0.35:
                parts.insert(0, rng.choice(_names.REGIONS))
        name = "".join(p[0] for p in parts)
        if name not in used:
            break
    # After 30 clashes a duplicate name is kept: real organisations have some too.
    used.add(name)
    return name, "".join(p[1] for p in parts), " ".join(p[2] for p in parts)


def _departments(rng: random.Random, count: int) -> list[Department]:
    zh, py, en = _names.ROOT_DEPARTMENT
    out = [Department(1, zh, en, py, 0, rng.randrange(2**32))]
    depth = {1: 0}
    used = {zh}
    for new_id in range(2, count + 1):
        parents = [d for d in out if depth[d.id] < MAX_DEPTH]
        # Shallow parents are likelier, so the tree is bushy near the root and a few levels deep.
        weights = [3.0 if depth[d.id] == 0 else 1.0 / depth[d.id] for d in parents]
        parent = rng.choices(parents, weights=weights)[0]
        depth[new_id] = depth[parent.id] + 1
        name, pinyin, name_en = _department_name(rng, depth[new_id], used)
        out.append(Department(new_id, name, name_en, pinyin, parent.id, rng.randrange(2**32)))
    return out


class _People:
    """Makes people with unique userids and open_userids across active and departed members."""

    def __init__(self) -> None:
        self.userids: set[str] = set()
        self.open_userids: set[str] = set()

    def make(
        self,
        rng: random.Random,
        department: tuple[int, ...],
        former: tuple[int, ...],
        status: int | None = None,
    ) -> Member:
        surname, surname_py, _ = rng.choices(_names.SURNAMES, cum_weights=_SURNAME_CUM)[0]
        given = rng.sample(_names.GIVEN, 2 if rng.random() < 0.65 else 1)
        name = surname + "".join(c for c, _ in given)
        pinyin = surname_py + "".join(p for _, p in given)
        userid = pinyin
        suffix = 2
        while userid in self.userids:
            userid = f"{pinyin}{suffix}"
            suffix += 1
        self.userids.add(userid)
        open_userid = f"wo{rng.getrandbits(120):030x}"
        while open_userid in self.open_userids:
            open_userid = f"wo{rng.getrandbits(120):030x}"
        self.open_userids.add(open_userid)
        english = rng.choice(_names.ENGLISH_NAMES) if rng.random() < 0.7 else ""
        return Member(
            userid=userid,
            open_userid=open_userid,
            name=name,
            pinyin=pinyin,
            english_name=english,
            department=department,
            order=tuple(rng.randrange(2**32) for _ in department),
            main_department=department[0] if department else 0,
            position=rng.choice(_names.POSITIONS),
            status=status if status is not None else 1 if department else 5,
            former_department=former,
        )


def _pick_departments(rng: random.Random, pool: list[int]) -> tuple[int, ...]:
    k = rng.choices(_MEMBER_DEPARTMENT_COUNTS, weights=_MEMBER_DEPARTMENT_WEIGHTS)[0]
    return tuple(rng.sample(pool, min(k, len(pool))))


def _with_leaders(
    rng: random.Random, departments: list[Department], members: list[Member]
) -> list[Department]:
    by_department: dict[int, list[str]] = {}
    for m in members:
        for department_id in m.department:
            by_department.setdefault(department_id, []).append(m.userid)
    out = []
    for d in departments:
        candidates = by_department.get(d.id, [])
        if candidates and rng.random() < 0.5:
            d = dataclasses.replace(d, department_leader=(rng.choice(candidates),))
        out.append(d)
    return out


def _attr(rng: random.Random, member: Member, *, miniprogram: bool) -> Attr:
    kinds = (0, 1, 2) if miniprogram else (0, 1)
    kind = rng.choice(kinds)
    if kind == 0:
        return Attr(0, rng.choice(_names.EXTATTR_TEXT), value=f"{rng.randrange(1, 99999):05d}")
    if kind == 1:
        name, title = rng.choice(_names.EXTATTR_WEB)
        return Attr(1, name, url=f"https://www.example.com/u/{member.userid}", title=title)
    return Attr(
        2,
        "名片",
        appid=rng.choice(_names.MINIPROGRAM_APPIDS),
        pagepath=f"/pages/card?u={member.userid}",
        title="名片",
    )


def _with_profiles(
    rng: random.Random, departments: list[Department], members: list[Member]
) -> list[Member]:
    """Members with leader flags, a direct leader, and some of the optional profile fields.

    A member's direct leader is the leader of the nearest department, from the main one up,
    that has a leader other than the member.
    """
    leader = {d.id: d.department_leader[0] for d in departments if d.department_leader}
    parent = {d.id: d.parentid for d in departments}
    out = []
    for m in members:
        above: tuple[str, ...] = ()
        current = m.main_department
        while current:
            if leader.get(current, m.userid) != m.userid:
                above = (leader[current],)
                break
            current = parent.get(current, 0)
        profile = None
        if rng.random() < 0.25:
            attrs = tuple(_attr(rng, m, miniprogram=True) for _ in range(rng.randint(0, 3)))
            channels = f"{m.name}的视频号" if rng.random() < 0.3 else ""
            profile = ExternalProfile(
                rng.choice(_names.EXTERNAL_CORP_NAMES), attrs, channels, rng.choice((0, 1))
            )
        out.append(
            dataclasses.replace(
                m,
                is_leader_in_dept=tuple(int(leader.get(d) == m.userid) for d in m.department),
                direct_leader=above,
                alias=f"{m.english_name.lower()}{m.pinyin}" if m.english_name else "",
                telephone=(
                    f"{rng.choice(_names.AREA_CODES)}-{rng.randrange(10**7, 10**8)}"
                    if rng.random() < 0.3
                    else ""
                ),
                extattr=tuple(
                    _attr(rng, m, miniprogram=False) for _ in range(rng.choice((0, 0, 1, 2)))
                ),
                external_position=(
                    rng.choice(_names.EXTERNAL_POSITIONS) if rng.random() < 0.2 else ""
                ),
                external_profile=profile,
            )
        )
    return out


def _apps(rng: random.Random, org: Org) -> list[App]:
    apps = [App(WHOLE_ORG_AGENTID, (1,))]
    total = len(org.departments)
    # Small sub-trees (at most a quarter of the tree), so partial apps filter a lot.
    small = [d.id for d in org.departments[1:] if len(org.subtree_ids(d.id)) * 4 <= total]
    pool = small or [d.id for d in org.departments[1:]]
    for agentid, n_departments, n_users in zip(PARTIAL_AGENTIDS, (3, 2), (4, 3), strict=True):
        tops = tuple(sorted(rng.sample(pool, min(n_departments, len(pool)))))
        users = tuple(m.userid for m in rng.sample(org.members, min(n_users, len(org.members))))
        apps.append(App(agentid, tops, users))
    return apps


def generate_org(
    cls: type[Org],
    seed: int,
    members: int,
    departments: int,
    departed: int | None,
    inactive: int | None = None,
) -> Org:
    """Generate an organisation; see `Org.generate`."""
    if (
        members < 0
        or departments < 1
        or (departed is not None and departed < 0)
        or (inactive is not None and inactive < 0)
    ):
        raise ValueError("need departments >= 1, and members, departed and inactive >= 0")
    n_departed = round(members * 0.05) if departed is None else departed
    n_inactive = round(members * 0.03) if inactive is None else inactive
    sizes = (members, departments, n_departed)
    tree = _departments(_rng(seed, "departments", departments), departments)
    corp_id = f"ww{_rng(seed, 'corp').getrandbits(64):016x}"
    # Members sit in non-root departments, except when the root is the only department.
    pool = [d.id for d in tree[1:]] or [1]
    people = _People()
    rng = _rng(seed, "members", *sizes)
    active = [people.make(rng, _pick_departments(rng, pool), ()) for _ in range(members)]
    rng = _rng(seed, "departed", *sizes)
    gone = [people.make(rng, (), _pick_departments(rng, pool)) for _ in range(n_departed)]
    # Each stage draws from its own generator, so adding one leaves the others' output as is.
    rng = _rng(seed, "inactive", *sizes, n_inactive)
    idle = [
        people.make(rng, _pick_departments(rng, pool), (), status=rng.choice((2, 4)))
        for _ in range(n_inactive)
    ]
    tree = _with_leaders(_rng(seed, "leaders", *sizes), tree, active)
    rng = _rng(seed, "profiles", *sizes, n_inactive)
    active = _with_profiles(rng, tree, active)
    idle = _with_profiles(rng, tree, idle)
    draft = cls(corp_id=corp_id, departments=tree, members=active, departed=gone)
    apps = _apps(_rng(seed, "apps", *sizes), draft)
    return cls(
        corp_id=corp_id,
        departments=tree,
        members=active,
        departed=gone,
        inactive=idle,
        apps=apps,
    )
