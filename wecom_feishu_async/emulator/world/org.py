"""The emulated organisation: ground truth for every route, generated reproducibly from a seed."""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Callable, Hashable, Iterable, Sequence

from ..wecom.search import Matches, Query, match, truth
from . import names as _names
from .generate import generate_org
from .model import App, Department, Member, SearchTruth

_MATCH_CACHE_SIZE = 4096


class Org:
    """An organisation: a department tree, members (active, inactive, departed) and apps.

    `members` are active (status 1), `inactive` are in the company but disabled (2) or not yet
    activated (4), `departed` have left (5). Departments are ordered by id, members in org
    order (the order of search results and member lists). Build one by hand, or with
    `Org.generate(seed, ...)` for a reproducible random one.

    The corp app reads the whole directory unless `forbid_departments` says otherwise; the tree
    can change at runtime with `delete_department`.
    """

    def __init__(
        self,
        *,
        corp_id: str,
        departments: Iterable[Department],
        members: Iterable[Member],
        departed: Iterable[Member] = (),
        inactive: Iterable[Member] = (),
        apps: Iterable[App] = (),
    ) -> None:
        self.corp_id = corp_id
        self.members: list[Member] = list(members)
        self.departed: list[Member] = list(departed)
        self.inactive: list[Member] = list(inactive)
        self._forbidden: frozenset[int] = frozenset()
        self._index(departments)
        self.apps: dict[int, App] = {
            a.agentid: dataclasses.replace(
                a,
                covered_department_ids=frozenset(
                    i for top in a.visible_department_ids for i in self.subtree_ids(top)
                ),
            )
            for a in apps
        }

    def _index(self, departments: Iterable[Department]) -> None:
        self.departments: list[Department] = sorted(departments, key=lambda d: d.id)
        self.department_by_id: dict[int, Department] = {d.id: d for d in self.departments}
        self.member_by_userid: dict[str, Member] = {
            m.userid: m for m in [*self.members, *self.inactive, *self.departed]
        }
        # Siblings in display order: larger `order` first (then id).
        self._children: dict[int, list[int]] = {}
        for d in sorted(self.departments, key=lambda d: (-d.order, d.id)):
            self._children.setdefault(d.parentid, []).append(d.id)
        self._listed: dict[int, list[Member]] = {}
        for m in self.listed_members():
            for department_id in m.department:
                self._listed.setdefault(department_id, []).append(m)
        self._matches: dict[Query, Matches] = {}
        self._replies: dict[Hashable, bytes] = {}

    @classmethod
    def generate(
        cls,
        seed: int = 1,
        members: int = 300,
        departments: int = 30,
        departed: int | None = None,
        inactive: int | None = None,
    ) -> Org:
        """A random organisation, identical for identical arguments.

        `departed` and `inactive` default to 5% and 3% of `members`, on top of them.
        """
        return generate_org(cls, seed, members, departments, departed, inactive)

    def children(self, department_id: int) -> list[int]:
        """Ids of the direct sub-departments, larger `order` first."""
        return list(self._children.get(department_id, ()))

    def subtree_ids(self, department_id: int) -> list[int]:
        """The department and all its descendants, parents first (empty if unknown)."""
        if department_id not in self.department_by_id:
            return []
        out: list[int] = []
        stack = [department_id]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(reversed(self._children.get(current, ())))
        return out

    def listed_members(self) -> list[Member]:
        """Members that member lists return: active, then inactive (never departed)."""
        return [*self.members, *self.inactive]

    def members_of(self, department_id: int) -> list[Member]:
        """Active members listed directly in the department."""
        return [m for m in self._listed.get(department_id, ()) if m.is_active]

    def listed_in(self, department_id: int) -> list[Member]:
        """Active and inactive members listed directly in the department, in org order."""
        return list(self._listed.get(department_id, ()))

    # The corp app's view of the directory ---------------------------------------------------

    def forbid_departments(self, department_ids: Iterable[int]) -> None:
        """Make exactly these departments unreadable by the corp app (replaces any earlier set).

        Their member lists then answer 60011, and members listed only there are hidden.
        Descendants stay readable unless listed too, as when a visible range names a
        sub-department of a hidden one.
        """
        self._forbidden = frozenset(department_ids)
        self._replies.clear()

    def limit_to_app(self, agentid: int) -> None:
        """Give the corp app the visible range of app `agentid` (see `forbid_departments`)."""
        app = self.apps[agentid]
        self.forbid_departments(d.id for d in self.departments if not app.sees_department(d))

    @property
    def forbidden(self) -> frozenset[int]:
        """Departments the corp app may not read."""
        return self._forbidden

    def reply(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """A rendered reply, kept until the directory changes (forbid or delete)."""
        body = self._replies.get(key)
        if body is None:
            body = self._replies[key] = render()
        return body

    def readable(self, department_id: int) -> bool:
        """Whether the corp app may read the department's members."""
        return department_id in self.department_by_id and department_id not in self._forbidden

    def member_readable(self, member: Member) -> bool:
        """Whether the corp app sees the member (listed in some readable department)."""
        return any(self.readable(d) for d in member.department)

    def visible_members(self, department_id: int = 1) -> list[Member]:
        """Ground truth of a member walk: listed in a readable department of the sub-tree."""
        subtree = {d for d in self.subtree_ids(department_id) if self.readable(d)}
        return [m for m in self.listed_members() if not subtree.isdisjoint(m.department)]

    def delete_department(self, department_id: int) -> None:
        """Delete a department and its sub-tree, as an admin would after emptying them.

        Members keep their other departments; a member left with none moves to the root.
        """
        if department_id == 1:
            raise ValueError("the root department cannot be deleted")
        gone = set(self.subtree_ids(department_id))
        if not gone:
            raise ValueError(f"unknown department {department_id}")

        def move(m: Member) -> Member:
            if gone.isdisjoint(m.department):
                return m
            keep = [i for i, d in enumerate(m.department) if d not in gone]

            def pick(values: tuple[int, ...]) -> tuple[int, ...]:
                if len(values) != len(m.department):  # hand-built members may omit them
                    values = (0,) * len(m.department)
                return tuple(values[i] for i in keep) or (0,)

            department = tuple(m.department[i] for i in keep) or (1,)
            return dataclasses.replace(
                m,
                department=department,
                order=pick(m.order),
                is_leader_in_dept=pick(m.is_leader_in_dept),
                main_department=(
                    m.main_department if m.main_department in department else department[0]
                ),
            )

        self.members = [move(m) for m in self.members]
        self.inactive = [move(m) for m in self.inactive]
        self._index(d for d in self.departments if d.id not in gone)

    def matches(self, query: Query) -> Matches:
        """The unfiltered match lists of a search query (cached)."""
        found = self._matches.get(query)
        if found is None:
            if len(self._matches) >= _MATCH_CACHE_SIZE:
                self._matches.clear()
            found = match(query, self.members, self.departed, self.departments)
            self._matches[query] = found
        return found

    def search(
        self,
        query_word: str,
        *,
        query_type: int = 0,
        query_range: int = 0,
        agentid: int = 0,
        full_match_field: int = 0,
    ) -> SearchTruth:
        """Ground truth of a contact search: every page's results, concatenated in page order."""
        app = None
        if agentid:
            if agentid not in self.apps:
                raise ValueError(f"unknown agentid {agentid}")
            app = self.apps[agentid]
        query = Query(query_word, query_type, query_range, full_match_field)
        return truth(self.matches(query), app)

    def sample_words(self, n: int, seed: int = 0) -> list[str]:
        """n query words, each matching at least two active members, from a seeded shuffle.

        Mixes surname characters ("张"), pinyin syllables ("wang"), English names ("Jacky") and
        given-name characters ("伟"). Words are distinct while the organisation has enough of
        them; beyond that the list repeats (an empty org gives an empty list).
        """
        rng = random.Random(f"sample-words:{seed}")
        names = [m.name for m in self.members]
        surnames = {_surname_of(name) for name in names}
        candidates = [
            sorted(surnames),
            sorted(
                {p for s, p, _ in _names.SURNAMES if s in surnames} | {p for _, p in _names.GIVEN}
            ),
            sorted({m.english_name for m in self.members if m.english_name}),
            sorted({c for name in names for c in name[len(_surname_of(name)) :]}),
        ]
        categories = []
        for words in candidates:
            good = [w for w in words if len(self.matches(Query(w, 1)).active) >= 2]
            rng.shuffle(good)
            categories.append(good)
        distinct: list[str] = []
        seen: set[str] = set()
        for group in itertools.zip_longest(*categories):
            for word in group:
                if word is not None and word not in seen:
                    seen.add(word)
                    distinct.append(word)
        if not distinct:
            return []
        return [distinct[i % len(distinct)] for i in range(n)]

    def __repr__(self) -> str:
        return (
            f"Org(corp_id={self.corp_id!r}, departments={len(self.departments)}, "
            f"members={len(self.members)}, departed={len(self.departed)}, "
            f"apps={sorted(self.apps)})"
        )


def _surname_of(name: str) -> str:
    for surname, _, _ in _COMPOUND_SURNAMES:
        if name.startswith(surname):
            return surname
    return name[:1]


_COMPOUND_SURNAMES: Sequence[tuple[str, str, int]] = [s for s in _names.SURNAMES if len(s[0]) > 1]
