"""Selling packages, redeeming them on visits, giving uses back, changing expiry, refunding.

Rules, each checked here inside the action's one transaction:
- a package is sold on an invoice and is redeemable only once that invoice is fully paid
  ("Awaiting payment" until then); an unpaid package's invoice can be deleted, a paid one
  only after its payment is unapplied;
- a use is refused, naming the rule, when the patient is neither the purchaser nor (for a
  package shared with the household) in the purchaser's household, the visit's treatment is
  not an eligible item, the item's limit inside the package is reached, the package expired
  before the visit's date (clinic time zone), it is fully used, or it is not yet paid;
- redeeming locks the package row (FOR UPDATE on PostgreSQL), so two desks cannot both take
  the last use; each use is an append-only row, a give-back is a -1 row;
- a refund (pro rata for the unused uses, or an amount the desk chooses) goes to account
  credit or back to the card, and closes the package.

How the ledger shows it: see ``package_coverage``; a refund is an "Account credit" payment
of the refunded amount (reference "Package refund"), which either stays as credit or takes
the place of that much of the card payment on the package's invoice, so the card payment can
be refunded through the exactly-once card refund (``card_refunds``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk_app.models.appointment import Appointment
from desk_app.models.billing import Allocation, Invoice, InvoiceLine, Payment
from desk_app.models.catalog import TreatmentType
from desk_app.models.clinic import Clinic
from desk_app.models.enums import (
    AppointmentKind,
    AppointmentStatus,
    CollectedBy,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    PlanKind,
)
from desk_app.models.money import format_money
from desk_app.models.packages import (
    HouseholdMember,
    Membership,
    PackagePlan,
    PackagePlanItem,
    PackageRedemption,
    PackageSale,
    PackageSaleItem,
)
from desk_app.models.patient import Patient
from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.appointment_parties import (
    name_of,
    participant,
    participants_of,
    payer_of,
    refuse_cancelled_place,
)
from desk_app.services.card_payments import CardPaymentService
from desk_app.services.card_refunds import RefundOutcome
from desk_app.services.clock import clinic_today, to_clinic_time
from desk_app.services.db import Database
from desk_app.services.documents.parties import Practitioner, branding_of, party_of
from desk_app.services.documents.pdf_document import PdfDocument
from desk_app.services.errors import Conflict, NotFound, ValidationError
from desk_app.services.invoicing import line_amounts, next_invoice_seq
from desk_app.services.ledger import invoice_applied
from desk_app.services.package_coverage import coverage_of, uses_of
from desk_app.services.package_terms import (
    SaleStatus,
    Usage,
    expiry_date,
    pro_rata_refund,
    sale_status,
)
from desk_app.services.patient_access import require_patient, require_patient_of
from desk_app.services.permissions import Permission, require
from desk_app.services.receipts import receipt_number

PACKAGE_REFUND_REFERENCE = "Package refund"


class PackageRefused(Conflict):
    """A use refused by a named rule (``rule`` is stable for tests and the UI)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


@dataclass(frozen=True, slots=True)
class SaleRow:
    id: uuid.UUID
    patient_id: uuid.UUID  # the purchaser
    purchaser: str
    name: str
    kind: PlanKind
    invoice_id: uuid.UUID
    invoice_number: str
    sold_at: datetime
    price_cents: int
    paid_cents: int
    usage: Usage
    status: SaleStatus
    shared_with_household: bool
    refunded_cents: int
    membership_id: uuid.UUID | None = None  # a membership period: the membership it renews
    membership_cancelled: bool = False

    @property
    def usage_text(self) -> str:
        return self.usage.text


@dataclass(frozen=True, slots=True)
class SaleCreated:
    sale_id: uuid.UUID
    invoice_id: uuid.UUID
    invoice_number: str
    total_cents: int


@dataclass(frozen=True, slots=True)
class PackageOption:
    """A package the patient could use on a visit, and why not when it cannot."""

    sale_id: uuid.UUID
    name: str
    usage_text: str
    refusal: str  # "" when it can be used
    auto_select: bool


@dataclass(frozen=True, slots=True)
class VisitCoverage:
    """What the appointment panel shows under Billing Info."""

    appointment_id: uuid.UUID
    sale_id: uuid.UUID | None
    package_name: str
    usage_text: str
    options: list[PackageOption]
    patient_id: uuid.UUID | None = None  # whose place (a group or class participant)
    note: str = ""  # a group's secondary client: who pays for it


@dataclass(frozen=True, slots=True)
class RefundResult:
    amount_cents: int
    to: Literal["credit", "card"]
    card: RefundOutcome | None = None

    @property
    def message(self) -> str:
        if self.card is not None and not self.card.succeeded:
            return self.card.message
        return ""


