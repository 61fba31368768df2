"""Business rules that span desks, checked centrally on every push.

Two offline desks can each do something that is fine on its own cache and wrong together
(apply the same $50 of credit to two invoices; redeem a package's last use twice). Such rows
are never dropped: central accepts them (they happened) and flags them for review in the
conflict log. A check gets central's connection (inside the push transaction) and the keys
of the rows the push inserted or changed, by table; it returns what to flag.

Other modules add their rules with :func:`register` (the packages issue registers the
"last use redeemed twice" rule next to its tables).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from desk_app.models.billing import Allocation, Invoice, Payment, Refund
from desk_app.models.clinic import Clinic
from desk_app.models.money import format_money


@dataclass(frozen=True)
class Flag:
    table: str
    key: str
    summary: str


Check = Callable[[Connection, dict[str, set[str]]], list[Flag]]
CROSS_DESK_CHECKS: list[Check] = []


def register(check: Check) -> Check:
    CROSS_DESK_CHECKS.append(check)
    return check


def _ids(keys: set[str]) -> list[uuid.UUID]:
    return [uuid.UUID(k) for k in keys]


def _total(conn: Connection, query: object) -> int:
    # SUM of a bigint is numeric on PostgreSQL: back to integer cents.
    return int(conn.scalar(query) or 0)  # type: ignore[call-overload]


def _currency(conn: Connection) -> str:
    return str(conn.scalar(select(Clinic.currency).limit(1)) or "USD")


@register
def payments_not_over_applied(conn: Connection, touched: dict[str, set[str]]) -> list[Flag]:
    """A payment's allocations plus refunds must not exceed it (credit spent on two desks)."""
    alloc, refund = touched.get("allocation", set()), touched.get("refund", set())
    if not alloc and not refund:
        return []
    payment_ids = set()
    if alloc:
        payment_ids |= set(conn.scalars(select(Allocation.payment_id)
                                        .where(Allocation.id.in_(_ids(alloc)))))
    if refund:
        payment_ids |= set(conn.scalars(select(Refund.payment_id)
                                        .where(Refund.id.in_(_ids(refund)))))
    # Locked, so two desks pushing at once are checked one after the other.
    payments = conn.execute(select(Payment.id, Payment.amount_cents)
                            .where(Payment.id.in_(payment_ids))
                            .order_by(Payment.id).with_for_update()).all()
    flags = []
    for payment_id, amount in payments:
        applied = _total(conn, select(func.coalesce(func.sum(Allocation.amount_cents), 0))
                         .where(Allocation.payment_id == payment_id))
        refunded = _total(conn, select(func.coalesce(func.sum(Refund.amount_cents), 0))
                          .where(Refund.payment_id == payment_id))
        if applied + refunded > amount:
            over = applied + refunded - amount
            money = _currency(conn)
            flags.append(Flag("payment", str(payment_id),
                              f"Payment of {format_money(amount, money)} is applied or "
                              f"refunded {format_money(over, money)} more than it holds (desks "
                              "used the same credit while offline). Unapply the extra."))
    return flags


@register
def invoices_not_over_paid(conn: Connection, touched: dict[str, set[str]]) -> list[Flag]:
    """An invoice must not receive more than its total (paid on two desks while offline)."""
    alloc = touched.get("allocation", set())
    if not alloc:
        return []
    invoice_ids = set(conn.scalars(select(Allocation.invoice_id)
                                   .where(Allocation.id.in_(_ids(alloc)))))
    flags = []
    for invoice_id, total, workstation, seq in conn.execute(
            select(Invoice.id, Invoice.total_cents, Invoice.workstation, Invoice.seq)
            .where(Invoice.id.in_(invoice_ids)).order_by(Invoice.id).with_for_update()):
        paid = _total(conn, select(func.coalesce(func.sum(Allocation.amount_cents), 0))
                      .where(Allocation.invoice_id == invoice_id))
        if paid > total:
            extra = format_money(paid - total, _currency(conn))
            flags.append(Flag("invoice", str(invoice_id),
                              f"Invoice {workstation}-{seq:05d} received {extra} more than its "
                              "total "
                              "(paid on two desks while offline). Unapply the extra."))
    return flags
