"""The workstation's configuration file (TOML), typed and validated.

The file lives at :func:`desk_app.paths.config_file` unless a path is given. Example::

    # Front Desk configuration.
    schema_version = 1
    workstation = "DESK1"
    log_level = "INFO"
    demo = false
    database_url = "postgresql+psycopg://frontdesk@db.clinic.lan/frontdesk"

    [central]                    # optional: the clinic's central database (docs/SYNC.md)
    url = "postgresql+psycopg://frontdesk@db.clinic.lan:5432/frontdesk"
    sslmode = "verify-full"      # libpq's sslmode: disable, prefer, require, verify-ca, verify-full
    sslrootcert = "/etc/front-desk/clinic-ca.pem"

    [smtp]                       # optional: the email provider receipts are sent through
    host = "smtp.example.com"
    port = 587                   # default: 587 for starttls, 465 for ssl, 25 for none
    security = "starttls"        # "starttls", "ssl" or "none"
    username = "desk@clinic.example"
    from_address = "desk@clinic.example"
    timeout_seconds = 20

    [sms]                        # optional: the text-message provider (Twilio-compatible)
    account_sid = "AC..."        # its auth token: keyring set front-desk-sms AC...
    from_number = "+14165550100"
    base_url = "https://api.twilio.com"
    timeout_seconds = 10

    [payment_links]              # optional: where the patient lands after paying a link
    success_url = "https://clinic.example/thank-you"

Without an [smtp] table, emails are saved to the outbox folder instead of being sent; without
an [sms] table, texts are too.

Secrets (database passwords, payment and messaging API keys) never go in this file:
they live in the operating system keyring. :func:`save_config` refuses a database URL
that carries a password, and :func:`load_config` warns about one; a ``password`` key in
[smtp] is ignored with a warning (the SMTP password is read from the keyring).

The environment variable ``DESK_APP_DATABASE_URL`` wins over the file's ``database_url``;
it is applied by :meth:`Config.sqlalchemy_url` (so it is never written back to the file)
and ignored in demo mode (a demo must never write into a real clinic database).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from desk_app import paths

log = logging.getLogger(__name__)

DATABASE_URL_ENV_VAR = "DESK_APP_DATABASE_URL"

#: The newest config file format this version of Front Desk understands.
CURRENT_SCHEMA_VERSION = 1

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_WORKSTATION_RE = re.compile(r"[A-Z0-9-]{1,16}")

_FILE_HEADER = """\
# Front Desk configuration for this workstation.
# Edit it while Front Desk is closed. Unknown keys are ignored (with a warning in the log).
# Passwords and API keys are NOT stored here: they live in the operating system keyring.
"""


class ConfigError(ValueError):
    """The config file (or a value for it) is unusable; the message says what to change."""


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value!r})"
    return f"a {type(value).__name__}"


_URL_SHAPE = re.compile(r"^[\w+]+://")


def _check_database_url(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(
            f'must be text such as "postgresql+psycopg://user@host/dbname", '
            f"not {_type_name(value)}; remove the line to use the built-in database"
        )
    value = value.strip()
    if not value:
        raise ValueError("is empty; remove the line to use the built-in database")
    # The shape SQLAlchemy's URL parser accepts, checked without importing it: the sign-in
    # window reads the config before SQLAlchemy has loaded (views/startup.py); opening the
    # database parses the URL in full.
    if not _URL_SHAPE.match(value):
        raise ValueError(
            f"{value!r} is not a database URL; write it like "
            f'"postgresql+psycopg://user@host:5432/dbname"'
        ) from None
    return value


def _check_workstation(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f'must be text such as "DESK1", not {_type_name(value)}')
    normalized = value.strip().upper()
    if not _WORKSTATION_RE.fullmatch(normalized):
        raise ValueError(
            f"{value!r} is not a valid workstation name; use 1 to 16 letters, digits "
            f'or dashes, such as "DESK1" or "FRONT-2" (it starts every invoice number)'
        )
    return normalized


def _check_log_level(value: object) -> str:
    choices = ", ".join(LOG_LEVELS)
    if not isinstance(value, str):
        raise ValueError(f"must be one of {choices} (in quotes), not {_type_name(value)}")
    normalized = value.strip().upper()
    if normalized not in LOG_LEVELS:
        raise ValueError(f"{value!r} is not a log level; use one of {choices}")
    return normalized


def _check_demo(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false (no quotes), not {_type_name(value)}")
    return value


def _check_schema_version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"must be a whole number such as {CURRENT_SCHEMA_VERSION}, not {_type_name(value)}"
        )
    if value < 1:
        raise ValueError(f"is {value}; it must be {CURRENT_SCHEMA_VERSION} or higher")
    if value > CURRENT_SCHEMA_VERSION:
        raise ValueError(
            f"is {value}, but this version of Front Desk only understands up to "
            f"{CURRENT_SCHEMA_VERSION}; the file was written by a newer Front Desk. "
            f"Update Front Desk on this workstation"
        )
    return value


SMTP_SECURITY = ("starttls", "ssl", "none")
SMTP_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def _smtp_text(name: str, value: object, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"table: {name} must be text (in quotes), not {_type_name(value)}")
    value = value.strip()
    if required and not value:
        raise ValueError(
            f'table: {name} is empty; write the server\'s name, like "smtp.example.com"'
        )
    return value


def _smtp_security(value: object) -> str:
    choices = ", ".join(f'"{c}"' for c in SMTP_SECURITY)
    if not isinstance(value, str) or value.strip().lower() not in SMTP_SECURITY:
        raise ValueError(f"table: security is {value!r}; use one of {choices}")
    return value.strip().lower()


def _smtp_number(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"table: {name} must be a whole number from {low} to {high}, not {_type_name(value)}"
        )
    return value


def _smtp_address(value: object) -> str:
    text = _smtp_text("from_address", value)
    if text and (text.count("@") != 1 or any(c in text for c in ' <>,;"')):
        raise ValueError(f"table: from_address {text!r} is not one email address")
    return text


@dataclass(frozen=True)
class SmtpConfig:
    """The [smtp] table: the email provider. Its password is in the OS keyring, not here."""

    host: str
    #: 0 means the usual port for `security` (587, 465 or 25).
    port: int = 0
    security: str = "starttls"
    username: str = ""
    from_address: str = ""
    timeout_seconds: int = 20

    def __post_init__(self) -> None:
        checks: dict[str, Callable[[object], object]] = {
            "host": lambda v: _smtp_text("host", v, required=True),
            "security": _smtp_security,
            "port": lambda v: _smtp_number("port", v, 0, 65535),
            "username": lambda v: _smtp_text("username", v),
            "from_address": _smtp_address,
            "timeout_seconds": lambda v: _smtp_number("timeout_seconds", v, 1, 300),
        }
        for name, check in checks.items():
            try:
                object.__setattr__(self, name, check(getattr(self, name)))
            except ValueError as exc:
                raise ConfigError(f"smtp {exc}.") from None
        if self.port == 0:
            object.__setattr__(self, "port", SMTP_DEFAULT_PORTS[self.security])


def _check_smtp(value: object) -> SmtpConfig | None:
    if value is None or isinstance(value, SmtpConfig):
        return value
    if not isinstance(value, dict):
        raise ValueError(
            f"must be a table ([smtp] with host = ... under it), not {_type_name(value)}"
        )
    known = {f.name for f in dataclasses.fields(SmtpConfig)}
    for key in value:
        if key == "password":
            log.warning(
                "Ignoring smtp.password in the config file: the SMTP password is read from "
                "the operating system keyring; remove it from the file"
            )
        elif key not in known:
            log.warning("Ignoring unknown key %r in the [smtp] table of the config file", key)
    if "host" not in value:
        raise ValueError('table has no host; add host = "smtp.example.com" under [smtp]')
    try:
        return SmtpConfig(**{k: v for k, v in value.items() if k in known})
    except ConfigError as exc:
        raise ValueError(str(exc).removeprefix("smtp ").rstrip(".")) from None


@dataclass(frozen=True)
class SmsConfig:
    """The [sms] table: a Twilio-compatible provider. Its auth token is in the OS keyring."""

    account_sid: str
    from_number: str
    base_url: str = "https://api.twilio.com"
    timeout_seconds: int = 10

    def __post_init__(self) -> None:
        checks: dict[str, Callable[[object], object]] = {
            "account_sid": lambda v: _smtp_text("account_sid", v),
            "from_number": lambda v: _smtp_text("from_number", v),
            "base_url": lambda v: _smtp_text("base_url", v),
            "timeout_seconds": lambda v: _smtp_number("timeout_seconds", v, 1, 120),
        }
        for name, check in checks.items():
            try:
                object.__setattr__(self, name, check(getattr(self, name)))
            except ValueError as exc:
                raise ConfigError(f"sms {exc}.") from None
        if not self.account_sid or not self.from_number.startswith("+"):
            raise ConfigError('sms table: account_sid and from_number (like "+14165550100", '
                              "with the country code) are both needed.")
        if not self.base_url.startswith(("https://", "http://")):
            raise ConfigError("sms table: base_url must start with https://.")


def _check_sms(value: object) -> SmsConfig | None:
    if value is None or isinstance(value, SmsConfig):
        return value
    if not isinstance(value, dict):
        raise ValueError(f"must be a table ([sms] with account_sid = ...), not {_type_name(value)}")
    known = {f.name for f in dataclasses.fields(SmsConfig)}
    for key in value:
        if key not in known:
            log.warning("Ignoring key %r in the [sms] table of the config file (the auth token "
                        "belongs in the keyring)", key)
    try:
        return SmsConfig(**{k: v for k, v in value.items() if k in known})
    except TypeError:
        raise ValueError("table needs account_sid and from_number") from None
    except ConfigError as exc:
        raise ValueError(str(exc).removeprefix("sms ").rstrip(".")) from None


def _check_payment_links(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("success_url"), str) \
            or not value["success_url"].startswith("https://"):
        raise ValueError('table needs success_url = "https://..." (the clinic\'s thank-you page)')
    return {"success_url": value["success_url"]}


CENTRAL_SSLMODES = ("disable", "prefer", "require", "verify-ca", "verify-full")


@dataclass(frozen=True)
class CentralConfig:
    """The [central] table: the clinic's central PostgreSQL this workstation syncs with.

    The password is in the OS keyring (service ``front-desk-central``, the URL's user@host
    as the name), never here. TLS: ``sslmode`` as libpq spells it; ``sslrootcert`` is the
    CA certificate file that ``verify-ca``/``verify-full`` check the server against.
    """

    url: str
    sslmode: str = "prefer"
    sslrootcert: str = ""
    connect_timeout_seconds: int = 10
    sync_interval_seconds: int = 15

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "url", _central_url(self.url))
            if self.sslmode not in CENTRAL_SSLMODES:
                raise ValueError(f"table: sslmode is {self.sslmode!r}; use one of "
                                 + ", ".join(f'"{m}"' for m in CENTRAL_SSLMODES))
            if not isinstance(self.sslrootcert, str):
                raise ValueError("table: sslrootcert must be a file path in quotes")
            if self.sslmode in ("verify-ca", "verify-full") and not self.sslrootcert.strip():
                raise ValueError(f"table: sslmode {self.sslmode} needs sslrootcert, the CA "
                                 "certificate file to check the server against")
            object.__setattr__(self, "sslrootcert", self.sslrootcert.strip())
            _smtp_number("connect_timeout_seconds", self.connect_timeout_seconds, 1, 120)
            _smtp_number("sync_interval_seconds", self.sync_interval_seconds, 2, 3600)
        except ValueError as exc:
            raise ConfigError(f"central {exc}.") from None


def _central_url(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError('table: url must be text such as '
                         '"postgresql+psycopg://frontdesk@db.clinic.lan:5432/frontdesk"')
    from urllib.parse import urlsplit  # not SQLAlchemy: the sign-in window loads none

    text = value.strip()
    example = '"postgresql+psycopg://frontdesk@db.clinic.lan:5432/frontdesk"'
    try:
        url = urlsplit(text)
        port = url.port  # a port that is not a number raises here
    except ValueError:
        url = None
    if url is None or not _URL_SHAPE.match(text):
        raise ValueError(f"table: url {value!r} is not a database URL; write it like {example}")
    if url.scheme.split("+")[0] != "postgresql":
        raise ValueError(f"table: url {value!r} is not PostgreSQL; the central database is "
                         'PostgreSQL, "postgresql+psycopg://user@host:5432/dbname"')
    if url.password:
        raise ValueError("table: url contains a password; leave it out (it is kept in the "
                         "operating system keyring)")
    if not url.hostname or not url.path.strip("/") or not url.username:
        raise ValueError(f"table: url {value!r} needs a user, a host and a database name, "
                         f"like {example}")
    where = f"{url.username}@{url.hostname}" + (f":{port}" if port else "")
    query = f"?{url.query}" if url.query else ""
    return f"postgresql+psycopg://{where}{url.path}{query}"


def _check_central(value: object) -> CentralConfig | None:
    if value is None or isinstance(value, CentralConfig):
        return value
    if not isinstance(value, dict):
        raise ValueError(f"must be a table ([central] with url = ... under it), not "
                         f"{_type_name(value)}")
    known = {f.name for f in dataclasses.fields(CentralConfig)}
    for key in value:
        if key not in known:
            log.warning("Ignoring unknown key %r in the [central] table of the config file", key)
    if "url" not in value:
        raise ValueError('table has no url; add url = "postgresql+psycopg://user@host/db"')
    try:
        return CentralConfig(**{k: v for k, v in value.items() if k in known})
    except ConfigError as exc:
        raise ValueError(str(exc).removeprefix("central ").rstrip(".")) from None


_CHECKS: dict[str, Callable[[object], object]] = {
    "database_url": _check_database_url,
    "workstation": _check_workstation,
    "log_level": _check_log_level,
    "demo": _check_demo,
    "schema_version": _check_schema_version,
    "smtp": _check_smtp,
    "sms": _check_sms,
    "payment_links": _check_payment_links,
    "central": _check_central,
}


@dataclass(frozen=True)
class Config:
    """One workstation's settings. Values are validated and normalized on construction."""

    #: ``None`` means the embedded SQLite database at ``paths.default_database_path()``.
    database_url: str | None = None
    #: 1-16 letters, digits or dashes, upper-cased. It prefixes invoice numbers.
    workstation: str = "DESK1"
    log_level: str = "INFO"
    demo: bool = False
    #: The config file's own format version (for migrating old files later).
    schema_version: int = CURRENT_SCHEMA_VERSION
    #: The email provider; ``None``: emails are saved to the outbox, not sent.
    smtp: SmtpConfig | None = None
    #: The text-message provider; ``None``: texts are saved to the outbox, not sent.
    sms: SmsConfig | None = None
    #: {"success_url": ...}: where a patient lands after paying a link.
    payment_links: dict[str, str] | None = None
    #: The central database this workstation's cache syncs with; ``None``: standalone.
    central: CentralConfig | None = None

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            try:
                normalized = _CHECKS[field.name](getattr(self, field.name))
            except ValueError as exc:
                raise ConfigError(f"{field.name} {exc}.") from None
            object.__setattr__(self, field.name, normalized)

    def sqlalchemy_url(self) -> str:
        """The URL to give ``sqlalchemy.create_engine``.

        ``DESK_APP_DATABASE_URL`` wins (except in demo mode), then ``database_url``, then
        the embedded SQLite file.
        """
        if not self.demo:
            from_env = os.environ.get(DATABASE_URL_ENV_VAR, "").strip()
            if from_env:
                return from_env
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{paths.default_database_path()}"

    def to_toml_dict(self) -> dict[str, Any]:
        """The values as they are written to the file (``None`` values are left out)."""
        values = dataclasses.asdict(self)
        # schema_version first: it is what a future version reads to migrate the file.
        ordered = {"schema_version": values.pop("schema_version"), **values}
        return {key: value for key, value in ordered.items() if value is not None}


