"""Reproducible random generation of an organisation from a seed and sizes."""

from __future__ import annotations

import dataclasses
import itertools
import random
from typing import TYPE_CHECKING

from . import _names
from ._model import App, Department, Member

if TYPE_CHECKING:
    from ._org import Org

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
        self, rng: random.Random, department: tuple[int, ...], former: tuple[int, ...]
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
            status=1 if department else 5,
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
    cls: type[Org], seed: int, members: int, departments: int, departed: int | None
) -> Org:
    """Generate an organisation; see `Org.generate`."""
    if members < 0 or departments < 1 or (departed is not None and departed < 0):
        raise ValueError("need departments >= 1, members >= 0 and departed >= 0")
    n_departed = round(members * 0.05) if departed is None else departed
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
    tree = _with_leaders(_rng(seed, "leaders", *sizes), tree, active)
    draft = cls(corp_id=corp_id, departments=tree, members=active, departed=gone)
    apps = _apps(_rng(seed, "apps", *sizes), draft)
    return cls(corp_id=corp_id, departments=tree, members=active, departed=gone, apps=apps)
