"""POSTing to a provider's HTTP API (text messages, link shortening): retried with backoff
only when the provider says it is busy or failing (429, 5xx), never on another 4xx or a dead
connection, so nothing is sent twice because of a refusal."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: The longest wait between tries, whatever a Retry-After header asks for.
MAX_RETRY_WAIT_SECONDS = 30.0


def json_of(answer: Any) -> dict[str, Any]:
    """The answer's JSON object, or {} (an error page, a list, nothing)."""
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def retry_after(value: str | None) -> float | None:
    """A Retry-After header in seconds (the HTTP-date form is not used by these providers)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def post_until_answered(
    send: Callable[[], Any],
    *,
    max_attempts: int,
    backoff_seconds: float,
    sleep: Callable[[float], None],
    provider: str,
    unreachable: Callable[[str], Exception],
    refused: Callable[[int, dict[str, Any], bool], Exception],
) -> Any:
    """`send()` (one POST) until a 2xx answer, which is returned. A dead connection raises
    `unreachable(exception name)`; a refusal, or a busy answer on the last try, raises
    `refused(status, JSON, whether it was a busy answer)`."""
    import requests

    for attempt in range(1, max_attempts + 1):
        try:
            answer = send()
        except requests.RequestException as exc:
            log.warning("%s not reached: %s", provider, type(exc).__name__)
            raise unreachable(type(exc).__name__) from None
        if answer.status_code < 300:
            return answer
        busy = answer.status_code == 429 or answer.status_code >= 500
        if not busy or attempt == max_attempts:
            raise refused(answer.status_code, json_of(answer), busy)
        wait = retry_after(answer.headers.get("Retry-After"))
        if wait is None:
            wait = backoff_seconds * 2 ** (attempt - 1)
        log.info("%s answered %s; retrying in %.1f s", provider, answer.status_code, wait)
        sleep(min(wait, MAX_RETRY_WAIT_SECONDS))
    raise AssertionError("unreachable")
