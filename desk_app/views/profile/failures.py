"""What to tell the person at the desk when a background call fails."""

from __future__ import annotations

import logging

from desk_app.services.errors import ServiceError

log = logging.getLogger(__name__)

UNEXPECTED = (
    "That did not work because of an unexpected problem; it has been logged. "
    "Try again, and tell your administrator if it keeps happening."
)


def message_for(error: BaseException) -> str:
    """A service's own message for refusals; programming errors are logged, not shown raw."""
    if isinstance(error, ServiceError):
        return error.message
    log.error("background task failed", exc_info=error)
    return UNEXPECTED


def field_of(error: BaseException) -> str | None:
    """The form field a validation refusal is about, if it names one."""
    field = getattr(error, "field", None)
    return field if isinstance(field, str) else None
