"""A tax rate typed as a percentage ("13", "13%", "14.975") into basis points."""

from __future__ import annotations

import re

_PERCENT = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?$")


class TaxRateError(ValueError):
    """A typed tax rate that cannot be taken; the message says what to change."""


def parse_tax_percent(text: str) -> int:
    """Basis points (1300 = 13%) from what was typed; blank means no tax."""
    raw = text.strip().removesuffix("%").strip()
    if not raw:
        return 0
    match = _PERCENT.match(raw)
    if match is None:
        raise TaxRateError(
            f"“{text.strip()}” is not a tax rate. Type a percentage such as 13 or 13.5."
        )
    whole, fraction = match.group(1), match.group(2) or ""
    basis_points = int(whole) * 100 + int(fraction.ljust(2, "0"))
    if basis_points > 10_000:
        raise TaxRateError("A tax rate is between 0% and 100%.")
    return basis_points


def percent_text(basis_points: int) -> str:
    """1300 -> '13%', 1350 -> '13.5%', 0 -> 'No tax'."""
    if basis_points == 0:
        return "No tax"
    whole, rest = divmod(basis_points, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"