def household_of(s: Session, patient_id: uuid.UUID) -> set[uuid.UUID]:
    """The patient and everyone in their household."""
    household = s.scalar(
        select(HouseholdMember.household_id).where(HouseholdMember.patient_id == patient_id)
    )
    if household is None:
        return {patient_id}
    return set(s.scalars(select(HouseholdMember.patient_id).where(
        HouseholdMember.household_id == household))) | {patient_id}


def _sale_paid(s: Session, sale: PackageSale) -> tuple[bool, int]:
    invoice = s.get_one(Invoice, sale.invoice_id)
    applied = invoice_applied(s, invoice.id)
    return invoice.status == InvoiceStatus.OPEN and applied >= invoice.total_cents, applied


def refusal_for(
    s: Session, sale: PackageSale, patient_id: uuid.UUID, treatment_type_id: uuid.UUID,
    visit_day: date,
) -> PackageRefused | None:
    """The first rule that stops ``sale`` covering this visit, or None. Order: who, what,
    paid, expiry, total uses, per-item limit (the most useful message first)."""
    if sale.closed_at is not None:
        return PackageRefused("closed", f"{sale.name} was {sale.closed_reason or 'closed'}; "
                                        "it cannot be used any more.")
    if patient_id != sale.patient_id:
        shared = sale.shared_with_household and patient_id in household_of(s, sale.patient_id)
        if not shared:
            return PackageRefused(
                "not_purchaser",
                f"{sale.name} belongs to another patient, and this patient is not the "
                "purchaser or in a household it is shared with.",
            )
    items = {i.treatment_type_id: i.max_uses for i in s.scalars(
        select(PackageSaleItem).where(PackageSaleItem.sale_id == sale.id))}
    if treatment_type_id not in items:
        return PackageRefused(
            "not_eligible", f"This visit's treatment is not an eligible item of {sale.name}."
        )
    paid, _ = _sale_paid(s, sale)
    if not paid:
        return PackageRefused(
            "not_paid", f"{sale.name} is not yet paid (awaiting payment). Take the payment "
            "on its invoice first."
        )
    if sale.expires_on is not None and visit_day > sale.expires_on:
        return PackageRefused(
            "expired", f"{sale.name} expired on {sale.expires_on.isoformat()}, before this "
            f"visit on {visit_day.isoformat()}."
        )
    if sale.uses_total is not None and uses_of(s, sale.id) >= sale.uses_total:
        return PackageRefused(
            "used_up", f"{sale.name} is fully used ({sale.uses_total} of {sale.uses_total})."
        )
    limit = items[treatment_type_id]
    if limit is not None and uses_of(s, sale.id, treatment_type_id) >= limit:
        treatment = s.get_one(TreatmentType, treatment_type_id).name
        return PackageRefused(
            "item_limit", f"{sale.name} allows at most {limit} uses for {treatment}, and "
            f"all {limit} are used (per-item limit reached)."
        )
    return None


