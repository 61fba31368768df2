"""Fuzzing the doors people type into: the amount parser, the search box, patient details.

Whatever is typed or pasted (SQL, quotes, control characters, emoji, 10,000 characters), the
answer is a value or a clear refusal, never a crash, and a refusal writes nothing.
"""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from desk_app.models import Patient
from desk_app.models.money import MAX_TYPED_MINOR, AmountError, format_money, parse_money
from desk_app.services.db import Database
from desk_app.services.errors import ValidationError
from desk_app.services.patient_input import MAX_NAME, PatientInput, clean_patient_input
from desk_app.services.patients import SEARCH_LIMIT
from tests.builders import small_clinic

HOSTILE = [
    "'; DROP TABLE patient; --",
    '" OR 1=1 --',
    "%_%",
    "\\",
    "\x00\x01\x1b[31m",
    "Zoë 👩‍⚕️ Ødegård",
    "🙂" * 50,
    "a" * 10_000,
    "\u202e\u200b\ufeff",
    "   \t\n  ",
]
typed_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300))


@settings(max_examples=400, deadline=None)
@given(typed_text)
def test_any_typed_amount_is_a_value_in_range_or_a_clear_refusal(text: str) -> None:
    try:
        cents = parse_money(text, "CAD")
    except AmountError as refused:
        assert str(refused).strip(), f"no message for {text!r}"
    else:
        assert 0 < cents <= MAX_TYPED_MINOR


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=MAX_TYPED_MINOR), st.sampled_from(["", " ", "  "]))
def test_every_amount_as_shown_parses_back_to_itself(cents: int, pad: str) -> None:
    shown = format_money(cents, "CAD")  # "$1,234.50"
    assert parse_money(f"{pad}{shown}{pad}", "CAD") == cents
    plain = shown.replace("$", "").replace(",", "")  # "1234.50"
    assert parse_money(plain, "CAD") == cents


def test_the_search_box_answers_anything_without_error_or_change(db: Database) -> None:
    c = small_clinic(db)
    for first, last in [("Zoë", "Ødegård-Nguyễn"), ("Siobhán", "O'Brien"), ("Liam", "Smith")]:
        c.patient(first, last)
    # Quotes and accents are searched for, not interpreted.
    assert [p.legal_name for p in c.services.patients.search(c.desk, "o'bri")] == [
        "Siobhán O'Brien"
    ]
    assert len(c.services.patients.search(c.desk, "'; DROP TABLE patient; --")) == 0
    with db.reading() as s:
        before = s.scalar(select(func.count()).select_from(Patient))

    @settings(max_examples=150, deadline=None)
    @given(typed_text)
    def search_anything(text: str) -> None:
        found = c.services.patients.search(c.desk, text)
        assert len(found) <= SEARCH_LIMIT

    search_anything()
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Patient)) == before


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


@settings(max_examples=300, deadline=None)
@given(typed_text, typed_text)
def test_patient_names_are_tidied_or_refused_with_a_message(first: str, last: str) -> None:
    try:
        cleaned = clean_patient_input(PatientInput(first, last), date(2026, 11, 21))
    except ValidationError as refused:
        assert refused.message.strip() and refused.field in {"legal_first_name", "legal_last_name"}
        return
    for name in (cleaned.legal_first_name, cleaned.legal_last_name):
        assert name and name == name.strip()
        assert len(name) <= MAX_NAME
        assert not _has_control_characters(name)


@pytest.mark.parametrize("name", ["a" * 10_000, "\x00\x07", "   "])
def test_a_refused_patient_writes_nothing(db: Database, name: str) -> None:
    c = small_clinic(db)
    with db.reading() as s:
        before = s.scalar(select(func.count()).select_from(Patient))
    with pytest.raises(ValidationError) as refused:
        c.services.patients.create(c.desk, PatientInput("Zoë", name))
    assert "last name" in refused.value.message.lower()
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Patient)) == before
