"""`exchange-station gui`: open the station (first run creates it), sign in, show the counter.

Started where there is no display, the program says so in one line and exits 2 instead of letting
Qt abort. Given `--operator` and a valid `EXCHANGE_PIN`, the window opens already signed in.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from app.bootstrap import Station, open_station
from app.domain.people import Operator
from app.domain.rules import BadInput, StationError

log = logging.getLogger(__name__)


def display_available(environ: dict | None = None, platform: str = sys.platform) -> bool:
    """False on a Linux/BSD machine with no X11 or Wayland display and no Qt platform chosen."""
    env = os.environ if environ is None else environ
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"))


def run_gui(data_dir: Path | None, operator_staff_id: str | None, pin: str | None = None) -> int:
    if not display_available():
        print("exchange-station: no display: the counter window needs a desktop session "
              "(set DISPLAY, or use the command line; see --help)", file=sys.stderr)
        return 2
    # OpenCV's Media Foundation backend can take 5-20 s to open a webcam with this on (Windows).
    os.environ.setdefault("OPENCV_VIDEOIO_MSMF_ENABLE_HW_TRANSFORMS", "0")
    from PySide6.QtWidgets import QApplication  # Qt only once a display is known to exist

    from app.logs import setup_logging

    log.info("counter window starting (log: %s)", setup_logging())
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Exchange Station")
    app.setOrganizationName("ExchangeStation")
    station = prepare_station(data_dir)
    if station is None:
        return 0
    try:
        window = build_window(station, operator_staff_id, pin)
        if window is None:
            return 0
        window.show()
        if os.environ.get("EXCHANGE_SCREENSHOT"):  # test hook (make test-dist): grab and quit
            _screenshot_then_quit(Path(os.environ["EXCHANGE_SCREENSHOT"]))
        return app.exec()
    finally:
        station.close()


def prepare_station(data_dir: Path | None) -> Station | None:
    """The opened station; on a new machine, the first-run dialog sets it up (None: cancelled)."""
    from app.services import counter
    from app.ui.first_run import FirstRunDialog

    try:
        station = open_station(data_dir)
    except BadInput:  # no database yet (or one that cannot be opened): the dialog says which
        return FirstRunDialog.ask(None, data_dir, None)
    if counter.needs_first_run(station.context):
        return FirstRunDialog.ask(None, data_dir, station)
    return station


def build_window(station: Station, operator_staff_id: str | None = None,  # noqa: ANN201
                 pin: str | None = None):
    """Sign in (pre-signed with --operator and EXCHANGE_PIN), offer demo data, make the window."""
    from PySide6.QtWidgets import QApplication

    from app.ui.first_run import offer_demo_data
    from app.ui.main_window import MainWindow
    from app.ui.session import CounterSession
    from app.ui.sign_in import SignInDialog
    from app.ui.theme import Theme, UiSettings

    settings = UiSettings.load(station.config.data_dir)
    theme = Theme(QApplication.instance())
    theme.apply(settings)
    operator, problem = presigned_operator(station, operator_staff_id, pin)
    if operator is None:
        operator = SignInDialog.ask(None, station.context, operator_staff_id or "", problem)
        if operator is None:
            return None
    offer_demo_data(None, station, operator)
    return MainWindow(CounterSession(station.context, operator), settings, theme)


def presigned_operator(station: Station, staff_id: str | None,
                       pin: str | None = None) -> tuple[Operator | None, str]:
    """The operator given by --operator and EXCHANGE_PIN (or `pin`), or None and why not."""
    from app.services import auth

    if not staff_id:
        return None, ""
    pin = pin or os.environ.get("EXCHANGE_PIN", "")
    if not pin:
        return None, "Enter your PIN."
    try:
        return auth.sign_in(station.context, staff_id, pin), ""
    except StationError as exc:
        return None, exc.user_message


def _screenshot_then_quit(path: Path, delay_ms: int = 2000) -> None:
    """Save the whole screen (the real X server under Xvfb) once the window is drawn, then quit."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def grab() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        saved = QApplication.primaryScreen().grabWindow(0).save(str(path), "PNG")
        log.info("screenshot %s %s", path, "saved" if saved else "NOT saved")
        QApplication.closeAllWindows()
        QApplication.exit(0 if saved else 1)

    QTimer.singleShot(delay_ms, grab)
