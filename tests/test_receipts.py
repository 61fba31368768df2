"""Receipts the patient sees, read off the ledger: apply, unapply, re-apply; SQLite and PostgreSQL.

The rules (My Account > Receipts): a receipt is one application of a payment; unapplying part
of it shows what is still applied on the same receipt; unapplying all of it hides the
receipt; applying again makes a new receipt; what a payment holds as credit is on its own
"payment on account" receipt. Every cent paid, less refunds, is on exactly one receipt.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from desk_app.models import Allocation, Payment, PaymentMethod, Refund
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.errors import PermissionDenied, ValidationError
from desk_app.services.receipts import (
    PAGE_SIZE,
    AllocationFacts,
    InvoiceFacts,
    PaymentFacts,
    Receipt,
    ReceiptKind,
    derive_receipts,
)
from tests.builders import Clinic, small_clinic

MASSAGE = 12430  # Massage 60 min: $110.00 + 13% HST
PHYSIO = 8500  # Physio follow-up, no tax


def receipts_of(c: Clinic, patient: uuid.UUID) -> list[Receipt]:
    return c.services.receipts.receipts(c.desk, patient)


def by_number(receipts: list[Receipt]) -> dict[str, Receipt]:
    return {r.number: r for r in receipts}


def massage_paid_in_cash(c: Clinic) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A new patient's massage, paid in full in cash at the desk: (patient, invoice, payment)."""
    patient = c.patient()
    massage = c.visit(patient)
    payment = c.services.ledger.record_payment(
        c.desk, patient, PaymentMethod.CASH, MASSAGE, apply_to=[massage]
    ).payment_id
    return patient, massage, payment


def total_for_patient(
    s: Session,
    amount: InstrumentedAttribute[int],
    patient_col: InstrumentedAttribute[uuid.UUID],
    patient: uuid.UUID,
) -> int:
    """The sum of `amount` over the patient's rows (0 when there are none)."""
    return int(
        s.scalar(select(func.coalesce(func.sum(amount), 0)).where(patient_col == patient)) or 0
    )


def assert_nothing_counted_twice(c: Clinic, patient: uuid.UUID) -> None:
    """Every cent paid (less refunds) is on exactly one receipt, and each invoice's receipt
    lines add up to what is applied to it."""
    receipts = receipts_of(c, patient)
    with c.db.reading() as s:
        paid = total_for_patient(s, Payment.amount_cents, Payment.patient_id, patient)
        refunded = total_for_patient(s, Refund.amount_cents, Refund.patient_id, patient)
        applied = dict(
            s.execute(
                select(Allocation.invoice_id, func.sum(Allocation.amount_cents))
                .where(Allocation.patient_id == patient)
                .group_by(Allocation.invoice_id)
            ).all()
        )
    assert sum(r.amount_cents for r in receipts) == int(paid or 0) - int(refunded or 0)
    on_receipts: dict[uuid.UUID, int] = {}
    for receipt in receipts:
        assert receipt.amount_cents > 0
        for line in receipt.lines:
            on_receipts[line.invoice_id] = on_receipts.get(line.invoice_id, 0) + line.amount_cents
    assert on_receipts == {k: int(v) for k, v in applied.items() if int(v) != 0}
    assert len({r.number for r in receipts}) == len(receipts)


def test_a_payment_at_the_desk_is_one_receipt_for_every_invoice_it_pays(
    db: Database, clock: FixedClock
) -> None:
    c = small_clinic(db)
    patient = c.patient()
    massage = c.visit(patient, "Massage 60 min")
    physio = c.visit(patient, "Physio follow-up", when=datetime(2026, 11, 20, 14, 0))
    clock.advance(timedelta(minutes=5))
    c.services.ledger.record_payment(
        c.desk, patient, PaymentMethod.DEBIT, MASSAGE + PHYSIO, apply_to=[massage, physio]
    )
    (receipt,) = receipts_of(c, patient)
    assert receipt.kind == ReceiptKind.PAYMENT
    assert receipt.amount_cents == MASSAGE + PHYSIO
    assert sorted(line.amount_cents for line in receipt.lines) == [PHYSIO, MASSAGE]
    assert {line.description for line in receipt.lines} == {"Massage 60 min", "Physio follow-up"}
    assert receipt.method == PaymentMethod.DEBIT and not receipt.from_credit
    assert receipt.applied_to.count("DESK1-") == 2
    assert_nothing_counted_twice(c, patient)