class PackageService:
    def __init__(self, db: Database, card_payments: CardPaymentService | None = None) -> None:
        self.db = db
        self.card_payments = card_payments

    # ----- households ------------------------------------------------------------------------

    def join_household(self, actor: Actor, patient_id: uuid.UUID,
                       with_patient_id: uuid.UUID) -> None:
        """Put ``patient_id`` in ``with_patient_id``'s household (starting one if needed)."""
        require(actor, Permission.EDIT_PATIENTS)
        if patient_id == with_patient_id:
            raise ValidationError("Choose another patient to share a household with.")
        with self.db.transaction() as s:
            require_patient(s, actor, patient_id)
            require_patient(s, actor, with_patient_id)
            for pid in (patient_id, with_patient_id):
                patient = s.get(Patient, pid)
                if patient is None or patient.clinic_id != actor.clinic_id:
                    raise NotFound("That patient no longer exists.")
            other = s.scalar(select(HouseholdMember).where(
                HouseholdMember.patient_id == with_patient_id))
            if other is None:
                other = HouseholdMember(household_id=uuid.uuid4(), patient_id=with_patient_id)
                s.add(other)
            mine = s.scalar(select(HouseholdMember).where(
                HouseholdMember.patient_id == patient_id))
            if mine is None:
                s.add(HouseholdMember(household_id=other.household_id, patient_id=patient_id))
            else:
                mine.household_id = other.household_id
            audit.record(s, actor, "household.joined", patient_id=patient_id,
                         summary="Joined a household", details={"with": str(with_patient_id)})

    # ----- reading ---------------------------------------------------------------------------

    def sales_for_patient(self, actor: Actor, patient_id: uuid.UUID) -> list[SaleRow]:
        """The patient's packages and memberships (newest first), and packages shared with
        them by their household."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            tz = s.get_one(Clinic, actor.clinic_id).time_zone
            today = clinic_today(self.db.clock, tz)
            household = household_of(s, patient_id)
            sales = list(s.scalars(
                select(PackageSale)
                .where(PackageSale.patient_id.in_(household))
                .order_by(PackageSale.sold_at.desc())
            ))
            sales = [x for x in sales
                     if x.patient_id == patient_id or x.shared_with_household]
            return [self._row(s, sale, today) for sale in sales]

    def sale(self, actor: Actor, sale_id: uuid.UUID) -> SaleRow:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient_of(s, actor, PackageSale, sale_id)
            sale = self._sale(s, actor, sale_id)
            today = clinic_today(self.db.clock, s.get_one(Clinic, actor.clinic_id).time_zone)
            return self._row(s, sale, today)

    def visit_coverage(self, actor: Actor, appointment_id: uuid.UUID,
                       patient_id: uuid.UUID | None = None) -> VisitCoverage:
        """The package on this visit (if any) and the patient's packages that could be used,
        each with the rule that refuses it. On a group or class, ``patient_id``'s place: a
        group is paid by its primary client's package, a class place by the participant's."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient_of(s, actor, Appointment, appointment_id)
            appt = self._appointment(s, actor, appointment_id)
            seen = patient_id or appt.patient_id
            payer = payer_of(s, appt, seen)
            tz = s.get_one(Clinic, actor.clinic_id).time_zone
            today = clinic_today(self.db.clock, tz)
            visit_day = to_clinic_time(appt.starts_at, tz).date()
            cover = coverage_of(s, appt.id, payer)
            note = ""
            if payer != seen:
                note = (f"Group visit: billed to {name_of(s, payer)}, the primary client; "
                        "only their package can pay for it.")
            options = []
            for sale in self._candidates(s, seen):
                refusal = self._refusal(s, appt, sale, payer, visit_day)
                options.append(PackageOption(sale.id, sale.name,
                                             self._row(s, sale, today).usage.text,
                                             refusal.message if refusal else "",
                                             sale.auto_select))
            if cover is None:
                return VisitCoverage(appt.id, None, "", "", options, seen, note)
            usage = self._row(s, cover.sale, today).usage
            return VisitCoverage(appt.id, cover.sale.id, cover.sale.name, usage.text, options,
                                 seen, note)

    # ----- selling ---------------------------------------------------------------------------

    def sell(self, actor: Actor, patient_id: uuid.UUID, plan_id: uuid.UUID,
             location_id: uuid.UUID | None = None) -> SaleCreated:
        """Sell a package: its invoice is created now; it is redeemable once fully paid."""
        require(actor, Permission.CREATE_INVOICE)
        with self.db.transaction() as s:
            require_patient(s, actor, patient_id)
            patient = s.get(Patient, patient_id)
            if patient is None or patient.clinic_id != actor.clinic_id:
                raise NotFound("That patient no longer exists.")
            plan = s.get(PackagePlan, plan_id)
            if plan is None or plan.clinic_id != actor.clinic_id:
                raise NotFound("That package no longer exists.")
            if plan.archived:
                raise Conflict(f"{plan.name} is no longer sold (archived in Settings).")
            if plan.kind is PlanKind.MEMBERSHIP:
                raise ValidationError("Start a membership from Memberships; it invoices itself "
                                      "each period.")
            tz = s.get_one(Clinic, actor.clinic_id).time_zone
            today = clinic_today(self.db.clock, tz)
            sale = create_sale(s, actor, self.db.clock.now(), plan, patient_id, location_id,
                               sold_on=today,
                               expires_on=expiry_date(today, plan.expiry_unit, plan.expiry_count))
            invoice = s.get_one(Invoice, sale.invoice_id)
            currency = s.get_one(Clinic, actor.clinic_id).currency
            audit.record(s, actor, "package.sold", entity=sale, patient_id=patient_id,
                         summary=f"Sold {plan.name} on invoice {invoice.number} for "
                                 f"{format_money(invoice.total_cents, currency)}",
                         details={"invoice": str(invoice.id), "total": invoice.total_cents})
            return SaleCreated(sale.id, invoice.id, invoice.number, invoice.total_cents)

    def delete_unpaid(self, actor: Actor, sale_id: uuid.UUID) -> None:
        """Delete a package invoiced by mistake, from the patient's Purchases. With a payment
        applied: "unapply the payment first"."""
        require(actor, Permission.DELETE_INVOICE)
        with self.db.transaction() as s:
            require_patient_of(s, actor, PackageSale, sale_id)
            sale = self._sale(s, actor, sale_id, lock=True)
            invoice = s.scalar(select(Invoice).where(Invoice.id == sale.invoice_id)
                               .with_for_update())
            assert invoice is not None
            if sale.closed_at is not None or invoice.status != InvoiceStatus.OPEN:
                raise Conflict(f"{sale.name} is already closed; there is nothing to delete.")
            applied = invoice_applied(s, invoice.id)
            if applied != 0:
                currency = s.get_one(Clinic, actor.clinic_id).currency
                raise Conflict(
                    f"{format_money(applied, currency)} is applied to this package's invoice "
                    f"{invoice.number}. Unapply the payment first, then delete the package."
                )
            if uses_of(s, sale.id) > 0:
                raise Conflict(f"{sale.name} has been used on visits. Remove it from those "
                               "appointments first.")
            now = self.db.clock.now()
            invoice.status = InvoiceStatus.DELETED
            invoice.deleted_at = now
            invoice.deleted_by_id = actor.staff_id
            sale.closed_at = now
            sale.closed_reason = "deleted"
            audit.record(s, actor, "package.deleted", entity=sale, patient_id=sale.patient_id,
                         summary=f"Deleted unpaid {sale.name} (invoice {invoice.number})")

    # ----- redeeming -------------------------------------------------------------------------

    def redeem(self, actor: Actor, appointment_id: uuid.UUID, sale_id: uuid.UUID,
               patient_id: uuid.UUID | None = None) -> VisitCoverage:
        """Use one of the package on this visit (on a class, on ``patient_id``'s place).
        Refusals name the rule that failed."""
        require(actor, Permission.CREATE_INVOICE)
        with self.db.transaction() as s:
            require_patient_of(s, actor, Appointment, appointment_id)
            appt = self._appointment(s, actor, appointment_id)
            payer = payer_of(s, appt, patient_id)
            # The package row is locked first: a second desk taking the last use waits here and
            # then sees this use.
            sale = self._sale(s, actor, sale_id, lock=True)
            if patient_id is not None and payer != patient_id:
                raise self._group_refusal(s, appt, sale)
            self._redeem_in(s, actor, appt, sale, payer)
        return self.visit_coverage(actor, appointment_id, patient_id)

    def _refusal(self, s: Session, appt: Appointment, sale: PackageSale, payer: uuid.UUID,
                 visit_day: date) -> PackageRefused | None:
        refusal = refusal_for(s, sale, payer, appt.treatment_type_id, visit_day)
        if (refusal is not None and refusal.rule == "not_purchaser"
                and appt.kind is AppointmentKind.GROUP):
            return self._group_refusal(s, appt, sale)
        return refusal

    @staticmethod
    def _group_refusal(s: Session, appt: Appointment, sale: PackageSale) -> PackageRefused:
        return PackageRefused(
            "group_primary",
            f"Only the primary client's package can pay for a group visit: {sale.name} "
            f"belongs to {name_of(s, sale.patient_id)}, and {name_of(s, appt.patient_id)} is "
            "the primary client. Book a class for each participant to use their own package.")

    def _redeem_in(self, s: Session, actor: Actor, appt: Appointment, sale: PackageSale,
                   payer: uuid.UUID | None = None) -> PackageRedemption:
        payer = appt.patient_id if payer is None else payer
        if appt.status == AppointmentStatus.CANCELLED:
            raise Conflict("This appointment was cancelled; a package is not used on it.")
        refuse_cancelled_place(s, appt, payer)
        current = coverage_of(s, appt.id, payer)
        if current is not None:
            raise Conflict(f"This visit is already covered by {current.sale.name}. Remove that "
                           "package from the appointment first.")
        on_invoice = s.scalar(
            select(Invoice.id)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(InvoiceLine.appointment_id == appt.id, Invoice.status == InvoiceStatus.OPEN,
                   Invoice.patient_id == payer)
        )
        if on_invoice is not None:
            raise Conflict("This visit is already invoiced at its full price. Delete that "
                           "invoice first, then use the package.")
        tz = s.get_one(Clinic, actor.clinic_id).time_zone
        visit_day = to_clinic_time(appt.starts_at, tz).date()
        refusal = self._refusal(s, appt, sale, payer, visit_day)
        if refusal is not None:
            raise refusal
        row = PackageRedemption(
            sale_id=sale.id, appointment_id=appt.id, patient_id=payer,
            treatment_type_id=appt.treatment_type_id, practitioner_id=appt.practitioner_id,
            location_id=appt.location_id, visit_at=appt.starts_at, uses=1,
            created_by_id=actor.staff_id, workstation=actor.workstation,
        )
        s.add(row)
        s.flush()
        audit.record(s, actor, "package.redeemed", entity=row, patient_id=payer,
                     summary=f"Used {sale.name} on the visit of {visit_day.isoformat()}",
                     details={"sale": str(sale.id), "appointment": str(appt.id),
                              "kind": appt.kind.value})
        return row

    def remove_from_appointment(self, actor: Actor, appointment_id: uuid.UUID,
                                patient_id: uuid.UUID | None = None) -> None:
        """Take the package off a visit (a class: off ``patient_id``'s place): the use is
        given back. A visit already invoiced through the package has that invoice deleted
        (refused while a payment is applied)."""
        require(actor, Permission.CREATE_INVOICE)
        with self.db.transaction() as s:
            require_patient_of(s, actor, Appointment, appointment_id)
            appt = self._appointment(s, actor, appointment_id)
            payer = payer_of(s, appt, patient_id)
            cover = coverage_of(s, appt.id, payer)
            if cover is None:
                raise Conflict("No package is used on this appointment.")
            self._sale(s, actor, cover.sale.id, lock=True)
            invoice = s.scalar(
                select(Invoice)
                .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
                .where(InvoiceLine.appointment_id == appt.id,
                       Invoice.status == InvoiceStatus.OPEN, Invoice.patient_id == payer)
                .with_for_update()
            )
            if invoice is not None:
                applied = invoice_applied(s, invoice.id)
                if applied != 0:
                    currency = s.get_one(Clinic, actor.clinic_id).currency
                    raise Conflict(
                        f"{format_money(applied, currency)} is applied to this visit's invoice "
                        f"{invoice.number}. Unapply the payment first, then remove the package."
                    )
                invoice.status = InvoiceStatus.DELETED
                invoice.deleted_at = self.db.clock.now()
                invoice.deleted_by_id = actor.staff_id
            row = PackageRedemption(
                sale_id=cover.sale.id, appointment_id=appt.id, patient_id=payer,
                treatment_type_id=appt.treatment_type_id, practitioner_id=appt.practitioner_id,
                location_id=appt.location_id, visit_at=appt.starts_at, uses=-1,
                reverses_id=cover.redemption_id, created_by_id=actor.staff_id,
                workstation=actor.workstation,
            )
            s.add(row)
            s.flush()
            audit.record(s, actor, "package.use_given_back", entity=row,
                         patient_id=payer,
                         summary=f"Removed {cover.sale.name} from an appointment; use given back",
                         details={"sale": str(cover.sale.id), "appointment": str(appt.id),
                                  "invoice_deleted": str(invoice.id) if invoice else ""})

    def auto_redeem(self, actor: Actor, appointment_id: uuid.UUID,
                    patient_id: uuid.UUID | None = None) -> VisitCoverage:
        """Apply the first auto-selected package that can cover this visit (if any): a
        group's primary client's; on a class, each participant's own (every participant
        when ``patient_id`` is None)."""
        require(actor, Permission.CREATE_INVOICE)
        with self.db.transaction() as s:
            require_patient_of(s, actor, Appointment, appointment_id)
            appt = self._appointment(s, actor, appointment_id)
            if appt.kind is AppointmentKind.CLASS and patient_id is None:
                payers = [p.patient_id for p in participants_of(s, appt.id)]
            else:
                payers = [payer_of(s, appt, patient_id)]
            for payer in payers:
                self.auto_redeem_in(s, actor, appt, payer)
        return self.visit_coverage(actor, appointment_id, patient_id)

    def auto_redeem_in(self, s: Session, actor: Actor, appt: Appointment,
                       payer: uuid.UUID) -> PackageSale | None:
        """Auto-selection inside the caller's transaction: the package used, or None."""
        if coverage_of(s, appt.id, payer) is not None:
            return None
        place = participant(s, appt, payer)
        if place is not None and place.status is AppointmentStatus.CANCELLED:
            return None
        tz = s.get_one(Clinic, actor.clinic_id).time_zone
        visit_day = to_clinic_time(appt.starts_at, tz).date()
        for sale in self._candidates(s, payer):
            if not sale.auto_select:
                continue
            locked = self._sale(s, actor, sale.id, lock=True)
            if refusal_for(s, locked, payer, appt.treatment_type_id, visit_day) is None:
                self._redeem_in(s, actor, appt, locked, payer)
                return locked
        return None

    def uses_booking_would_take(self, actor: Actor, patient_id: uuid.UUID,
                                treatment_type_id: uuid.UUID, visits: int) -> str:
        """The warning before booking copies of past visits into the future: how many uses of
        which auto-selected package they would take ("" when none)."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            tz = s.get_one(Clinic, actor.clinic_id).time_zone
            today = clinic_today(self.db.clock, tz)
            for sale in self._candidates(s, patient_id):
                if sale.auto_select and refusal_for(s, sale, patient_id, treatment_type_id,
                                                    today) is None:
                    usage = self._row(s, sale, today).usage
                    left = "unlimited" if usage.left is None else f"{usage.left} left"
                    return (f"Booking {visits} visit{'s' if visits != 1 else ''} will use "
                            f"{sale.name} automatically ({left}).")
            return ""

    # ----- editing a sold package -----------------------------------------------------------

    def set_expiry(self, actor: Actor, sale_id: uuid.UUID, expires_on: date | None) -> None:
        """Change one sold package's expiry; None (a blank date) means it never expires."""
        require(actor, Permission.MANAGE_PACKAGES)
        with self.db.transaction() as s:
            sale = self._sale(s, actor, sale_id, lock=True)
            before = sale.expires_on
            sale.expires_on = expires_on
            audit.record(s, actor, "package.expiry_changed", entity=sale,
                         patient_id=sale.patient_id,
                         summary=f"{sale.name}: expiry {before or 'never'} → "
                                 f"{expires_on or 'never'}")

    # ----- refunds ---------------------------------------------------------------------------

    def refund_preview(self, actor: Actor, sale_id: uuid.UUID) -> tuple[int, int]:
        """(pro rata amount for the unused uses, most that can be refunded)."""
        require(actor, Permission.REFUND)
        with self.db.reading() as s:
            require_patient_of(s, actor, PackageSale, sale_id)
            sale = self._sale(s, actor, sale_id)
            _, paid = _sale_paid(s, sale)
            return (pro_rata_refund(paid, sale.uses_total, uses_of(s, sale.id)), paid)

    def refund(self, actor: Actor, sale_id: uuid.UUID, *, amount_cents: int | None = None,
               to: Literal["credit", "card"] = "credit", reason: str = "") -> RefundResult:
        """Refund a package and close it: pro rata for the unused uses (``amount_cents``
        None) or a chosen amount, to account credit or back to the card that paid for it."""
        require(actor, Permission.REFUND)
        with self.db.transaction() as s:
            require_patient_of(s, actor, PackageSale, sale_id)
            currency = s.get_one(Clinic, actor.clinic_id).currency
            sale = self._sale(s, actor, sale_id, lock=True)
            if sale.closed_at is not None:
                raise Conflict(f"{sale.name} is already closed.")
            invoice = s.scalar(select(Invoice).where(Invoice.id == sale.invoice_id)
                               .with_for_update())
            assert invoice is not None
            paid = invoice_applied(s, invoice.id)
            amount = (pro_rata_refund(paid, sale.uses_total, uses_of(s, sale.id))
                      if amount_cents is None else amount_cents)
            if amount < 0:
                raise ValidationError("Enter an amount of zero or more to refund.", "amount")
            if amount > paid:
                raise ValidationError(
                    f"Only {format_money(paid, currency)} was paid for {sale.name}; refund "
                    "that much or less.", "amount")
            card_payment_id: uuid.UUID | None = None
            if amount > 0:
                if to == "card":
                    card_payment_id = self._card_payment_on(s, invoice.id, amount)
                    if card_payment_id is None:
                        raise ValidationError(
                            f"No card payment of at least {format_money(amount, currency)} is "
                            f"applied to {sale.name}'s invoice; refund to credit instead.", "to")
                self._refund_adjustment(s, actor, sale, invoice, amount, card_payment_id)
            sale.closed_at = self.db.clock.now()
            sale.closed_reason = "refunded"
            sale.refunded_cents = amount
            audit.record(s, actor, "package.refunded", entity=sale, patient_id=sale.patient_id,
                         summary=f"Refunded {format_money(amount, currency)} of {sale.name} "
                                 f"to {'the card' if to == 'card' else 'credit'}; package closed",
                         details={"amount": amount, "to": to, "reason": reason.strip()})
            patient_id = sale.patient_id
        if card_payment_id is None:
            return RefundResult(amount, "credit" if to == "credit" or amount == 0 else to)
        if self.card_payments is None:
            raise RuntimeError("PackageService was built without card payments")
        outcome = self.card_payments.refund_card_payment(
            actor, card_payment_id, amount, to="card",
            reason=f"{PACKAGE_REFUND_REFERENCE} for patient {patient_id}")
        return RefundResult(amount, "card", outcome)

    def _refund_adjustment(self, s: Session, actor: Actor, sale: PackageSale, invoice: Invoice,
                           amount: int, card_payment_id: uuid.UUID | None) -> None:
        """The refunded amount as an account-credit payment. To the card: it takes the place
        of that much of the card payment on the invoice, freeing the card payment to refund."""
        credit = Payment(
            clinic_id=actor.clinic_id, patient_id=sale.patient_id, location_id=sale.location_id,
            method=PaymentMethod.ACCOUNT_CREDIT, amount_cents=amount,
            received_at=self.db.clock.now(), collected_by=CollectedBy.STAFF,
            collected_by_staff_id=actor.staff_id, reference=PACKAGE_REFUND_REFERENCE,
            note=f"Refund of {sale.name}", workstation=actor.workstation,
        )
        s.add(credit)
        s.flush()
        if card_payment_id is None:
            return
        for payment_id, cents in ((card_payment_id, -amount), (credit.id, amount)):
            s.add(Allocation(payment_id=payment_id, invoice_id=invoice.id,
                             patient_id=sale.patient_id, amount_cents=cents,
                             created_by_id=actor.staff_id, workstation=actor.workstation))
        s.flush()

    @staticmethod
    def _card_payment_on(s: Session, invoice_id: uuid.UUID, amount: int) -> uuid.UUID | None:
        rows = s.execute(
            select(Allocation.payment_id, func.sum(Allocation.amount_cents))
            .join(Payment, Payment.id == Allocation.payment_id)
            .where(Allocation.invoice_id == invoice_id, Payment.method == PaymentMethod.CARD,
                   Payment.stripe_charge_id.is_not(None))
            .group_by(Allocation.payment_id)
        ).all()
        for payment_id, applied in rows:
            if int(applied) >= amount:
                return payment_id
        return None

    # ----- receipts --------------------------------------------------------------------------

    def visit_receipt(self, actor: Actor, appointment_id: uuid.UUID,
                      patient_id: uuid.UUID | None = None) -> PdfDocument:
        """The package visit receipt: the package's name and the uses remaining after it."""
        require(actor, Permission.VIEW_PATIENTS)
        # Imported here: reportlab takes a quarter of a second to import, start-up skips it.
        from desk_app.services.documents.package_visit import (
            PackageVisit,
            build_package_visit_receipt,
        )

        with self.db.reading() as s:
            require_patient_of(s, actor, Appointment, appointment_id)
            appt = self._appointment(s, actor, appointment_id)
            payer = payer_of(s, appt, patient_id)
            cover = coverage_of(s, appt.id, payer)
            if cover is None:
                raise Conflict("No package is used on this appointment; print the visit's "
                               "invoice receipt instead.")
            sale = cover.sale
            redemption = s.get_one(PackageRedemption, cover.redemption_id)
            # Uses remaining after this visit: later visits are not subtracted.
            used = int(s.scalar(select(func.coalesce(func.sum(PackageRedemption.uses), 0)).where(
                PackageRedemption.sale_id == sale.id,
                PackageRedemption.visit_at <= appt.starts_at)) or 0)
            staff = s.get_one(Staff, appt.practitioner_id)
            treatment = s.get_one(TreatmentType, appt.treatment_type_id).name
            branding = branding_of(s.get_one(Clinic, actor.clinic_id))
            patient = party_of(s.get_one(Patient, payer))
            _, paid = _sale_paid(s, sale)
            visit = PackageVisit(
                number=receipt_number(redemption.workstation, redemption.id).replace("R-", "P-", 1),
                package_name=sale.name,
                visit_at=appt.starts_at,
                service=treatment,
                practitioner=Practitioner(staff.full_name, staff.title,
                                          staff.registration_number),
                uses_remaining=(None if sale.uses_total is None
                                else max(sale.uses_total - used, 0)),
                uses_total=sale.uses_total,
                expires_on=sale.expires_on,
                value_cents=paid // sale.uses_total if sale.uses_total else None,
            )
        return PdfDocument(
            kind="receipt", title=f"Package visit receipt {visit.number}",
            filename=f"package-visit-{visit.number}.pdf",
            data=build_package_visit_receipt(branding, patient, visit), reference=visit.number,
        )

    # ----- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _appointment(s: Session, actor: Actor, appointment_id: uuid.UUID) -> Appointment:
        appt = s.get(Appointment, appointment_id)
        if appt is None or appt.clinic_id != actor.clinic_id:
            raise NotFound("That appointment no longer exists.")
        return appt

    @staticmethod
    def _sale(s: Session, actor: Actor, sale_id: uuid.UUID, *, lock: bool = False) -> PackageSale:
        query = select(PackageSale).where(PackageSale.id == sale_id)
        if lock:
            query = query.with_for_update()
        sale = s.scalar(query)
        if sale is None or sale.clinic_id != actor.clinic_id:
            raise NotFound("That package no longer exists.")
        if lock:
            s.refresh(sale)
        return sale

    @staticmethod
    def _candidates(s: Session, patient_id: uuid.UUID) -> list[PackageSale]:
        """Open packages the patient might use: their own, then their household's shared."""
        household = household_of(s, patient_id)
        sales = s.scalars(
            select(PackageSale)
            .where(PackageSale.patient_id.in_(household), PackageSale.closed_at.is_(None))
            .order_by(PackageSale.sold_at)
        )
        own = [x for x in sales if x.patient_id == patient_id or x.shared_with_household]
        return sorted(own, key=lambda x: x.patient_id != patient_id)

    @staticmethod
    def _row(s: Session, sale: PackageSale, today: date) -> SaleRow:
        paid, applied = _sale_paid(s, sale)
        invoice = s.get_one(Invoice, sale.invoice_id)
        patient = s.get_one(Patient, sale.patient_id)
        usage = Usage(uses_of(s, sale.id), sale.uses_total, sale.expires_on)
        kind = s.get_one(PackagePlan, sale.plan_id).kind
        return SaleRow(
            id=sale.id, patient_id=sale.patient_id, purchaser=patient.display_name,
            name=sale.name, kind=kind, invoice_id=invoice.id, invoice_number=invoice.number,
            sold_at=sale.sold_at, price_cents=invoice.total_cents, paid_cents=applied,
            usage=usage,
            status=sale_status(usage, paid=paid, closed=sale.closed_at is not None, today=today),
            shared_with_household=sale.shared_with_household,
            refunded_cents=sale.refunded_cents,
            membership_id=sale.membership_id,
            membership_cancelled=(sale.membership_id is not None and s.get_one(
                Membership, sale.membership_id).cancelled_at is not None),
        )


