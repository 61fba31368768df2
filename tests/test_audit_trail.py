"""The audit trail: filterable by date, staff member, kind, patient and words; admins only;
an export is itself audited."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from desk_app.models.enums import PaymentMethod
from desk_app.services.audit_trail import PAGE_SIZE, AuditFilter
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.errors import PermissionDenied, ValidationError
from tests.builders import small_clinic


def test_events_are_filtered_by_kind_staff_patient_words_and_date(
    db: Database, clock: FixedClock
) -> None:
    c = small_clinic(db)
    maddy = c.patient("Maddy", "Ødegård-Nguyễn")
    c.services.ledger.record_payment(c.desk, maddy, PaymentMethod.CASH, 2500)
    clock.advance(timedelta(days=3))
    other = c.patient("Liam", "Smith")
    c.services.ledger.record_payment(c.billing, other, PaymentMethod.CHEQUE, 4000)
    trail = c.services.audit_trail

    payments = trail.page(c.owner, AuditFilter(kind="payment")).rows
    assert [r.action for r in payments] == ["payment.recorded", "payment.recorded"]
    assert payments[0].patient == "Liam Smith"  # newest first
    assert payments[1].who == c.desk.name and payments[1].workstation == "DESK1"

    by_staff = trail.page(c.owner, AuditFilter(staff_id=c.billing.staff_id)).rows
    assert {r.who for r in by_staff} == {c.billing.name}
    for_maddy = trail.page(c.owner, AuditFilter(patient_id=maddy)).rows
    assert for_maddy and all(r.patient == "Maddy Ødegård-Nguyễn" for r in for_maddy)

    today = clock.now().date()
    first_days = AuditFilter(kind="payment", start=today - timedelta(days=5),
                             end=today - timedelta(days=1))
    assert [r.patient for r in trail.page(c.owner, first_days).rows] == [
        "Maddy Ødegård-Nguyễn"
    ]
    words = trail.page(c.owner, AuditFilter(text="  CHEQUE ")).rows
    assert words and all("cheque" in r.summary.lower() for r in words)
    assert trail.page(c.owner, AuditFilter(text="100%_")).rows == []  # LIKE signs are text
    assert ("payment", "Payments") in trail.kinds(c.owner)


def test_pages_of_a_hundred(db: Database) -> None:
    c = small_clinic(db)
    for i in range(PAGE_SIZE + 5):
        c.patient("Test", f"Patient{i}")
    trail = c.services.audit_trail
    first = trail.page(c.owner, AuditFilter(kind="patient"))
    assert (len(first.rows), first.pages, first.total) == (PAGE_SIZE, 2, PAGE_SIZE + 5)
    second = trail.page(c.owner, AuditFilter(kind="patient"), 2)
    assert len(second.rows) == 5
    assert not {r.id for r in first.rows} & {r.id for r in second.rows}


def test_an_export_is_csv_and_is_itself_audited(db: Database) -> None:
    c = small_clinic(db)
    c.patient("Zoë", "Ødegård")
    text = c.services.audit_trail.export_csv(c.owner, AuditFilter(kind="patient"))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["When", "Who", "Workstation", "Action"]
    assert [r[3] for r in rows[1:]] == ["patient.created"]
    [exported] = c.services.audit_trail.page(c.owner, AuditFilter(kind="audit")).rows
    assert exported.summary == "Exported 1 audit events"
    assert exported.details["filters"] == {"kind": "patient"}


def test_a_backwards_date_range_is_refused(db: Database) -> None:
    c = small_clinic(db)
    with pytest.raises(ValidationError, match="end date is before"):
        c.services.audit_trail.page(
            c.owner, AuditFilter(start=date(2026, 11, 20), end=date(2026, 11, 1))
        )


def test_front_desk_and_billing_cannot_read_the_trail(db: Database) -> None:
    c = small_clinic(db)
    c.patient("Zoë", "Ødegård")
    for actor in (c.desk, c.billing):
        with pytest.raises(PermissionDenied, match="view the audit trail"):
            c.services.audit_trail.page(actor, AuditFilter())
    office = c.actor("office")  # Administrative/All Billing
    assert c.services.audit_trail.page(office, AuditFilter()).total > 0
