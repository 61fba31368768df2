"""Book again: copies of past appointments into the future, with a warning first when
auto-selected packages would be used up by them.

The FAQ's trap ("a staff member booked appointments copied from their previous visit -
sneaky!"): each copy is auto-covered by an auto-selected package, so copies silently
consume uses. Here the desk first gets a plan: which package each copy would use, how many
uses that takes and how many are left, and how many copies would be billed normally. The
plan is the booking itself, run and rolled back, so it uses the very rules the booking will
(who may use it, eligible items, per-item limits, expiry on the booked date, paid, used up).
Then the desk books with packages, books without using packages, or cancels; the booking is
one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from desk_app.models.appointment import Appointment
from desk_app.models.catalog import TreatmentType
from desk_app.models.clinic import Clinic
from desk_app.models.enums import AppointmentKind, AppointmentStatus
from desk_app.models.packages import PackageSale
from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.appointment_parties import name_of, participant, participants_of
from desk_app.services.appointments import Booking, book_in, practitioner_label
from desk_app.services.clock import clinic_today, to_clinic_time
from desk_app.services.db import Database
from desk_app.services.errors import NotFound, ValidationError
from desk_app.services.package_coverage import uses_of
from desk_app.services.packages import PackageService
from desk_app.services.permissions import Permission, has_permission, require

MAX_COPIES = 52
MAX_WEEKS = 52


@dataclass(frozen=True, slots=True)
class CopyRequest:
    """Copy each of ``source_ids`` ``count`` times, ``every_weeks`` apart. The first copy is
    on ``first_on`` (at the source's time) or, when None, on the source's weekday the first
    time it comes round (every ``every_weeks`` weeks from the source) after today.
    Practitioner, treatment, location, time and participants are kept."""

    patient_id: uuid.UUID
    source_ids: tuple[uuid.UUID, ...]
    count: int = 1
    every_weeks: int = 1
    first_on: date | None = None


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    starts_local: datetime  # naive clinic time
    treatment: str
    practitioner: str
    kind: AppointmentKind
    # The package each place would use ("" when billed normally), one per payer.
    packages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PackageDraw:
    """How many uses of one package the new bookings would take, and how many it has left."""

    sale_id: uuid.UUID
    package_name: str
    purchaser: str
    uses: int
    left_before: int | None  # None: unlimited

    @property
    def text(self) -> str:
        if self.left_before is None:
            return f"{self.uses} use{'s' if self.uses != 1 else ''} of {self.package_name} " \
                   "(unlimited)"
        if self.uses == self.left_before:
            if self.uses == 1:
                return f"the last use left on {self.package_name}"
            return f"all {self.left_before} uses left on {self.package_name}"
        return f"{self.uses} of the {self.left_before} uses left on {self.package_name}"


@dataclass(frozen=True, slots=True)
class CopyPlan:
    visits: list[PlannedVisit]
    draws: list[PackageDraw] = field(default_factory=list)
    places: int = 0  # visits, counting each class participant's place
    billed_normally: int = 0

    @property
    def warning(self) -> str:
        """"These 4 visits would use all 3 uses left on 10 Massages; 1 would be billed
        normally." ("" when no package would be used)."""
        if not self.draws:
            return ""
        purchasers = {d.purchaser for d in self.draws}
        parts = [d.text + (f" ({d.purchaser})" if len(purchasers) > 1 else "")
                 for d in self.draws]
        what = "visits" if self.places != 1 else "visit"
        text = f"{'These' if self.places != 1 else 'This'} {self.places} {what} would use " \
               f"{' and '.join(parts)}"
        if self.billed_normally:
            text += f"; {self.billed_normally} would be billed normally"
        return text + "."


@dataclass(frozen=True, slots=True)
class CopiesBooked:
    appointment_ids: list[uuid.UUID]
    plan: CopyPlan

    @property
    def message(self) -> str:
        n = len(self.appointment_ids)
        booked = f"Booked {n} appointment{'s' if n != 1 else ''}."
        if not self.plan.draws:
            return booked
        used = sum(d.uses for d in self.plan.draws)
        names = ", ".join(dict.fromkeys(d.package_name for d in self.plan.draws))
        return f"{booked} {used} use{'s' if used != 1 else ''} of {names} applied."


def copy_times(source_local: datetime, today: date, request: CopyRequest) -> list[datetime]:
    """The copies of one visit (naive clinic times), in order. Pure: tested on its own."""
    step = timedelta(weeks=request.every_weeks)
    if request.first_on is not None:
        first = datetime.combine(request.first_on, source_local.time())
    else:
        first = source_local + step
        while first.date() <= today:
            first += step
    return [first + step * k for k in range(request.count)]


class AppointmentCopyService:
    def __init__(self, db: Database, packages: PackageService) -> None:
        self.db = db
        self.packages = packages

    def plan(self, actor: Actor, request: CopyRequest, *,
             use_packages: bool = True) -> CopyPlan:
        """What booking these copies would do, packages included, without booking them: the
        booking run inside a transaction that is rolled back."""
        require(actor, Permission.BOOK_APPOINTMENTS)
        use_packages = use_packages and has_permission(actor, Permission.CREATE_INVOICE)
        with self.db.reading() as s:  # reading(): always rolled back
            _, plan = self._book(s, actor, request, use_packages)
            return plan

    def book(self, actor: Actor, request: CopyRequest, *,
             use_packages: bool = True) -> CopiesBooked:
        """Book the copies in one transaction; with ``use_packages``, auto-selected packages
        cover them in date order (as the plan said), otherwise every copy is billed
        normally."""
        require(actor, Permission.BOOK_APPOINTMENTS)
        if use_packages:
            require(actor, Permission.CREATE_INVOICE)
        with self.db.transaction() as s:
            ids, plan = self._book(s, actor, request, use_packages)
            audit.record(s, actor, "appointment.copied", patient_id=request.patient_id,
                         summary=f"Booked {len(ids)} cop{'ies' if len(ids) != 1 else 'y'} of "
                                 f"past appointments"
                                 + (f": {plan.warning}" if plan.warning else
                                    "" if use_packages else " without using packages"),
                         details={"sources": [str(x) for x in request.source_ids],
                                  "use_packages": use_packages,
                                  "appointments": [str(x) for x in ids]})
            return CopiesBooked(ids, plan)

    # ----- the one way both go -------------------------------------------------------------

    def _book(self, s: Session, actor: Actor, request: CopyRequest,
              use_packages: bool) -> tuple[list[uuid.UUID], CopyPlan]:
        _check(request)
        tz = s.get_one(Clinic, actor.clinic_id).time_zone
        today = clinic_today(self.db.clock, tz)
        if request.first_on is not None and request.first_on <= today:
            raise ValidationError("Choose a date after today for the first copy.", "date")
        bookings = sorted(self._bookings(s, actor, request, tz, today),
                          key=lambda b: b.starts_local)
        ids: list[uuid.UUID] = []
        visits: list[PlannedVisit] = []
        taken: dict[uuid.UUID, int] = {}  # uses each package takes, in the order first used
        left: dict[uuid.UUID, int | None] = {}  # its uses left before these bookings
        sales: dict[uuid.UUID, PackageSale] = {}
        places = covered = 0
        for booking in bookings:
            appt = book_in(s, actor, booking)
            ids.append(appt.id)
            payers = ([p.patient_id for p in participants_of(s, appt.id)]
                      if appt.kind is AppointmentKind.CLASS else [appt.patient_id])
            used: list[str] = []
            for payer in payers:
                places += 1
                sale = self.packages.auto_redeem_in(s, actor, appt, payer) \
                    if use_packages else None
                used.append(sale.name if sale else "")
                if sale is None:
                    continue
                covered += 1
                if sale.id not in sales:  # this booking's use is already counted: add it back
                    sales[sale.id] = sale
                    left[sale.id] = (None if sale.uses_total is None
                                     else sale.uses_total - uses_of(s, sale.id) + 1)
                taken[sale.id] = taken.get(sale.id, 0) + 1
            visits.append(PlannedVisit(
                booking.starts_local, s.get_one(TreatmentType, appt.treatment_type_id).name,
                practitioner_label(s.get_one(Staff, appt.practitioner_id)), appt.kind,
                tuple(used)))
        plan_draws = [
            PackageDraw(sid, sales[sid].name, name_of(s, sales[sid].patient_id), n, left[sid])
            for sid, n in taken.items()
        ]
        billed = places - covered if plan_draws else 0
        return ids, CopyPlan(visits, plan_draws, places, billed)

    def _bookings(self, s: Session, actor: Actor, request: CopyRequest, tz: str,
                  today: date) -> Iterator[Booking]:
        for source_id in dict.fromkeys(request.source_ids):
            source = s.get(Appointment, source_id)
            if source is None or source.clinic_id != actor.clinic_id:
                raise NotFound("One of the chosen appointments no longer exists.")
            if (source.patient_id != request.patient_id
                    and participant(s, source, request.patient_id) is None):
                raise NotFound("One of the chosen appointments is not this patient's.")
            others: tuple[uuid.UUID, ...] = ()
            if source.kind is not AppointmentKind.INDIVIDUAL:
                others = tuple(p.patient_id for p in participants_of(s, source.id)
                               if p.patient_id != source.patient_id
                               and p.status is not AppointmentStatus.CANCELLED)
            local = to_clinic_time(source.starts_at, tz).replace(tzinfo=None)
            for when in copy_times(local, today, request):
                yield Booking(source.patient_id, source.practitioner_id,
                              source.treatment_type_id, source.location_id, when, source.kind,
                              others)


def _check(request: CopyRequest) -> None:
    if not request.source_ids:
        raise ValidationError("Select one or more past appointments to book again.")
    if not 1 <= request.count <= MAX_COPIES:
        raise ValidationError(f"Book between 1 and {MAX_COPIES} copies of each.", "count")
    if not 1 <= request.every_weeks <= MAX_WEEKS:
        raise ValidationError(f"Repeat every 1 to {MAX_WEEKS} weeks.", "every_weeks")
