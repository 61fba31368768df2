"""Invoicing a visit or items, and deleting an unpaid invoice.

Tax rule: each line's tax is its subtotal times the line's rate, rounded half up to the cent
(models.money.percent_of); an invoice's tax is the sum of its lines' tax, and its total is
subtotal plus tax. Lines never change after the invoice is issued.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk_app.models.appointment import Appointment
from desk_app.models.billing import Invoice, InvoiceLine
from desk_app.models.catalog import Product, TreatmentType
from desk_app.models.clinic import Clinic
from desk_app.models.enums import AppointmentKind, AppointmentStatus, InvoiceStatus, LineKind
from desk_app.models.money import format_money, percent_of
from desk_app.models.patient import Patient
from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.appointment_parties import (
    group_line_description,
    name_of,
    participants_of,
    payer_of,
    refuse_cancelled_place,
)
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, NotFound, ValidationError
from desk_app.services.ledger import invoice_applied
from desk_app.services.package_coverage import coverage_of, covered_line_description
from desk_app.services.patient_access import (
    require_own_day,
    require_patient,
    require_patient_of,
)
from desk_app.services.permissions import Permission, require

MAX_QUANTITY = 999
MAX_LINE_CENTS = 99_999_999


@dataclass(frozen=True, slots=True)
class LineSpec:
    """One line to invoice: a product, or a described item with its own price."""

    description: str = ""
    unit_price_cents: int = 0
    tax_rate_bp: int = 0
    quantity: int = 1
    product_id: uuid.UUID | None = None
    income_category: str = ""


@dataclass(frozen=True, slots=True)
class LineAmounts:
    subtotal_cents: int
    tax_cents: int
    total_cents: int


def line_amounts(unit_price_cents: int, quantity: int, tax_rate_bp: int) -> LineAmounts:
    subtotal = unit_price_cents * quantity
    tax = percent_of(subtotal, tax_rate_bp)
    return LineAmounts(subtotal, tax, subtotal + tax)


def next_invoice_seq(s: Session, workstation: str) -> int:
    current = s.scalar(select(func.max(Invoice.seq)).where(Invoice.workstation == workstation))
    return int(current or 0) + 1


@dataclass(frozen=True, slots=True)
class ProductChoice:
    """A product offered when invoicing items at the desk, with its price and tax."""

    id: uuid.UUID
    name: str
    price_cents: int
    tax_rate_bp: int


@dataclass(frozen=True, slots=True)
class InvoiceCreated:
    invoice_id: uuid.UUID
    number: str
    total_cents: int


class InvoicingService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def products(self, actor: Actor) -> list[ProductChoice]:
        """The clinic's products that can be put on an invoice, by name."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            return [
                ProductChoice(p.id, p.name, p.price_cents, p.tax_rate_bp)
                for p in s.scalars(
                    select(Product)
                    .where(Product.clinic_id == actor.clinic_id, Product.archived.is_(False))
                    .order_by(Product.name)
                )
            ]

    def invoice_appointment(self, actor: Actor, appointment_id: uuid.UUID,
                            patient_id: uuid.UUID | None = None) -> InvoiceCreated:
        """Invoice a visit at its treatment's price and tax; a visit is invoiced once. A group
        visit is invoiced to its primary client (listing the others); a class place to the
        participant (``patient_id``) taking it."""
        require(actor, Permission.CREATE_INVOICE)
        with self.db.transaction() as s:
            require_patient_of(s, actor, Appointment, appointment_id)
            appt = s.get(Appointment, appointment_id)
            if appt is None:
                raise NotFound("That appointment no longer exists.")
            payer = payer_of(s, appt, patient_id)
            if patient_id is not None and payer != patient_id:
                raise Conflict(f"A group visit is billed to its primary client, "
                               f"{name_of(s, payer)}. Invoice it from their profile.")
            return self._invoice_visit(s, actor, appt, payer)

    def invoice_class(self, actor: Actor, appointment_id: uuid.UUID) -> list[InvoiceCreated]:
        """Invoice every participant of a class for their own place (each their own invoice,
        each covered by their own package if one is used), skipping places already invoiced
        or cancelled. One transaction."""
        require(actor, Permission.CREATE_INVOICE)
        with self.db.transaction() as s:
            appt = s.get(Appointment, appointment_id)
            if appt is None:
                raise NotFound("That appointment no longer exists.")
            require_own_day(actor, appt.practitioner_id)  # their class: its people are theirs
            if appt.kind is not AppointmentKind.CLASS:
                raise Conflict("Only a class invoices each participant; invoice this visit "
                               "with Invoice visit.")
            created = []
            for place in participants_of(s, appt.id):
                if place.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
                    continue
                if self._visit_invoice(s, appt, place.patient_id) is not None:
                    continue
                created.append(self._invoice_visit(s, actor, appt, place.patient_id))
            return created

    @staticmethod
    def _visit_invoice(s: Session, appt: Appointment, payer: uuid.UUID) -> Invoice | None:
        return s.scalar(
            select(Invoice)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(InvoiceLine.appointment_id == appt.id, Invoice.status == InvoiceStatus.OPEN,
                   Invoice.patient_id == payer)
        )

    def _invoice_visit(self, s: Session, actor: Actor, appt: Appointment,
                       payer: uuid.UUID) -> InvoiceCreated:
        if appt.status == AppointmentStatus.CANCELLED:
            raise Conflict(
                "This appointment was cancelled; a cancelled visit is not "
                "invoiced. Change its status first if the patient came."
            )
        refuse_cancelled_place(s, appt, payer)
        already = self._visit_invoice(s, appt, payer)
        if already is not None:
            raise Conflict(f"This visit is already on invoice {already.number}.")
        treatment = s.get_one(TreatmentType, appt.treatment_type_id)
        practitioner = s.get_one(Staff, appt.practitioner_id)
        # A visit a package covers is invoiced at the package's per-visit charge (nothing,
        # or an insurer-friendly "Additional Charge"): the package's invoice holds the money.
        coverage = coverage_of(s, appt.id, payer)
        price, description = treatment.price_cents, treatment.name
        if coverage is not None:
            price = coverage.sale.additional_charge_cents
            description = covered_line_description(treatment.name, coverage.sale.name)
        description = group_line_description(s, appt, description)
        amounts = line_amounts(price, 1, treatment.tax_rate_bp)
        invoice = self._new_invoice(s, actor, payer, appt.location_id)
        s.add(
            InvoiceLine(
                invoice_id=invoice.id,
                position=0,
                kind=LineKind.APPOINTMENT,
                description=description,
                appointment_id=appt.id,
                treatment_type_id=treatment.id,
                practitioner_id=practitioner.id,
                service_date=appt.starts_at,
                quantity=1,
                unit_price_cents=price,
                tax_rate_bp=treatment.tax_rate_bp,
                subtotal_cents=amounts.subtotal_cents,
                tax_cents=amounts.tax_cents,
                total_cents=amounts.total_cents,
                income_category=treatment.income_category,
            )
        )
        self._set_totals(invoice, [amounts])
        return self._finish(s, actor, invoice)

    def create_invoice(
        self,
        actor: Actor,
        patient_id: uuid.UUID,
        lines: Sequence[LineSpec],
        location_id: uuid.UUID | None = None,
    ) -> InvoiceCreated:
        """Invoice products or other items sold at the desk."""
        require(actor, Permission.CREATE_INVOICE)
        if not lines:
            raise ValidationError("Add at least one item to the invoice.")
        with self.db.transaction() as s:
            require_patient(s, actor, patient_id)
            if s.get(Patient, patient_id) is None:
                raise NotFound("That patient no longer exists.")
            invoice = self._new_invoice(s, actor, patient_id, location_id)
            all_amounts = []
            for position, spec in enumerate(lines):
                line = self._line_from_spec(s, spec)
                amounts = line_amounts(line.unit_price_cents, line.quantity, line.tax_rate_bp)
                line.invoice_id = invoice.id
                line.position = position
                line.subtotal_cents = amounts.subtotal_cents
                line.tax_cents = amounts.tax_cents
                line.total_cents = amounts.total_cents
                line.service_date = self.db.clock.now()
                s.add(line)
                all_amounts.append(amounts)
            self._set_totals(invoice, all_amounts)
            return self._finish(s, actor, invoice)

    def delete_invoice(self, actor: Actor, invoice_id: uuid.UUID) -> None:
        """Delete an invoice nothing is paid on. With a payment applied, unapply it first."""
        require(actor, Permission.DELETE_INVOICE)
        with self.db.transaction() as s:
            require_patient_of(s, actor, Invoice, invoice_id)
            invoice = s.scalar(select(Invoice).where(Invoice.id == invoice_id).with_for_update())
            if invoice is None:
                raise NotFound("That invoice no longer exists.")
            if invoice.status == InvoiceStatus.DELETED:
                raise Conflict(f"Invoice {invoice.number} is already deleted.")
            applied = invoice_applied(s, invoice.id)
            if applied != 0:
                currency = s.get_one(Clinic, actor.clinic_id).currency
                raise Conflict(
                    f"{format_money(applied, currency)} is applied to invoice {invoice.number}. "
                    "Unapply the payment first, then delete the invoice."
                )
            invoice.status = InvoiceStatus.DELETED
            invoice.deleted_at = self.db.clock.now()
            invoice.deleted_by_id = actor.staff_id
            audit.record(
                s,
                actor,
                "invoice.deleted",
                entity=invoice,
                patient_id=invoice.patient_id,
                summary=f"Deleted unpaid invoice {invoice.number}",
                details={"total": invoice.total_cents},
            )

    # ----- helpers ---------------------------------------------------------------------------

    def _new_invoice(
        self, s: Session, actor: Actor, patient_id: uuid.UUID, location_id: uuid.UUID | None
    ) -> Invoice:
        invoice = Invoice(
            clinic_id=actor.clinic_id,
            patient_id=patient_id,
            location_id=location_id,
            workstation=actor.workstation,
            seq=next_invoice_seq(s, actor.workstation),
            issued_at=self.db.clock.now(),
            status=InvoiceStatus.OPEN,
            subtotal_cents=0,
            tax_cents=0,
            total_cents=0,
            created_by_id=actor.staff_id,
        )
        s.add(invoice)
        s.flush()
        return invoice

    @staticmethod
    def _set_totals(invoice: Invoice, amounts: Sequence[LineAmounts]) -> None:
        invoice.subtotal_cents = sum(a.subtotal_cents for a in amounts)
        invoice.tax_cents = sum(a.tax_cents for a in amounts)
        invoice.total_cents = sum(a.total_cents for a in amounts)

    @staticmethod
    def _finish(s: Session, actor: Actor, invoice: Invoice) -> InvoiceCreated:
        s.flush()
        currency = s.get_one(Clinic, actor.clinic_id).currency
        audit.record(
            s,
            actor,
            "invoice.created",
            entity=invoice,
            patient_id=invoice.patient_id,
            summary=f"Invoice {invoice.number} for {format_money(invoice.total_cents, currency)}",
            details={"total": invoice.total_cents},
        )
        return InvoiceCreated(invoice.id, invoice.number, invoice.total_cents)

    @staticmethod
    def _line_from_spec(s: Session, spec: LineSpec) -> InvoiceLine:
        if not 1 <= spec.quantity <= MAX_QUANTITY:
            raise ValidationError(f"Quantity must be between 1 and {MAX_QUANTITY}.", "quantity")
        if spec.product_id is not None:
            product = s.get(Product, spec.product_id)
            if product is None:
                raise NotFound("That product no longer exists.")
            return InvoiceLine(
                kind=LineKind.PRODUCT,
                description=product.name,
                product_id=product.id,
                quantity=spec.quantity,
                unit_price_cents=product.price_cents,
                tax_rate_bp=product.tax_rate_bp,
                income_category=product.income_category,
            )
        description = " ".join(spec.description.split())
        if not description:
            raise ValidationError("Describe the item being invoiced.", "description")
        if not 0 < spec.unit_price_cents <= MAX_LINE_CENTS:
            raise ValidationError("Enter a price greater than zero.", "price")
        if not 0 <= spec.tax_rate_bp <= 10_000:
            raise ValidationError("A tax rate is between 0% and 100%.", "tax")
        return InvoiceLine(
            kind=LineKind.OTHER,
            description=description[:300],
            quantity=spec.quantity,
            unit_price_cents=spec.unit_price_cents,
            tax_rate_bp=spec.tax_rate_bp,
            income_category=spec.income_category,
        )
