"""The demo clinic, and large clinics for benchmarks.

Rows are generated in plain Python, already in the form the database stores them (ids as
32-digit hex, times as naive UTC text, dates as ISO text, flags as 0/1, enums by value), and
written in large batches:

- on SQLite straight through the DBAPI connection with `executemany`, in one transaction, with
  foreign-key checks and fsyncs off while loading (and, for large clinics, the secondary
  indexes dropped and re-created from their own SQL afterwards); every setting is put back and
  the foreign keys are checked once at the end. The demo's 300 patients take well under a
  second, `desk-app seed --patients 100000` well under a minute.
- on any other database through SQLAlchemy Core, with the values turned back into Python
  objects first (meant for small clinics, as in tests).

The ledger written here obeys every rule the ledger service enforces (tests check it with the
same invariants): an allocation never exceeds its invoice's total or its payment's amount.
"""

from __future__ import annotations

import enum
import os
import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Date, Enum, Table, Uuid, func, insert, select

from desk_app.models.base import Base, UTCDateTime
from desk_app.models.billing import Invoice
from desk_app.models.catalog import TreatmentType
from desk_app.models.clinic import Clinic, Location
from desk_app.models.enums import (
    AppointmentStatus,
    CollectedBy,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    Role,
)
from desk_app.models.staff import Staff
from desk_app.services.auth import hash_password
from desk_app.services.db import Database
from desk_app.services.demo_credentials import DEMO_PASSWORD, DEMO_WORKSTATION
from desk_app.services.demo_packages import DEMO_PACKAGE_PATIENTS, add_demo_packages
from desk_app.services.invoicing import LineAmounts, line_amounts
from desk_app.services.search_rows import SQLITE_PREFIXES_FROM_TOKENS
from desk_app.services.search_tokens import (
    PatientSearchFields,
    fold,
    prefixes_of,
    sort_key,
    tokens_for,
)

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


Row = dict[str, Any]
Values = tuple[Any, ...]

