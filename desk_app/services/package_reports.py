"""Reports: Package & Membership Usage, package sales, and a practitioner's "My day".

The usage report aggregates redemptions in SQL (one grouped query for the uses in the
period, one for those packages' uses to date), so 1,000,000 redemptions are summed by the
database, not in Python (bench/package_usage.py measures it against the raw SQL).
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import Select, String, func, select, type_coerce

from desk_app.models.appointment import Appointment
from desk_app.models.billing import Allocation, Invoice
from desk_app.models.catalog import TreatmentType
from desk_app.models.clinic import Clinic
from desk_app.models.enums import AppointmentStatus, InvoiceStatus, PlanKind
from desk_app.models.money import format_money
from desk_app.models.packages import PackagePlan, PackageRedemption, PackageSale
from desk_app.models.patient import Patient, display_name_of
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.clock import clinic_local_to_utc, clinic_today, to_clinic_time
from desk_app.services.db import Database
from desk_app.services.errors import ValidationError
from desk_app.services.ledger import patient_balance
from desk_app.services.package_coverage import coverage_of
from desk_app.services.package_terms import Usage
from desk_app.services.patient_access import require_own_day
from desk_app.services.permissions import Permission, require
from desk_app.services.row_ids import Ids, raw_id


@dataclass(frozen=True, slots=True)
class UsageFilter:
    start: date
    end: date  # inclusive, clinic time zone
    location_id: uuid.UUID | None = None
    practitioner_id: uuid.UUID | None = None
    plan_id: uuid.UUID | None = None
    kind: PlanKind | None = None  # pass type: packages or memberships


class UsageRow(NamedTuple):
    """One package in the usage report (a tuple: a year's report builds tens of thousands)."""

    sale_id: uuid.UUID
    patient: str
    package: str
    kind: PlanKind
    uses_in_period: int
    uses_to_date: int
    uses_total: int | None
    expires_on: date | None

    @property
    def uses_left(self) -> int | None:
        return Usage(self.uses_to_date, self.uses_total, self.expires_on).left

    @property
    def left_text(self) -> str:
        left = self.uses_left
        return "Unlimited" if left is None else str(left)


@dataclass(frozen=True, slots=True)
class SaleReportRow:
    sale_id: uuid.UUID
    sold_on: date
    patient: str
    package: str
    kind: PlanKind
    invoice_number: str
    price_cents: int
    paid_cents: int
    refunded_cents: int
    closed: str


@dataclass(frozen=True, slots=True)
class DayRow:
    appointment_id: uuid.UUID
    starts_at: datetime  # clinic time zone
    patient_id: uuid.UUID
    patient: str
    treatment: str
    package: str  # the package on this visit, "" when none
    uses_left: str  # the patient's open packages: "10 Massages: 7 left"
    owing_cents: int
    credit_cents: int


def _utc_range(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    if end < start:
        raise ValidationError("The end date is before the start date; swap them.", "end")
    return (clinic_local_to_utc(datetime.combine(start, time()), tz),
            clinic_local_to_utc(datetime.combine(end + timedelta(days=1), time()), tz))


def usage_query(f: UsageFilter, lo: datetime, hi: datetime, clinic_id: uuid.UUID) -> Select:  # type: ignore[type-arg]
    """Uses per package in the period, with the filters: the report's one heavy query."""
    query = (
        select(PackageRedemption.sale_id, func.sum(PackageRedemption.uses).label("n"))
        .where(PackageRedemption.visit_at >= lo, PackageRedemption.visit_at < hi)
        .group_by(PackageRedemption.sale_id)
    )
    if f.location_id is not None:
        query = query.where(PackageRedemption.location_id == f.location_id)
    if f.practitioner_id is not None:
        query = query.where(PackageRedemption.practitioner_id == f.practitioner_id)
    if f.plan_id is not None or f.kind is not None:
        query = query.join(PackageSale, PackageSale.id == PackageRedemption.sale_id)
        query = query.where(PackageSale.clinic_id == clinic_id)
        if f.plan_id is not None:
            query = query.where(PackageSale.plan_id == f.plan_id)
        if f.kind is not None:
            query = query.join(PackagePlan, PackagePlan.id == PackageSale.plan_id).where(
                PackagePlan.kind == f.kind)
    return query


class PackageReportService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def usage(self, actor: Actor, f: UsageFilter) -> list[UsageRow]:
        """Package & Membership Usage: each package used in the period, with its uses in the
        period, to date and left, by patient name."""
        require(actor, Permission.VIEW_REPORTS)
        with self.db.reading() as s:
            tz = s.get_one(Clinic, actor.clinic_id).time_zone
            lo, hi = _utc_range(f.start, f.end, tz)
            period = usage_query(f, lo, hi, actor.clinic_id).subquery()
            # Uses to date, per package in the report: an index-only lookup per row.
            to_date = (
                select(func.sum(PackageRedemption.uses))
                .where(PackageRedemption.sale_id == PackageSale.id)
                .correlate(PackageSale)
                .scalar_subquery()
            )
            # Core and stored values (ids, kinds, dates as the driver returns them): a year's
            # report is tens of thousands of rows, and per-value type handling was most of it.
            rows = s.connection().execute(
                select(raw_id(PackageSale.id, "id"), Patient.legal_first_name,
                       Patient.legal_last_name, Patient.preferred_name, PackageSale.name,
                       type_coerce(PackagePlan.kind, String).label("kind"),
                       period.c.n, to_date.label("total_used"), PackageSale.uses_total,
                       type_coerce(PackageSale.expires_on, String).label("expires_on"))
                .join(period, period.c.sale_id == PackageSale.id)
                .join(Patient, Patient.id == PackageSale.patient_id)
                .join(PackagePlan, PackagePlan.id == PackageSale.plan_id)
                .where(period.c.n != 0)
            ).all()
        uid = Ids()
        kinds = {k.value: k for k in PlanKind}
        days: dict[object, date | None] = {None: None}
        named = []
        for sale_id, first, last, preferred, package, kind, n, used, total, expires in rows:
            if expires not in days:
                days[expires] = (expires if isinstance(expires, date)
                                 else date.fromisoformat(str(expires)[:10]))
            patient = display_name_of(first, last, preferred)
            named.append((patient.lower(), package, str(sale_id), patient, kind, n, used, total,
                          days[expires], sale_id))
        named.sort()
        return [UsageRow(uid(raw), patient, package, kinds[str(kind)], int(n), int(used), total,
                         expires)
                for _, package, _, patient, kind, n, used, total, expires, raw in named]

    def record_export(self, actor: Actor, report: str, rows: int) -> None:
        """An export of a report is an audit event (who took which report, how many rows)."""
        require(actor, Permission.VIEW_REPORTS)
        with self.db.transaction() as s:
            audit.record(s, actor, "report.exported", summary=f"Exported {report} ({rows} rows)",
                         details={"report": report, "rows": rows})

    @staticmethod
    def usage_csv(rows: list[UsageRow]) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["Patient", "Package or membership", "Type", "Uses in period",
                         "Uses to date", "Uses total", "Uses left", "Expires"])
        for r in rows:
            writer.writerow([r.patient, r.package, r.kind.label, r.uses_in_period,
                             r.uses_to_date, "Unlimited" if r.uses_total is None else r.uses_total,
                             r.left_text, r.expires_on.isoformat() if r.expires_on else "Never"])
        return buffer.getvalue()

    def sales(self, actor: Actor, f: UsageFilter) -> list[SaleReportRow]:
        """Packages and membership periods sold in the period (by sale date), with what was
        paid and refunded."""
        require(actor, Permission.VIEW_REPORTS)
        with self.db.reading() as s:
            tz = s.get_one(Clinic, actor.clinic_id).time_zone
            lo, hi = _utc_range(f.start, f.end, tz)
            paid = (select(Allocation.invoice_id, func.sum(Allocation.amount_cents).label("n"))
                    .group_by(Allocation.invoice_id).subquery())
            query = (
                select(PackageSale.id, PackageSale.sold_at, Patient.legal_first_name,
                       Patient.legal_last_name, Patient.preferred_name, PackageSale.name,
                       PackagePlan.kind, Invoice.workstation, Invoice.seq, Invoice.total_cents,
                       Invoice.status, func.coalesce(paid.c.n, 0).label("paid"),
                       PackageSale.refunded_cents, PackageSale.closed_reason)
                .join(Patient, Patient.id == PackageSale.patient_id)
                .join(PackagePlan, PackagePlan.id == PackageSale.plan_id)
                .join(Invoice, Invoice.id == PackageSale.invoice_id)
                .outerjoin(paid, paid.c.invoice_id == Invoice.id)
                .where(PackageSale.clinic_id == actor.clinic_id, PackageSale.sold_at >= lo,
                       PackageSale.sold_at < hi)
                .order_by(PackageSale.sold_at)
            )
            if f.location_id is not None:
                query = query.where(PackageSale.location_id == f.location_id)
            if f.practitioner_id is not None:
                query = query.where(PackageSale.sold_by_id == f.practitioner_id)
            if f.plan_id is not None:
                query = query.where(PackageSale.plan_id == f.plan_id)
            if f.kind is not None:
                query = query.where(PackagePlan.kind == f.kind)
            rows = s.execute(query).all()
        out = [
            SaleReportRow(
                r.id, to_clinic_time(r.sold_at, tz).date(),
                display_name_of(r.legal_first_name, r.legal_last_name, r.preferred_name),
                r.name, r.kind, f"{r.workstation}-{r.seq:05d}",
                r.total_cents if r.status == InvoiceStatus.OPEN else 0, int(r.paid),
                r.refunded_cents, r.closed_reason.capitalize())
            for r in rows
        ]
        out.sort(key=lambda r: (r.sold_on, r.patient.lower(), r.package, str(r.sale_id)))
        return out

    @staticmethod
    def sales_csv(rows: list[SaleReportRow], currency: str) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["Sold on", "Patient", "Package or membership", "Type", "Invoice",
                         "Price", "Paid", "Refunded", "Closed"])
        for r in rows:
            writer.writerow([r.sold_on.isoformat(), r.patient, r.package, r.kind.label,
                             r.invoice_number, format_money(r.price_cents, currency),
                             format_money(r.paid_cents, currency),
                             format_money(r.refunded_cents, currency), r.closed])
        return buffer.getvalue()

    def my_day(self, actor: Actor, practitioner_id: uuid.UUID | None = None,
               day: date | None = None) -> list[DayRow]:
        """A practitioner's appointments of the day with each patient's packages left and
        balance, for reviewing between sessions (their own unless another is chosen)."""
        require(actor, Permission.VIEW_PATIENTS)
        who = practitioner_id or actor.staff_id
        require_own_day(actor, who)
        with self.db.reading() as s:
            clinic = s.get_one(Clinic, actor.clinic_id)
            tz = clinic.time_zone
            the_day = day or clinic_today(self.db.clock, tz)
            lo, hi = _utc_range(the_day, the_day, tz)
            appts = s.execute(
                select(Appointment, Patient, TreatmentType.name)
                .join(Patient, Patient.id == Appointment.patient_id)
                .join(TreatmentType, TreatmentType.id == Appointment.treatment_type_id)
                .where(Appointment.practitioner_id == who, Appointment.starts_at >= lo,
                       Appointment.starts_at < hi,
                       Appointment.status != AppointmentStatus.CANCELLED)
                .order_by(Appointment.starts_at)
            ).all()
            out = []
            for appt, patient, treatment in appts:
                cover = coverage_of(s, appt.id)
                balance = patient_balance(s, patient.id, clinic.currency)
                out.append(DayRow(
                    appt.id, to_clinic_time(appt.starts_at, tz), patient.id,
                    patient.display_name, treatment, cover.sale.name if cover else "",
                    self._uses_left(s, patient.id, the_day), balance.owing_cents,
                    balance.credit_cents))
            return out

    @staticmethod
    def _uses_left(s, patient_id: uuid.UUID, today: date) -> str:  # type: ignore[no-untyped-def]
        sales = s.execute(
            select(PackageSale.id, PackageSale.name, PackageSale.uses_total,
                   PackageSale.expires_on)
            .where(PackageSale.patient_id == patient_id, PackageSale.closed_at.is_(None))
            .order_by(PackageSale.sold_at)
        ).all()
        parts = []
        for sale in sales:
            if sale.expires_on is not None and sale.expires_on < today:
                continue
            used = int(s.scalar(select(func.coalesce(func.sum(PackageRedemption.uses), 0))
                                .where(PackageRedemption.sale_id == sale.id)) or 0)
            left = Usage(used, sale.uses_total, sale.expires_on).left
            if left == 0:
                continue
            parts.append(f"{sale.name}: {'unlimited' if left is None else f'{left} left'}")
        return "; ".join(parts)
