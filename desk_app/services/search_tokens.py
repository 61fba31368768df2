"""Turning patients and what people type into comparable search tokens.

Search is by prefix of any token, so "mad" finds Maddy, "nguy" finds Ødegård-Nguyễn, "555-12"
finds (416) 555-1234 and "1985-03" finds a birthday in March 1985. Every term of a query must
match some token of the patient.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

# Letters that do not decompose into a base letter plus an accent.
_FOLD = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ß": "ss",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
        "’": "'",
        "‘": "'",
    }
)
_WORD_SPLIT = re.compile(r"[\s\-'.,()/]+")
_PHONE_LIKE = re.compile(r"^[\d\s\-().+/]+$")
_NON_DIGIT = re.compile(r"\D")
_ISO_DATE = re.compile(r"^\d{4}-\d{1,2}(-\d{1,2})?$")
_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_MAX_TOKEN = 254
# Prefixes of tokens up to this long are listed in name order (table patient_search_prefix).
PREFIX_LENGTH = 6


def fold(text: str) -> str:
    """Lower-case, accent-free, control-free text for comparing names."""
    text = text.translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = "".join(c for c in stripped if unicodedata.category(c)[0] != "C")
    return cleaned.casefold().strip()


def digits(text: str) -> str:
    return _NON_DIGIT.sub("", text)


@lru_cache(maxsize=16_384)
def _name_tokens(name: str) -> frozenset[str]:
    """Kept for the names seen last: names repeat (a bootstrap folds 100,000 patients')."""
    folded = fold(name)
    if not folded:
        return frozenset()
    tokens = {w for w in _WORD_SPLIT.split(folded) if w}
    compact = re.sub(r"\s+", " ", folded)
    tokens.add(compact)  # "mary ann" and "odegard-nguyen" as typed
    return frozenset(tokens)


def _phone_tokens(phone: str) -> set[str]:
    d = digits(phone)
    if len(d) < 4:
        return set()
    tokens = {d, d[-4:]}
    if len(d) >= 7:
        tokens.add(d[-7:])  # without area code
    if len(d) >= 10:
        tokens.add(d[-10:])  # national number without a country code
    return tokens


def _email_tokens(email: str) -> set[str]:
    e = email.strip().casefold()
    if not e:
        return set()
    tokens = {e}
    local = e.split("@", 1)[0]
    tokens.update(w for w in re.split(r"[._+\-]+", local) if w)
    return tokens


@dataclass(frozen=True, slots=True)
class PatientSearchFields:
    legal_first_name: str
    legal_last_name: str
    preferred_name: str
    date_of_birth: date | None
    mobile_phone: str
    home_phone: str
    email: str


def tokens_for(p: PatientSearchFields) -> set[str]:
    tokens: set[str] = set()
    for name in (p.legal_first_name, p.legal_last_name, p.preferred_name):
        tokens |= _name_tokens(name)
    for phone in (p.mobile_phone, p.home_phone):
        tokens |= _phone_tokens(phone)
    tokens |= _email_tokens(p.email)
    if p.date_of_birth is not None:
        tokens.add(p.date_of_birth.isoformat())
    return {t[:_MAX_TOKEN] for t in tokens if t}


def sort_key(legal_last_name: str, legal_first_name: str, preferred_name: str = "") -> str:
    first = preferred_name or legal_first_name
    return f"{fold(legal_last_name)} {fold(first)}"[:420]


def query_terms(query: str) -> list[list[str]]:
    """Split a query into terms; each term is a list of alternatives, any of which may match.

    A query that looks like a phone number (digits and separators, seven digits or more) is one
    term of its digits, so "416 555 1234" is not three separate words.
    """
    text = query.strip()
    if not text:
        return []
    if _ISO_DATE.match(text) or _DMY.match(text):
        return [_term_alternatives(text)]
    if _PHONE_LIKE.match(text) and len(digits(text)) >= 7:
        d = digits(text)
        alternatives = [d]
        if len(d) == 11 and d.startswith("1"):
            alternatives.append(d[1:])
        return [alternatives]
    terms: list[list[str]] = []
    for raw in text.split():
        alternatives = _term_alternatives(raw)
        if alternatives:
            terms.append(alternatives)
    return terms[:6]


def _term_alternatives(raw: str) -> list[str]:
    found: list[str] = []
    m = _DMY.match(raw)
    if m:
        day, month, year = (int(g) for g in m.groups())
        for dd, mm in ((day, month), (month, day)):  # 14/03/1985 or 03/14/1985
            with contextlib.suppress(ValueError):
                found.append(date(year, mm, dd).isoformat())
        if found:
            return found
    folded = fold(raw).strip("-'.,()/")
    if folded:
        found.append(folded[:_MAX_TOKEN])
    number = digits(raw)
    if number and number != folded and len(number) >= 3:
        found.append(number)
    return found


def prefixes_of(tokens: Iterable[str]) -> set[str]:
    """The listed prefixes of a patient's tokens: the first 1 to PREFIX_LENGTH characters of
    every token (a term of that length or shorter is one of them exactly; a longer term's
    patients are all under its first PREFIX_LENGTH characters)."""
    found: set[str] = set()
    for token in tokens:
        found.update(token[:k] for k in range(1, min(len(token), PREFIX_LENGTH) + 1))
    return found


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix`."""
    return prefix + "\U0010ffff"


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
