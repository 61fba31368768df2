"""Errors a use case raises. Each message is meant for the person at the desk."""

from __future__ import annotations

from pathlib import Path


class ServiceError(Exception):
    """A refusal the user can act on; the message says what to change."""

    @property
    def message(self) -> str:
        return str(self)


class ValidationError(ServiceError):
    """Bad input: nothing was written."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PermissionDenied(ServiceError):
    """The signed-in staff member lacks the permission the action declares."""


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    """Someone else changed the row first, or a ledger rule refuses the action."""


class SignInFailed(ServiceError):
    pass


class ExternalServiceError(ServiceError):
    """An outside service (Stripe, a mail server, ...) could not do it; nothing was changed."""


class SchemaUpgradeFailed(ServiceError):
    """The database could not be brought up to date; it was left as it was (services/
    schema_upgrade.py). Here, with the other errors, so the error dialog can know it without
    loading the database layer."""

    def __init__(self, message: str, backup: Path | None) -> None:
        super().__init__(message)
        self.backup = backup