# The tables written here, parents before children, and the column order of their rows.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "clinic": (
        "id", "name", "time_zone", "currency", "country", "tax_numbers", "address", "phone",
        "email", "show_pronouns", "enable_add_account_credit", "idle_lock_minutes",
        "created_at", "updated_at", "version",
    ),
    "location": (
        "id", "clinic_id", "name", "address", "phone", "archived",
        "created_at", "updated_at", "version",
    ),
    "staff": (
        "id", "clinic_id", "first_name", "last_name", "username", "email", "role",
        "billing_permission", "password_hash", "title", "registration_number", "active",
        "failed_sign_ins", "locked_until", "created_at", "updated_at", "version",
    ),
    "discipline": ("id", "clinic_id", "name", "created_at", "updated_at", "version"),
    "treatment_type": (
        "id", "discipline_id", "name", "duration_minutes", "price_cents", "tax_rate_bp",
        "income_category", "archived", "created_at", "updated_at", "version",
    ),
    "product": (
        "id", "clinic_id", "name", "price_cents", "tax_rate_bp", "income_category", "archived",
        "created_at", "updated_at", "version",
    ),
    "patient": (
        "id", "clinic_id", "legal_first_name", "legal_last_name", "preferred_name", "pronouns",
        "date_of_birth", "mobile_phone", "home_phone", "email", "household_contact_name",
        "household_contact_email", "bill_to_name", "bill_to_email", "consent_texts",
        "consent_emails", "marketing_opt_in", "notes", "archived", "sort_key",
        "created_at", "updated_at", "version",
    ),
    "patient_search_token": ("patient_id", "token", "sort_key"),
    "patient_search_prefix": ("prefix", "sort_key", "patient_id"),
    "appointment": (
        "id", "clinic_id", "patient_id", "practitioner_id", "treatment_type_id", "location_id",
        "starts_at", "ends_at", "status", "notes", "created_at", "updated_at", "version",
    ),
    "invoice": (
        "id", "clinic_id", "patient_id", "location_id", "workstation", "seq", "issued_at",
        "status", "subtotal_cents", "tax_cents", "total_cents", "created_by_id", "deleted_at",
        "deleted_by_id", "created_at", "updated_at", "version",
    ),
    "invoice_line": (
        "id", "invoice_id", "position", "kind", "description", "appointment_id",
        "treatment_type_id", "product_id", "practitioner_id", "service_date", "quantity",
        "unit_price_cents", "tax_rate_bp", "subtotal_cents", "tax_cents", "total_cents",
        "income_category", "created_at",
    ),
    "payment": (
        "id", "clinic_id", "patient_id", "location_id", "method", "amount_cents", "received_at",
        "collected_by", "collected_by_staff_id", "payment_account_id", "reference", "note",
        "workstation", "created_at",
    ),
    "allocation": (
        "id", "payment_id", "invoice_id", "patient_id", "amount_cents", "created_by_id",
        "workstation", "created_at",
    ),
    # Packages and memberships (services/demo_packages.py).
    "package_plan": (
        "id", "clinic_id", "kind", "name", "price_cents", "tax_rate_bp", "income_category",
        "uses", "expiry_unit", "expiry_count", "recurrence", "additional_charge_cents",
        "auto_select", "auto_redeem_online", "shared_with_household", "archived",
        "created_at", "updated_at", "version",
    ),
    "package_plan_item": ("id", "plan_id", "treatment_type_id", "max_uses"),
    "household_member": ("id", "household_id", "patient_id"),
    "membership": (
        "id", "clinic_id", "plan_id", "patient_id", "location_id", "started_on",
        "next_period_on", "charge_card", "cancelled_at", "created_at", "updated_at", "version",
    ),
    "package_sale": (
        "id", "clinic_id", "plan_id", "patient_id", "invoice_id", "membership_id", "location_id",
        "sold_by_id", "name", "price_cents", "income_category", "uses_total",
        "additional_charge_cents", "auto_select", "shared_with_household", "sold_at",
        "expires_on", "closed_at", "closed_reason", "refunded_cents",
        "created_at", "updated_at", "version",
    ),
    "package_sale_item": ("id", "sale_id", "treatment_type_id", "max_uses"),
    "package_redemption": (
        "id", "sale_id", "appointment_id", "patient_id", "treatment_type_id", "practitioner_id",
        "location_id", "visit_at", "uses", "reverses_id", "created_by_id", "workstation",
        "created_at",
    ),
}  # fmt: skip
# Tables whose primary key is the table (without rowid on SQLite); their columns above are in
# key order, so sorting the rows sorts them by key.
_KEY_ORDERED = frozenset({"patient_search_prefix"})
_BATCH_ROWS = 100_000  # rows held in memory before they are written
_BULK_PATIENTS = 20_000  # from this size on, SQLite loads in bulk mode (see _sqlite_load)


def _check_columns() -> None:
    """Every column written here exists, and every column left out may be left out."""
    for name, columns in _COLUMNS.items():
        table = Base.metadata.tables[name]
        unknown = set(columns) - set(table.columns.keys())
        if unknown:
            raise RuntimeError(f"demo rows for {name} name unknown columns {sorted(unknown)}")
        _left_out(name)


def _left_out(name: str) -> dict[str, Any]:
    """Columns of `name` the demo rows do not give, with the value each gets (storage form).

    Columns added after this module was written get their scalar Python default, or NULL if
    nullable without one (SQLAlchemy Core would do the same); columns with a server default
    are left to the database. Anything else needs adding to _COLUMNS and the rows.
    """
    table = Base.metadata.tables[name]
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.name in _COLUMNS[name] or column.server_default is not None:
            continue
        default = column.default
        if default is not None and default.is_scalar:
            values[column.name] = _storage(getattr(default, "arg", None))
        elif default is None and column.nullable:
            values[column.name] = None
        else:
            raise RuntimeError(f"demo rows for {name} need a value for {column.name}")
    return values


def _storage(value: Any) -> Any:
    """A Python value as SQLAlchemy stores it on SQLite."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return _ts(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# ----- values in storage form --------------------------------------------------------------


def _ts(moment: datetime) -> str:
    """A UTC-aware time as SQLAlchemy's DateTime stores it on SQLite: naive UTC text."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


_UUID4_VERSION = bytes((b & 0x0F) | 0x40 for b in range(256))
_UUID4_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))


