"""The ledger at the desk: invoices, payments, credit, apply, unapply; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from desk_app.models import Allocation, AuditEvent, Invoice, Payment, PaymentMethod
from desk_app.services.clock import FixedClock
from desk_app.services.db import AppendOnlyViolation, Database
from desk_app.services.errors import Conflict, PermissionDenied, ValidationError
from desk_app.services.invoicing import LineSpec
from tests.builders import small_clinic


def count(db: Database, table: type) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_a_massage_is_invoiced_with_hst_rounded_per_line(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    invoice_id = c.visit(patient, "Massage 60 min")  # $110.00 + 13% HST
    with db.reading() as s:
        invoice = s.get_one(Invoice, invoice_id)
        assert (invoice.subtotal_cents, invoice.tax_cents, invoice.total_cents) == (
            11000, 1430, 12430)
        assert invoice.number == "DESK1-00001"
    assert c.services.ledger.balance(c.owner, patient).owing_cents == 12430


def test_items_invoice_sums_each_lines_rounded_tax(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    created = c.services.invoicing.create_invoice(c.owner, patient, [
        LineSpec(description="Tape", unit_price_cents=1050, tax_rate_bp=500),  # tax 52.5 -> 53
        LineSpec(description="Tape", unit_price_cents=1050, tax_rate_bp=500),
    ])
    assert created.total_cents == 2 * (1050 + 53)


def test_cash_payment_pays_the_chosen_invoice_and_the_rest_becomes_credit(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    invoice = c.visit(patient)
    result = c.services.ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 20000,
                                              apply_to=[invoice])
    assert result.applied == {invoice: 12430}
    assert result.to_credit_cents == 7570
    balance = c.services.ledger.balance(c.desk, patient)
    assert (balance.owing_cents, balance.credit_cents) == (0, 7570)


def test_credit_is_applied_oldest_payment_first(db: Database, clock: FixedClock) -> None:
    c = small_clinic(db)
    patient = c.patient()
    ledger = c.services.ledger
    first = ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 3000).payment_id
    clock.advance(timedelta(minutes=5))
    second = ledger.record_payment(c.desk, patient, PaymentMethod.CHEQUE, 20000).payment_id
    invoice = c.visit(patient)
    assert ledger.apply_credit(c.desk, invoice) == 12430
    summary = ledger.billing_summary(c.desk, patient)
    unapplied = {p.id: p.unapplied_cents for p in summary.payments}
    assert unapplied == {first: 0, second: 20000 - (12430 - 3000)}
    assert summary.balance.owing_cents == 0


def test_over_applying_is_refused_and_nothing_is_written(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    invoice = c.visit(patient)
    payment = c.services.ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 50000)
    before = count(db, Allocation), count(db, AuditEvent)
    with pytest.raises(ValidationError, match=r"only has \$124.30 owing"):
        c.services.ledger.apply_payment(c.desk, payment.payment_id, invoice, 12431)
    assert (count(db, Allocation), count(db, AuditEvent)) == before


def test_a_payment_cannot_be_applied_beyond_what_is_left_of_it(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    invoice = c.visit(patient)
    payment = c.services.ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 5000)
    with pytest.raises(ValidationError, match=r"Only \$50.00 of this payment"):
        c.services.ledger.apply_payment(c.desk, payment.payment_id, invoice, 6000)
    assert c.services.ledger.apply_payment(c.desk, payment.payment_id, invoice) == 5000
    with pytest.raises(Conflict, match="nothing left"):
        c.services.ledger.apply_payment(c.desk, payment.payment_id, invoice)


def test_unapply_part_then_all_returns_the_money_to_credit(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    invoice = c.visit(patient)
    ledger = c.services.ledger
    pay = ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 12430, apply_to=[invoice])
    assert ledger.unapply(c.billing, pay.payment_id, invoice, 2430) == 2430
    b = ledger.balance(c.billing, patient)
    assert (b.owing_cents, b.credit_cents) == (2430, 2430)
    with pytest.raises(ValidationError, match=r"Only \$100.00 of this payment is applied"):
        ledger.unapply(c.billing, pay.payment_id, invoice, 10001)
    assert ledger.unapply(c.billing, pay.payment_id, invoice) == 10000
    b = ledger.balance(c.billing, patient)
    assert (b.owing_cents, b.credit_cents) == (12430, 12430)
    with db.reading() as s:
        amounts = sorted(s.scalars(select(Allocation.amount_cents)))
    assert amounts == [-10000, -2430, 12430]  # history kept: unapply is a new row


def test_front_desk_without_billing_permission_cannot_unapply(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    invoice = c.visit(patient)
    pay = c.services.ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 12430,
                                           apply_to=[invoice])
    with pytest.raises(PermissionDenied, match="does not have permission to unapply"):
        c.services.ledger.unapply(c.desk, pay.payment_id, invoice)


def test_deleting_a_paid_invoice_says_to_unapply_first(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    invoice = c.visit(patient)
    pay = c.services.ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 1000,
                                           apply_to=[invoice])
    with pytest.raises(Conflict, match=r"\$10.00 is applied.*Unapply the payment first"):
        c.services.invoicing.delete_invoice(c.billing, invoice)
    c.services.ledger.unapply(c.billing, pay.payment_id, invoice)
    c.services.invoicing.delete_invoice(c.billing, invoice)
    b = c.services.ledger.balance(c.billing, patient)
    assert (b.owing_cents, b.credit_cents) == (0, 1000)


def test_a_deleted_visit_can_be_invoiced_again_but_not_twice(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    svc = c.services
    appt = svc.appointments.book(c.owner, patient, c.practitioner_id,
                                 c.treatment("Massage 60 min"), c.location_id,
                                 datetime(2026, 11, 20, 9, 0))
    first = svc.invoicing.invoice_appointment(c.owner, appt)
    with pytest.raises(Conflict, match=f"already on invoice {first.number}"):
        svc.invoicing.invoice_appointment(c.owner, appt)
    svc.invoicing.delete_invoice(c.owner, first.invoice_id)
    assert svc.invoicing.invoice_appointment(c.owner, appt).number == "DESK1-00002"


def test_refund_is_limited_to_the_unapplied_amount(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    invoice = c.visit(patient)
    pay = c.services.ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 15000,
                                           apply_to=[invoice])
    with pytest.raises(ValidationError, match=r"Only \$25.70 of this payment is unapplied"):
        c.services.ledger.refund(c.billing, pay.payment_id, 3000)
    c.services.ledger.refund(c.billing, pay.payment_id, 2570, "Overpaid")
    assert c.services.ledger.balance(c.billing, patient).credit_cents == 0


def test_card_payments_are_not_recorded_by_hand(db: Database) -> None:
    c = small_clinic(db)
    with pytest.raises(ValidationError, match="card on file"):
        c.services.ledger.record_payment(c.desk, c.patient(), PaymentMethod.CARD, 100)


def test_ledger_rows_are_never_edited_or_deleted(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    c.services.ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 100)
    with pytest.raises(AppendOnlyViolation), db.transaction() as s:
        s.scalars(select(Payment)).one().amount_cents = 1
    with pytest.raises(AppendOnlyViolation), db.transaction() as s:
        s.delete(s.scalars(select(Payment)).one())
    assert c.services.ledger.balance(c.desk, patient).credit_cents == 100


def test_every_money_action_is_audited_with_who_and_where(db: Database) -> None:
    c = small_clinic(db)
    patient = c.patient()
    invoice = c.visit(patient)
    c.services.ledger.record_payment(c.desk, patient, PaymentMethod.CASH, 12430,
                                     apply_to=[invoice])
    with db.reading() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "payment.recorded")).one()
        assert event.staff_id == c.desk.staff_id
        assert event.workstation == "DESK1"
        assert "Cash payment of $124.30" in event.summary