def _url_has_password(url: str) -> bool:
    from urllib.parse import urlsplit  # not SQLAlchemy: read before the sign-in window

    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False


def load_config(path: Path | None = None) -> Config | None:
    """Read the config file; ``None`` if it does not exist.

    Unknown keys are ignored with a logged warning. A value of the wrong type or out of
    range raises :class:`ConfigError` naming the file, the key and what to change.
    """
    file = paths.config_file() if path is None else Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"Cannot read the config file {file}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(
            f"The config file {file} is not UTF-8 text; save it as UTF-8 and try again."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"The config file {file} is not valid TOML ({exc}); fix that line, "
            f"or delete the file to start again with the defaults."
        ) from None

    values: dict[str, Any] = {}
    for key, value in data.items():
        check = _CHECKS.get(key)
        if check is None:
            log.warning("Ignoring unknown key %r in the config file %s", key, file)
            continue
        try:
            values[key] = check(value)
        except ValueError as exc:
            raise ConfigError(f"In the config file {file}: {key} {exc}.") from None

    config = Config(**values)
    if config.database_url is not None and _url_has_password(config.database_url):
        log.warning(
            "The config file %s has a password in database_url; passwords belong in the "
            "operating system keyring, not in this file",
            file,
        )
    return config


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write ``config`` atomically (temp file + ``os.replace``); returns the file's path."""
    file = paths.config_file() if path is None else Path(path)
    if config.database_url is not None and _url_has_password(config.database_url):
        raise ConfigError(
            f"Not saving {file}: database_url contains a password. Store the password in "
            f"the operating system keyring and leave it out of the URL."
        )
    text = _FILE_HEADER + "\n" + tomli_w.dumps(config.to_toml_dict())
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=file.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, file)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return file
