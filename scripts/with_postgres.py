#!/usr/bin/env python3
"""Run a command with a PostgreSQL server available for the tests.

    python scripts/with_postgres.py -- CMD [ARGS...]

1. If the server named by EXCHANGE_TEST_PG_URL (default
   postgresql://postgres@127.0.0.1:5432/test) accepts a connection, CMD runs against it.
2. Otherwise a throwaway cluster is created from the installed PostgreSQL binaries in a
   temporary directory (as the ``postgres`` system user when running as root), started on a
   free 127.0.0.1 port with trust auth, and CMD runs with EXCHANGE_TEST_PG_URL pointing at
   it. The cluster is stopped and its directory deleted afterwards, whatever CMD's outcome.
3. If no cluster can be had (no binaries, initdb fails, ...), CMD still runs, with
   EXCHANGE_TEST_PG_URL unset and EXCHANGE_TEST_PG_UNAVAILABLE=<reason>, so that the pytest
   plugin (tests/pg_plugin.py) fails (CI=true) or skips the tests that need PostgreSQL.

The exit status is CMD's (128+N when CMD was killed by signal N).

Standard library only; psycopg is used for the connection check when importable
(a plain TCP connect otherwise). EXCHANGE_PG_BINDIR may name the directory holding
initdb/pg_ctl when it is not found automatically.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
SUPERUSER = "postgres"
DATABASE = "test"


def log(msg: str) -> None:
    print(f"with_postgres: {msg}", file=sys.stderr, flush=True)


def libpq_url(url: str) -> str:
    """postgresql+psycopg://... -> postgresql://... (what libpq understands)."""
    return re.sub(r"^postgres(?:ql)?\+[a-z0-9_]+://", "postgresql://", url)


def masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def server_answers(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    """Can we open a session at url? Returns (ok, error text)."""
    url = libpq_url(url)
    try:
        import psycopg  # type: ignore[import-not-found]
    except ImportError:
        psycopg = None
    if psycopg is not None:
        try:
            with psycopg.connect(url, connect_timeout=max(2, int(timeout))) as conn:
                conn.execute("SELECT 1")
            return True, ""
        except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
            return False, " ".join(str(exc).split()) or type(exc).__name__
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, ""
    except OSError as exc:
        return False, str(exc)


# --- throwaway cluster -------------------------------------------------------------------


class Unavailable(Exception):
    """No PostgreSQL cluster could be provided; the message says why."""


def find_bindir() -> str:
    candidates: list[str] = []
    if os.environ.get("EXCHANGE_PG_BINDIR"):
        candidates.append(os.environ["EXCHANGE_PG_BINDIR"])
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(os.path.dirname(os.path.realpath(on_path)))

    def version_key(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)

    for pattern in (
        "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
        "/usr/pgsql-*/bin",  # PGDG RPMs
        "/usr/local/pgsql/bin",
        "/opt/homebrew/opt/postgresql*/bin",
        "/usr/local/opt/postgresql*/bin",
    ):
        candidates.extend(sorted(glob.glob(pattern), key=version_key, reverse=True))
    candidates.append("/usr/bin")  # Fedora/Arch put the server binaries on PATH
    for bindir in candidates:
        if all(os.access(os.path.join(bindir, exe), os.X_OK) for exe in ("initdb", "pg_ctl", "createdb")):
            return bindir
    raise Unavailable("no PostgreSQL server binaries (initdb, pg_ctl, createdb) found; "
                      "install the 'postgresql' package or set EXCHANGE_PG_BINDIR")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunAs:
    """The account the cluster runs under (postgres refuses to run as root)."""

    name: str
    uid: int
    gid: int
    home: str

    @classmethod
    def pick(cls) -> RunAs:
        if os.geteuid() != 0:
            pw = pwd.getpwuid(os.geteuid())
            return cls(pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_dir)
        for name in ("postgres", "nobody"):
            try:
                pw = pwd.getpwnam(name)
            except KeyError:
                continue
            return cls(pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_dir)
        raise Unavailable("running as root and there is no 'postgres' (or 'nobody') "
                          "system user to run a PostgreSQL cluster as")

    def run(self, argv: list[str], *, cwd: str, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home if os.path.isdir(self.home) else cwd,
            "USER": self.name,
            "LOGNAME": self.name,
            "LC_ALL": "C",
            "LANG": "C",
        }
        kwargs = {}
        if os.geteuid() == 0 and self.uid != 0:
            kwargs = dict(user=self.uid, group=self.gid, extra_groups=[])
        proc = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout, **kwargs)
        if check and proc.returncode != 0:
            output = (proc.stdout + proc.stderr).strip()
            raise Unavailable(f"{os.path.basename(argv[0])} failed (exit {proc.returncode}): "
                              f"{output[-1500:]}")
        return proc


