"""`exchange-station --self-check`: is this installation whole? One line per check, ok or FAILED.

Meant for a freshly unpacked build on a counter PC (and `make test-dist`): every module imports
(Qt, the decoders, OpenCV, the PostgreSQL driver), the station database opens, the migrations
run (on a temporary copy: the real database is never changed), a label is rendered and read
back by both decoders, and one-page PDFs are written and read back. Exit 0 only if all pass.
Without a display, Qt runs offscreen.
"""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import app
from app import __version__

SELF_CHECK_TAG = "CHK-0001"
PDF_MARKER = "Exchange Station self-check"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    ms: int


def run(data_dir: Path | None, as_json: bool = False, out: TextIO | None = None) -> int:
    """Run every check, print the results; 0 when all passed, 1 otherwise."""
    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="exchange-self-check-") as tmp:
        results = run_checks(data_dir, Path(tmp), lambda r: None if as_json else _print(r, out))
    passed = sum(r.ok for r in results)
    if as_json:
        print(json.dumps({"ok": passed == len(results), "version": __version__,
                          "frozen": is_frozen(), "checks": [asdict(r) for r in results]},
                         indent=2), file=out)
    else:
        print(f"{passed} of {len(results)} checks passed", file=out)
    _log_summary(results)
    return 0 if passed == len(results) else 1


def run_checks(data_dir: Path | None, work: Path,
               report: Callable[[CheckResult], None] = lambda r: None) -> list[CheckResult]:
    checks: list[tuple[str, Callable[[], str]]] = [
        ("app modules", import_app_modules),
        ("Qt widgets", check_qt_widgets),
        ("Qt image, svg and print plugins", check_qt_plugins),
        ("Qt multimedia (sounds)", check_qt_multimedia),
        ("decoder zxing-cpp", check_zxing),
        ("decoder pyzbar (zbar library)", check_pyzbar),
        ("OpenCV", check_opencv),
        ("PostgreSQL driver", check_psycopg),
        ("resources", check_resources),
        ("station database", lambda: check_database(data_dir)),
        ("migrations on a temporary copy", lambda: check_migrations(data_dir, work)),
        ("label rendered and decoded back", check_label_round_trip),
        ("PDF written and read back", lambda: check_pdf(work)),
        ("log file", check_log_file),
    ]
    results = []
    for name, check in checks:
        started = time.perf_counter()
        try:
            ok, detail = True, check()
        except BaseException as exc:  # noqa: BLE001 - a check that fails must not stop the rest
            if isinstance(exc, KeyboardInterrupt):
                raise
            ok, detail = False, f"{exc.__class__.__name__}: {exc}"
            log.info("self-check %s failed\n%s", name, traceback.format_exc())
        result = CheckResult(name, ok, detail, int((time.perf_counter() - started) * 1000))
        report(result)
        results.append(result)
    return results


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


# -- the checks: each returns what it found, or raises ---------------------------------------

def import_app_modules() -> str:
    names = [m.name for m in pkgutil.walk_packages(app.__path__, "app.")]
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - collect them all, then fail once
            failed.append(f"{name} ({exc.__class__.__name__}: {exc})")
    if failed:
        raise ImportError("; ".join(failed))
    if len(names) < 20:
        raise ImportError(f"only {len(names)} app modules found: the build is incomplete")
    return f"{len(names)} modules imported"


def check_qt_widgets() -> str:
    from PySide6.QtCore import qVersion
    from PySide6.QtWidgets import QLabel

    from app.ui.printing import ensure_gui_application

    qt = ensure_gui_application()
    label = QLabel("self-check")
    label.adjustSize()
    if label.width() <= 0:
        raise RuntimeError("a QLabel has no size: no fonts?")
    label.deleteLater()
    return f"Qt {qVersion()}, platform {qt.platformName()}"


def check_qt_plugins() -> str:
    from PySide6.QtGui import QImageReader
    from PySide6.QtPrintSupport import QPrinter  # noqa: F401 - the print support module loads

    from app.ui.printing import ensure_gui_application

    ensure_gui_application()
    formats = {bytes(f).decode() for f in QImageReader.supportedImageFormats()}
    missing = {"png", "jpeg", "svg"} - formats
    if missing:
        raise RuntimeError(f"image format plugins missing: {', '.join(sorted(missing))}")
    return f"image formats {', '.join(sorted(formats & {'png', 'jpeg', 'svg', 'bmp', 'gif'}))}"


def check_qt_multimedia() -> str:
    from PySide6.QtMultimedia import QMediaDevices, QSoundEffect

    from app.ui.printing import ensure_gui_application

    ensure_gui_application()
    effect = QSoundEffect()
    outputs = QMediaDevices.audioOutputs()
    effect.deleteLater()
    return f"{len(outputs)} audio output(s)" + ("" if outputs else " (sounds stay silent)")


