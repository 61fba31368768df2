"""Memberships: a recurring plan invoiced each period and charged to the card on file.

Each period is a package sale of its own (its uses, fixed or unlimited, last through the
period's last day), so redeeming, reports and receipts treat both alike. A membership has no
forced end: it renews until cancelled. ``run_due`` invoices every period that has started
(the desk's scheduler calls it; tests call it with a moved clock) and charges the card on file
through the exactly-once card charge; a failed charge leaves a notice for the front desk,
which can send the patient a pay-balance link for the open invoice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from desk_app.models.cards import CardOnFile
from desk_app.models.clinic import Clinic
from desk_app.models.enums import PlanKind
from desk_app.models.money import format_money
from desk_app.models.packages import DeskNotice, Membership, PackagePlan, PackageSale
from desk_app.models.patient import Patient
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.card_payments import CardPaymentService
from desk_app.services.charge_targets import ChosenInvoices
from desk_app.services.clock import clinic_today
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, NotFound, ServiceError
from desk_app.services.membership_billing_desk import bills_here, claim
from desk_app.services.package_terms import next_period, period_start
from desk_app.services.packages import create_sale
from desk_app.services.patient_access import (
    own_patient_clause,
    require_patient,
    require_patient_of,
    sees_only_own_patients,
)
from desk_app.services.permissions import Permission, require

log = logging.getLogger(__name__)

#: Safety valve: a desk that was off for years invoices at most this many periods per run.
MAX_PERIODS_PER_RUN = 400


@dataclass(frozen=True, slots=True)
class PeriodBilled:
    membership_id: uuid.UUID
    patient_id: uuid.UUID
    invoice_id: uuid.UUID
    period_start: date
    amount_cents: int
    charged: bool
    message: str  # why the card was not charged ("" when it was)


@dataclass(frozen=True, slots=True)
class MembershipRow:
    id: uuid.UUID
    plan_name: str
    started_on: date
    next_period_on: date
    cancelled: bool


@dataclass(frozen=True, slots=True)
class NoticeRow:
    id: uuid.UUID
    patient_id: uuid.UUID | None
    invoice_id: uuid.UUID | None
    created_at: datetime
    message: str


class MembershipService:
    def __init__(self, db: Database, card_payments: CardPaymentService | None = None) -> None:
        self.db = db
        self.card_payments = card_payments

    def start(self, actor: Actor, patient_id: uuid.UUID, plan_id: uuid.UUID, *,
              starts_on: date | None = None, location_id: uuid.UUID | None = None,
              charge_card: bool = True) -> list[PeriodBilled]:
        """Put the patient on a membership; its first period is invoiced (and charged) now."""
        require(actor, Permission.CREATE_INVOICE)
        with self.db.transaction() as s:
            require_patient(s, actor, patient_id)
            patient = s.get(Patient, patient_id)
            if patient is None or patient.clinic_id != actor.clinic_id:
                raise NotFound("That patient no longer exists.")
            plan = s.get(PackagePlan, plan_id)
            if plan is None or plan.clinic_id != actor.clinic_id or plan.archived:
                raise NotFound("That membership is no longer offered.")
            if plan.kind is not PlanKind.MEMBERSHIP:
                raise Conflict(f"{plan.name} is a package; sell it from Purchases.")
            today = clinic_today(self.db.clock, s.get_one(Clinic, actor.clinic_id).time_zone)
            first = starts_on or today
            membership = Membership(clinic_id=actor.clinic_id, plan_id=plan.id,
                                    patient_id=patient_id, location_id=location_id,
                                    started_on=first, next_period_on=first,
                                    charge_card=charge_card)
            s.add(membership)
            s.flush()
            audit.record(s, actor, "membership.started", entity=membership,
                         patient_id=patient_id, summary=f"Started {plan.name} on {first}")
            membership_id = membership.id
        return self.run_due(actor, membership_id=membership_id)

    def cancel(self, actor: Actor, membership_id: uuid.UUID) -> None:
        """No more periods are invoiced; the current period's uses stay usable."""
        require(actor, Permission.CREATE_INVOICE)
        with self.db.transaction() as s:
            require_patient_of(s, actor, Membership, membership_id)
            membership = s.get(Membership, membership_id)
            if membership is None or membership.clinic_id != actor.clinic_id:
                raise NotFound("That membership no longer exists.")
            if membership.cancelled_at is not None:
                raise Conflict("This membership is already cancelled.")
            membership.cancelled_at = self.db.clock.now()
            audit.record(s, actor, "membership.cancelled", entity=membership,
                         patient_id=membership.patient_id, summary="Cancelled a membership")

    def for_patient(self, actor: Actor, patient_id: uuid.UUID) -> list[MembershipRow]:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            return [
                MembershipRow(m.id, name, m.started_on, m.next_period_on,
                              m.cancelled_at is not None)
                for m, name in s.execute(
                    select(Membership, PackagePlan.name)
                    .join(PackagePlan, PackagePlan.id == Membership.plan_id)
                    .where(Membership.patient_id == patient_id)
                    .order_by(Membership.started_on.desc()))
            ]

    def run_due(self, actor: Actor, *, membership_id: uuid.UUID | None = None
                ) -> list[PeriodBilled]:
        """Invoice every period that has started by today (clinic time zone), then charge the
        card on file for each new invoice. Safe to run again: a period is invoiced once."""
        require(actor, Permission.CREATE_INVOICE)
        billed: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, date, int, bool]] = []
        with self.db.transaction() as s:
            if membership_id is not None:  # without one: the clinic's scheduled run
                require_patient_of(s, actor, Membership, membership_id)
            clinic = s.get_one(Clinic, actor.clinic_id)
            if membership_id is None and not bills_here(s, actor, clinic,
                                                        self.db.capture_changes):
                return []  # another workstation runs the schedule
            today = clinic_today(self.db.clock, clinic.time_zone)
            query = select(Membership).where(Membership.clinic_id == actor.clinic_id,
                                             Membership.cancelled_at.is_(None),
                                             Membership.next_period_on <= today)
            if membership_id is not None:
                query = query.where(Membership.id == membership_id)
            for membership in s.scalars(query.with_for_update()).all():
                plan = s.get_one(PackagePlan, membership.plan_id)
                assert plan.recurrence is not None
                index = int(s.scalar(select(func.count()).select_from(PackageSale).where(
                    PackageSale.membership_id == membership.id)) or 0)
                for _ in range(MAX_PERIODS_PER_RUN):
                    start = period_start(membership.started_on, plan.recurrence, index)
                    if start > today:
                        break
                    end = period_start(membership.started_on, plan.recurrence, index + 1)
                    sale = create_sale(
                        s, actor, self.db.clock.now(), plan, membership.patient_id,
                        membership.location_id, sold_on=start,
                        expires_on=end - timedelta(days=1), membership_id=membership.id,
                        label=f"{plan.name} ({start.isoformat()} to "
                              f"{(end - timedelta(days=1)).isoformat()})")
                    billed.append((membership.id, membership.patient_id, sale.invoice_id, start,
                                   sale.price_cents, membership.charge_card))
                    index += 1
                    membership.next_period_on = end
                audit.record(s, actor, "membership.invoiced", entity=membership,
                             patient_id=membership.patient_id,
                             summary=f"{plan.name}: invoiced through {membership.next_period_on}")
        results = []
        for mid, patient_id, invoice_id, start, amount, charge in billed:
            charged, message = (self._charge(actor, patient_id, invoice_id, amount,
                                             uuid.uuid5(uuid.NAMESPACE_URL,
                                                        f"membership:{mid}:{start}"))
                                if charge else (False, "Not charged automatically."))
            results.append(PeriodBilled(mid, patient_id, invoice_id, start, amount, charged,
                                        message))
        return results

    def billing_workstation(self, actor: Actor) -> str:
        """The workstation whose schedule bills memberships ("" until one has run it)."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            return s.get_one(Clinic, actor.clinic_id).membership_billing_workstation

    def bill_from_this_workstation(self, actor: Actor) -> None:
        """Move the scheduled membership billing to the signed-in desk (audited)."""
        require(actor, Permission.MANAGE_PACKAGES)
        with self.db.transaction() as s:
            claim(s, actor, s.get_one(Clinic, actor.clinic_id))

    def _charge(self, actor: Actor, patient_id: uuid.UUID, invoice_id: uuid.UUID,
                amount: int, request_id: uuid.UUID) -> tuple[bool, str]:
        """Charge the card on file for the period's invoice; on failure, notify the desk.

        `request_id` is made from the membership and the period, so a period billed by two
        desks (see services.membership_billing_desk) is charged by Stripe once."""
        if amount == 0:
            return True, ""
        with self.db.reading() as s:
            card_id = s.scalar(select(CardOnFile.id).where(
                CardOnFile.patient_id == patient_id, CardOnFile.removed_at.is_(None))
                .order_by(CardOnFile.added_at.desc()).limit(1))
        message = ""
        if card_id is None:
            message = "No card on file."
        elif self.card_payments is None:
            message = "Card payments are not set up on this desk."
        else:
            try:
                outcome = self.card_payments.charge_card(
                    actor, patient_id, card_id, ChosenInvoices((invoice_id,)),
                    request_id=request_id)
                if outcome.succeeded:
                    return True, ""
                message = outcome.message
            except ServiceError as exc:
                message = exc.message
        self._notify(actor, patient_id, invoice_id, amount, message)
        return False, message

    def _notify(self, actor: Actor, patient_id: uuid.UUID, invoice_id: uuid.UUID, amount: int,
                reason: str) -> None:
        with self.db.transaction() as s:
            currency = s.get_one(Clinic, actor.clinic_id).currency
            name = s.get_one(Patient, patient_id).display_name
            notice = DeskNotice(
                clinic_id=actor.clinic_id, patient_id=patient_id, invoice_id=invoice_id,
                message=(f"Membership charge of {format_money(amount, currency)} for {name} "
                         f"failed: {reason} Send a pay-balance link or take payment at the "
                         "desk."))
            s.add(notice)
            s.flush()
            audit.record(s, actor, "membership.charge_failed", entity=notice,
                         patient_id=patient_id, summary=notice.message)
        log.warning("membership charge failed for invoice %s: %s", invoice_id, reason)

    def notices(self, actor: Actor) -> list[NoticeRow]:
        """What the front desk has still to act on, newest first."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            query = select(DeskNotice).where(
                DeskNotice.clinic_id == actor.clinic_id, DeskNotice.dismissed_at.is_(None)
            )
            if sees_only_own_patients(actor):
                query = query.where(own_patient_clause(actor.staff_id, DeskNotice.patient_id))
            return [NoticeRow(n.id, n.patient_id, n.invoice_id, n.created_at, n.message)
                    for n in s.scalars(query.order_by(DeskNotice.created_at.desc()))]

    def dismiss(self, actor: Actor, notice_id: uuid.UUID) -> None:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.transaction() as s:
            require_patient_of(s, actor, DeskNotice, notice_id)
            notice = s.get(DeskNotice, notice_id)
            if notice is None or notice.clinic_id != actor.clinic_id:
                raise NotFound("That notice no longer exists.")
            notice.dismissed_at = self.db.clock.now()
            audit.record(s, actor, "membership.notice_dismissed", entity=notice,
                         patient_id=notice.patient_id, summary=f"Dismissed: {notice.message}")


__all__ = ["MembershipService", "PeriodBilled", "next_period"]