class _Ids:
    """Random version-4 UUIDs as 32 hex digits (how the Uuid type stores them on SQLite).

    Made 4096 at a time from os.urandom: the same ids as uuid.uuid4().hex, several times faster.
    """

    def __init__(self) -> None:
        self._ready: list[str] = []

    def __call__(self) -> str:
        if not self._ready:
            raw = bytearray(os.urandom(16 * 4096))
            raw[6::16] = raw[6::16].translate(_UUID4_VERSION)
            raw[8::16] = raw[8::16].translate(_UUID4_VARIANT)
            text = raw.hex()
            self._ready = [text[i : i + 32] for i in range(0, len(text), 32)]
            self._ready.reverse()
        return self._ready.pop()


def _stamp(moment: str) -> Row:
    return {"created_at": moment, "updated_at": moment, "version": 1}


# ----- writers ------------------------------------------------------------------------------


class _Writer:
    """Collects rows per table (tuples in _COLUMNS order) and writes them parents first."""

    def __init__(self) -> None:
        _check_columns()
        self.new_id = _Ids()
        # Prefix rows left to SQL once every token is written (a bulk load on SQLite).
        self.prefixes_later = False
        # The lists stay the same objects for the writer's life, so callers may keep appenders.
        self.rows: dict[str, list[Values]] = {name: [] for name in _COLUMNS}

    def add(self, table: str, row: Row) -> str:
        """Queue one row given by column name; returns its id (made here unless given)."""
        columns = _COLUMNS[table]
        if "id" in columns and "id" not in row:
            row["id"] = self.new_id()
        self.rows[table].append(tuple(row[c] for c in columns))
        return str(row.get("id", ""))

    def pending(self) -> int:
        return sum(len(batch) for batch in self.rows.values())

    def flush(self) -> None:
        for name, batch in self.rows.items():
            if batch:
                self._write(name, batch.copy())
                batch.clear()

    def _write(self, table: str, rows: list[Values]) -> None:
        raise NotImplementedError


class _SqliteWriter(_Writer):
    """executemany on the DBAPI connection: no per-value type processing."""

    def __init__(self, connection: Any) -> None:
        super().__init__()
        self._connection = connection

    def _write(self, table: str, rows: list[Values]) -> None:
        if table in _KEY_ORDERED:
            rows.sort()  # each batch goes into the table's key in order
        left_out = _left_out(table)
        columns = (*_COLUMNS[table], *left_out)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        if left_out:
            extra = tuple(left_out.values())
            rows = [row + extra for row in rows]
        self._connection.executemany(sql, rows)


class _CoreWriter(_Writer):
    """SQLAlchemy Core inserts for other databases, values turned back into Python objects.

    Columns the rows leave out get their defaults from SQLAlchemy itself.
    """

    def __init__(self, execute: Callable[[Table, list[Row]], None]) -> None:
        super().__init__()
        self._execute = execute

    def _write(self, table: str, rows: list[Values]) -> None:
        columns = _COLUMNS[table]
        convert = _python_converters(Base.metadata.tables[table])
        identity = _same
        converters = [convert.get(c, identity) for c in columns]
        self._execute(
            Base.metadata.tables[table],
            [
                {
                    c: (f(v) if v is not None else None)
                    for c, f, v in zip(columns, converters, row, strict=True)
                }
                for row in rows
            ],
        )


def _same(value: Any) -> Any:
    return value


def _python_converters(table: Table) -> dict[str, Callable[[Any], Any]]:
    converters: dict[str, Callable[[Any], Any]] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, UTCDateTime):
            converters[column.name] = _parse_ts
        elif isinstance(kind, Uuid):
            converters[column.name] = _parse_uuid
        elif isinstance(kind, Enum) and kind.enum_class is not None:
            converters[column.name] = kind.enum_class
        elif isinstance(kind, Boolean):
            converters[column.name] = bool
        elif isinstance(kind, Date):
            converters[column.name] = date.fromisoformat
    return converters


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _parse_uuid(text: str) -> uuid.UUID:
    return uuid.UUID(hex=text)


@contextmanager
def _writer(db: Database, *, bulk: bool = False) -> Iterator[_Writer]:
    """A writer inside one transaction: everything it wrote is committed, or nothing is."""
    if db.dialect != "sqlite":
        with db.transaction() as s:

            def execute(table: Table, rows: list[Row]) -> None:
                s.execute(insert(table), rows)

            core = _CoreWriter(execute)
            yield core
            core.flush()
        return
    pooled = db.engine.raw_connection()
    try:
        with _sqlite_load(pooled.driver_connection, bulk=bulk) as connection:
            fast = _SqliteWriter(connection)
            fast.prefixes_later = bulk
            yield fast
            fast.flush()
            if bulk:
                for statement in SQLITE_PREFIXES_FROM_TOKENS:
                    connection.execute(statement)
    finally:
        pooled.close()


