"""Random sequences of ledger operations never break the ledger's rules.

After every step: no invoice is over-applied, no payment over-allocated, balance equals
invoices minus allocations, credit equals payments minus allocations minus refunds, a refused
operation writes nothing, and no cent appears or disappears.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from sqlalchemy import func, select

from desk_app.models import (
    Allocation,
    Base,
    Invoice,
    InvoiceStatus,
    PackageRedemption,
    PackageSale,
    Payment,
    PaymentMethod,
    Refund,
)
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.errors import ServiceError
from desk_app.services.invoicing import LineSpec
from desk_app.services.package_plans import EligibleItem, PlanInput
from tests.builders import small_clinic
from tests.db_fixtures import TEST_NOW

amounts = st.integers(min_value=1, max_value=50_000)
maybe_amount = st.one_of(st.none(), amounts)
METHODS = [PaymentMethod.CASH, PaymentMethod.CHEQUE, PaymentMethod.E_TRANSFER]


class LedgerMachine(RuleBasedStateMachine):
    invoices = Bundle("invoices")
    payments = Bundle("payments")
    sales = Bundle("sales")
    visits = Bundle("visits")

    def __init__(self) -> None:
        super().__init__()
        self.db = Database("sqlite://", FixedClock(TEST_NOW), run_migrations=False)
        Base.metadata.create_all(self.db.engine)
        self.clinic = small_clinic(self.db)
        self.patients = [self.clinic.patient("Ann", "One"), self.clinic.patient("Bo", "Two")]
        self.paid_in = 0
        self.refunded = 0
        # Packages: three uses of a massage, $100 + 13 %; visits booked an hour apart.
        self.plan = self.clinic.services.package_plans.create(self.clinic.owner, PlanInput(
            "3 Massages", 10000, [EligibleItem(self.clinic.treatment("Massage 60 min"))],
            uses=3, tax_rate_bp=1300))
        self.slot = 0

    def teardown(self) -> None:
        self.db.dispose()

    @property
    def ledger(self):  # type: ignore[no-untyped-def]
        return self.clinic.services.ledger

    def _attempt(self, action):  # type: ignore[no-untyped-def]
        """Run an action; a refusal must leave every table exactly as it was."""
        before = self._row_counts()
        try:
            return action()
        except ServiceError:
            assert self._row_counts() == before
            return None

    def _row_counts(self) -> tuple[int, ...]:
        with self.db.reading() as s:
            return tuple(int(s.scalar(select(func.count()).select_from(t)) or 0)
                         for t in (Invoice, Payment, Allocation, Refund, PackageRedemption))

    @rule(target=invoices, patient=st.integers(0, 1), price=amounts,
          tax=st.sampled_from([0, 500, 1300]), qty=st.integers(1, 3))
    def invoice(self, patient: int, price: int, tax: int, qty: int) -> uuid.UUID:
        created = self.clinic.services.invoicing.create_invoice(
            self.clinic.owner, self.patients[patient],
            [LineSpec(description="Item", unit_price_cents=price, tax_rate_bp=tax,
                      quantity=qty)])
        return created.invoice_id

    @rule(target=payments, patient=st.integers(0, 1), amount=amounts,
          method=st.sampled_from(METHODS),
          apply_to=st.lists(st.one_of(invoices, sales), max_size=3))
    def pay(self, patient: int, amount: int, method: PaymentMethod,
            apply_to: list[uuid.UUID]) -> uuid.UUID | None:
        result = self._attempt(lambda: self.ledger.record_payment(
            self.clinic.owner, self.patients[patient], method, amount, apply_to=apply_to))
        if result is None:
            return None
        self.paid_in += amount
        return result.payment_id  # type: ignore[no-any-return]

    @rule(payment=payments, invoice=st.one_of(invoices, sales), amount=maybe_amount)
    def apply(self, payment: uuid.UUID | None, invoice: uuid.UUID, amount: int | None) -> None:
        if payment is not None:
            self._attempt(lambda: self.ledger.apply_payment(self.clinic.owner, payment, invoice,
                                                            amount))

    @rule(invoice=st.one_of(invoices, sales), amount=maybe_amount)
    def apply_credit(self, invoice: uuid.UUID, amount: int | None) -> None:
        self._attempt(lambda: self.ledger.apply_credit(self.clinic.owner, invoice, amount))

    @rule(payment=payments, invoice=st.one_of(invoices, sales), amount=maybe_amount)
    def unapply(self, payment: uuid.UUID | None, invoice: uuid.UUID, amount: int | None) -> None:
        if payment is not None:
            self._attempt(lambda: self.ledger.unapply(self.clinic.owner, payment, invoice,
                                                      amount))

    @rule(payment=payments, amount=amounts)
    def refund(self, payment: uuid.UUID | None, amount: int) -> None:
        if payment is not None and self._attempt(
                lambda: self.ledger.refund(self.clinic.owner, payment, amount)) is not None:
            self.refunded += amount

    @rule(invoice=invoices)
    def delete(self, invoice: uuid.UUID) -> None:
        self._attempt(lambda: self.clinic.services.invoicing.delete_invoice(
            self.clinic.owner, invoice))

    @rule(target=sales, patient=st.integers(0, 1))
    def sell_package(self, patient: int) -> uuid.UUID:
        return self.clinic.services.packages.sell(self.clinic.owner, self.patients[patient],
                                                  self.plan).invoice_id

    @rule(target=visits, sale_invoice=sales, patient=st.integers(0, 1))
    def use_package(self, sale_invoice: uuid.UUID, patient: int) -> uuid.UUID:
        """Book a visit, cover it with the package (refused unless paid, the purchaser's, and
        with a use left), and invoice it."""
        self.slot += 1
        visit = self.clinic.services.appointments.book(
            self.clinic.owner, self.patients[patient], self.clinic.practitioner_id,
            self.clinic.treatment("Massage 60 min"), self.clinic.location_id,
            datetime(2026, 11, 23, 8) + timedelta(hours=2 * self.slot))
        sale = self._sale_of(sale_invoice)
        self._attempt(lambda: self.clinic.services.packages.redeem(self.clinic.owner, visit,
                                                                   sale))
        self._attempt(lambda: self.clinic.services.invoicing.invoice_appointment(
            self.clinic.owner, visit))
        return visit

    @rule(visit=visits)
    def remove_package(self, visit: uuid.UUID) -> None:
        self._attempt(lambda: self.clinic.services.packages.remove_from_appointment(
            self.clinic.owner, visit))

    @rule(sale_invoice=sales, amount=st.one_of(st.none(), st.integers(0, 12_000)))
    def refund_package(self, sale_invoice: uuid.UUID, amount: int | None) -> None:
        result = self._attempt(lambda: self.clinic.services.packages.refund(
            self.clinic.owner, self._sale_of(sale_invoice), amount_cents=amount))
        if result is not None:
            self.paid_in += result.amount_cents  # the refund is credit paid back in

    def _sale_of(self, invoice_id: uuid.UUID) -> uuid.UUID:
        with self.db.reading() as s:
            return s.scalars(select(PackageSale.id).where(
                PackageSale.invoice_id == invoice_id)).one()

    @invariant()
    def packages_hold(self) -> None:
        """No package is used beyond its uses, nor below zero; a covered visit costs nothing."""
        with self.db.reading() as s:
            for sale in s.scalars(select(PackageSale)):
                used = int(s.scalar(select(func.coalesce(func.sum(PackageRedemption.uses), 0))
                                    .where(PackageRedemption.sale_id == sale.id)) or 0)
                assert 0 <= used <= (sale.uses_total or used)
            for visit in {r.appointment_id for r in s.scalars(select(PackageRedemption))}:
                assert sum(r.uses for r in s.scalars(select(PackageRedemption).where(
                    PackageRedemption.appointment_id == visit))) in (0, 1)

    @invariant()
    def rules_hold(self) -> None:
        with self.db.reading() as s:
            invoices = {i.id: i for i in s.scalars(select(Invoice))}
            payments = {p.id: p for p in s.scalars(select(Payment))}
            per_invoice: dict[uuid.UUID, int] = {}
            per_payment: dict[uuid.UUID, int] = {}
            pair: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
            for a in s.scalars(select(Allocation)):
                per_invoice[a.invoice_id] = per_invoice.get(a.invoice_id, 0) + a.amount_cents
                per_payment[a.payment_id] = per_payment.get(a.payment_id, 0) + a.amount_cents
                key = (a.payment_id, a.invoice_id)
                pair[key] = pair.get(key, 0) + a.amount_cents
                assert payments[a.payment_id].patient_id == invoices[a.invoice_id].patient_id
            refunds: dict[uuid.UUID, int] = {}
            for r in s.scalars(select(Refund)):
                refunds[r.payment_id] = refunds.get(r.payment_id, 0) + r.amount_cents
            assert all(v >= 0 for v in pair.values()), "a payment was unapplied below zero"
            for i in invoices.values():
                applied = per_invoice.get(i.id, 0)
                assert 0 <= applied <= i.total_cents, "invoice over-applied"
                if i.status == InvoiceStatus.DELETED:
                    assert applied == 0, "a deleted invoice still has money on it"
            for p in payments.values():
                used = per_payment.get(p.id, 0) + refunds.get(p.id, 0)
                assert 0 <= used <= p.amount_cents, "payment over-allocated"
            total_credit = 0
            for patient in self.patients:
                b = self.ledger.balance(self.clinic.owner, patient)
                mine_inv = [i for i in invoices.values() if i.patient_id == patient]
                mine_pay = [p for p in payments.values() if p.patient_id == patient]
                open_total = sum(i.total_cents for i in mine_inv
                                 if i.status == InvoiceStatus.OPEN)
                assert b.owing_cents == open_total - sum(per_invoice.get(i.id, 0)
                                                         for i in mine_inv)
                assert b.credit_cents == sum(
                    p.amount_cents - per_payment.get(p.id, 0) - refunds.get(p.id, 0)
                    for p in mine_pay)
                summary = self.ledger.billing_summary(self.clinic.owner, patient)
                assert summary.balance == b
                total_credit += b.credit_cents
            # No cent appears or disappears: every cent paid in is on an invoice, refunded,
            # or held as credit.
            assert self.paid_in == sum(per_payment.values()) + self.refunded + total_credit
            assert self.refunded == sum(refunds.values())


LedgerMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_ledger_rules_hold_under_random_operations = pytest.mark.slow(LedgerMachine.TestCase)
