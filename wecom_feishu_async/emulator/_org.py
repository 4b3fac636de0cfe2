"""The emulated organisation: ground truth for every route, generated reproducibly from a seed."""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Iterable, Sequence

from . import _names
from ._generate import generate_org
from ._model import App, Department, Member, SearchTruth
from ._search import Matches, Query, match, truth

_MATCH_CACHE_SIZE = 4096


class Org:
    """An organisation: a department tree, active and departed members, and apps.

    Departments are ordered by id, members in org order (the order of search results).
    Build one by hand, or with `Org.generate(seed, ...)` for a reproducible random one.
    """

    def __init__(
        self,
        *,
        corp_id: str,
        departments: Iterable[Department],
        members: Iterable[Member],
        departed: Iterable[Member] = (),
        apps: Iterable[App] = (),
    ) -> None:
        self.corp_id = corp_id
        self.departments: list[Department] = sorted(departments, key=lambda d: d.id)
        self.members: list[Member] = list(members)
        self.departed: list[Member] = list(departed)
        self.department_by_id: dict[int, Department] = {d.id: d for d in self.departments}
        self.member_by_userid: dict[str, Member] = {
            m.userid: m for m in [*self.members, *self.departed]
        }
        self._children: dict[int, list[int]] = {}
        for d in self.departments:
            self._children.setdefault(d.parentid, []).append(d.id)
        self.apps: dict[int, App] = {
            a.agentid: dataclasses.replace(
                a,
                covered_department_ids=frozenset(
                    i for top in a.visible_department_ids for i in self.subtree_ids(top)
                ),
            )
            for a in apps
        }
        self._matches: dict[Query, Matches] = {}

    @classmethod
    def generate(
        cls, seed: int = 1, members: int = 300, departments: int = 30, departed: int | None = None
    ) -> Org:
        """A random organisation, identical for identical arguments."""
        return generate_org(cls, seed, members, departments, departed)

    def children(self, department_id: int) -> list[int]:
        """Ids of the direct sub-departments."""
        return list(self._children.get(department_id, ()))

    def subtree_ids(self, department_id: int) -> list[int]:
        """The department and all its descendants, in pre-order (empty if unknown)."""
        if department_id not in self.department_by_id:
            return []
        out: list[int] = []
        stack = [department_id]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(reversed(self._children.get(current, ())))
        return out

    def members_of(self, department_id: int) -> list[Member]:
        """Active members listed directly in the department."""
        return [m for m in self.members if department_id in m.department]

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
