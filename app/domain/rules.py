"""Rule violations as values, and the errors that stop an action.

A check returns `RuleViolation` values and never prints; a service that must stop raises one of
the `StationError` subclasses below. Each error knows the exit code and the JSON error code the
command line uses (PRODUCT.md, "The automation interface").
"""

from __future__ import annotations

from dataclasses import dataclass

#: The rules that a site lead's override may set aside (PRODUCT.md, "Overrides").
OVERRIDABLE_RULES = frozenset({"R1", "R3"})


@dataclass(frozen=True)
class RuleViolation:
    """One programme rule that an action breaks, in words the engineer can act on."""

    code: str
    message: str
    #: False for an R1/R3 case no override may set aside (say, handing back a device in stock)
    can_override: bool = True

    @property
    def overridable(self) -> bool:
        return self.can_override and self.code in OVERRIDABLE_RULES

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class StationError(Exception):
    """An error that stops an action; `user_message` is what the person sees."""

    exit_code = 1
    error_code = "error"

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


class BadInput(StationError):
    """Bad input data: a file, a malformed tag, an unknown person or device (exit 4)."""

    exit_code = 4
    error_code = "input"


class UsageError(StationError):
    """The command was called wrongly (exit 2)."""

    exit_code = 2
    error_code = "usage"


class RuleRefused(StationError):
    """One or more programme rules refuse the action (exit 3, code R1..R8)."""

    exit_code = 3

    def __init__(self, violations: list[RuleViolation] | tuple[RuleViolation, ...]):
        self.violations = tuple(violations)
        super().__init__(" ".join(str(v) for v in self.violations))

    @property
    def error_code(self) -> str:  # type: ignore[override]
        return self.violations[0].code


class RoleRefused(StationError):
    """The signed-in operator's role may not do this (exit 3, code `role`)."""

    exit_code = 3
    error_code = "role"


class AuthFailed(StationError):
    """Unknown operator or wrong PIN (exit 3, code `auth`)."""

    exit_code = 3
    error_code = "auth"


class CentralUnreachable(StationError):
    """The central database could not be reached or sync failed (exit 5)."""

    exit_code = 5
    error_code = "sync"
