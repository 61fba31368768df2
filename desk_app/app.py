"""Composition root: reads the config, opens the database, builds the services.

Nothing else reaches for globals: the main window is handed an AppContext.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from desk_app import paths
from desk_app.config import Config, SmtpConfig, load_config
from desk_app.services.clock import Clock, SystemClock
from desk_app.services.db import Database
from desk_app.services.demo import DEMO_WORKSTATION, create_demo_clinic, existing_clinic_id
from desk_app.services.mail import Mailer, SmtpSecurity, SmtpSettings
from desk_app.services.registry import Services
from desk_app.services.secret_store import KeyringSecretStore
from desk_app.services.stripe_gateway import StripeGatewayFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppContext:
    config: Config
    services: Services
    clock: Clock
    demo: bool

    @property
    def workstation(self) -> str:
        return DEMO_WORKSTATION if self.demo else self.config.workstation

    def has_clinic(self) -> bool:
        return existing_clinic_id(self.services.db) is not None

    def close(self) -> None:
        self.services.sync.dispose()
        self.services.db.dispose()


def demo_database_path() -> Path:
    return paths.data_dir() / "demo-clinic.sqlite3"


def mailer_for(smtp: SmtpConfig | None, clock: Clock) -> Mailer:
    """The email sender the [smtp] table describes; without one, emails go to the outbox."""
    if smtp is None:
        return Mailer(clock=clock)
    settings = SmtpSettings(
        host=smtp.host,
        port=smtp.port,
        security=SmtpSecurity(smtp.security),
        username=smtp.username,
        from_address=smtp.from_address,
        timeout_seconds=float(smtp.timeout_seconds),
    )
    return Mailer(settings, clock=clock)


def open_context(
    *, demo: bool = False, clock: Clock | None = None, config: Config | None = None
) -> AppContext:
    """Open the configured database (or the demo one), migrating it to the current schema."""
    clock = clock or SystemClock()
    if demo:
        config = Config(database_url=f"sqlite:///{demo_database_path()}", demo=True)
    else:
        config = config or load_config() or Config()
    # With a central database, the local database is this workstation's cache: every change
    # is also written to the sync outbox (docs/SYNC.md).
    db = Database(config.sqlalchemy_url(), clock, capture_changes=config.central is not None)
    log.info("opened database (%s), schema %s", db.dialect, db.schema_revision())
    # Card payments: the real stripe SDK against api.stripe.com, each payment account's secret
    # key from this computer's OS keyring. (The demo clinic has no payment account.)
    services = Services.build(
        db,
        mailer=mailer_for(config.smtp, clock),
        gateway_factory=StripeGatewayFactory(),
        secrets=KeyringSecretStore(),
        central=config.central,
        workstation=DEMO_WORKSTATION if demo else config.workstation,
    )
    ctx = AppContext(config=config, services=services, clock=clock, demo=demo)
    if demo and not ctx.has_clinic():
        log.info("creating the demo clinic")
        create_demo_clinic(db)
    return ctx
