"""A patient's card payments as the Cards & charges tab lists them, and what a refund would do.

Read-only. ``refund_preview`` follows the rule ``card_refunds`` applies (so the desk sees it
before confirming): a refund to the card comes first out of the payment's unapplied part (its
credit), then is unapplied from the invoices the payment paid, the most recently applied first;
a refund to credit only unapplies from invoices.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk_app.models.billing import Allocation, Invoice, Payment, Refund
from desk_app.models.cards import PaymentAccount
from desk_app.models.enums import PaymentMethod
from desk_app.models.staff import Staff
from desk_app.services.ledger import collected_by_label


@dataclass(frozen=True, slots=True)
class InvoiceShare:
    invoice_id: uuid.UUID
    number: str
    cents: int


@dataclass(frozen=True, slots=True)
class CardPaymentRow:
    """A payment taken through Stripe: what is left to refund and where it is applied."""

    id: uuid.UUID
    received_at: datetime
    amount_cents: int
    refunded_cents: int
    applied_cents: int
    card_label: str  # "Visa •••• 4242"
    account_label: str
    collected_by: str
    #: Net applications to invoices, the most recently applied first (the order a refund
    #: unapplies them in).
    applications: tuple[InvoiceShare, ...]

    @property
    def refundable_cents(self) -> int:
        return self.amount_cents - self.refunded_cents

    @property
    def unapplied_cents(self) -> int:
        """The payment's credit: neither applied to an invoice nor refunded."""
        return self.amount_cents - self.applied_cents - self.refunded_cents


@dataclass(frozen=True, slots=True)
class RefundPreview:
    from_credit_cents: int
    unapplied: tuple[InvoiceShare, ...]
    #: More than the payment allows: the service will refuse the refund.
    too_much: bool


def refund_preview(row: CardPaymentRow, amount_cents: int, to: str) -> RefundPreview:
    """What refunding ``amount_cents`` of ``row`` takes from its credit and its invoices."""
    if to == "credit":
        from_credit, need, limit = 0, amount_cents, row.applied_cents
    else:
        from_credit = min(max(row.unapplied_cents, 0), amount_cents)
        need, limit = amount_cents - from_credit, row.refundable_cents
    taken = []
    for share in row.applications:
        if need <= 0:
            break
        cents = min(share.cents, need)
        taken.append(InvoiceShare(share.invoice_id, share.number, cents))
        need -= cents
    return RefundPreview(from_credit, tuple(taken), amount_cents > limit or need > 0)


def card_payment_rows(s: Session, patient_id: uuid.UUID) -> list[CardPaymentRow]:
    """The patient's Stripe card payments, newest first."""
    payments = list(s.scalars(
        select(Payment).where(Payment.patient_id == patient_id,
                              Payment.method == PaymentMethod.CARD,
                              Payment.payment_account_id.is_not(None))
        .order_by(Payment.received_at.desc())))
    ids = [p.id for p in payments]
    if not ids:
        return []
    refunded = {pid: int(total) for pid, total in s.execute(
        select(Refund.payment_id, func.sum(Refund.amount_cents))
        .where(Refund.payment_id.in_(ids)).group_by(Refund.payment_id))}
    net: dict[uuid.UUID, dict[uuid.UUID, int]] = defaultdict(lambda: defaultdict(int))
    latest: dict[tuple[uuid.UUID, uuid.UUID], datetime] = {}
    for payment_id, invoice_id, cents, created in s.execute(
            select(Allocation.payment_id, Allocation.invoice_id, Allocation.amount_cents,
                   Allocation.created_at)
            .where(Allocation.payment_id.in_(ids))
            .order_by(Allocation.created_at, Allocation.id)):
        net[payment_id][invoice_id] += cents
        if cents > 0:
            latest[(payment_id, invoice_id)] = created
    invoice_ids = {i for shares in net.values() for i in shares}
    numbers: dict[uuid.UUID, str] = {
        i.id: i.number for i in s.scalars(select(Invoice).where(Invoice.id.in_(invoice_ids)))
    } if invoice_ids else {}
    accounts = {aid: label for aid, label in s.execute(
        select(PaymentAccount.id, PaymentAccount.label))}
    staff = {sid: f"{fn} {ln}".strip() for sid, fn, ln in s.execute(
        select(Staff.id, Staff.first_name, Staff.last_name))}
    rows = []
    for p in payments:
        shares = [(i, c) for i, c in net[p.id].items() if c > 0]
        shares.sort(key=lambda pair: latest[(p.id, pair[0])], reverse=True)
        rows.append(CardPaymentRow(
            id=p.id,
            received_at=p.received_at,
            amount_cents=p.amount_cents,
            refunded_cents=refunded.get(p.id, 0),
            applied_cents=sum(c for _, c in shares),
            card_label=p.reference,
            account_label=accounts.get(p.payment_account_id, "") if p.payment_account_id
            else "",
            collected_by=collected_by_label(
                p.collected_by,
                staff.get(p.collected_by_staff_id, "") if p.collected_by_staff_id else "",
                p.workstation,
                online=p.stripe_payment_intent_id is not None,
            ),
            applications=tuple(InvoiceShare(i, numbers.get(i, ""), c) for i, c in shares),
        ))
    return rows