def test_what_a_payment_leaves_on_account_is_on_its_own_receipt(
    db: Database, clock: FixedClock
) -> None:
    c = small_clinic(db)
    patient = c.patient()
    massage = c.visit(patient)
    c.services.ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 20000, apply_to=[massage])
    applied, on_account = receipts_of(c, patient)
    assert (applied.kind, applied.amount_cents) == (ReceiptKind.PAYMENT, MASSAGE)
    assert (on_account.kind, on_account.amount_cents) == (ReceiptKind.ON_ACCOUNT, 20000 - MASSAGE)
    assert on_account.applied_to == "Account credit"
    assert applied.payment_id == on_account.payment_id
    assert_nothing_counted_twice(c, patient)


def test_partial_unapply_shows_what_is_still_applied_on_the_original_receipt(
    db: Database, clock: FixedClock
) -> None:
    c = small_clinic(db)
    patient, massage, payment = massage_paid_in_cash(c)
    (original,) = receipts_of(c, patient)

    clock.advance(timedelta(hours=2))
    c.services.ledger.unapply(c.billing, payment, massage, 4000)

    receipts = by_number(receipts_of(c, patient))
    still = receipts[original.number]
    assert still.amount_cents == MASSAGE - 4000
    assert [line.amount_cents for line in still.lines] == [MASSAGE - 4000]
    credit = next(r for r in receipts.values() if r.kind == ReceiptKind.ON_ACCOUNT)
    assert credit.amount_cents == 4000
    assert_nothing_counted_twice(c, patient)


def test_unapplying_all_of_a_payment_hides_its_receipt(db: Database, clock: FixedClock) -> None:
    c = small_clinic(db)
    patient, massage, payment = massage_paid_in_cash(c)
    (original,) = receipts_of(c, patient)

    clock.advance(timedelta(hours=2))
    c.services.ledger.unapply(c.billing, payment, massage)

    (left,) = receipts_of(c, patient)
    assert left.number != original.number
    assert (left.kind, left.amount_cents) == (ReceiptKind.ON_ACCOUNT, MASSAGE)
    assert_nothing_counted_twice(c, patient)


def test_re_applying_shows_the_amount_on_a_new_receipt_and_nothing_counts_twice(
    db: Database, clock: FixedClock
) -> None:
    c = small_clinic(db)
    ledger = c.services.ledger
    patient, massage, payment = massage_paid_in_cash(c)
    (original,) = receipts_of(c, patient)
    clock.advance(timedelta(hours=1))
    ledger.unapply(c.billing, payment, massage, 4000)
    clock.advance(timedelta(hours=1))
    ledger.apply_payment(c.billing, payment, massage, 4000)

    receipts = receipts_of(c, patient)
    assert len(receipts) == 2  # the credit is all applied again: no on-account receipt
    found = by_number(receipts)
    assert found[original.number].amount_cents == MASSAGE - 4000
    (new,) = [r for r in receipts if r.number != original.number]
    assert (new.kind, new.amount_cents) == (ReceiptKind.PAYMENT, 4000)
    assert new.from_credit and new.applied_at > new.paid_at
    assert new.paid_at == original.paid_at  # filtered by when the money came in
    assert_nothing_counted_twice(c, patient)

    # Unapplying again takes back the newest application first: the old receipt holds.
    clock.advance(timedelta(hours=1))
    ledger.unapply(c.billing, payment, massage, 4000)
    after = by_number(receipts_of(c, patient))
    assert new.number not in after
    assert after[original.number].amount_cents == MASSAGE - 4000
    assert_nothing_counted_twice(c, patient)


