"""Finding a patient by typing part of a name, phone, email or date of birth."""

from __future__ import annotations

from datetime import date

import pytest

from desk_app.services.db import Database
from tests.builders import Clinic, small_clinic


@pytest.fixture
def clinic(db: Database) -> Clinic:
    c = small_clinic(db)
    c.patient("Madeleine", "Ødegård-Nguyễn", preferred_name="Maddy",
              mobile_phone="(416) 555-1234", email="maddy.o@mail.example",
              date_of_birth=date(1985, 3, 14))
    c.patient("Zoë", "O'Brien", mobile_phone="+1 647 555 9876", email="zobrien@mail.example",
              date_of_birth=date(1990, 12, 1))
    c.patient("Liam", "Smith", mobile_phone="905-555-0000")
    return c


def names(c: Clinic, query: str) -> list[str]:
    return [p.legal_name for p in c.services.patients.search(c.owner, query)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mad", ["Madeleine Ødegård-Nguyễn"]),  # preferred and legal first name
        ("nguy", ["Madeleine Ødegård-Nguyễn"]),  # part of a double-barrelled name
        ("odegard", ["Madeleine Ødegård-Nguyễn"]),  # typed without accents
        ("ØDEGÅRD", ["Madeleine Ødegård-Nguyễn"]),
        ("  maddy   nguy ", ["Madeleine Ødegård-Nguyễn"]),  # pasted spaces, two terms
        ("zoe", ["Zoë O'Brien"]),
        ("o'brien", ["Zoë O'Brien"]),
        ("obrien", []),  # a word is matched from its start, not glued across the apostrophe
        ("416-555-1234", ["Madeleine Ødegård-Nguyễn"]),  # phone with dashes
        ("4165551234", ["Madeleine Ødegård-Nguyễn"]),
        ("555-12", ["Madeleine Ødegård-Nguyễn"]),  # without area code, partially typed
        ("1234", ["Madeleine Ødegård-Nguyễn"]),  # last four digits
        ("1 647 555 9876", ["Zoë O'Brien"]),  # country code and spaces
        ("maddy.o@mail", ["Madeleine Ødegård-Nguyễn"]),
        ("zobrien@", ["Zoë O'Brien"]),
        ("1985-03-14", ["Madeleine Ødegård-Nguyễn"]),
        ("1985-03", ["Madeleine Ødegård-Nguyễn"]),
        ("14/03/1985", ["Madeleine Ødegård-Nguyễn"]),
        ("12/01/1990", ["Zoë O'Brien"]),  # month first also understood
        ("smith liam", ["Liam Smith"]),
        ("smith zoe", []),
        ("", []),
        ("   ", []),
    ],
)
def test_type_ahead_search(clinic: Clinic, query: str, expected: list[str]) -> None:
    assert names(clinic, query) == expected


@pytest.mark.parametrize("hostile", [
    "'; DROP TABLE patient; --", '" OR 1=1 --', "%", "_", "\\", "\x00\x07", "🙂", "x" * 10_000,
])
def test_hostile_search_text_finds_nothing_and_breaks_nothing(clinic: Clinic,
                                                              hostile: str) -> None:
    assert names(clinic, hostile) == []
    assert names(clinic, "smith") == ["Liam Smith"]


def test_results_are_ordered_by_last_then_first_name(clinic: Clinic) -> None:
    clinic.patient("Aaron", "Smith")
    assert names(clinic, "smi") == ["Aaron Smith", "Liam Smith"]


def test_editing_a_name_updates_what_search_finds(clinic: Clinic) -> None:
    svc = clinic.services.patients
    liam = svc.search(clinic.owner, "liam")[0]
    details = svc.get(clinic.owner, liam.id)
    from dataclasses import replace

    svc.update(clinic.owner, liam.id, replace(details.data, legal_last_name="Tremblay"),
               details.version)
    assert names(clinic, "smith") == []
    assert names(clinic, "tremb") == ["Liam Tremblay"]
