"""The Feishu side of the emulator: one tenant over the organisation, its apps and versions.

Generated reproducibly from the seed. Ranges are kept in organisation terms (userids,
department ids) and rendered in the id types a request asks for; open ids differ per app.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from .org import Org

# Scopes the application endpoints check.
SELF_MANAGE = "application:application:self_manage"
VERSION_READ = "application:application.app_version:readonly"
APP_INFO_READ = "admin:app.info:readonly"
EMPLOYEE_ID_READ = "contact:user.employee_id:readonly"
ALL_SCOPES = frozenset({SELF_MANAGE, VERSION_READ, APP_INFO_READ, EMPLOYEE_ID_READ})

LANGS = ("zh_cn", "en_us", "ja_jp")
EPOCH = 1_600_000_000  # create_time of the first version of every app


@dataclass(frozen=True)
class Range:
    """A contacts range: `some` (the lists), `all` or `equal_to_availability`."""

    scope_type: str
    userids: tuple[str, ...] = ()
    department_ids: tuple[int, ...] = ()
    group_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Version:
    """One app version. `suggest` is None when the version kept the previous range."""

    version_id: str
    version: str
    status: int
    create_time: int
    publish_time: int  # 0: never published
    suggest: Range | None


@dataclass
class AppInfo:
    """An app installed in a tenant: self-built (`custom`) or from the store."""

    app_id: str
    app_secret: str = field(repr=False)
    names: dict[str, str]
    custom: bool
    tenant_key: str
    scopes: frozenset[str]
    versions: list[Version]  # oldest first
    live_range: Range


@dataclass(frozen=True)
class FeishuCredentials:
    """A self-built app, and a store app with its current app ticket, in the tenant."""

    app_id: str
    app_secret: str = field(repr=False)
    store_app_id: str
    store_app_secret: str = field(repr=False)
    app_ticket: str = field(repr=False)
    tenant_key: str


def _digest(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


class FeishuWorld:
    """The tenant: its apps (the caller's own with `versions` versions), ids and ranges."""

    def __init__(self, org: Org, seed: int, versions: int = 120) -> None:
        rng = random.Random(f"wfa-emulator:{seed}:feishu:{versions}")
        self.org = org
        self.tenant_key = f"{rng.getrandbits(64):016x}"
        self.groups = tuple(f"{rng.getrandbits(64):016x}" for _ in range(8))
        self.apps: dict[str, AppInfo] = {}
        self.version_owner: dict[str, str] = {}
        main = self._add(rng, "通讯录同步助手", "Directory Sync", True, ALL_SCOPES, versions)
        self._add(rng, "日程小助手", "Calendar Helper", True, frozenset({SELF_MANAGE}),
                  rng.randint(24, 60))
        store = self._add(rng, "审批中心", "Approvals", False,
                          frozenset({SELF_MANAGE, VERSION_READ}), rng.randint(12, 36))
        # An app installed in another tenant only: known, but not here (210504).
        self.foreign_app_id = f"cli_{rng.getrandbits(64):016x}"
        self.credentials = FeishuCredentials(
            app_id=main.app_id,
            app_secret=main.app_secret,
            store_app_id=store.app_id,
            store_app_secret=store.app_secret,
            app_ticket=_digest("ticket", seed, rng.random())[:40],
            tenant_key=self.tenant_key,
        )

    def _add(self, rng: random.Random, zh: str, en: str, custom: bool,
             scopes: frozenset[str], count: int) -> AppInfo:
        app_id = f"cli_{rng.getrandbits(64):016x}"
        versions = []
        created = EPOCH + rng.randrange(86400 * 30)
        for i in range(count):
            created += rng.randrange(3600, 86400 * 20)
            latest = i == count - 1
            status = rng.choice((3, 4)) if latest else rng.choices((1, 2, 0), (85, 12, 3))[0]
            published = created + rng.randrange(600, 86400 * 3) if status == 1 else 0
            suggest = None if rng.random() < 0.35 else self._range(rng)
            version = Version(f"oav_{_digest(app_id, i)[:32]}", f"{1 + i // 100}.{i // 10 % 10}."
                              f"{i % 10}", status, created, published, suggest)
            versions.append(version)
            self.version_owner[version.version_id] = app_id
        app = AppInfo(app_id, _digest("secret", app_id)[:32], {"zh_cn": zh, "en_us": en,
                      "ja_jp": en}, custom, self.tenant_key, scopes, versions,
                      self._range(rng, (60, 150), "some") if custom else Range("all"))
        self.apps[app_id] = app
        return app

    def _range(self, rng: random.Random, members: tuple[int, int] = (0, 12),
               kind: str | None = None) -> Range:
        kind = kind or rng.choices(("some", "all", "equal_to_availability"), (70, 15, 15))[0]
        if kind != "some":
            return Range(kind)
        active = self.org.members
        departments = self.org.departments
        count = min(len(active), rng.randint(*members))
        return Range(
            kind,
            tuple(m.userid for m in rng.sample(active, count)),
            tuple(d.id for d in rng.sample(departments, min(len(departments), rng.randint(0, 4)))),
            tuple(rng.sample(self.groups, rng.randint(0, 2))),
        )

    # Ids in the types a request asks for ------------------------------------------------

    def user_id(self, caller: str, userid: str, user_id_type: str) -> str:
        """A member's id of `user_id_type`; open ids differ per app, union ids per developer."""
        if user_id_type == "user_id":
            return userid
        if user_id_type == "union_id":
            return f"on_{_digest('union', self.tenant_key, userid)[:32]}"
        return f"ou_{_digest('open', caller, userid)[:32]}"

    def department_id(self, department: int, department_id_type: str) -> str:
        """A department's id of `department_id_type`."""
        if department_id_type == "department_id":
            return str(department)
        return f"od-{_digest('department', self.tenant_key, department)[:32]}"

    def render(self, found: Range, caller: str, user_id_type: str = "open_id",
               department_id_type: str = "open_department_id") -> dict[str, Any]:
        """A range as the API returns it (`contacts_range`)."""
        return {
            "contacts_scope_type": found.scope_type,
            "visible_list": {
                "open_ids": [self.user_id(caller, u, user_id_type) for u in found.userids],
                "department_ids": [self.department_id(d, department_id_type)
                                   for d in found.department_ids],
                "group_ids": list(found.group_ids),
            },
        }

    def suggested(self, app_id: str, caller: str | None = None, user_id_type: str = "open_id",
                  department_id_type: str = "open_department_id") -> dict[str, Any]:
        """Ground truth: version id → its rendered suggested range (None: unchanged), newest
        first as `app_versions` lists them."""
        versions = self.apps[app_id].versions
        return {
            v.version_id: None if v.suggest is None else self.render(
                v.suggest, caller or app_id, user_id_type, department_id_type)
            for v in reversed(versions)
        }
