"""Sync as the app uses it: connect to central, run a cycle, report status, keep settings.

The views call :meth:`SyncService.run_once` on the sync thread (never the UI thread, never
the database thread: it blocks on the network) and show :class:`SyncStatus` in the status
bar. Central being unreachable is normal (offline); the desk keeps working on its cache and
the next cycle catches up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from desk_app.config import CentralConfig, Config, ConfigError, save_config
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.db import Database
from desk_app.services.errors import ExternalServiceError, ValidationError
from desk_app.services.permissions import Permission, require
from desk_app.services.secret_store import SecretStore, SecretStoreUnavailable
from desk_app.services.sync import central
from desk_app.services.sync.changes import SyncError
from desk_app.services.sync.client import BootstrapProgress, SyncClient

log = logging.getLogger(__name__)

CENTRAL_SERVICE = "front-desk-central"


def secret_name(url: str) -> str:
    """The keyring name of a central database's password: user@host:port/database."""
    parsed = make_url(url)
    return f"{parsed.username}@{parsed.host}:{parsed.port or 5432}/{parsed.database}"


def central_engine(settings: CentralConfig, password: str | None) -> Engine:
    """An engine for central: TLS as configured, a short connect timeout, stale connections
    checked before use (central may have restarted while the desk was offline)."""
    url = make_url(settings.url)
    if password:
        url = url.set(password=password)
    connect_args: dict[str, Any] = {"connect_timeout": settings.connect_timeout_seconds,
                                    "sslmode": settings.sslmode,
                                    "application_name": "front-desk-sync"}
    if settings.sslrootcert:
        connect_args["sslrootcert"] = settings.sslrootcert
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True, pool_size=2)


@dataclass(frozen=True)
class SyncStatus:
    configured: bool
    online: bool | None = None  # None: not tried yet
    waiting: int = 0  # changed rows waiting to be pushed
    last_sync_at: datetime | None = None
    message: str = ""  # why it is offline or stopped, for the status bar's tooltip
    bootstrapped: bool = True
    unreviewed_conflicts: int = 0

    @property
    def summary(self) -> str:
        if not self.configured:
            return "Standalone (no central database)"
        state = "Online" if self.online else ("Offline" if self.online is False else "Connecting…")
        return state


class SyncService:
    """One workstation's sync. Thread-safe: one cycle at a time."""

    def __init__(self, db: Database, settings: CentralConfig | None, workstation: str,
                 secrets: SecretStore) -> None:
        self.db = db
        self.settings = settings
        self.workstation = workstation
        self.secrets = secrets
        self._lock = threading.Lock()
        self._client: SyncClient | None = None
        self._online: bool | None = None
        self._message = ""

    @property
    def configured(self) -> bool:
        return self.settings is not None

    def client(self) -> SyncClient:
        if self._client is None:
            assert self.settings is not None
            password = self.secrets.get(CENTRAL_SERVICE, secret_name(self.settings.url))
            self._client = SyncClient(self.db, central_engine(self.settings, password),
                                      self.workstation)
        return self._client

    def run_once(self, progress: Callable[[BootstrapProgress], None] | None = None
                 ) -> SyncStatus:
        """Push, pull (bootstrapping first if needed); never raises for being offline."""
        if not self.configured:
            return self.status()
        with self._lock:
            try:
                self.client().sync_once(progress)
                self._online, self._message = True, ""
            except (OperationalError, DBAPIError, OSError) as exc:
                self._online = False
                self._message = _offline_reason(exc)
                log.info("sync: central unreachable: %s", self._message)
            except SyncError as exc:
                self._online, self._message = True, str(exc)
                log.warning("sync stopped: %s", exc)
            except SecretStoreUnavailable as exc:
                self._online, self._message = False, str(exc)
        return self.status()

    def status(self) -> SyncStatus:
        if not self.configured:
            return SyncStatus(configured=False)
        from desk_app.services.sync.conflicts import unreviewed_count
        from desk_app.services.sync.outbox import waiting
        from desk_app.services.sync.state import BOOTSTRAP, LAST_SYNC
        from desk_app.services.sync.state import get_all as state_values

        with self.db.engine.connect() as conn:
            values = state_values(conn)
            count = waiting(conn)
            conflicts = unreviewed_count(conn)
        last = values.get(LAST_SYNC)
        return SyncStatus(configured=True, online=self._online, waiting=count,
                          last_sync_at=datetime.fromisoformat(last) if last else None,
                          message=self._message,
                          bootstrapped=_done(values.get(BOOTSTRAP, "")),
                          unreviewed_conflicts=conflicts)

    def bootstrapped(self) -> bool:
        """Whether this cache holds the whole clinic (reads one local row)."""
        from desk_app.services.sync.state import BOOTSTRAP, get

        with self.db.engine.connect() as conn:
            return _done(get(conn, BOOTSTRAP))

    def dispose(self) -> None:
        if self._client is not None:
            self._client.central.dispose()


def _done(bootstrap_state: str) -> bool:
    import json

    return bool(bootstrap_state) and bool(json.loads(bootstrap_state).get("done"))


def _offline_reason(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__


# -- settings (Clinic ▸ Central database) -----------------------------------------------------


@dataclass(frozen=True)
class CentralSettingsInput:
    url: str
    sslmode: str = "prefer"
    sslrootcert: str = ""
    workstation: str = "DESK1"
    password: str | None = None  # None: keep the one in the keyring


def check_connection(settings: CentralConfig, password: str | None) -> str:
    """Connect and read central's schema; a message for the desk. Raises ExternalServiceError
    with what to change when it cannot be used. Blocks on the network."""
    engine = central_engine(settings, password)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
            central.check_schema(conn)
    except SyncError as exc:
        raise ExternalServiceError(str(exc)) from None
    except (OperationalError, DBAPIError) as exc:
        raise ExternalServiceError(
            f"Could not connect to the central database: {_offline_reason(exc)}. Check the "
            "address, user, password and TLS settings.") from None
    finally:
        engine.dispose()
    return f"Connected: PostgreSQL {version}, schema up to date."


def save_central_settings(actor: Actor, db: Database, config: Config,
                          data: CentralSettingsInput, secrets: SecretStore,
                          config_path: Path | None = None) -> Config:
    """Keep the central database's address and TLS options in config.toml and its password
    in the keyring (Full Access). Takes effect at the next start."""
    require(actor, Permission.MANAGE_CLINIC)
    try:
        settings = CentralConfig(url=data.url, sslmode=data.sslmode,
                                 sslrootcert=data.sslrootcert)
        updated = Config(**{**_fields(config), "central": settings,
                            "workstation": data.workstation})
    except ConfigError as exc:
        raise ValidationError(str(exc)) from None
    if data.password:
        try:
            secrets.set(CENTRAL_SERVICE, secret_name(settings.url), data.password)
        except SecretStoreUnavailable as exc:
            raise ExternalServiceError(str(exc)) from None
    save_config(updated, config_path)
    with db.transaction() as s:
        audit.record(s, actor, "sync.settings_changed",
                     summary=f"Central database set to {settings.url} ({settings.sslmode}) "
                             f"for workstation {updated.workstation}",
                     details={"url": settings.url, "sslmode": settings.sslmode,
                              "workstation": updated.workstation,
                              "password_changed": bool(data.password)})
    return updated


def _fields(config: Config) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
