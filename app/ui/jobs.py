"""One-off background jobs (a network read, a large file): run off the GUI thread, answer by signal.

    run_in_background(lambda: open_conflicts(url), on_done, on_failed, owner=panel)

`on_done(result)` or `on_failed(exception)` is called on the GUI thread. The job must not touch
widgets; it gets plain data back to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

_PENDING: set["_Job"] = set()  # keeps each job's signal carrier alive until it has answered


class _Carrier(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, work: Callable[[], Any]):
        super().__init__()
        self.setAutoDelete(False)
        self.work = work
        self.carrier = _Carrier()

    def run(self) -> None:
        try:
            result = self.work()
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread, shown in the banner
            self.carrier.failed.emit(exc)
        else:
            self.carrier.done.emit(result)


def run_in_background(work: Callable[[], Any], on_done: Callable[[Any], None],
                      on_failed: Callable[[Exception], None], owner: QObject) -> None:
    """`owner` is the widget waiting for the answer: if it has gone meanwhile (the window was
    closed), the answer is dropped."""
    import shiboken6

    job = _Job(work)
    _PENDING.add(job)

    def finish(callback: Callable, value: object) -> None:
        _PENDING.discard(job)
        if shiboken6.isValid(owner):
            callback(value)

    job.carrier.done.connect(lambda result: finish(on_done, result))
    job.carrier.failed.connect(lambda exc: finish(on_failed, exc))
    QThreadPool.globalInstance().start(job)