def check_zxing() -> str:
    import zxingcpp

    return f"zxing-cpp {getattr(zxingcpp, '__version__', '')}".strip()


def check_pyzbar() -> str:
    from pyzbar import pyzbar

    library = _loaded_library_path("libzbar") or pyzbar.EXTERNAL_DEPENDENCIES[0]._name
    return f"zbar loaded from {library}"


def check_opencv() -> str:
    import cv2
    import numpy as np

    ok, encoded = cv2.imencode(".png", np.zeros((8, 8), np.uint8))
    if not ok or cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE).shape != (8, 8):
        raise RuntimeError("OpenCV cannot encode and decode a PNG")
    return f"OpenCV {cv2.__version__}"


def check_psycopg() -> str:
    import psycopg

    implementation = psycopg.pq.__impl__
    if implementation == "python":
        raise RuntimeError("psycopg found no binary implementation (psycopg_binary missing)")
    return f"psycopg {psycopg.__version__}, {implementation} libpq {psycopg.pq.version()}"


def check_resources() -> str:
    from app.ui import feedback

    sounds = sorted(p.name for p in feedback.SOUNDS.glob("*.wav"))
    if not sounds:
        raise FileNotFoundError(f"no sounds in {feedback.SOUNDS}")
    return f"{len(sounds)} sounds in {feedback.SOUNDS}"


def check_database(data_dir: Path | None) -> str:
    """The station's database opened read-only (never changed here), or a note that it is new."""
    from app.config import StationConfig
    from app.persistence.engine import database_path

    config = StationConfig.load(data_dir)
    db_path = database_path(config.data_dir)
    if not db_path.exists():
        return f"no station database in {config.data_dir} yet: checks use a temporary one"
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        schema = _scalar(conn, "SELECT version_num FROM alembic_version")
    finally:
        conn.close()
    if verdict != "ok":
        raise RuntimeError(f"{db_path} is damaged: {verdict}")
    return f"{db_path} opened, schema {schema or 'none'}, quick_check ok"


def check_migrations(data_dir: Path | None, work: Path) -> str:
    """Copy the station database (or start an empty one) and upgrade the copy to the head."""
    from app.bootstrap import open_station
    from app.config import StationConfig
    from app.persistence import migrations
    from app.persistence.engine import database_path
    from app.services import station
    from app.sync.central import CENTRAL_MIGRATIONS

    source = database_path(StationConfig.load(data_dir).data_dir)
    copy_dir = work / "migrations"
    copy_dir.mkdir()
    copy = database_path(copy_dir)
    if source.exists():
        _copy_database(source, copy)
    head = migrations.upgrade(copy)
    opened = open_station(copy_dir, create=True)
    try:
        if source.exists():
            st = station.status(opened.context)
            what = f"station {st.station or '-'}, {sum(st.devices.values())} devices"
        else:
            what = "new database"
    finally:
        opened.close()
    central = migrations.head_revision(CENTRAL_MIGRATIONS)
    return f"local schema {head} ({what}); central migrations to {central} found"


def check_label_round_trip() -> str:
    """A label drawn through Qt's SVG renderer reads back in zxing-cpp, zbar and the pipeline."""
    from app.reports import labels
    from app.scanning.decoders import PyzbarDecoder, ZxingDecoder
    from app.scanning.pipeline import DecodePipeline, DecodeSettings
    from app.scanning.reads import TAG_SYMBOLOGIES

    gray = render_label(SELF_CHECK_TAG, labels.stock(labels.DEFAULT_STOCK))
    readers = {"zxing-cpp": ZxingDecoder(TAG_SYMBOLOGIES).read(gray),
               "zbar": PyzbarDecoder(TAG_SYMBOLOGIES).read(gray)}
    wrong = {name: [f.text for f in found] for name, found in readers.items()
             if [f.text for f in found] != [SELF_CHECK_TAG]}
    pipeline = [r.text for r in DecodePipeline(DecodeSettings.for_still()).read_frame(gray).reads]
    if pipeline != [SELF_CHECK_TAG]:
        wrong["pipeline"] = pipeline
    if wrong:
        raise RuntimeError(f"{SELF_CHECK_TAG} read wrongly: {wrong}")
    return f"{SELF_CHECK_TAG} read by zxing-cpp, zbar and the decode pipeline"


def render_label(tag: str, stock) -> "np.ndarray":  # noqa: ANN001, F821 - LabelStock -> array
    """The label's SVG painted by Qt at the printer's resolution, as a grey numpy image."""
    import numpy as np
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    from app.reports import labels
    from app.ui.printing import ensure_gui_application

    ensure_gui_application()
    renderer = QSvgRenderer(QByteArray(labels.to_svg([tag], stock).encode("utf-8")))
    if not renderer.isValid():
        raise RuntimeError("Qt could not read the label's SVG")
    size = renderer.viewBox().size()  # the label in printer dots: whole-dot bars
    image = QImage(size.width() + 40, size.height() + 40, QImage.Format.Format_Grayscale8)
    image.fill(255)
    painter = QPainter(image)
    renderer.render(painter, image.rect().adjusted(20, 20, -20, -20).toRectF())
    painter.end()
    rows = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    return rows.reshape(image.height(), image.bytesPerLine())[:, :image.width()].copy()