def create_sale(s: Session, actor: Actor, now: datetime, plan: PackagePlan,
                patient_id: uuid.UUID, location_id: uuid.UUID | None, *, sold_on: date,
                expires_on: date | None, membership_id: uuid.UUID | None = None,
                label: str = "") -> PackageSale:
    """The invoice (one package line) and the sale with the plan's terms copied onto it."""
    amounts = line_amounts(plan.price_cents, 1, plan.tax_rate_bp)
    invoice = Invoice(
        clinic_id=actor.clinic_id, patient_id=patient_id, location_id=location_id,
        workstation=actor.workstation, seq=next_invoice_seq(s, actor.workstation),
        issued_at=now, status=InvoiceStatus.OPEN, subtotal_cents=amounts.subtotal_cents,
        tax_cents=amounts.tax_cents, total_cents=amounts.total_cents,
        created_by_id=actor.staff_id,
    )
    s.add(invoice)
    s.flush()
    s.add(InvoiceLine(
        invoice_id=invoice.id, position=0, kind=LineKind.PACKAGE,
        description=(label or plan.name)[:300], service_date=now, quantity=1,
        unit_price_cents=plan.price_cents, tax_rate_bp=plan.tax_rate_bp,
        subtotal_cents=amounts.subtotal_cents, tax_cents=amounts.tax_cents,
        total_cents=amounts.total_cents, income_category=plan.income_category,
    ))
    sale = PackageSale(
        clinic_id=actor.clinic_id, plan_id=plan.id, patient_id=patient_id,
        invoice_id=invoice.id, membership_id=membership_id, location_id=location_id,
        sold_by_id=actor.staff_id, name=plan.name, price_cents=amounts.total_cents,
        income_category=plan.income_category, uses_total=plan.uses,
        additional_charge_cents=plan.additional_charge_cents, auto_select=plan.auto_select,
        shared_with_household=plan.shared_with_household, sold_at=now, expires_on=expires_on,
    )
    s.add(sale)
    s.flush()
    for item in s.scalars(select(PackagePlanItem).where(PackagePlanItem.plan_id == plan.id)):
        s.add(PackageSaleItem(sale_id=sale.id, treatment_type_id=item.treatment_type_id,
                              max_uses=item.max_uses))
    s.flush()
    return sale


def practitioner_names(s: Session) -> dict[uuid.UUID, str]:
    return {sid: f"{fn} {ln}" for sid, fn, ln in s.execute(
        select(Staff.id, Staff.first_name, Staff.last_name))}


def uses_by_sale(s: Session, sale_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    out: dict[uuid.UUID, int] = defaultdict(int)
    for sid, n in s.execute(select(PackageRedemption.sale_id, func.sum(PackageRedemption.uses))
                            .where(PackageRedemption.sale_id.in_(sale_ids))
                            .group_by(PackageRedemption.sale_id)):
        out[sid] = int(n)
    return out
