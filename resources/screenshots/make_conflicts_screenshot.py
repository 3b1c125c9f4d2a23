"""Screenshot of the Conflicts screen for the README: `resources/screenshots/conflicts.png`.

Run under Xvfb, with a PostgreSQL to make a throwaway central database on:

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python \
        resources/screenshots/make_conflicts_screenshot.py [postgresql://postgres@127.0.0.1:5432/postgres]

HQ-01 syncs with central; HQ-03 is set up offline from the demo files and has never synced.
Both issue laptop NEW-00001 to different people, then sync: the site lead at HQ-01 opens
Conflicts (Ctrl+7) and sees both records side by side, with when each station had last synced.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QTableWidget  # noqa: E402


def main(server: str) -> None:
    import dataclasses

    from app.bootstrap import open_station
    from app.domain.people import Role
    from app.services import auth, demo, station
    from app.services.context import ServiceContext
    from app.services.exchanges import ExchangeCommand, record_exchange
    from app.sync.central import upgrade_central
    from app.sync.runner import SyncRunner
    from app.ui.main_window import MainWindow
    from app.ui.session import CounterSession
    from app.ui.theme import Theme, UiSettings
    from tests.pg_plugin import create_database, drop_database

    out = ROOT / "resources" / "screenshots" / "conflicts.png"
    app = QApplication.instance() or QApplication(sys.argv[:1])
    url = create_database(server, prefix="es_screenshot")
    try:
        upgrade_central(url)
        with tempfile.TemporaryDirectory() as tmp:
            made = {}
            for name in ("HQ-01", "HQ-03"):
                opened = open_station(Path(tmp) / name, create=True)
                station.initialise(opened.context, name, "Hutton HQ")
                admin = auth.add_operator(opened.context, None, "A1", "Ada Admin", "admin",
                                          "1111")
                demo.load_demo(opened.context, admin, "Hutton HQ")
                made[name] = (opened, admin)
            hq01, hq03 = made["HQ-01"][0], made["HQ-03"][0]
            assert SyncRunner(hq01.engine).run_once(url).ok
            for (opened, admin), person, old in ((made["HQ-01"], "P1001", "OLD-00001"),
                                                 (made["HQ-03"], "P1002", "OLD-00002")):
                record_exchange(opened.context, admin, ExchangeCommand(
                    person, returned=(old,), issued=("NEW-00001",), at_confirmed=True))
            for opened in (hq01, hq03, hq01):
                assert SyncRunner(opened.engine).run_once(url).ok
            lead = auth.add_operator(hq01.context, made["HQ-01"][1], "L1", "Lee Lead",
                                     Role.SITE_LEAD.value, "2222")
            ctx = ServiceContext(hq01.context.uow_factory,
                                 dataclasses.replace(hq01.context.config, central_url=url),
                                 hq01.context.sync_runner)
            settings = UiSettings(muted=True)
            theme = Theme(app)
            theme.apply(settings)
            window = MainWindow(CounterSession(ctx, lead), settings, theme)
            window.resize(1180, 760)
            window.show()
            QTest.qWaitForWindowExposed(window)
            window.activateWindow()
            for _ in range(100):  # shortcuts reach the active window only
                app.processEvents()
                if QApplication.activeWindow() is window:
                    break
                QTest.qWait(20)
            panel = window.panels[-1]
            QTest.keyClick(window, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)
            table = panel.findChild(QTableWidget, "conflictTable")
            for _ in range(200):  # the list is read off the GUI thread
                app.processEvents()
                QTest.qWait(50)
                if table.rowCount():
                    break
            table.selectRow(0)
            for _ in range(10):
                app.processEvents()
            out.parent.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(out))
            window.close()
            for opened in (hq01, hq03):
                opened.close()
    finally:
        drop_database(server, urlsplit(url).path.lstrip("/"))
    print(out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/postgres")
