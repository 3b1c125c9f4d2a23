"""The one place that wires config -> engine -> unit of work -> services (-> UI or CLI)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from app.config import StationConfig
from app.domain.rules import BadInput
from app.persistence import migrations
from app.persistence.engine import database_path, make_engine
from app.persistence.uow import SqlUnitOfWork
from app.services.context import ServiceContext


@dataclass
class Station:
    """An opened station: its config, its engine and the context every service gets."""

    config: StationConfig
    engine: Engine
    context: ServiceContext
    db_path: Path
    schema: str

    def close(self) -> None:
        self.engine.dispose()


def open_station(data_dir: Path | None = None, *, create: bool = False) -> Station:
    """Open (and upgrade) the station database in `data_dir`; `create` makes a new one."""
    config = StationConfig.load(data_dir)
    db_path = database_path(config.data_dir)
    if not db_path.exists() and not create:
        raise BadInput(f"no station database in {config.data_dir}: run `exchange-station init "
                       "--station ID --site NAME --admin STAFF_ID --name NAME` first "
                       "(or give --data-dir)")
    try:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create the data directory {config.data_dir}: {exc}") from None
    schema = migrations.upgrade(db_path)
    engine = make_engine(db_path)
    uow_factory = functools.partial(SqlUnitOfWork, engine)
    context = ServiceContext(uow_factory, config, sync_runner=functools.partial(_sync_runner, engine))
    return Station(config, engine, context, db_path, schema)


def _sync_runner(engine: Engine):  # noqa: ANN202 - app.sync.runner.SyncRunner
    from app.sync.runner import SyncRunner  # psycopg is loaded only when a sync runs

    return SyncRunner(engine)
