"""People who hold devices, and the operators who work the counter."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from app.domain.rules import BadInput, RoleRefused


@dataclass(frozen=True)
class Person:
    staff_id: str
    name: str
    site: str
    shielding: bool = False
    assistive_tech: bool = False


class Role(str, Enum):
    ENGINEER = "engineer"
    SITE_LEAD = "site_lead"
    ADMIN = "admin"

    @classmethod
    def parse(cls, text: str) -> "Role":
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise BadInput(f"unknown role '{text}': use engineer, site_lead or admin") from None


class Permission(str, Enum):
    EXCHANGE = "exchange"
    RECEIVE = "receive"
    COLLECT = "collect"
    RECLAIM = "reclaim"
    CERTIFY = "certify"
    OVERRIDE = "override"
    VALIDATE = "validate"
    RELEASE = "release"
    REPORT = "report"
    IMPORT = "import"
    MANAGE_OPERATORS = "manage operators"
    GRANT = "grant courier allowance from central's pool"


_ENGINEER = frozenset({Permission.EXCHANGE, Permission.RECEIVE, Permission.COLLECT,
                       Permission.RECLAIM, Permission.CERTIFY})
_LEAD = _ENGINEER | {Permission.OVERRIDE, Permission.VALIDATE, Permission.RELEASE,
                     Permission.REPORT}
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ENGINEER: _ENGINEER,
    Role.SITE_LEAD: frozenset(_LEAD),
    Role.ADMIN: frozenset(_LEAD | {Permission.IMPORT, Permission.MANAGE_OPERATORS,
                                   Permission.GRANT}),
}
_ROLE_WORDS = {Role.ENGINEER: "an engineer", Role.SITE_LEAD: "a site lead", Role.ADMIN: "an admin"}


@dataclass(frozen=True)
class Operator:
    staff_id: str
    name: str
    role: Role

    def may(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.may(permission):
            needed = min((r for r in Role if permission in PERMISSIONS[r]),
                         key=lambda r: len(PERMISSIONS[r]))
            raise RoleRefused(
                f"{self.name} ({self.staff_id}) is {_ROLE_WORDS[self.role]} and may not "
                f"{permission.value}: ask {_ROLE_WORDS[needed]}."
            )
