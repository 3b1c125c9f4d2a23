"""Operators: PINs stored as salted scrypt hashes, sign-in, roles, and a lead's authority."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from app.domain import events
from app.domain.people import Operator, Permission, Role
from app.domain.rules import AuthFailed, BadInput
from app.services.context import ServiceContext

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_STAFF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")


def hash_pin(pin: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$16384$8$1$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_pin(pin: str, stored: str) -> bool:
    try:
        _name, n, r, p, salt, digest = stored.split("$")
        computed = hashlib.scrypt(pin.encode(), salt=base64.b64decode(salt), dklen=32,
                                  n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


def check_new_pin(pin: str) -> str:
    if not re.fullmatch(r"\d{4,12}", pin or ""):
        raise BadInput("a PIN is 4 to 12 digits")
    return pin


def check_staff_id(staff_id: str) -> str:
    staff_id = (staff_id or "").strip().upper()
    if not _STAFF_ID.fullmatch(staff_id):
        raise BadInput(f"'{staff_id}' is not a staff number: use letters, digits and '-'")
    return staff_id


def sign_in(ctx: ServiceContext, staff_id: str, pin: str) -> Operator:
    """The operator with this staff number and PIN, or AuthFailed."""
    staff_id = (staff_id or "").strip().upper()
    with ctx.uow_factory(write=False) as uow:
        found = uow.operators.get(staff_id)
    if found is None or not verify_pin(pin or "", found[1]):
        raise AuthFailed(f"staff number {staff_id or '(none)'} and PIN do not match an operator: "
                         "check both and try again")
    return found[0]


def authorise(ctx: ServiceContext, staff_id: str, pin: str, permission: Permission) -> Operator:
    """A second person's authority (override, validation): their PIN and their role."""
    lead = sign_in(ctx, staff_id, pin)
    lead.require(permission)
    return lead


def add_operator(ctx: ServiceContext, actor: Operator | None, staff_id: str, name: str,
                 role: str, pin: str) -> Operator:
    """Add an operator; `actor` None is allowed only for the first admin of a new station."""
    operator = Operator(check_staff_id(staff_id), _name(name), Role.parse(role))
    check_new_pin(pin)
    with ctx.uow_factory() as uow:
        if actor is not None:
            actor.require(Permission.MANAGE_OPERATORS)
        elif uow.operators.count() or operator.role is not Role.ADMIN:
            raise AuthFailed("only an admin may add operators: give --operator and a PIN")
        if uow.operators.exists(operator.staff_id):
            raise BadInput(f"operator {operator.staff_id} already exists")
        uow.operators.add(operator, hash_pin(pin), uow.now().isoformat())
        uow.record(events.DomainEvent(events.OPERATOR_ADDED, {
            "staff_id": operator.staff_id, "name": operator.name, "role": operator.role.value}),
            operator=actor.staff_id if actor else operator.staff_id)
        uow.commit()
    return operator


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise BadInput("a name is needed (at most 200 characters)")
    return name