@contextmanager
def _sqlite_load(connection: Any, *, bulk: bool) -> Iterator[Any]:
    """One transaction on the sqlite3 connection, with loading-time settings put back after.

    Always without fsyncs (synchronous=OFF). With `bulk`, also: foreign keys not checked row by
    row (the same generator's small runs are checked), the rollback journal in memory instead
    of the WAL, a 256 MB page cache, and the secondary indexes of the loaded tables dropped first
    and re-created from their own SQL text before the commit (building an index from the
    finished table is much faster than updating it row by row). A failure rolls all of it back.
    """

    def pragma(name: str) -> Any:
        return connection.execute(f"PRAGMA {name}").fetchone()[0]

    saved_isolation = connection.isolation_level
    saved = {name: int(pragma(name)) for name in ("foreign_keys", "synchronous", "cache_size")}
    left_wal = False
    connection.isolation_level = None  # explicit BEGIN / COMMIT below
    try:
        connection.execute("PRAGMA synchronous=OFF")
        if bulk:
            connection.execute("PRAGMA foreign_keys=OFF")
            connection.execute("PRAGMA cache_size=-262144")
        if bulk and str(pragma("journal_mode")).lower() == "wal":
            # Only possible when no other connection has the file open; else stay in WAL.
            left_wal = str(pragma("journal_mode=MEMORY")).lower() == "memory"
        connection.execute("BEGIN IMMEDIATE")
        try:
            indexes: list[str] = []
            if bulk:
                tables = ", ".join(f"'{t}'" for t in _COLUMNS)
                found = connection.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    f"AND sql IS NOT NULL AND tbl_name IN ({tables}) ORDER BY name"
                ).fetchall()
                for name, sql in found:
                    connection.execute(f'DROP INDEX "{name}"')
                    indexes.append(sql)
            yield connection
            for sql in indexes:
                connection.execute(sql)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    finally:
        if left_wal:
            connection.execute("PRAGMA journal_mode=WAL")
        for name, value in saved.items():
            connection.execute(f"PRAGMA {name}={value}")
        connection.isolation_level = saved_isolation


@dataclass
class _Catalog:
    clinic_id: str
    time_zone: str
    locations: list[str]
    practitioners: list[tuple[str, str]]  # id, discipline name
    treatments: dict[str, list[tuple[str, int, int, int, str]]]  # by discipline
    front_desk: str


def create_demo_clinic(
    db: Database, patients: int = 300, seed: int = 7, workstation: str = DEMO_WORKSTATION
) -> uuid.UUID:
    """Create the demo clinic: staff of every role, patients and a year of history."""
    rnd = random.Random(seed)
    now = db.clock.now()
    with _writer(db, bulk=patients >= _BULK_PATIENTS) as out:
        catalog = _build_clinic(out, _ts(now))
        first_patients, last_seq = _build_patients(out, catalog, patients, now, rnd, workstation)
        if len(first_patients) >= DEMO_PACKAGE_PATIENTS:
            add_demo_packages(out, catalog, first_patients, last_seq, now, workstation)
    return uuid.UUID(hex=catalog.clinic_id)


