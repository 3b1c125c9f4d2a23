"""The central PostgreSQL database: connecting to it, and creating or upgrading its schema.

A central URL is `postgresql://ROLE@HOST[:PORT]/DB[?sslmode=verify-full&...]`
(`postgresql+psycopg://` is accepted too). No password is ever stored by this program: libpq
(and so psycopg) takes it from `PGPASSWORD` or from a `.pgpass` file with owner-only
permissions (`PGPASSFILE` names another one). Query parameters such as `sslmode`,
`sslrootcert` and `connect_timeout` are passed to libpq unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from app.domain.rules import CentralUnreachable, UsageError

CENTRAL_MIGRATIONS = Path(__file__).resolve().parents[2] / "db" / "central"
_SCHEME = re.compile(r"^postgres(?:ql)?(?:\+[a-z0-9_]+)?://")

#: Server-side limits of every sync session (SYNC.md 2.3).
SESSION_OPTIONS = ("-c lock_timeout=5000 -c statement_timeout=30000 "
                   "-c idle_in_transaction_session_timeout=60000")


#: The advisory lock every writer that numbers central's history takes first (central c0014).
ORDER_LOCK = 1163067393


def order_lock(conn) -> None:  # noqa: ANN001 - a psycopg connection inside a transaction
    """Take central's order lock for this transaction (before the escrow pool's row lock)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (ORDER_LOCK,))


class SyncFailed(CentralUnreachable):
    """Central answered, but the sync could not go on (exit 5); nothing is lost locally."""


def libpq_url(url: str) -> str:
    if not _SCHEME.match(url or ""):
        raise UsageError(f"'{masked(url)}' is not a PostgreSQL URL: use "
                         "postgresql://ROLE@HOST:PORT/DATABASE?sslmode=verify-full")
    if urlsplit(url).password is not None:
        raise UsageError(f"{masked(url)}: a password is never written in the URL (it would be "
                         "kept in plain text); put it in PGPASSWORD or in a .pgpass file "
                         "that only you can read (chmod 600)")
    return _SCHEME.sub("postgresql://", url)


def sqlalchemy_url(url: str) -> str:
    return _SCHEME.sub("postgresql+psycopg://", libpq_url(url))


def masked(url: str | None) -> str:
    """The URL fit for a message or a log: any password replaced by ***."""
    parts = urlsplit(url or "")
    if parts.password is None:
        return url or ""
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def connect(url: str, *, application_name: str = "exchange-station", timeout_s: int = 5):
    """A psycopg connection with sync's timeouts and TCP keepalives; exit 5 when unreachable."""
    import psycopg

    from psycopg.conninfo import conninfo_to_dict

    conninfo = libpq_url(url)
    try:
        # the URL's own `options` come after ours, so an admin may tune the timeouts
        options = f"{SESSION_OPTIONS} {conninfo_to_dict(conninfo).get('options') or ''}"
        return psycopg.connect(
            conninfo, connect_timeout=timeout_s, application_name=application_name,
            keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
            tcp_user_timeout=30000, options=options.strip())
    except psycopg.Error as exc:
        raise CentralUnreachable(unreachable_message(url, exc)) from None


def unreachable_message(url: str, exc: BaseException) -> str:
    detail = " ".join(str(exc).split()) or exc.__class__.__name__
    return (f"central database {masked(url)} cannot be reached ({detail}); nothing was lost: "
            "the events stay on this station and go at the next sync")


def earlier_function(revision_file: str, signature: str, attribute: str = "UPGRADE") -> str:
    """The text of a function as an earlier central migration created it, as CREATE OR
    REPLACE: what a downgrade puts back. `signature` is how that text begins, e.g.
    "CREATE FUNCTION sync_push_batch(" (module attribute `attribute` of
    db/central/versions/`revision_file`.py)."""
    import importlib.util

    path = CENTRAL_MIGRATIONS / "versions" / f"{revision_file}.py"
    spec = importlib.util.spec_from_file_location(revision_file, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = getattr(module, attribute)
    start = text.index(signature)
    end = text.index("END $$;", start) + len("END $$;")
    body = text[start:end]
    return body if body.startswith("CREATE OR REPLACE") else \
        "CREATE OR REPLACE" + body[len("CREATE"):]


def replaced(text: str, *pairs: tuple[str, str]) -> str:
    """`text` with each (old, new) of `pairs` replaced, in order; each old must occur exactly
    once (a migration that rebuilds an earlier function's text fails loudly, not silently,
    when that text is not what it expects)."""
    for old, new in pairs:
        if text.count(old) != 1:
            raise ValueError(f"expected exactly one {old!r} in the function's text, found "
                             f"{text.count(old)}")
        text = text.replace(old, new)
    return text


def head_revision() -> str:
    """The newest central schema revision this program knows."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(CENTRAL_MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def upgrade_central(url: str) -> str:
    """Create or upgrade the central schema in one transaction; return its revision."""
    migrate_central(url, "head")
    return head_revision()


def migrate_central(url: str, target: str, down: bool = False) -> None:
    """Upgrade (or with `down`, downgrade) the central schema to revision `target`, in one
    transaction."""
    import sqlalchemy
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(CENTRAL_MIGRATIONS))
    engine = sqlalchemy.create_engine(sqlalchemy_url(url), connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, target)
    except sqlalchemy.exc.OperationalError as exc:
        raise CentralUnreachable(unreachable_message(url, exc.orig or exc)) from None
    finally:
        engine.dispose()


def new_db_epoch(url: str) -> str:
    """After central was restored from a backup: a new `meta.db_epoch`, so that every station's
    next pull reloads all reference data (SYNC.md 2.4). A restore into a new database or onto
    another server, or a point-in-time recovery, is noticed without it (app/sync/pull.py,
    `central_epoch`); a data directory copied back onto the same server is not. Returns it."""
    import psycopg

    conn = connect(url, application_name="restored")
    try:
        with conn.transaction():
            return str(conn.execute("UPDATE meta SET db_epoch = gen_random_uuid() "
                                    "RETURNING db_epoch").fetchone()[0])
    except psycopg.Error as exc:
        from app.sync.push import central_error

        raise central_error("starting a new db_epoch", exc) from None
    finally:
        conn.close()
