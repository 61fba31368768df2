"""A date of birth typed as YYYY-MM-DD; blank means not known."""

from __future__ import annotations

import re
from datetime import date

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class BirthDateError(ValueError):
    """A typed date of birth that cannot be read; the message says what to change."""


def parse_birth_date(text: str) -> date | None:
    raw = text.strip()
    if not raw:
        return None
    match = _ISO.match(raw)
    if match is None:
        raise BirthDateError(
            f"“{raw}” is not a date. Type it as year-month-day, for example 1984-07-31, "
            "or leave it blank if it is not known."
        )
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise BirthDateError(
            f"{raw} is not a day on the calendar; check the month and day."
        ) from None


def birth_date_text(born: date | None) -> str:
    return born.isoformat() if born is not None else ""
