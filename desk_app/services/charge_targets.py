"""What a card charge is for: the whole balance, chosen invoices, or an amount.

``plan_charge`` turns a target into the amount to charge and what to apply to each invoice;
anything beyond what the invoices owe becomes account credit. Existing credit is not used by a
charge: apply it first (ledger.apply_credit) if the patient wants that.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk_app.models.billing import Invoice
from desk_app.models.enums import InvoiceStatus
from desk_app.models.money import format_money
from desk_app.services.errors import Conflict, NotFound, ValidationError
from desk_app.services.ledger import invoice_applied

#: The largest single card charge or top-up the desk may make ($100,000.00).
MAX_CHARGE_CENTS = 10_000_000


@dataclass(frozen=True, slots=True)
class WholeBalance:
    """Every open invoice's balance, oldest first."""


@dataclass(frozen=True, slots=True)
class ChosenInvoices:
    """The full balance of these invoices, in this order."""

    invoice_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True, slots=True)
class ChargeAmount:
    """An amount: applied to ``invoice_ids`` (or every open invoice, oldest first) up to what
    they owe; anything beyond becomes account credit."""

    amount_cents: int
    invoice_ids: tuple[uuid.UUID, ...] | None = None


ChargeTarget = WholeBalance | ChosenInvoices | ChargeAmount


@dataclass(frozen=True, slots=True)
class ChargePlan:
    """What a charge would pay: shown for confirmation before charging."""

    amount_cents: int
    currency: str
    invoices: tuple[tuple[uuid.UUID, str, int], ...]  # (invoice id, number, cents to apply)
    to_credit_cents: int


def plan_charge(s: Session, patient_id: uuid.UUID, target: ChargeTarget, currency: str,
                *, lock: bool) -> tuple[int, list[tuple[uuid.UUID, int]]]:
    """(amount to charge, [(invoice, cents to apply)]) for a target; refuses what is wrong.

    With ``lock`` the invoices are locked FOR UPDATE (on PostgreSQL), in id order.
    """

    def load(ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Invoice]:
        query = select(Invoice).where(Invoice.id.in_(list(ids))).order_by(Invoice.id)
        if lock:
            query = query.with_for_update()
        return {i.id: i for i in s.scalars(query)}

    def owing(inv: Invoice) -> int:
        return inv.total_cents - invoice_applied(s, inv.id)

    def open_ids() -> list[uuid.UUID]:
        return list(s.scalars(
            select(Invoice.id).where(Invoice.patient_id == patient_id,
                                     Invoice.status == InvoiceStatus.OPEN)
            .order_by(Invoice.issued_at, Invoice.seq)))

    def checked(ids: Sequence[uuid.UUID]) -> list[Invoice]:
        ordered = list(dict.fromkeys(ids))
        found = load(ordered)
        result = []
        for invoice_id in ordered:
            inv = found.get(invoice_id)
            if inv is None:
                raise NotFound("One of the chosen invoices no longer exists.")
            if inv.patient_id != patient_id:
                raise ValidationError("That invoice belongs to another patient.")
            if inv.status != InvoiceStatus.OPEN:
                raise Conflict(f"Invoice {inv.number} was deleted; it cannot be charged.")
            result.append(inv)
        return result

    parts: list[tuple[uuid.UUID, int]] = []
    if isinstance(target, WholeBalance):
        for inv in checked(open_ids()):
            due = owing(inv)
            if due > 0:
                parts.append((inv.id, due))
        amount = sum(c for _, c in parts)
        if amount <= 0:
            raise ValidationError("This patient owes nothing: there is no balance to charge.")
    elif isinstance(target, ChosenInvoices):
        if not target.invoice_ids:
            raise ValidationError("Choose at least one invoice to charge.")
        for inv in checked(target.invoice_ids):
            due = owing(inv)
            if due <= 0:
                raise Conflict(f"Invoice {inv.number} is already paid in full.")
            parts.append((inv.id, due))
        amount = sum(c for _, c in parts)
    else:
        amount = target.amount_cents
        if amount <= 0:
            raise ValidationError("Enter an amount greater than zero to charge.", "amount")
        if amount > MAX_CHARGE_CENTS:
            raise ValidationError(
                f"A single card charge is limited to "
                f"{format_money(MAX_CHARGE_CENTS, currency)}.", "amount")
        ids = open_ids() if target.invoice_ids is None else list(target.invoice_ids)
        remaining = amount
        for inv in checked(ids):
            if remaining == 0:
                break
            share = min(owing(inv), remaining)
            if share > 0:
                parts.append((inv.id, share))
                remaining -= share
    if amount > MAX_CHARGE_CENTS:
        raise ValidationError(
            f"A single card charge is limited to {format_money(MAX_CHARGE_CENTS, currency)}; "
            "charge the invoices in parts.")
    return amount, parts