def test_credit_applied_later_moves_from_the_on_account_receipt_to_a_new_one(
    db: Database, clock: FixedClock
) -> None:
    c = small_clinic(db)
    patient = c.patient()
    ledger = c.services.ledger
    ledger.record_payment(c.desk, patient, PaymentMethod.E_TRANSFER, 20000)
    (on_account,) = receipts_of(c, patient)
    assert (on_account.kind, on_account.amount_cents) == (ReceiptKind.ON_ACCOUNT, 20000)

    clock.advance(timedelta(days=3))
    massage = c.visit(patient)
    ledger.apply_credit(c.desk, massage)
    receipts = by_number(receipts_of(c, patient))
    assert receipts[on_account.number].amount_cents == 20000 - MASSAGE  # same number
    applied = next(r for r in receipts.values() if r.kind == ReceiptKind.PAYMENT)
    assert applied.amount_cents == MASSAGE and applied.from_credit
    assert_nothing_counted_twice(c, patient)


def test_a_refund_comes_off_the_payment_on_account_receipt(db: Database, clock: FixedClock) -> None:
    c = small_clinic(db)
    patient = c.patient()
    payment = c.services.ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 5000)
    clock.advance(timedelta(hours=1))
    c.services.ledger.refund(c.billing, payment.payment_id, 2000, "moved away")
    (receipt,) = receipts_of(c, patient)
    assert (receipt.amount_cents, receipt.refunded_cents) == (3000, 2000)
    clock.advance(timedelta(hours=1))
    c.services.ledger.refund(c.billing, payment.payment_id, 3000)
    assert receipts_of(c, patient) == []
    assert_nothing_counted_twice(c, patient)


def test_receipt_numbers_are_stable_and_say_which_desk_wrote_them(
    db: Database, clock: FixedClock
) -> None:
    c = small_clinic(db)
    patient = c.patient()
    massage = c.visit(patient)
    physio = c.visit(patient, "Physio follow-up", when=datetime(2026, 11, 20, 14, 0))
    desk2 = dataclasses.replace(c.actor("frontdesk"), workstation="DESK2")
    c.services.ledger.record_payment(
        c.desk, patient, PaymentMethod.CASH, MASSAGE, apply_to=[massage]
    )
    clock.advance(timedelta(minutes=1))
    c.services.ledger.record_payment(desk2, patient, PaymentMethod.CASH, PHYSIO, apply_to=[physio])

    first = [r.number for r in receipts_of(c, patient)]
    again = [r.number for r in receipts_of(c, patient)]
    assert first == again and len(set(first)) == 2
    assert sorted(n.split("-")[1] for n in first) == ["DESK1", "DESK2"]
    for number in first:
        assert re.fullmatch(r"R-DESK[12]-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", number), number


def test_receipts_page_ten_at_a_time_filtered_by_payment_date(
    db: Database, clock: FixedClock
) -> None:
    c = small_clinic(db)
    patient = c.patient()
    for day in range(12):  # one payment on account a day, Nov 1 to Nov 12 (Toronto)
        clock.set(datetime(2026, 11, 1, 15, 0, tzinfo=UTC) + timedelta(days=day))
        c.services.ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 1000 + day)
    receipts = c.services.receipts

    first = receipts.page(c.desk, patient)
    assert (len(first.receipts), first.page, first.page_count, first.total) == (PAGE_SIZE, 0, 2, 12)
    assert first.receipts[0].amount_cents == 1011  # newest first
    second = receipts.page(c.desk, patient, page=1)
    assert [r.amount_cents for r in second.receipts] == [1001, 1000]
    assert second.first_shown == 11

    week = receipts.page(c.desk, patient, date(2026, 11, 3), date(2026, 11, 9))
    assert sorted(r.amount_cents for r in week.receipts) == list(range(1002, 1009))
    assert (week.page_count, week.total) == (1, 7)
    assert receipts.page(c.desk, patient, start=date(2026, 11, 12)).total == 1
    assert receipts.page(c.desk, patient, end=date(2026, 11, 1)).total == 1
    assert receipts.page(c.desk, patient, page=7).page == 1  # past the end: the last page
    with pytest.raises(ValidationError, match="From date is after the To date"):
        receipts.page(c.desk, patient, date(2026, 11, 9), date(2026, 11, 3))
    assert first.offers_superbill is False  # a Canadian clinic


