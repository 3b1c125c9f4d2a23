"""Fault injection for the crash-safety tests.

`EXCHANGE_CRASH_AT=<point>` makes the process kill itself with SIGKILL when it reaches that
named point, the way a pulled plug would. Unset (always, in normal use) it does nothing.
"""

from __future__ import annotations

import os
import signal

POINTS = ("exchange_devices_written", "exchange_rows_written", "exchange_event_written",
          "before_commit", "after_commit")


def crash_point(name: str) -> None:
    if os.environ.get("EXCHANGE_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
