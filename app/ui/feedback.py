"""How an outcome reaches the engineer: colour, icon, words, a sound, and a screen-reader announcement.

Every panel reports an `Outcome`; errors become outcomes through `outcome_for_error`, the one
place that turns a `StationError` into what the screen shows. Colours come from the palette (so a
dark or high-contrast theme stays readable); the tone word ("Done", "Refused", ...) and the icon
carry the meaning too, so nothing depends on colour alone. Sound is optional: a station with no
audio device (or muted) still gets the visual and the announcement.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QWidget

from app.domain.rules import RuleRefused, StationError

log = logging.getLogger(__name__)
SOUNDS = Path(__file__).resolve().parents[2] / "resources" / "sounds"


class Tone(str, Enum):
    INFO = "info"          # what to do next
    SCANNED = "scanned"    # a scan was taken
    WAITING = "waiting"    # not complete yet: a rule still stops it
    SUCCESS = "success"    # done and saved
    REFUSED = "refused"    # refused: nothing was saved

    @property
    def word(self) -> str:
        return _WORDS[self]


_WORDS = {Tone.INFO: "Next", Tone.SCANNED: "Scanned", Tone.WAITING: "Not yet",
          Tone.SUCCESS: "Done", Tone.REFUSED: "Refused"}
_HUES = {Tone.SUCCESS: 125, Tone.REFUSED: 0, Tone.WAITING: 42}
_ICONS = {Tone.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
          Tone.SCANNED: QStyle.StandardPixmap.SP_ArrowRight,
          Tone.WAITING: QStyle.StandardPixmap.SP_MessageBoxWarning,
          Tone.SUCCESS: QStyle.StandardPixmap.SP_DialogApplyButton,
          Tone.REFUSED: QStyle.StandardPixmap.SP_MessageBoxCritical}
_SOUND_FILES = {Tone.SCANNED: "scanned.wav", Tone.SUCCESS: "success.wav",
                Tone.REFUSED: "refused.wav"}


@dataclass(frozen=True)
class Outcome:
    tone: Tone
    text: str
    sound: Tone | None = None  # the tone whose sound plays, when not the outcome's own


    @property
    def shown(self) -> str:
        """The banner text: the tone word first, so the meaning never rests on colour."""
        return f"{self.tone.word}: {self.text}"


def outcome_for_error(exc: Exception) -> Outcome:
    """What the screen shows for an error that stopped an action."""
    if isinstance(exc, RuleRefused):
        return Outcome(Tone.REFUSED, " ".join(f"{v.code} — {v.message}." for v in exc.violations))
    if isinstance(exc, StationError):
        return Outcome(Tone.REFUSED, exc.user_message)
    log.error("unexpected error in the counter window", exc_info=exc)
    return Outcome(Tone.REFUSED, f"unexpected error ({exc.__class__.__name__}); the last action "
                   "was not saved. The log has the details.")


def tone_icon(tone: Tone) -> QIcon:
    return QApplication.style().standardIcon(_ICONS[tone])


def tone_colours(palette: QPalette, tone: Tone, high_contrast: bool = False) -> tuple[QColor, QColor]:
    """(background, text) for a tone, derived from the palette and at least 7:1 in contrast."""
    window, text = palette.color(QPalette.ColorRole.Window), palette.color(QPalette.ColorRole.WindowText)
    if tone not in _HUES:
        return palette.color(QPalette.ColorRole.AlternateBase), text
    dark_theme = window.lightnessF() < 0.5
    lightness = 0.16 if dark_theme else 0.86
    background = QColor.fromHslF(_HUES[tone] / 360, 0.45 if high_contrast else 0.75, lightness)
    step = 0.02 if dark_theme else -0.02
    while contrast_ratio(background, text) < 7.0 and 0.0 < lightness < 1.0:
        lightness = min(1.0, max(0.0, lightness - step))
        background = QColor.fromHslF(_HUES[tone] / 360, background.hslSaturationF(), lightness)
    return background, text


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


class Feedback(QObject):
    """Plays the tone's sound (unless muted) and announces the text to screen readers."""

    def __init__(self, parent: QObject | None = None, muted: bool = False):
        super().__init__(parent)
        self.muted = muted
        self.last_announcement = ""
        self.last_sound: Tone | None = None
        self._effects: dict[Tone, object] = {}

    def give(self, outcome: Outcome, source: QWidget) -> None:
        self.announce(outcome.shown, source, assertive=outcome.tone is Tone.REFUSED)
        self.play(outcome.sound or outcome.tone)

    def announce(self, text: str, source: QWidget, assertive: bool = False) -> None:
        self.last_announcement = text
        event = QAccessibleAnnouncementEvent(source, text)
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive if assertive
                            else QAccessible.AnnouncementPoliteness.Polite)
        QAccessible.updateAccessibility(event)

    def play(self, tone: Tone) -> None:
        if self.muted or tone not in _SOUND_FILES:
            return
        effect = self._effects.get(tone) or self._load(tone)
        if effect is not None:
            self.last_sound = tone
            effect.play()

    def _load(self, tone: Tone):  # noqa: ANN202 - a QSoundEffect, or None without QtMultimedia
        try:
            from PySide6.QtMultimedia import QSoundEffect
        except ImportError:  # a build without multimedia: sound is optional
            return None
        effect = QSoundEffect(self)
        effect.setSource(QUrl.fromLocalFile(str(SOUNDS / _SOUND_FILES[tone])))
        effect.setVolume(0.6)
        self._effects[tone] = effect
        return effect
