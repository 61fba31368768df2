"""How dates, times and ages read on the profile: in the clinic's time zone, unambiguous."""

from __future__ import annotations

from datetime import date, datetime

from desk_app.services.clock import to_clinic_time


def day_text(day: date) -> str:
    """'Oct 16, 2026': month names, so no one wonders whether 03/04 is March or April."""
    return f"{day:%b} {day.day}, {day.year}"


def clinic_day_text(moment: datetime, time_zone: str) -> str:
    return day_text(to_clinic_time(moment, time_zone).date())


def clock_text(moment: datetime) -> str:
    """'2:30 PM' for a time already in the clinic's zone."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def age_on(born: date, today: date) -> int:
    """Whole years between a birth date and today (a Feb 29 birthday counts on Mar 1)."""
    had_birthday = (today.month, today.day) >= (born.month, born.day)
    return today.year - born.year - (0 if had_birthday else 1)
