"""Money: an integer count of minor units with the clinic's currency.

No float ever touches an amount. What people type is parsed strictly: "$1,234.5", "1234.50"
and " 12 " are fine; "12.345", "-5", "abc" and "1e9" are refused with a message that says
what to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Symbol and number of decimals for the currencies clinics use. Unknown codes fall back to
# the code itself as a prefix and two decimals.
_CURRENCIES: dict[str, tuple[str, int]] = {
    "USD": ("$", 2),
    "CAD": ("$", 2),
    "AUD": ("$", 2),
    "NZD": ("$", 2),
    "GBP": ("£", 2),
    "EUR": ("€", 2),
    "IEP": ("£", 2),
    "CHF": ("CHF ", 2),
    "JPY": ("¥", 0),
}

#: The largest amount anyone may type: $9,999,999.99. Anything larger is a typo.
MAX_TYPED_MINOR = 999_999_999


class AmountError(ValueError):
    """An amount someone typed that cannot be taken; the message says what to change."""


def currency_decimals(currency: str) -> int:
    return _CURRENCIES.get(currency.upper(), ("", 2))[1]


def currency_symbol(currency: str) -> str:
    code = currency.upper()
    return _CURRENCIES.get(code, (code + " ", 2))[0]


@dataclass(frozen=True, order=True, slots=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError("Money holds an integer count of minor units")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __str__(self) -> str:
        return format_money(self.minor, self.currency)


def format_money(minor: int, currency: str) -> str:
    """Format minor units as the clinic shows them: "$1,234.50", "-$25.00"."""
    decimals = currency_decimals(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**decimals)
    text = f"{whole:,}"
    if decimals:
        text += f".{frac:0{decimals}d}"
    return f"{sign}{currency_symbol(currency)}{text}"


_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_NUMBER = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d*))?$")


def parse_money(
    text: str,
    currency: str,
    *,
    allow_zero: bool = False,
    maximum: int = MAX_TYPED_MINOR,
) -> int:
    """Parse an amount typed by a person into minor units, or raise AmountError.

    Accepts a leading currency symbol or code, thousands separators in the right places and
    surrounding spaces. Refuses negatives (a refund or unapply is its own action), more
    decimals than the currency has, exponents, and absurd sizes.
    """
    raw = _SPACES.sub(" ", text).strip()
    if not raw:
        raise AmountError("Enter an amount, for example 45.00.")
    body = raw
    if body.startswith(("-", "(", "\u2212")) or body.endswith("-"):
        raise AmountError("Enter the amount without a minus sign; it must be positive.")
    code = currency.upper()
    symbol = currency_symbol(currency).strip()
    for prefix in (code, symbol, "$"):
        if prefix and body.upper().startswith(prefix.upper()):
            body = body[len(prefix) :].strip()
            break
    if body.upper().endswith(code):
        body = body[: -len(code)].strip()
    if body.startswith("-"):
        raise AmountError("Enter the amount without a minus sign; it must be positive.")
    body = body.replace(" ", ",")  # "1 234.50": a space may separate thousands
    match = _NUMBER.match(body)
    if not body or match is None or (match.group(1) is None and not match.group(2)):
        raise AmountError(
            f"“{text.strip()}” is not an amount. Type digits with at most one decimal point, "
            "for example 1,234.50."
        )
    whole_text = (match.group(1) or "0").replace(",", "")
    frac_text = match.group(2) or ""
    decimals = currency_decimals(currency)
    if len(frac_text) > decimals:
        if decimals == 0:
            raise AmountError(f"{code} amounts have no cents; remove the decimals.")
        raise AmountError(
            f"“{text.strip()}” has more than {decimals} decimals; round it to the cent."
        )
    minor: int = int(whole_text) * 10**decimals + int(frac_text.ljust(decimals, "0") or "0")
    if minor == 0 and not allow_zero:
        raise AmountError("Enter an amount greater than zero.")
    if minor > maximum:
        raise AmountError(
            f"{format_money(minor, currency)} is more than the largest amount allowed "
            f"({format_money(maximum, currency)}). Check for a typo."
        )
    return minor


def percent_of(minor: int, basis_points: int) -> int:
    """Tax on an amount at a rate in basis points (1300 = 13.00%), rounded half up to the cent.

    This is the rounding rule for tax: computed per invoice line, half away from zero, in
    integer arithmetic. The invoice's tax is the sum of its lines' tax.
    """
    if basis_points < 0:
        raise ValueError("a tax rate cannot be negative")
    product = abs(minor) * basis_points
    rounded = (product + 5_000) // 10_000
    return rounded if minor >= 0 else -rounded