class Cluster:
    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.user = RunAs.pick()
        self.tmpdir = tempfile.mkdtemp(prefix="exchange-pg-")
        self.datadir = os.path.join(self.tmpdir, "data")
        self.logfile = os.path.join(self.tmpdir, "server.log")
        self.port = 0
        self.started = False

    def bin(self, name: str) -> str:
        return os.path.join(self.bindir, name)

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def start(self) -> None:
        if os.geteuid() == 0:
            os.chown(self.tmpdir, self.user.uid, self.user.gid)
        os.chmod(self.tmpdir, 0o700)
        self.user.run([self.bin("initdb"), "-D", self.datadir, "-U", SUPERUSER,
                       "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"],
                      cwd=self.tmpdir)
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between probing and binding
            self.port = free_port()
            options = " ".join([
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.tmpdir}",
                # a throwaway cluster: durability buys nothing, speed does
                "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
                "-c max_connections=200",
            ])
            proc = self.user.run([self.bin("pg_ctl"), "-D", self.datadir, "-l", self.logfile,
                                  "-o", options, "-w", "-t", "60", "start"],
                                 cwd=self.tmpdir, check=False)
            if proc.returncode == 0:
                self.started = True
                break
            last_error = (proc.stdout + proc.stderr + self.log_tail()).strip()
        else:
            raise Unavailable(f"pg_ctl start failed: {last_error[-1500:]}")
        self.user.run([self.bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                       "-U", SUPERUSER, DATABASE], cwd=self.tmpdir)

    def log_tail(self) -> str:
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                return f.read()[-1500:]
        except OSError:
            return ""

    def postmaster_pid(self) -> int | None:
        try:
            with open(os.path.join(self.datadir, "postmaster.pid")) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        try:
            if self.started:
                proc = self.user.run([self.bin("pg_ctl"), "-D", self.datadir, "-m", "fast",
                                      "-w", "-t", "30", "stop"], cwd=self.tmpdir,
                                     check=False, timeout=60)
                pid = self.postmaster_pid()
                if proc.returncode != 0 and pid:
                    log(f"pg_ctl stop failed ({proc.stderr.strip()}); killing postmaster {pid}")
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    time.sleep(0.5)
                self.started = False
        finally:
            shutil.rmtree(self.tmpdir, ignore_errors=True)


@contextmanager
def postgres_env(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Yield the environment for the wrapped command, with PostgreSQL set up in it."""
    env = dict(env)
    url = env.get("EXCHANGE_TEST_PG_URL") or DEFAULT_URL
    ok, error = server_answers(url)
    if ok:
        log(f"using PostgreSQL at {masked(url)}")
        env["EXCHANGE_TEST_PG_URL"] = url
        env.pop("EXCHANGE_TEST_PG_UNAVAILABLE", None)
        yield env
        return
    log(f"no usable PostgreSQL at {masked(url)} ({error}); starting a throwaway cluster")
    cluster = None
    try:
        cluster = Cluster()
        cluster.start()
    except (Unavailable, OSError, subprocess.SubprocessError) as exc:
        if cluster is not None:
            cluster.stop()
        exc_text = str(exc) or type(exc).__name__
    except BaseException:  # Ctrl-C or SIGTERM while setting up: leave nothing behind
        if cluster is not None:
            cluster.stop()
        raise
    else:
        exc_text = ""
    if exc_text:
        reason = (f"no PostgreSQL at {masked(url)} ({error}) and no throwaway cluster "
                  f"could be started: {exc_text}")
        log(reason)
        env.pop("EXCHANGE_TEST_PG_URL", None)
        env["EXCHANGE_TEST_PG_UNAVAILABLE"] = reason
        yield env
        return
    try:
        log(f"throwaway cluster running: {cluster.url} (bin {cluster.bindir}, "
            f"user {cluster.user.name}, dir {cluster.tmpdir})")
        env["EXCHANGE_TEST_PG_URL"] = cluster.url
        env.pop("EXCHANGE_TEST_PG_UNAVAILABLE", None)
        yield env
    finally:
        cluster.stop()
        gone = not os.path.exists(cluster.tmpdir)
        log(f"throwaway cluster stopped; {cluster.tmpdir} "
            f"{'removed' if gone else 'could NOT be removed'}")


class Terminated(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2

    def on_terminate(signum: int, _frame: object) -> None:
        # once: a second signal must not interrupt the cleanup that the first one starts
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        raise Terminated(signum)

    # SIGTERM/SIGHUP: forward to the command, then clean up. SIGINT (Ctrl-C) reaches the
    # command directly through the terminal's process group; we only wait for it.
    signal.signal(signal.SIGTERM, on_terminate)
    signal.signal(signal.SIGHUP, on_terminate)

    child: subprocess.Popen[bytes] | None = None
    try:
        with postgres_env(dict(os.environ)) as env:
            try:
                child = subprocess.Popen(argv, env=env)
            except OSError as exc:
                log(f"cannot run {argv[0]}: {exc}")
                return 127
            while True:
                try:
                    code = child.wait()
                    break
                except KeyboardInterrupt:
                    continue  # the command got the same SIGINT; wait for it to finish
                except Terminated as exc:
                    child.send_signal(exc.signum)
                    try:
                        child.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        child.kill()
                        child.wait()
                    return 128 + exc.signum
    except Terminated as exc:  # signalled while the cluster was being set up
        return 128 + exc.signum
    except KeyboardInterrupt:
        return 130
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
