"""The demo clinic, and large clinics for benchmarks.

Rows are generated in plain Python and written with Core bulk inserts: the demo's 300 patients
take well under a second, `desk-app seed --patients 100000` well under a minute. The ledger
written here obeys every rule the ledger service enforces (tests check it with the same
invariants).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from desk_app.models.appointment import Appointment
from desk_app.models.billing import Allocation, Invoice, InvoiceLine, Payment
from desk_app.models.catalog import Discipline, Product, TreatmentType
from desk_app.models.clinic import Clinic, Location
from desk_app.models.enums import (
    AppointmentStatus,
    CollectedBy,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    Role,
)
from desk_app.models.patient import Patient, PatientSearchToken
from desk_app.models.staff import Staff
from desk_app.services.auth import hash_password
from desk_app.services.db import Database
from desk_app.services.invoicing import line_amounts
from desk_app.services.search_tokens import PatientSearchFields, sort_key, tokens_for

DEMO_PASSWORD = "demo-password"
DEMO_WORKSTATION = "DEMO"

FIRST = [
    "Maddy",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Aarav",
    "Zoë",
    "Mateo",
    "Chloé",
    "Ethan",
    "Amélie",
    "Lucas",
    "Sofia",
    "Mohammed",
    "Priya",
    "Hiroshi",
    "Siobhán",
    "José",
    "Ingrid",
    "Kwame",
    "Mei",
    "François",
    "Ananya",
    "Björn",
    "Fatima",
    "Diego",
    "Aoife",
    "Nikolai",
    "Leila",
    "Owen",
    "Hannah",
    "Tariq",
    "Camille",
    "Ravi",
    "Elena",
    "Yusuf",
    "Grace",
    "Anh",
    "Marta",
    "Dmitri",
]
LAST = [
    "Smith",
    "Nguyen",
    "Tremblay",
    "Patel",
    "García",
    "O'Brien",
    "Ødegård-Nguyễn",
    "Kowalski",
    "Chen",
    "MacDonald",
    "Roy",
    "Singh",
    "Müller",
    "Haddad",
    "Kim",
    "Gagnon",
    "Rossi",
    "Okafor",
    "Lefèvre",
    "Brown",
    "Wilson",
    "Yamamoto",
    "Dubois",
    "Andersson",
    "Cohen",
    "Martin",
    "Lee",
    "Fraser",
    "Côté",
    "Novak",
    "Ahmed",
    "Walsh",
    "Ivanova",
    "Bianchi",
    "Santos",
    "Murphy",
    "Leblanc",
    "Park",
    "Hughes",
    "Schmidt",
]
NICKNAMES = {
    "Olivia": "Liv",
    "Nikolai": "Nick",
    "Dmitri": "Dima",
    "Hannah": "Annie",
    "Elena": "Lena",
    "Mohammed": "Mo",
    "Francois": "Frank",
    "Sofia": "Sophie",
}
PRONOUNS = ["she/her", "he/him", "they/them", "", "", ""]


@dataclass
class _Rows:
    tables: dict[type, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: type, **values: Any) -> uuid.UUID:
        row_id = values.setdefault("id", uuid.uuid4())
        self.tables.setdefault(table, []).append(values)
        return row_id  # type: ignore[no-any-return]


ORDER = [
    Clinic,
    Location,
    Staff,
    Discipline,
    TreatmentType,
    Product,
    Patient,
    PatientSearchToken,
    Appointment,
    Invoice,
    InvoiceLine,
    Payment,
    Allocation,
]


def _flush(db: Database, rows: _Rows) -> None:
    with db.transaction() as s:
        for table in ORDER:
            batch = rows.tables.get(table)
            if batch:
                for chunk in _chunks(batch, 20_000):
                    s.execute(insert(table), chunk)
    rows.tables.clear()


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Catalog:
    clinic_id: uuid.UUID
    currency: str
    time_zone: str
    locations: list[uuid.UUID]
    practitioners: list[tuple[uuid.UUID, str]]  # id, discipline name
    treatments: dict[str, list[tuple[uuid.UUID, int, int, int, str]]]  # by discipline
    front_desk: uuid.UUID


def create_demo_clinic(
    db: Database, patients: int = 300, seed: int = 7, workstation: str = DEMO_WORKSTATION
) -> uuid.UUID:
    """Create the demo clinic: staff of every role, patients and a year of history."""
    rnd = random.Random(seed)
    now = db.clock.now()
    rows = _Rows()
    catalog = _build_clinic(rows, now, rnd)
    _flush(db, rows)
    _build_patients(db, rows, catalog, patients, now, rnd, workstation)
    return catalog.clinic_id


def existing_clinic_id(db: Database) -> uuid.UUID | None:
    with db.reading() as s:
        return s.scalar(select(Clinic.id).limit(1))


def _stamp(now: datetime) -> dict[str, Any]:
    return {"created_at": now, "updated_at": now, "version": 1}


def _build_clinic(rows: _Rows, now: datetime, rnd: random.Random) -> _Catalog:
    clinic_id = rows.add(
        Clinic,
        name="Maple Grove Wellness",
        time_zone="America/Toronto",
        currency="CAD",
        country="CA",
        tax_numbers="HST 81234 5678 RT0001",
        address="120 King Street West, Toronto ON M5H 1A1",
        phone="416-555-0100",
        email="hello@maplegrove.example",
        show_pronouns=True,
        enable_add_account_credit=True,
        idle_lock_minutes=15,
        **_stamp(now),
    )
    locations = [
        rows.add(
            Location,
            clinic_id=clinic_id,
            name="Downtown",
            address="120 King St W",
            phone="416-555-0100",
            archived=False,
            **_stamp(now),
        ),
        rows.add(
            Location,
            clinic_id=clinic_id,
            name="Riverside",
            address="8 Mill Rd",
            phone="416-555-0200",
            archived=False,
            **_stamp(now),
        ),
    ]
    password = hash_password(DEMO_PASSWORD)

    def staff(
        first: str,
        last: str,
        username: str,
        role: Role,
        billing: bool = False,
        title: str = "",
        reg: str = "",
    ) -> uuid.UUID:
        return rows.add(
            Staff,
            clinic_id=clinic_id,
            first_name=first,
            last_name=last,
            username=username,
            email=f"{username}@maplegrove.example",
            role=role,
            billing_permission=billing,
            password_hash=password,
            title=title,
            registration_number=reg,
            active=True,
            failed_sign_ins=0,
            locked_until=None,
            **_stamp(now),
        )

    staff("Alex", "Morgan", "owner", Role.FULL_ACCESS)
    staff("Jordan", "Reyes", "office", Role.ADMIN_BILLING)
    staff("Casey", "Wu", "billing", Role.BILLING, billing=True)
    front_desk = staff("Sam", "Lee", "frontdesk", Role.FRONT_DESK, billing=True)
    staff("Robin", "Clarke", "frontdesk2", Role.FRONT_DESK)
    disciplines = {
        "Physiotherapy": [
            ("Physio initial assessment", 60, 12000, 0),
            ("Physio follow-up", 30, 8500, 0),
        ],
        "Massage Therapy": [
            ("Massage 60 min", 60, 11000, 1300),
            ("Massage 90 min", 90, 15000, 1300),
        ],
        "Chiropractic": [("Chiropractic adjustment", 15, 5500, 0)],
        "Counselling": [("Counselling session", 50, 14000, 0)],
    }
    practitioners = [
        (
            staff("Priya", "Sharma", "psharma", Role.PRACTITIONER, title="PT", reg="COPO 12345"),
            "Physiotherapy",
        ),
        (
            staff("Daniel", "Okoye", "dokoye", Role.PRACTITIONER, title="RMT", reg="CMTO U4567"),
            "Massage Therapy",
        ),
        (
            staff(
                "Mireille",
                "Gauthier",
                "mgauthier",
                Role.PRACTITIONER,
                billing=True,
                title="DC",
                reg="CCO 7788",
            ),
            "Chiropractic",
        ),
        (
            staff("Tom", "Berg", "tberg", Role.PRACTITIONER, title="RP", reg="CRPO 009911"),
            "Counselling",
        ),
    ]
    treatments: dict[str, list[tuple[uuid.UUID, int, int, int, str]]] = {}
    for name, items in disciplines.items():
        discipline_id = rows.add(Discipline, clinic_id=clinic_id, name=name, **_stamp(now))
        treatments[name] = [
            (
                rows.add(
                    TreatmentType,
                    discipline_id=discipline_id,
                    name=t,
                    duration_minutes=d,
                    price_cents=p,
                    tax_rate_bp=tax,
                    income_category=name,
                    archived=False,
                    **_stamp(now),
                ),
                d,
                p,
                tax,
                t,
            )
            for t, d, p, tax in items
        ]
    for name, price, tax in (("Exercise band", 1800, 1300), ("Hot/cold pack", 2500, 1300)):
        rows.add(
            Product,
            clinic_id=clinic_id,
            name=name,
            price_cents=price,
            tax_rate_bp=tax,
            income_category="Products",
            archived=False,
            **_stamp(now),
        )
    return _Catalog(
        clinic_id, "CAD", "America/Toronto", locations, practitioners, treatments, front_desk
    )


def _build_patients(
    db: Database,
    rows: _Rows,
    cat: _Catalog,
    count: int,
    now: datetime,
    rnd: random.Random,
    workstation: str,
) -> None:
    tz = ZoneInfo(cat.time_zone)
    today = now.astimezone(tz).date()
    seq = 0
    methods = [
        PaymentMethod.CASH,
        PaymentMethod.DEBIT,
        PaymentMethod.E_TRANSFER,
        PaymentMethod.CHEQUE,
    ]
    for n in range(count):
        first = FIRST[rnd.randrange(len(FIRST))]
        last = LAST[rnd.randrange(len(LAST))]
        preferred = NICKNAMES.get(first, "") if rnd.random() < 0.3 else ""
        if n == 0:
            first, last, preferred = "Madeleine", "Ødegård-Nguyễn", "Maddy"
        dob = date(1940 + rnd.randrange(75), 1 + rnd.randrange(12), 1 + rnd.randrange(28))
        mobile = f"416-555-{(n * 37 + 1000) % 10000:04d}" if rnd.random() < 0.9 else ""
        email = f"{_ascii(first)}.{_ascii(last)}{n}@mail.example".lower()
        fields = PatientSearchFields(first, last, preferred, dob, mobile, "", email)
        patient_id = rows.add(
            Patient,
            clinic_id=cat.clinic_id,
            legal_first_name=first,
            legal_last_name=last,
            preferred_name=preferred,
            pronouns=rnd.choice(PRONOUNS),
            date_of_birth=dob,
            mobile_phone=mobile,
            home_phone="",
            email=email,
            household_contact_name="",
            household_contact_email="",
            bill_to_name="",
            bill_to_email="",
            consent_texts=bool(mobile) and rnd.random() < 0.8,
            consent_emails=rnd.random() < 0.9,
            marketing_opt_in=rnd.random() < 0.3,
            notes="",
            archived=False,
            sort_key=sort_key(last, first, preferred),
            **_stamp(now),
        )
        for token in tokens_for(fields):
            rows.tables.setdefault(PatientSearchToken, []).append(
                {"patient_id": patient_id, "token": token}
            )
        practitioner, discipline = cat.practitioners[rnd.randrange(len(cat.practitioners))]
        visits = rnd.randrange(0, 13) if count <= 5000 else rnd.randrange(0, 6)
        if n == 0:
            visits = 8  # the first patient always has history, a balance owing and credit
        owing_from = visits - (1 if n == 0 or rnd.random() < 0.15 else 0)
        for v in range(visits):
            treatment_id, minutes, price, tax, _name = rnd.choice(cat.treatments[discipline])
            day = today - timedelta(days=rnd.randrange(1, 365))
            if v == visits - 1 and (n == 0 or rnd.random() < 0.25):
                day = today + timedelta(days=rnd.randrange(1, 21))
            start_local = datetime.combine(day, time(8 + rnd.randrange(10), rnd.choice([0, 30])))
            starts = start_local.replace(tzinfo=tz).astimezone(UTC)
            future = day > today
            status = (
                AppointmentStatus.BOOKED
                if future
                else rnd.choices(
                    [
                        AppointmentStatus.ARRIVED,
                        AppointmentStatus.NO_SHOW,
                        AppointmentStatus.CANCELLED,
                    ],
                    [90, 4, 6],
                )[0]
            )
            location = cat.locations[rnd.randrange(len(cat.locations))]
            appt_id = rows.add(
                Appointment,
                clinic_id=cat.clinic_id,
                patient_id=patient_id,
                practitioner_id=practitioner,
                treatment_type_id=treatment_id,
                location_id=location,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=minutes),
                status=status,
                notes="",
                **_stamp(starts),
            )
            if status != AppointmentStatus.ARRIVED:
                continue
            seq += 1
            amounts = line_amounts(price, 1, tax)
            billed_at = starts + timedelta(minutes=minutes)
            invoice_id = rows.add(
                Invoice,
                clinic_id=cat.clinic_id,
                patient_id=patient_id,
                location_id=location,
                workstation=workstation,
                seq=seq,
                issued_at=billed_at,
                status=InvoiceStatus.OPEN,
                subtotal_cents=amounts.subtotal_cents,
                tax_cents=amounts.tax_cents,
                total_cents=amounts.total_cents,
                created_by_id=cat.front_desk,
                deleted_at=None,
                deleted_by_id=None,
                **_stamp(billed_at),
            )
            rows.add(
                InvoiceLine,
                invoice_id=invoice_id,
                position=0,
                kind=LineKind.APPOINTMENT,
                description=_name,
                appointment_id=appt_id,
                treatment_type_id=treatment_id,
                product_id=None,
                practitioner_id=practitioner,
                service_date=starts,
                quantity=1,
                unit_price_cents=price,
                tax_rate_bp=tax,
                subtotal_cents=amounts.subtotal_cents,
                tax_cents=amounts.tax_cents,
                total_cents=amounts.total_cents,
                income_category=discipline,
                created_at=billed_at,
            )
            if v >= owing_from:
                continue  # left owing
            extra = 5000 if rnd.random() < 0.08 or (n == 0 and v == 0) else 0  # paid ahead
            payment_id = rows.add(
                Payment,
                clinic_id=cat.clinic_id,
                patient_id=patient_id,
                location_id=location,
                method=rnd.choice(methods),
                amount_cents=amounts.total_cents + extra,
                received_at=billed_at,
                collected_by=CollectedBy.STAFF,
                collected_by_staff_id=cat.front_desk,
                payment_account_id=None,
                reference="",
                note="",
                workstation=workstation,
                created_at=billed_at,
            )
            rows.add(
                Allocation,
                payment_id=payment_id,
                invoice_id=invoice_id,
                patient_id=patient_id,
                amount_cents=amounts.total_cents,
                created_by_id=cat.front_desk,
                workstation=workstation,
                created_at=billed_at,
            )
        if sum(len(v) for v in rows.tables.values()) > 200_000:
            _flush(db, rows)
    _flush(db, rows)


def _ascii(text: str) -> str:
    from desk_app.services.search_tokens import fold

    return "".join(c for c in fold(text) if c.isalnum())
