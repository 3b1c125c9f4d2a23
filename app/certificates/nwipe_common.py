"""What nwipe's PDF certificate and its log share: status words and the report's identity."""

from __future__ import annotations

import re
from datetime import datetime

from app.domain.sanitisation import Outcome, normalise_serial_for_match

#: nwipe's status words (PDF `Status:`; the log's table cells, trimmed) and what they mean.
_STATUS = {"ERASED": Outcome.PASS, "FAILED": Outcome.FAIL, "-FAILED-": Outcome.FAIL,
           "ABORTED": Outcome.ABORTED, "UABORTED": Outcome.ABORTED,
           "INSANITY": Outcome.FAIL}


def nwipe_outcome(status: str, errors: str = "",
                  warnings: tuple[str, ...] = ()) -> tuple[Outcome, str]:
    """(outcome, why it is not a pass) from nwipe's status, its error counts and warnings."""
    word = status.strip().upper()
    outcome = _STATUS.get(word, Outcome.FAIL)
    if outcome is not Outcome.PASS:
        return outcome, f"nwipe status {status.strip() or '(none)'}"
    counts = [int(n) for n in re.findall(r"\d+", errors)]
    if any(counts):
        return Outcome.WARNING, f"erased with errors (pass/sync/verify/retries {errors})"
    if warnings:
        return Outcome.WARNING, "erased with a warning: " + "; ".join(warnings)
    return Outcome.PASS, ""


def nwipe_report_id(serial: str, finished: datetime | None) -> str:
    """An nwipe report has no id: the disk and the end of the wipe identify it, so the PDF and
    the log of one wipe are the same report."""
    when = finished.strftime("%Y%m%dT%H%M%S") if finished else "unknown-time"
    return f"nwipe:{normalise_serial_for_match(serial) or serial.strip()}:{when}"
