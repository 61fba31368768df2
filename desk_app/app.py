"""Composition root: reads the config, opens the database, builds the services.

Nothing else reaches for globals: the main window is handed an AppContext.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from desk_app import paths
from desk_app.config import Config, SmsConfig, SmtpConfig, load_config
from desk_app.services.clinic_settings import existing_clinic_id
from desk_app.services.clock import Clock, SystemClock
from desk_app.services.db import Database
from desk_app.services.demo_credentials import DEMO_WORKSTATION
from desk_app.services.link_payments import DEFAULT_SUCCESS_URL
from desk_app.services.mail import Mailer, SmtpSecurity, SmtpSettings
from desk_app.services.registry import Services
from desk_app.services.secret_store import KeyringSecretStore, SecretStoreUnavailable
from desk_app.services.sms import SmsSettings
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


def sms_settings_for(sms: SmsConfig | None) -> SmsSettings | None:
    """The text-message provider the [sms] table describes (None: texts go to the outbox)."""
    if sms is None:
        return None
    return SmsSettings(account_sid=sms.account_sid, from_number=sms.from_number,
                       base_url=sms.base_url, timeout_seconds=float(sms.timeout_seconds))


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


def database_key(url: str) -> str | None:
    """The SQLCipher key of a workstation's SQLite file (made on first use); None for a
    server database (PostgreSQL encrypts on its own terms) or an in-memory one."""
    from sqlalchemy.engine import make_url

    from desk_app.services.cache_encryption import has_content, is_plain_sqlite, workstation_key

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return workstation_key(path, KeyringSecretStore())
    except SecretStoreUnavailable:
        if has_content(path) and not is_plain_sqlite(path):
            raise  # encrypted, and no keyring to unlock it: nothing can be read
        # No keyring on this computer: the file stays plain (and is encrypted on the first
        # start that finds one). Said in the log; docs/SECURITY.md tells the clinic why.
        log.warning("no system keyring: the clinic's database file is not encrypted (%s)", path)
        return None


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
    # is also written to the sync outbox (docs/SYNC.md). A clinic's SQLite file is encrypted.
    url = config.sqlalchemy_url()
    db = Database(
        url,
        clock,
        key=None if demo else database_key(url),
        capture_changes=config.central is not None,
    )
    log.info("opened database (%s), schema %s", db.dialect, db.schema_revision())
    # Card payments: the real stripe SDK against api.stripe.com, each payment account's secret
    # key from this computer's OS keyring. (The demo clinic has no payment account.)
    services = Services.build(
        db,
        mailer=mailer_for(config.smtp, clock),
        sms=sms_settings_for(config.sms),
        payment_link_success_url=(config.payment_links or {}).get(
            "success_url", DEFAULT_SUCCESS_URL),
        gateway_factory=StripeGatewayFactory(),
        secrets=KeyringSecretStore(),
        central=config.central,
        workstation=DEMO_WORKSTATION if demo else config.workstation,
    )
    ctx = AppContext(config=config, services=services, clock=clock, demo=demo)
    if demo and not ctx.has_clinic():
        from desk_app.services.demo import create_demo_clinic

        log.info("creating the demo clinic")
        create_demo_clinic(db)
    return ctx