def test_a_practitioner_may_see_receipts_but_not_email_them(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    practitioner = c.actor("dokoye")
    c.services.appointments.book(c.owner, patient, practitioner.staff_id,
                                 c.treatment("Massage 60 min"), c.location_id,
                                 datetime(2026, 11, 20, 9, 0))  # their patient: seen by them
    assert c.services.receipts.page(practitioner, patient).total == 0
    document = c.services.documents.statement(
        practitioner, patient, date(2026, 11, 1), date(2026, 11, 30)
    )
    with pytest.raises(PermissionDenied):
        c.services.documents.prepare_email(practitioner, patient, document, "a@example.com")


# ----- the rules on random ledgers (no database) ----------------------------------------------

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def ident(n: int) -> uuid.UUID:
    """A made-up row id whose first 48 bits differ (the part a receipt number shows)."""
    return uuid.UUID(int=n << 80)


INVOICES = {
    ident(i): InvoiceFacts(ident(i), f"DESK1-{i:05d}", T0, "Visit", "", None) for i in (1, 2, 3)
}


@st.composite
def ledgers(
    draw: st.DrawFn,
) -> tuple[list[PaymentFacts], list[AllocationFacts], dict[uuid.UUID, int]]:
    """Payments, then applies and unapplies that the ledger would allow, then refunds."""
    payments = [
        PaymentFacts(ident(100 + n), T0, T0, PaymentMethod.CASH, amount, "", "DESK1")
        for n, amount in enumerate(draw(st.lists(st.integers(100, 50_000), min_size=1, max_size=3)))
    ]
    applied: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    rows: list[AllocationFacts] = []
    moment = T0
    for step in range(draw(st.integers(0, 12))):
        moment += timedelta(minutes=draw(st.sampled_from([0, 0, 1, 30])) or 0) + timedelta(
            microseconds=1
        )
        payment = draw(st.sampled_from(payments))
        invoice = draw(st.sampled_from(sorted(INVOICES)))
        free = payment.amount_cents - sum(v for (p, _), v in applied.items() if p == payment.id)
        held = applied.get((payment.id, invoice), 0)
        if draw(st.booleans()) and free > 0:
            amount = draw(st.integers(1, free))
        elif held > 0:
            amount = -draw(st.integers(1, held))
        else:
            continue
        applied[(payment.id, invoice)] = held + amount
        rows.append(
            AllocationFacts(ident(1000 + step), payment.id, invoice, amount, moment, None,
                            "DESK1")
        )  # fmt: skip
    refunded = {}
    for payment in payments:
        free = payment.amount_cents - sum(v for (p, _), v in applied.items() if p == payment.id)
        if free > 0 and draw(st.booleans()):
            refunded[payment.id] = draw(st.integers(1, free))
    return payments, rows, refunded


@settings(max_examples=200, deadline=None)
@given(ledgers())
def test_every_cent_paid_is_on_exactly_one_receipt(
    ledger: tuple[list[PaymentFacts], list[AllocationFacts], dict[uuid.UUID, int]],
) -> None:
    payments, rows, refunded = ledger
    receipts = derive_receipts(payments, rows, refunded, INVOICES)
    for payment in payments:
        mine = [r for r in receipts if r.payment_id == payment.id]
        assert sum(r.amount_cents for r in mine) == payment.amount_cents - refunded.get(
            payment.id, 0
        )
        assert all(r.amount_cents > 0 for r in mine)
        assert sum(r.kind == ReceiptKind.ON_ACCOUNT for r in mine) <= 1
    for invoice in INVOICES:
        applied = sum(r.amount_cents for r in rows if r.invoice_id == invoice)
        on_receipts = sum(line.amount_cents for r in receipts for line in r.lines
                          if line.invoice_id == invoice)  # fmt: skip
        assert on_receipts == applied
    assert len({r.number for r in receipts}) == len(receipts)
    # Deriving again gives the same receipts: numbers are stable.
    assert derive_receipts(payments, rows, refunded, INVOICES) == receipts
