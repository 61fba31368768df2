"""Reports: Package & Membership Usage, package sales, and a practitioner's "My day".

The usage report sums redemptions in SQL from indexes alone (one grouped query with each
listed package's uses to date; see ``usage_query``), so 1,000,000 redemptions are summed by
the database, not in Python; names are read once per patient and rows are built from plain
tuples (bench/package_usage.py measures it against the same SQL run raw).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Select,
    String,
    and_,
    case,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import NullType

from desk_app.models.appointment import Appointment
from desk_app.models.billing import Allocation, Invoice
from desk_app.models.catalog import TreatmentType
from desk_app.models.clinic import Clinic
from desk_app.models.enums import AppointmentKind, AppointmentStatus, InvoiceStatus, PlanKind
from desk_app.models.money import format_money
from desk_app.models.packages import PackagePlan, PackageRedemption, PackageSale
from desk_app.models.patient import Patient, display_name_of
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.appointment_parties import participants_of
from desk_app.services.clock import clinic_local_to_utc, clinic_today, to_clinic_time
from desk_app.services.db import Database
from desk_app.services.errors import ValidationError
from desk_app.services.ledger import patient_balance
from desk_app.services.package_coverage import coverage_of
from desk_app.services.package_terms import Usage
from desk_app.services.packages import household_of
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
    """One package in the usage report (a tuple: a year's report builds tens of thousands).
    Fields in the report's order: one patient's rows sort as plain tuples."""

    patient: str
    package: str
    sale_key: object  # the package's id as stored (see ``sale_id``)
    kind: PlanKind
    uses_in_period: int
    uses_to_date: int
    uses_total: int | None
    expires_on: date | None

    @property
    def sale_id(self) -> uuid.UUID:
        """Made when asked for: a uuid.UUID per row was a sixth of a large report's time."""
        return Ids()(self.sale_key)

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


#: A period holding more than this share of the span of all redemptions is summed in one pass
#: over the index by package (uses in the period and to date together, no sort); a shorter
#: one from the index by visit time, then each listed package's uses to date by package.
LONG_PERIOD_SHARE = 0.25
#: Patients' names are read this many ids at a time (once per patient, not once per row).
_NAME_BATCH = 500


def usage_query(f: UsageFilter, lo: datetime, hi: datetime, clinic_id: uuid.UUID, *,
                long_period: bool) -> Select:  # type: ignore[type-arg]
    """Each package used in the period (net of uses given back) with its uses in the period
    and to date: the report's one heavy query. Every column it reads of a redemption or a
    package is in an index (models/packages.py), so no table row is read."""
    r = PackageRedemption
    where_who = [r.location_id == f.location_id] if f.location_id is not None else []
    if f.practitioner_id is not None:
        where_who.append(r.practitioner_id == f.practitioner_id)
    in_period = [r.visit_at >= lo, r.visit_at < hi, *where_who]
    if long_period:
        per_package = (
            select(r.sale_id, func.sum(case((and_(*in_period), r.uses), else_=0)).label("n"),
                   func.sum(r.uses).label("to_date"))
            .group_by(r.sale_id)
            .subquery()
        )
        to_date: Any = per_package.c.to_date
    else:
        per_package = (
            select(r.sale_id, func.sum(r.uses).label("n"))
            .where(*in_period)
            .group_by(r.sale_id)
            .subquery()
        )
        every = aliased(PackageRedemption)
        to_date = (select(func.sum(every.uses)).where(every.sale_id == PackageSale.id)
                   .correlate(PackageSale).scalar_subquery())
    sale = PackageSale
    query = (
        select(raw_id(sale.id, "id"), raw_id(sale.patient_id, "patient_id"),
               raw_id(sale.plan_id, "plan_id"), sale.name, sale.uses_total,
               type_coerce(sale.expires_on, String).label("expires_on"), per_package.c.n,
               to_date.label("to_date"))
        .select_from(per_package)
        .join(sale, sale.id == per_package.c.sale_id)
        .where(per_package.c.n != 0, sale.clinic_id == clinic_id)
    )
    if f.plan_id is not None:
        query = query.where(sale.plan_id == f.plan_id)
    if f.kind is not None:
        query = query.where(sale.plan_id.in_(
            select(PackagePlan.id).where(PackagePlan.clinic_id == clinic_id,
                                         PackagePlan.kind == f.kind)))
    return query


def is_long_period(s: Session, lo: datetime, hi: datetime) -> bool | None:
    """Whether [lo, hi) covers more than LONG_PERIOD_SHARE of the time between the first and
    the last visit a package was used on; None when no package was ever used. (Two index
    lookups: a min and a max each in their own subquery, which SQLite answers from the index.)
    """
    first, last = s.execute(select(
        select(func.min(PackageRedemption.visit_at)).scalar_subquery(),
        select(func.max(PackageRedemption.visit_at)).scalar_subquery())).one()
    if first is None or last is None:
        return None
    first, last = _aware(first), _aware(last)
    span = max((last - first).total_seconds(), 1.0)
    covered = (min(hi, last) - max(lo, first)).total_seconds()
    return covered / span > LONG_PERIOD_SHARE


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _patient_names(connection: Connection, patient_ids: set[object]) -> dict[object, str]:
    """Display names by stored patient id, read once per patient (a report lists many
    packages of the same patients)."""
    stored = type_coerce(Patient.id, NullType())
    ids = list(patient_ids)
    names: dict[object, str] = {}
    for first in range(0, len(ids), _NAME_BATCH):
        for pid, legal_first, legal_last, preferred in connection.execute(
                select(raw_id(Patient.id, "id"), Patient.legal_first_name,
                       Patient.legal_last_name, Patient.preferred_name)
                .where(stored.in_(ids[first:first + _NAME_BATCH]))):
            names[pid] = display_name_of(legal_first, legal_last, preferred)
    return names


def _plan_kinds(connection: Connection, clinic_id: uuid.UUID) -> dict[object, PlanKind]:
    """Package or membership, by stored plan id (a clinic has a handful of plans)."""
    return {plan: PlanKind(kind) for plan, kind in connection.execute(
        select(raw_id(PackagePlan.id, "id"), type_coerce(PackagePlan.kind, String).label("kind"))
        .where(PackagePlan.clinic_id == clinic_id))}


def _package_order(row: UsageRow) -> tuple[str, str]:
    return row.package, str(row.sale_key)


def _usage_rows(rows: Sequence[Sequence[Any]], names: dict[object, str],
                kinds: dict[object, PlanKind]) -> list[UsageRow]:
    """The report's rows in the order the desk reads them: by patient name (ignoring case),
    then package, then id. Rows are grouped by patient and each patient's few are sorted as
    plain tuples (same patient, then package, then id)."""
    make = tuple.__new__  # a NamedTuple's own __new__ is a Python call per row
    days: dict[object, date | None] = {None: None}
    by_patient: dict[object, list[UsageRow]] = {}
    # Looked up once, not per row (100,000 rows in a year's report).
    day_of, group_of, unseen, usage_row = days.get, by_patient.get, _UNSEEN, UsageRow
    for sale_id, patient_id, plan_id, package, total, expires, n, used in rows:
        day = day_of(expires, unseen)
        if day is unseen:
            day = days[expires] = (expires if isinstance(expires, date)
                                   else date.fromisoformat(str(expires)[:10]))
        group = group_of(patient_id)
        if group is None:
            group = by_patient[patient_id] = []
        group.append(make(usage_row, (
            names[patient_id], package, sale_id, kinds[plan_id], int(n), int(used), total,
            day)))
    same_name: dict[str, list[object]] = defaultdict(list)
    for patient_id in by_patient:
        same_name[names[patient_id].lower()].append(patient_id)
    out: list[UsageRow] = []
    for name in sorted(same_name):
        patients = same_name[name]
        if len(patients) == 1:
            group = by_patient[patients[0]]
            group.sort()
        else:  # two patients whose names differ only in case: their rows interleave
            group = [row for patient_id in patients for row in by_patient[patient_id]]
            group.sort(key=_package_order)
        out.extend(group)
    return out


_UNSEEN: Any = object()


class PackageReportService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def usage(self, actor: Actor, f: UsageFilter, *, long_period: bool | None = None
              ) -> list[UsageRow]:
        """Package & Membership Usage: each package used in the period, with its uses in the
        period, to date and left, by patient name. (``long_period`` chooses the query plan,
        for tests; by default it follows the period's share of the history.)"""
        require(actor, Permission.VIEW_REPORTS)
        with self.db.reading() as s:
            tz = s.get_one(Clinic, actor.clinic_id).time_zone
            lo, hi = _utc_range(f.start, f.end, tz)
            if long_period is None:
                long_period = is_long_period(s, lo, hi)
                if long_period is None:
                    return []
            # Core and stored values (ids, dates as the driver returns them): a year's report
            # is tens of thousands of rows, and per-value type handling was most of it.
            connection = s.connection()
            result = connection.execute(
                usage_query(f, lo, hi, actor.clinic_id, long_period=long_period))
            # Its columns need no result processing: the driver's own tuples, no Row objects.
            rows = result.cursor.fetchall()
            result.close()
            kinds = _plan_kinds(connection, actor.clinic_id)
            names = _patient_names(connection, {row[1] for row in rows})
        return _usage_rows(rows, names, kinds)

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
            # What was paid on each listed package's invoice only (not every invoice's).
            paid = (select(func.coalesce(func.sum(Allocation.amount_cents), 0))
                    .where(Allocation.invoice_id == PackageSale.invoice_id)
                    .correlate(PackageSale).scalar_subquery())
            query = (
                select(raw_id(PackageSale.id, "id"), PackageSale.sold_at,
                       raw_id(PackageSale.patient_id, "patient_id"),
                       raw_id(PackageSale.plan_id, "plan_id"), PackageSale.name,
                       Invoice.workstation, Invoice.seq, Invoice.total_cents,
                       type_coerce(Invoice.status, String).label("status"), paid.label("paid"),
                       PackageSale.refunded_cents, PackageSale.closed_reason)
                .join(Invoice, Invoice.id == PackageSale.invoice_id)
                .where(PackageSale.clinic_id == actor.clinic_id, PackageSale.sold_at >= lo,
                       PackageSale.sold_at < hi)
            )
            if f.location_id is not None:
                query = query.where(PackageSale.location_id == f.location_id)
            if f.practitioner_id is not None:
                query = query.where(PackageSale.sold_by_id == f.practitioner_id)
            if f.plan_id is not None:
                query = query.where(PackageSale.plan_id == f.plan_id)
            if f.kind is not None:
                query = query.where(PackageSale.plan_id.in_(
                    select(PackagePlan.id).where(PackagePlan.clinic_id == actor.clinic_id,
                                                 PackagePlan.kind == f.kind)))
            # Core, ids as stored, names once per patient: a year's sales are 100,000 rows.
            connection = s.connection()
            rows = connection.execute(query).all()
            kinds = _plan_kinds(connection, actor.clinic_id)
            names = _patient_names(connection, {row.patient_id for row in rows})
        uid, open_status = Ids(), InvoiceStatus.OPEN.value
        ordered = []
        for (sale_id, sold_at, patient_id, plan_id, package, workstation, seq, total, status,
             paid_cents, refunded, closed) in rows:
            patient = names[patient_id]
            sold_on = to_clinic_time(sold_at, tz).date()
            ordered.append((sold_on, patient.lower(), package, str(sale_id), SaleReportRow(
                uid(sale_id), sold_on, patient, package, kinds[plan_id],
                f"{workstation}-{seq:05d}", total if status == open_status else 0,
                int(paid_cents), refunded, closed.capitalize())))
        ordered.sort()  # the id is unique, so the rows themselves are never compared
        return [entry[4] for entry in ordered]

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
                # A group or class: a row for everyone still on it, each with the package
                # paying for their own place (a group's is its primary client's).
                people = [patient] if appt.kind is AppointmentKind.INDIVIDUAL else [
                    s.get_one(Patient, place.patient_id) for place in participants_of(s, appt.id)
                    if place.status != AppointmentStatus.CANCELLED]
                for person in people:
                    cover = coverage_of(s, appt.id, person.id)
                    balance = patient_balance(s, person.id, clinic.currency)
                    out.append(DayRow(
                        appt.id, to_clinic_time(appt.starts_at, tz), person.id,
                        person.display_name, treatment, cover.sale.name if cover else "",
                        self._uses_left(s, person.id, the_day), balance.owing_cents,
                        balance.credit_cents))
            return out

    @staticmethod
    def _uses_left(s, patient_id: uuid.UUID, today: date) -> str:  # type: ignore[no-untyped-def]
        # Their own packages, and those their household shares with them.
        sales = s.execute(
            select(PackageSale.id, PackageSale.name, PackageSale.uses_total,
                   PackageSale.expires_on)
            .where(PackageSale.patient_id.in_(household_of(s, patient_id)),
                   or_(PackageSale.patient_id == patient_id,
                       PackageSale.shared_with_household.is_(True)),
                   PackageSale.closed_at.is_(None))
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
