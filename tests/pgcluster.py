"""A throwaway PostgreSQL cluster for tests (see /work/shared/ENVIRONMENT.md).

``PgCluster().start()`` runs ``initdb`` in a fresh temp folder and starts a server on a free
port of 127.0.0.1 (trust auth, fsync off: about 0.6 s). As root, initdb and pg_ctl run as
the ``postgres`` user through ``runuser``. ``stop()`` (also registered with atexit) stops the
server and deletes the folder.

If ``DESK_TEST_PG_URL`` is set (a server URL such as
``postgresql+psycopg://user@host:5432/postgres``), that server is used instead and nothing
is started; the databases created on it are still dropped at the end.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

PG_URL_ENV_VAR = "DESK_TEST_PG_URL"
PG_MAJOR = "15"
_DB_NAME_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PgClusterError(RuntimeError):
    """The throwaway cluster could not be started (the message says why)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_bindir() -> Path:
    """The folder holding initdb and pg_ctl (PostgreSQL 15 preferred)."""
    candidates = [Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PgClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in "
        + ", ".join(str(c) for c in candidates)
        + ". Install them with `./dev setup` (apt package postgresql), or point "
        f"{PG_URL_ENV_VAR} at a running server."
    )


class PgCluster:
    """A PostgreSQL server for one test session (one per xdist worker)."""

    def __init__(self) -> None:
        self.port: int | None = None
        self.tempdir: Path | None = None
        self._bindir: Path | None = None
        self._server_url: URL | None = None
        self._external = False
        self._running = False
        self._created: set[str] = set()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> PgCluster:
        """Start the server (or connect to ``DESK_TEST_PG_URL``); raises PgClusterError."""
        if self._running:
            return self
        external = os.environ.get(PG_URL_ENV_VAR, "").strip()
        if external:
            self._start_external(external)
        else:
            self._start_local()
        atexit.register(self.stop)
        return self

    def _start_external(self, url_text: str) -> None:
        try:
            url = make_url(url_text)
        except Exception as exc:
            raise PgClusterError(f"{PG_URL_ENV_VAR}={url_text!r} is not a URL: {exc}") from exc
        self._server_url = url.set(drivername="postgresql+psycopg")
        self._external = True
        try:
            with self._admin_connection() as conn:
                conn.execute("select 1")
        except psycopg.Error as exc:
            raise PgClusterError(
                f"cannot connect to the server in {PG_URL_ENV_VAR} "
                f"({self._server_url.render_as_string(hide_password=True)}): {exc}"
            ) from exc
        self.port = url.port
        self._running = True

    def _start_local(self) -> None:
        self._bindir = find_bindir()
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        if as_root and shutil.which("runuser") is None:
            raise PgClusterError("running as root but `runuser` is missing (util-linux)")
        self.tempdir = Path(tempfile.mkdtemp(prefix="desk-pg-"))
        try:
            if as_root:
                try:
                    shutil.chown(self.tempdir, user="postgres", group="postgres")
                except (LookupError, OSError) as exc:
                    raise PgClusterError(
                        "running as root, so initdb must run as the `postgres` user, but "
                        f"the temp folder cannot be given to it: {exc}. Install the apt "
                        "package postgresql (it creates that user)."
                    ) from exc
            self._run(
                "initdb",
                "-D", str(self._datadir),
                "-A", "trust",
                "-U", "postgres",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            )  # fmt: skip
            last_error: PgClusterError | None = None
            for _attempt in range(3):  # another process may grab the free port first
                port = _free_port()
                try:
                    self._run(
                        "pg_ctl",
                        "start",
                        "-D", str(self._datadir),
                        "-l", str(self.tempdir / "server.log"),
                        "-w", "-t", "60",
                        "-o",
                        f"-p {port} -k {self.tempdir} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                    )  # fmt: skip
                except PgClusterError as exc:
                    last_error = exc
                    self._kill_postmaster()
                    continue
                self.port = port
                self._server_url = URL.create(
                    "postgresql+psycopg",
                    username="postgres",
                    host="127.0.0.1",
                    port=port,
                    database="postgres",
                )
                self._running = True
                return
            assert last_error is not None
            raise last_error
        except BaseException:
            self._remove_tempdir()
            raise

    def stop(self) -> None:
        """Drop what we created on an external server, or stop our server and delete it."""
        if self._external:
            if self._running:
                for name in sorted(self._created):
                    with contextlib.suppress(psycopg.Error):
                        self.drop_database(name)
            self._running = False
            return
        if self.tempdir is None:
            return
        if self._running and self._datadir.exists():
            try:
                self._run("pg_ctl", "stop", "-D", str(self._datadir), "-m", "immediate", "-w")
            except PgClusterError:
                self._kill_postmaster()
        self._running = False
        self._remove_tempdir()

    # -- databases -------------------------------------------------------------------------

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (a copy of database ``template`` if given); returns its
        SQLAlchemy URL (postgresql+psycopg://...)."""
        self._check_name(name)
        with self._admin_connection() as conn:
            if template is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            else:
                self._check_name(template)
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)))
        self._created.add(name)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, disconnecting anyone still using it."""
        self._check_name(name)
        with self._admin_connection() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        self._created.discard(name)

    def url_for(self, name: str) -> str:
        """The SQLAlchemy URL of database ``name`` on this server."""
        return self._require_url().set(database=name).render_as_string(hide_password=False)

    # -- helpers ---------------------------------------------------------------------------

    @property
    def _datadir(self) -> Path:
        assert self.tempdir is not None
        return self.tempdir / "data"

    def _require_url(self) -> URL:
        if self._server_url is None or not self._running:
            raise PgClusterError("the PostgreSQL cluster is not running; call start() first")
        return self._server_url

    def _admin_connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        url = self._server_url
        assert url is not None
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=10)

    @staticmethod
    def _check_name(name: str) -> None:
        if not _DB_NAME_RE.fullmatch(name):
            raise ValueError(f"database name {name!r}: use lower-case letters, digits and _")

    def _run(self, tool: str, *args: str) -> None:
        assert self._bindir is not None
        command = [str(self._bindir / tool), *args]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=120,
                cwd=self.tempdir,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PgClusterError(f"{tool} could not run: {exc}") from exc
        if result.returncode != 0:
            details = (result.stderr or result.stdout).strip()
            server_log = self.tempdir / "server.log" if self.tempdir else None
            if tool == "pg_ctl" and server_log is not None and server_log.exists():
                tail = server_log.read_text(errors="replace").strip().splitlines()[-10:]
                details += "\nserver.log:\n" + "\n".join(tail)
            action = f"{tool} {args[0]}" if args and not args[0].startswith("-") else tool
            raise PgClusterError(f"{action} failed (exit {result.returncode}): {details}")

    def _kill_postmaster(self) -> None:
        """Last resort when pg_ctl stop fails: signal the postmaster from its pid file."""
        if self.tempdir is None:
            return
        pid_file = self._datadir / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, signal.SIGQUIT)

    def _remove_tempdir(self) -> None:
        if self.tempdir is not None:
            shutil.rmtree(self.tempdir, ignore_errors=True)
            self.tempdir = None
