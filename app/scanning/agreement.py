"""Accept a tag from a live camera only when two of the last three reads agree.

A single frame can misread (a checksum collision, a half-seen label); two agreeing frames out of
three almost never do, and at 10-15 decodes a second the wait is under 0.2 s. Once accepted, the
same tag is not announced again while it stays in view, nor within `repeat_after_s` of last being
seen, so a label held in front of the camera counts once.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable


class TagAgreement:
    """Feed it each decoded frame's tag (or None); it answers with a tag when one is accepted."""

    def __init__(self, window: int = 3, needed: int = 2, repeat_after_s: float = 1.5,
                 clock: Callable[[], float] = time.monotonic):
        if not 1 <= needed <= window:
            raise ValueError("needed must be between 1 and window")
        self.needed = needed
        self.repeat_after_s = repeat_after_s
        self._clock = clock
        self._recent: deque[str | None] = deque(maxlen=window)
        self._accepted: str | None = None
        self._accepted_seen_at = 0.0

    def observe(self, tag: str | None) -> str | None:
        """Record one frame's tag; return the tag if this read makes it accepted, else None."""
        now = self._clock()
        self._recent.append(tag)
        if tag is not None and tag == self._accepted:
            if now - self._accepted_seen_at <= self.repeat_after_s:
                self._accepted_seen_at = now
                return None
        if tag is None or self._recent.count(tag) < self.needed:
            return None
        self._accepted, self._accepted_seen_at = tag, now
        return tag

    def forget(self) -> None:
        """Start afresh, e.g. after the exchange the tag was for is done."""
        self._recent.clear()
        self._accepted = None