def _build_clinic(out: _Writer, now: str) -> _Catalog:
    clinic_id = out.add(
        "clinic",
        {
            "name": "Maple Grove Wellness",
            "time_zone": "America/Toronto",
            "currency": "CAD",
            "country": "CA",
            "tax_numbers": "HST 81234 5678 RT0001",
            "address": "120 King Street West, Toronto ON M5H 1A1",
            "phone": "416-555-0100",
            "email": "hello@maplegrove.example",
            "show_pronouns": 1,
            "enable_add_account_credit": 1,
            "idle_lock_minutes": 15,
            **_stamp(now),
        },
    )
    locations = [
        out.add(
            "location",
            {
                "clinic_id": clinic_id,
                "name": name,
                "address": address,
                "phone": phone,
                "archived": 0,
                **_stamp(now),
            },
        )
        for name, address, phone in (
            ("Downtown", "120 King St W", "416-555-0100"),
            ("Riverside", "8 Mill Rd", "416-555-0200"),
        )
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
    ) -> str:
        return out.add(
            "staff",
            {
                "clinic_id": clinic_id,
                "first_name": first,
                "last_name": last,
                "username": username,
                "email": f"{username}@maplegrove.example",
                "role": role.value,
                "billing_permission": int(billing),
                "password_hash": password,
                "title": title,
                "registration_number": reg,
                "active": 1,
                "failed_sign_ins": 0,
                "locked_until": None,
                **_stamp(now),
            },
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
    treatments: dict[str, list[tuple[str, int, int, int, str]]] = {}
    for name, items in disciplines.items():
        discipline_id = out.add("discipline", {"clinic_id": clinic_id, "name": name, **_stamp(now)})
        treatments[name] = [
            (
                out.add(
                    "treatment_type",
                    {
                        "discipline_id": discipline_id,
                        "name": t,
                        "duration_minutes": d,
                        "price_cents": p,
                        "tax_rate_bp": tax,
                        "income_category": name,
                        "archived": 0,
                        **_stamp(now),
                    },
                ),
                d,
                p,
                tax,
                t,
            )
            for t, d, p, tax in items
        ]
    for name, price, tax in (("Exercise band", 1800, 1300), ("Hot/cold pack", 2500, 1300)):
        out.add(
            "product",
            {
                "clinic_id": clinic_id,
                "name": name,
                "price_cents": price,
                "tax_rate_bp": tax,
                "income_category": "Products",
                "archived": 0,
                **_stamp(now),
            },
        )
    return _Catalog(clinic_id, "America/Toronto", locations, practitioners, treatments, front_desk)


class _Names:
    """Per-name work done once: search tokens and prefixes of the name parts, sort key, e-mail
    spelling."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], tuple[frozenset[str], frozenset[str], str]] = {}
        self._ascii: dict[str, str] = {}

    def tokens_and_key(
        self, first: str, last: str, preferred: str
    ) -> tuple[frozenset[str], frozenset[str], str]:
        """(tokens, listed prefixes of those tokens, sort key) of a name."""
        key = (first, last, preferred)
        found = self._tokens.get(key)
        if found is None:
            fields = PatientSearchFields(first, last, preferred, None, "", "", "")
            tokens = frozenset(tokens_for(fields))
            found = (tokens, frozenset(prefixes_of(tokens)), sort_key(last, first, preferred))
            self._tokens[key] = found
        return found

    def ascii(self, text: str) -> str:
        found = self._ascii.get(text)
        if found is None:
            found = "".join(c for c in fold(text) if c.isalnum())
            self._ascii[text] = found
        return found


class _Times:
    """Visit times: a clinic-local slot as UTC storage text, each slot converted once."""

    def __init__(self, time_zone: str) -> None:
        self.tz = ZoneInfo(time_zone)
        self._slots: dict[tuple[date, int, int, int], tuple[str, str]] = {}

    def visit(self, day: date, hour: int, minute: int, minutes: int) -> tuple[str, str]:
        """(start, end) of a visit of `minutes` starting at hour:minute, as UTC text."""
        key = (day, hour, minute, minutes)
        found = self._slots.get(key)
        if found is None:
            local = datetime.combine(day, time(hour, minute)).replace(tzinfo=self.tz)
            starts = local.astimezone(UTC)
            found = (_ts(starts), _ts(starts + timedelta(minutes=minutes)))
            self._slots[key] = found
        return found


def _build_patients(
    out: _Writer,
    cat: _Catalog,
    count: int,
    now: datetime,
    rnd: random.Random,
    workstation: str,
) -> tuple[list[str], int]:
    """`count` patients with up to a year of visits, invoices and payments.

    Rows are appended as tuples in _COLUMNS order (this loop makes ~1.4 million of them for
    100,000 patients); the random draws are made in a fixed order, so a seed always gives the
    same clinic. Returns the ids of the first few patients (the demo's package holders) and
    the last invoice number used.
    """
    first_patients: list[str] = []
    times = _Times(cat.time_zone)
    names = _Names()
    amounts_of: dict[tuple[int, int], LineAmounts] = {}
    today = now.astimezone(times.tz).date()
    now_text = _ts(now)
    seq = 0
    methods = [
        PaymentMethod.CASH.value,
        PaymentMethod.DEBIT.value,
        PaymentMethod.E_TRANSFER.value,
        PaymentMethod.CHEQUE.value,
    ]
    arrived = AppointmentStatus.ARRIVED.value
    outcomes = [arrived, AppointmentStatus.NO_SHOW.value, AppointmentStatus.CANCELLED.value]
    booked = AppointmentStatus.BOOKED.value
    open_status = InvoiceStatus.OPEN.value
    appointment_kind = LineKind.APPOINTMENT.value
    by_staff = CollectedBy.STAFF.value
    clinic_id, desk = cat.clinic_id, cat.front_desk
    new_id = out.new_id
    add_patient = out.rows["patient"].append
    add_tokens = out.rows["patient_search_token"].extend
    add_prefixes = out.rows["patient_search_prefix"].extend
    prefixes_later = out.prefixes_later
    add_appointment = out.rows["appointment"].append
    add_invoice = out.rows["invoice"].append
    add_line = out.rows["invoice_line"].append
    add_payment = out.rows["payment"].append
    add_allocation = out.rows["allocation"].append
    for n in range(count):
        if n % 1000 == 999 and out.pending() >= _BATCH_ROWS:
            out.flush()
        first = FIRST[rnd.randrange(len(FIRST))]
        last = LAST[rnd.randrange(len(LAST))]
        preferred = NICKNAMES.get(first, "") if rnd.random() < 0.3 else ""
        if n == 0:
            first, last, preferred = "Madeleine", "Ødegård-Nguyễn", "Maddy"
        dob = date(1940 + rnd.randrange(75), 1 + rnd.randrange(12), 1 + rnd.randrange(28))
        mobile = f"416-555-{(n * 37 + 1000) % 10000:04d}" if rnd.random() < 0.9 else ""
        email = f"{names.ascii(first)}.{names.ascii(last)}{n}@mail.example".lower()
        name_tokens, name_prefixes, key = names.tokens_and_key(first, last, preferred)
        pronouns = rnd.choice(PRONOUNS)
        consent_texts = int(bool(mobile) and rnd.random() < 0.8)
        consent_emails = int(rnd.random() < 0.9)
        marketing = int(rnd.random() < 0.3)
        patient_id = new_id()
        if n < DEMO_PACKAGE_PATIENTS:
            first_patients.append(patient_id)
        add_patient(
            (
                patient_id, clinic_id, first, last, preferred, pronouns, dob.isoformat(),
                mobile, "", email, "", "", "", "", consent_texts, consent_emails, marketing,
                "", 0, key, now_text, now_text, 1,
            )
        )  # fmt: skip
        # tokens_for is a union over the fields, so the names' part is made once per name.
        own = tokens_for(PatientSearchFields("", "", "", dob, mobile, "", email))
        add_tokens((patient_id, t, key) for t in sorted(own | name_tokens))
        if not prefixes_later:
            add_prefixes((x, key, patient_id) for x in prefixes_of(own) | name_prefixes)
        practitioner, discipline = cat.practitioners[rnd.randrange(len(cat.practitioners))]
        treatments = cat.treatments[discipline]
        visits = rnd.randrange(0, 13) if count <= 5000 else rnd.randrange(0, 6)
        if n == 0:
            visits = 8  # the first patient always has history, a balance owing and credit
        # Maddy's last visit is upcoming and her second-last is left owing.
        owing_from = visits - (2 if n == 0 else 1 if rnd.random() < 0.15 else 0)
        for v in range(visits):
            treatment_id, minutes, price, tax, treatment_name = rnd.choice(treatments)
            day = today - timedelta(days=rnd.randrange(1, 365))
            if v == visits - 1 and (n == 0 or rnd.random() < 0.25):
                day = today + timedelta(days=rnd.randrange(1, 21))
            hour = 8 + rnd.randrange(10)
            starts, ends = times.visit(day, hour, rnd.choice([0, 30]), minutes)
            if day > today:
                status = booked
            else:
                status = arrived if n == 0 else rnd.choices(outcomes, [90, 4, 6])[0]
            location = cat.locations[rnd.randrange(len(cat.locations))]
            appointment_id = new_id()
            add_appointment(
                (
                    appointment_id, clinic_id, patient_id, practitioner, treatment_id,
                    location, starts, ends, status, "", starts, starts, 1,
                )
            )  # fmt: skip
            if status != arrived:
                continue
            seq += 1
            amounts = amounts_of.get((price, tax))
            if amounts is None:
                amounts = amounts_of[(price, tax)] = line_amounts(price, 1, tax)
            subtotal, tax_cents, total = (
                amounts.subtotal_cents,
                amounts.tax_cents,
                amounts.total_cents,
            )
            # Invoiced, and paid if at all, when the visit ends.
            invoice_id = new_id()
            add_invoice(
                (
                    invoice_id, clinic_id, patient_id, location, workstation, seq, ends,
                    open_status, subtotal, tax_cents, total, desk, None, None, ends, ends, 1,
                )
            )  # fmt: skip
            add_line(
                (
                    new_id(), invoice_id, 0, appointment_kind, treatment_name, appointment_id,
                    treatment_id, None, practitioner, starts, 1, price, tax, subtotal,
                    tax_cents, total, discipline, ends,
                )
            )  # fmt: skip
            if v >= owing_from:
                continue  # left owing
            extra = 5000 if rnd.random() < 0.08 or (n == 0 and v == 0) else 0  # paid ahead
            payment_id = new_id()
            add_payment(
                (
                    payment_id, clinic_id, patient_id, location, rnd.choice(methods),
                    total + extra, ends, by_staff, desk, None, "", "", workstation, ends,
                )
            )  # fmt: skip
            add_allocation(
                (new_id(), payment_id, invoice_id, patient_id, total, desk, workstation, ends)
            )
    return first_patients, seq


def add_patient_with_history(
    db: Database,
    *,
    invoices: int = 500,
    payments: int = 800,
    years: int = 5,
    seed: int = 11,
    workstation: str = "HISTORY",
) -> uuid.UUID:
    """Add one patient with years of visits, invoices and payments to an existing clinic.

    For benchmarks of opening a long profile. Every invoice is for a visit; `payments - invoices`
    of them are paid in two parts, the others in one, except the three newest, which are left
    owing; three payments made ahead are held as credit. Nothing is applied beyond an invoice's
    total or a payment's amount.
    """
    if payments < invoices:
        raise ValueError("need at least one payment per invoice")
    rnd = random.Random(seed)
    now = db.clock.now()
    with db.reading() as s:
        clinic = s.scalars(select(Clinic).limit(1)).one()
        clinic_id = clinic.id.hex
        time_zone = clinic.time_zone
        location_ids = [
            i.hex for i in s.scalars(select(Location.id).where(Location.clinic_id == clinic.id))
        ]
        practitioner = s.scalars(
            select(Staff.id).where(Staff.role == Role.PRACTITIONER).order_by(Staff.username)
        ).first()
        desk = s.scalars(select(Staff.id).order_by(Staff.username)).first()
        treatment = s.scalars(select(TreatmentType).order_by(TreatmentType.name)).first()
        last_seq = s.scalar(select(func.max(Invoice.seq)).where(Invoice.workstation == workstation))
        if practitioner is None or desk is None or treatment is None or not location_ids:
            raise ValueError("the clinic needs a practitioner, a treatment and a location")
        treatment_id = treatment.id.hex
        minutes = treatment.duration_minutes
        treatment_price = treatment.price_cents
        tax_rate = treatment.tax_rate_bp
        amounts = line_amounts(treatment_price, 1, tax_rate)
        treatment_name = treatment.name
        category = treatment.income_category
    times = _Times(time_zone)
    today = now.astimezone(times.tz).date()
    now_text = _ts(now)
    seq = int(last_seq or 0)
    split = payments - invoices  # invoices paid in two parts
    history_key = sort_key("Longhistory", "Harriet")
    with _writer(db) as out:
        patient_id = out.add(
            "patient",
            {
                "clinic_id": clinic_id,
                "legal_first_name": "Harriet",
                "legal_last_name": "Longhistory",
                "preferred_name": "",
                "pronouns": "she/her",
                "date_of_birth": "1961-07-04",
                "mobile_phone": "416-555-7777",
                "home_phone": "",
                "email": "harriet.longhistory@mail.example",
                "household_contact_name": "",
                "household_contact_email": "",
                "bill_to_name": "",
                "bill_to_email": "",
                "consent_texts": 1,
                "consent_emails": 1,
                "marketing_opt_in": 0,
                "notes": "",
                "archived": 0,
                "sort_key": history_key,
                **_stamp(now_text),
            },
        )
        fields = PatientSearchFields(
            "Harriet",
            "Longhistory",
            "",
            date(1961, 7, 4),
            "416-555-7777",
            "",
            "harriet.longhistory@mail.example",
        )
        history_tokens = tokens_for(fields)
        out.rows["patient_search_token"].extend(
            (patient_id, t, history_key) for t in sorted(history_tokens)
        )
        if not out.prefixes_later:
            out.rows["patient_search_prefix"].extend(
                (x, history_key, patient_id) for x in sorted(prefixes_of(history_tokens))
            )
        span = 365 * years
        days = sorted(rnd.randrange(1, span) for _ in range(invoices))
        for i, ago in enumerate(reversed(days)):
            hour, minute = 8 + rnd.randrange(10), rnd.choice([0, 30])
            starts_text, ends_text = times.visit(today - timedelta(days=ago), hour, minute, minutes)
            location = location_ids[i % len(location_ids)]
            appointment_id = out.add(
                "appointment",
                {
                    "clinic_id": clinic_id,
                    "patient_id": patient_id,
                    "practitioner_id": practitioner.hex,
                    "treatment_type_id": treatment_id,
                    "location_id": location,
                    "starts_at": starts_text,
                    "ends_at": ends_text,
                    "status": AppointmentStatus.ARRIVED.value,
                    "notes": "",
                    **_stamp(starts_text),
                },
            )
            seq += 1
            invoice_id = out.add(
                "invoice",
                {
                    "clinic_id": clinic_id,
                    "patient_id": patient_id,
                    "location_id": location,
                    "workstation": workstation,
                    "seq": seq,
                    "issued_at": ends_text,
                    "status": InvoiceStatus.OPEN.value,
                    "subtotal_cents": amounts.subtotal_cents,
                    "tax_cents": amounts.tax_cents,
                    "total_cents": amounts.total_cents,
                    "created_by_id": desk.hex,
                    "deleted_at": None,
                    "deleted_by_id": None,
                    **_stamp(ends_text),
                },
            )
            out.add(
                "invoice_line",
                {
                    "invoice_id": invoice_id,
                    "position": 0,
                    "kind": LineKind.APPOINTMENT.value,
                    "description": treatment_name,
                    "appointment_id": appointment_id,
                    "treatment_type_id": treatment_id,
                    "product_id": None,
                    "practitioner_id": practitioner.hex,
                    "service_date": starts_text,
                    "quantity": 1,
                    "unit_price_cents": treatment_price,
                    "tax_rate_bp": tax_rate,
                    "subtotal_cents": amounts.subtotal_cents,
                    "tax_cents": amounts.tax_cents,
                    "total_cents": amounts.total_cents,
                    "income_category": category,
                    "created_at": ends_text,
                },
            )
            if i >= invoices - 3:
                continue  # the newest three are owing
            first_part = amounts.total_cents // 2 if i < split else amounts.total_cents
            for part in (first_part, amounts.total_cents - first_part):
                if part > 0:
                    _pay(
                        out,
                        clinic_id,
                        patient_id,
                        location,
                        desk.hex,
                        workstation,
                        ends_text,
                        part,
                        invoice_id,
                    )
        for k in range(3):  # paid ahead: credit on the account
            _pay(
                out,
                clinic_id,
                patient_id,
                location_ids[0],
                desk.hex,
                workstation,
                _ts(now - timedelta(days=k + 1)),
                2500,
                None,
            )
    return uuid.UUID(hex=patient_id)


def _pay(
    out: _Writer,
    clinic_id: str,
    patient_id: str,
    location_id: str,
    staff_id: str,
    workstation: str,
    when: str,
    amount: int,
    invoice_id: str | None,
) -> None:
    payment_id = out.add(
        "payment",
        {
            "clinic_id": clinic_id,
            "patient_id": patient_id,
            "location_id": location_id,
            "method": PaymentMethod.DEBIT.value,
            "amount_cents": amount,
            "received_at": when,
            "collected_by": CollectedBy.STAFF.value,
            "collected_by_staff_id": staff_id,
            "payment_account_id": None,
            "reference": "",
            "note": "",
            "workstation": workstation,
            "created_at": when,
        },
    )
    if invoice_id is not None:
        out.add(
            "allocation",
            {
                "payment_id": payment_id,
                "invoice_id": invoice_id,
                "patient_id": patient_id,
                "amount_cents": amount,
                "created_by_id": staff_id,
                "workstation": workstation,
                "created_at": when,
            },
        )
