"""Who is at the counter: the station's service context and the signed-in operator."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.domain.people import Operator
from app.services.context import ServiceContext


class CounterSession(QObject):
    """Shared by every panel; panels read `operator` when they act, so switching is one step."""

    operator_changed = Signal(object)  # Operator | None

    def __init__(self, ctx: ServiceContext, operator: Operator | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self._operator = operator

    @property
    def operator(self) -> Operator | None:
        return self._operator

    def sign_in(self, operator: Operator) -> None:
        self._operator = operator
        self.operator_changed.emit(operator)

    def sign_out(self) -> None:
        self._operator = None
        self.operator_changed.emit(None)

    def describe_operator(self) -> str:
        op = self._operator
        if op is None:
            return "Signed out"
        return f"Signed in: {op.name} ({op.staff_id}, {op.role.value.replace('_', ' ')})"
