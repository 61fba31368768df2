"""The arithmetic of packages: expiry dates, membership periods, usage and status text.

Pure functions (no database), so each rule is tested alone.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from desk_app.models.enums import ExpiryUnit, Recurrence


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (Jan 31 + 1 = Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_date(sold_on: date, unit: ExpiryUnit, count: int) -> date | None:
    """The last day a package sold on ``sold_on`` may be redeemed; None: it never expires.

    "30 days" sold on the 1st lasts through the 30th; "3 months" sold on Jan 15 through Apr 14.
    """
    if unit is ExpiryUnit.NONE or count <= 0:
        return None
    if unit is ExpiryUnit.DAYS:
        return sold_on + timedelta(days=count - 1)
    return add_months(sold_on, count) - timedelta(days=1)


def next_period(start: date, recurrence: Recurrence, periods: int = 1) -> date:
    """The first day of the membership period ``periods`` after the one starting on ``start``."""
    if recurrence is Recurrence.WEEKLY:
        return start + timedelta(weeks=periods)
    if recurrence is Recurrence.MONTHLY:
        return add_months(start, periods)
    return add_months(start, 12 * periods)


def period_start(anchor: date, recurrence: Recurrence, index: int) -> date:
    """Start of the ``index``-th period of a membership started on ``anchor`` (no drift:
    a membership started on Jan 31 renews on Feb 28, then Mar 31)."""
    return next_period(anchor, recurrence, index)


class SaleStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    ACTIVE = "active"
    USED_UP = "used_up"
    EXPIRED = "expired"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            "awaiting_payment": "Awaiting payment",
            "active": "Active",
            "used_up": "Fully used",
            "expired": "Expired",
            "closed": "Closed",
        }[self.value]


@dataclass(frozen=True, slots=True)
class Usage:
    used: int
    total: int | None  # None: unlimited
    expires_on: date | None

    @property
    def left(self) -> int | None:
        return None if self.total is None else max(self.total - self.used, 0)

    @property
    def text(self) -> str:
        """"3 of 10 used, 7 left, expires 2027-03-01" (or "unlimited", "no expiry")."""
        if self.total is None:
            uses = f"{self.used} used, unlimited"
        else:
            uses = f"{self.used} of {self.total} used, {self.left} left"
        expiry = f"expires {self.expires_on.isoformat()}" if self.expires_on else "no expiry"
        return f"{uses}, {expiry}"


def sale_status(usage: Usage, *, paid: bool, closed: bool, today: date) -> SaleStatus:
    if closed:
        return SaleStatus.CLOSED
    if not paid:
        return SaleStatus.AWAITING_PAYMENT
    if usage.expires_on is not None and today > usage.expires_on:
        return SaleStatus.EXPIRED
    if usage.left == 0:
        return SaleStatus.USED_UP
    return SaleStatus.ACTIVE


def pro_rata_refund(price_paid_cents: int, total_uses: int | None, used: int) -> int:
    """The unused share of what was paid: paid × unused / total, rounded down to the cent
    (the clinic never refunds a fraction of a cent more than the unused uses are worth).
    An unlimited package has no pro-rata share: the desk chooses the amount."""
    if total_uses is None or total_uses <= 0:
        return 0
    unused = max(total_uses - used, 0)
    return price_paid_cents * unused // total_uses
