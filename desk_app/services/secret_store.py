"""Secrets (Stripe keys, the SMTP password, the SMS auth token, the link
shortener's token) in the OS keyring only.

Never in the database, the config file or the logs.

A secret is stored under a service name and a username; a payment account's secret key is
under service ``front-desk-stripe`` with the account's id as the username. Nothing here logs a
secret's value, and errors never carry it.
"""

from __future__ import annotations

import logging
from typing import Protocol

from desk_app.log_scrubbing import register_secret

log = logging.getLogger(__name__)

STRIPE_SERVICE = "front-desk-stripe"
#: The SMTP password, under the SMTP username.
SMTP_SERVICE = "front-desk-smtp"
#: The text-message provider's auth token, under the account SID.
SMS_SERVICE = "front-desk-sms"
#: The link shortener's access token, under the clinic's id.
SHORTENER_SERVICE = "front-desk-shortener"


class SecretStoreUnavailable(RuntimeError):
    """The OS keyring cannot be used (none installed, locked, or it refused)."""


class SecretStore(Protocol):
    def get(self, service: str, name: str) -> str | None: ...

    def set(self, service: str, name: str, value: str) -> None: ...

    def delete(self, service: str, name: str) -> None: ...


class KeyringSecretStore:
    """The OS keyring through the ``keyring`` package (whatever backend it selects).

    ``keyring`` is imported on first use, not with this module: importing it (and finding a
    backend) takes about 40 ms, and the app builds this store on every start.
    """

    def get(self, service: str, name: str) -> str | None:
        import keyring
        import keyring.errors

        try:
            value = keyring.get_password(service, name)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(_unavailable(exc)) from None
        register_secret(value)  # never in a log line, whatever the code around it does
        return value

    def set(self, service: str, name: str, value: str) -> None:
        if not value:
            raise ValueError("an empty secret cannot be stored")
        register_secret(value)
        import keyring
        import keyring.errors

        try:
            keyring.set_password(service, name, value)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(_unavailable(exc)) from None
        log.info("secret stored: %s/%s", service, name)

    def delete(self, service: str, name: str) -> None:
        import keyring
        import keyring.errors

        try:
            keyring.delete_password(service, name)
        except keyring.errors.PasswordDeleteError:
            return  # nothing stored: already gone
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(_unavailable(exc)) from None
        log.info("secret deleted: %s/%s", service, name)


def _unavailable(exc: Exception) -> str:
    # The exception's own text is kept out: a backend could echo what it was given.
    return (
        "The system keyring could not be used to keep secrets "
        f"({type(exc).__name__}). Sign in to the desktop session so its keyring is "
        "unlocked, or ask your IT person to set one up."
    )
