"""Screenshot of the exchange screen mid-swap, for the README: `resources/screenshots/counter.png`.

Run under Xvfb (a real X11 window, not the offscreen platform):

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python resources/screenshots/make_counter_screenshot.py

It builds a throwaway demo station, signs in an engineer, and scans the way a wedge scanner types:
person P1005 (who uses assistive technology) hands back OLD-00005 and is given NEW-00005, so the
banner shows R8 waiting for the AT confirmation and Complete is still disabled. With
`--high-contrast` it writes `counter-high-contrast.png` in the high-contrast theme, larger text.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402


def main(high_contrast: bool = False) -> None:
    name = "counter-high-contrast.png" if high_contrast else "counter.png"
    out = ROOT / "resources" / "screenshots" / name
    from app.bootstrap import open_station
    from app.services import auth, demo, station
    from app.ui.main_window import MainWindow
    from app.ui.session import CounterSession
    from app.ui.theme import Theme, UiSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        opened = open_station(Path(tmp) / "station", create=True)
        station.initialise(opened.context, "HQ-01", "Hutton HQ")
        admin = auth.add_operator(opened.context, None, "A1", "Ada Admin", "admin", "1111")
        engineer = auth.add_operator(opened.context, admin, "E1", "Eve Engineer", "engineer",
                                     "3333")
        demo.load_demo(opened.context, admin, "Hutton HQ")
        settings = UiSettings(high_contrast=high_contrast, muted=True,
                              text_scale=1.25 if high_contrast else 1.0)
        theme = Theme(app)
        theme.apply(settings)
        window = MainWindow(CounterSession(opened.context, engineer), settings, theme)
        window.resize(1180, 760 if not high_contrast else 800)
        window.show()
        QTest.qWaitForWindowExposed(window)
        scan_field = window.findChild(QWidget, "scanField")
        for text in ("P1005", "OLD-00005", "NEW-00005"):
            QTest.keyClicks(scan_field, text)
            QTest.keyClick(scan_field, Qt.Key.Key_Return)
        scan_field.setFocus()
        for _ in range(10):
            app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(out))
        print(out)
        window.close()
        opened.close()


if __name__ == "__main__":
    main(high_contrast="--high-contrast" in sys.argv[1:])