def check_pdf(work: Path) -> str:
    """A one-page report PDF and a label PDF through Qt, read back with pypdf."""
    from pypdf import PdfReader

    from app.reports import labels
    from app.ui.printing import write_html_pdf, write_labels_pdf

    report = work / "self-check.pdf"
    write_html_pdf(f"<h1>{PDF_MARKER}</h1><p>Version {__version__}. Asset tag "
                   f"{SELF_CHECK_TAG}.</p>", report, PDF_MARKER)
    label = work / "label.pdf"
    write_labels_pdf([SELF_CHECK_TAG], labels.stock(labels.DEFAULT_STOCK), label)
    for path, expected in ((report, PDF_MARKER), (label, SELF_CHECK_TAG)):
        pages = PdfReader(path).pages
        text = " ".join(pages[0].extract_text().split()) if pages else ""
        if len(pages) != 1 or expected not in text:
            raise RuntimeError(f"{path.name}: {len(pages)} page(s), text {text[:60]!r}, "
                               f"expected one page with {expected!r}")
    return f"report and label PDFs have one page each and read back ({report.stat().st_size} " \
           f"and {label.stat().st_size} bytes)"


def check_log_file() -> str:
    from app.logs import setup_logging

    path = setup_logging()
    if path is None:
        raise RuntimeError("the log directory cannot be written")
    log.info("self-check of %s (frozen: %s)", __version__, is_frozen())
    for handler in logging.getLogger().handlers:
        if getattr(handler, "exchange_station_log", False):
            handler.flush()
    if not path.exists():
        raise RuntimeError(f"{path} was not written")
    return str(path)


def backup_station(data_dir: Path | None, target: Path) -> dict:
    """Copy the station database to the new file `target` and check the copy."""
    from app.config import StationConfig
    from app.domain.rules import BadInput
    from app.persistence.engine import database_path

    source, target = database_path(StationConfig.load(data_dir).data_dir), Path(target)
    if not source.exists():
        raise BadInput(f"no station database in {source.parent} (give --data-dir)")
    if target.exists() or not target.parent.is_dir():
        raise BadInput(f"{target} exists already, or its folder does not: give a new file "
                       "in an existing folder")
    try:
        _copy_database(source, target)
        conn = sqlite3.connect(target)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            schema = _scalar(conn, "SELECT version_num FROM alembic_version")
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        target.unlink(missing_ok=True)
        raise BadInput(f"cannot back up {source} to {target}: {exc}") from None
    if verdict != "ok":
        target.unlink(missing_ok=True)
        raise BadInput(f"the copy of {source} fails quick_check ({verdict}): nothing was kept")
    log.info("station database %s backed up to %s", source, target)
    return {"database": str(source), "backup": str(target), "bytes": target.stat().st_size,
            "schema": schema}


def installation_facts(ctx) -> dict[str, str]:  # noqa: ANN001 - a ServiceContext
    """What Help > About shows: version, station, database, schema, log file, build."""
    from app.logs import log_file
    from app.persistence.engine import database_path
    from app.persistence.migrations import current_revision
    from app.services import station

    status = station.status(ctx)
    db_path = database_path(ctx.config.data_dir)
    return {"Version": __version__, "Station": f"{status.station} ({status.site})",
            "Database": str(db_path), "Schema": current_revision(db_path) or "none",
            "Log file": str(log_file()),
            "Build": "frozen" if is_frozen() else f"source, Python {sys.version.split()[0]}"}


# -- plumbing --------------------------------------------------------------------------------

def _print(result: CheckResult, out: TextIO) -> None:
    print(f"{'ok' if result.ok else 'FAILED':<7} {result.name}: {result.detail}", file=out,
          flush=True)


def _log_summary(results: list[CheckResult]) -> None:
    failed = [r.name for r in results if not r.ok]
    log.info("self-check: %d of %d passed%s", len(results) - len(failed), len(results),
             f"; failed: {', '.join(failed)}" if failed else "")


def _loaded_library_path(fragment: str) -> str | None:
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return None
    for line in maps.read_text().splitlines():
        if fragment in line and "/" in line:
            return line[line.index("/"):].strip()
    return None


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy with SQLite's backup API (the station may be open elsewhere)."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(target)
        with dest:
            src.backup(dest)
        dest.close()
    finally:
        src.close()


def _scalar(conn: sqlite3.Connection, sql: str) -> str | None:
    try:
        row = conn.execute(sql).fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None

