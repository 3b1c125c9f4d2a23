"""The log: a rotating file in the user log directory, set up once by `setup_logging()`.

`cli.main` (every command) and the counter window call it; a second call changes nothing. The
file is `exchange-station.log` (1 MB, five old files kept) in `log_dir()`: `EXCHANGE_LOG_DIR`
when set, else platformdirs' user log directory (`%LOCALAPPDATA%\\ExchangeStation\\
ExchangeStation\\Logs` on Windows, `~/.local/state/ExchangeStation/log` on Linux).
`EXCHANGE_LOG_LEVEL` sets what goes to the terminal (WARNING by default); the file gets INFO
and above. An exception nobody caught is written to the file with its traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from platformdirs import user_log_dir

from app.config import APP_AUTHOR, APP_NAME

LOG_FILE = "exchange-station.log"
_FORMAT = "%(asctime)s %(levelname)-7s %(process)d %(name)s: %(message)s"

log = logging.getLogger(__name__)


def log_dir() -> Path:
    configured = os.environ.get("EXCHANGE_LOG_DIR")
    return Path(configured) if configured else Path(user_log_dir(APP_NAME, APP_AUTHOR))


def log_file() -> Path:
    return log_dir() / LOG_FILE


def setup_logging() -> Path | None:
    """Log to the rotating file (and warnings to stderr); the file's path, None if unwritable."""
    _give_windowed_program_streams()
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "exchange_station_log", False):
            return Path(handler.baseFilename)
    if not root.handlers:  # as logging.basicConfig would: not under a test runner's capture
        terminal = logging.StreamHandler()
        terminal.setLevel(os.environ.get("EXCHANGE_LOG_LEVEL", "WARNING").upper())
        terminal.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(terminal)
    try:
        log_dir().mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(log_file(), maxBytes=1_000_000, backupCount=5,
                                      encoding="utf-8", delay=True)
    except OSError as exc:
        log.warning("cannot write the log in %s: %s", log_dir(), exc)
        return None
    handler.exchange_station_log = True
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    _log_uncaught_exceptions()
    return log_file()


def _give_windowed_program_streams() -> None:
    """A console=False program on Windows has no stdout/stderr: print must not fail there."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def _log_uncaught_exceptions() -> None:
    previous = sys.excepthook
    if getattr(previous, "exchange_station_log", False):
        return

    def hook(kind, value, traceback) -> None:  # noqa: ANN001 - sys.excepthook's arguments
        if not issubclass(kind, KeyboardInterrupt):
            logging.getLogger("app").critical("uncaught exception",
                                              exc_info=(kind, value, traceback))
        previous(kind, value, traceback)

    hook.exchange_station_log = True
    sys.excepthook = hook
