"""Finding patients, opening a profile, adding and editing a patient's details."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    intersect,
    literal,
    or_,
    select,
    type_coerce,
    union,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.types import NullType

from desk_app.models.appointment import Appointment
from desk_app.models.audit import AuditEvent
from desk_app.models.clinic import Clinic
from desk_app.models.patient import (
    Patient,
    PatientSearchPrefix,
    PatientSearchToken,
    display_name_of,
    legal_name_of,
)
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.clock import clinic_today
from desk_app.services.db import Database
from desk_app.services.driver_statements import driver_connection, fetch_all
from desk_app.services.errors import Conflict, NotFound
from desk_app.services.patient_access import (
    own_patient_clause,
    require_patient,
    sees_only_own_patients,
)
from desk_app.services.patient_input import PatientInput, clean_patient_input
from desk_app.services.permissions import Permission, require
from desk_app.services.row_ids import Ids, raw_id, uuid_of_hex
from desk_app.services.search_rows import SearchRows, replace_search_rows
from desk_app.services.search_tokens import (
    PREFIX_LENGTH,
    PatientSearchFields,
    prefix_upper_bound,
    query_terms,
    sort_key,
    tokens_for,
)

SEARCH_LIMIT = 50


class PatientSummary(NamedTuple):
    """A patient as a list of patients shows them (immutable; a tuple, since search makes 50
    per keystroke and a frozen dataclass took three times as long to make)."""

    id: uuid.UUID
    display_name: str
    legal_name: str
    date_of_birth: date | None
    mobile_phone: str
    email: str


@dataclass(frozen=True, slots=True)
class PatientDetails:
    id: uuid.UUID
    version: int
    display_name: str
    data: PatientInput


def summary_of(p: Patient) -> PatientSummary:
    return PatientSummary(
        id=p.id,
        display_name=p.display_name,
        legal_name=p.legal_name,
        date_of_birth=p.date_of_birth,
        mobile_phone=p.mobile_phone,
        email=p.email,
    )


def details_of(p: Patient) -> PatientDetails:
    data = PatientInput(**{name: getattr(p, name) for name in PatientInput.__slots__})
    return PatientDetails(id=p.id, version=p.version, display_name=p.display_name, data=data)


def refresh_search_tokens(session: Session, patient: Patient) -> None:
    """Rebuild one patient's search tokens, prefixes and sort key from their current details
    (the patient row must be flushed already)."""
    patient.sort_key = sort_key(
        patient.legal_last_name, patient.legal_first_name, patient.preferred_name
    )
    fields = PatientSearchFields(
        legal_first_name=patient.legal_first_name,
        legal_last_name=patient.legal_last_name,
        preferred_name=patient.preferred_name,
        date_of_birth=patient.date_of_birth,
        mobile_phone=patient.mobile_phone,
        email=patient.email,
        home_phone=patient.home_phone,
    )
    replace_search_rows(
        session.connection(), [SearchRows(patient.id, patient.sort_key, tokens_for(fields))]
    )


# How find_patients reads the index (see there). Counts are of search tokens: a patient
# has several per term ("walsh" matches the name and the e-mail's "walsh12").
COMMON_TERM_TOKENS = 20_000  # every term has this many: read patients in name order instead
FIRST_ROWS_PER_RESULT = 4  # the rarest term's list is first read this many rows per result
NEAR_TERM_FACTOR = 2  # other terms with up to this many times its tokens are listed too
USE_PREFIX_LISTS = True  # read terms from patient_search_prefix where a merge of lists can
PREFIX_LIST_TOKENS_PER_RESULT = 4  # ...when every term has this many tokens per result wanted
PROBED_TERM_TOKENS_PER_RESULT = 20  # ...and a term longer than the prefixes this many


Bounds = list[tuple[Any, Any]]  # (lower, upper) bound parameters of each alternative of a term
Rows = Select[*tuple[Any, ...]]  # a SELECT of any columns
Shape = tuple[int, ...]  # the number of alternatives of each term


def _bounds(shape: Shape) -> list[Bounds]:
    return [
        [
            (bindparam(f"low_{i}_{j}", type_=String), bindparam(f"high_{i}_{j}", type_=String))
            for j in range(size)
        ]
        for i, size in enumerate(shape)
    ]


def _ranges(column: Any, bounds: Bounds) -> ColumnElement[bool]:
    """`column` starts with one of the alternatives (an index range scan per alternative)."""
    return or_(*(and_(column >= low, column < high) for low, high in bounds))


def _has_token(patient_id: Any, bounds: Bounds) -> ColumnElement[bool]:
    """The patient has a token matching the term: one probe of the (patient_id, token) key."""
    token = aliased(PatientSearchToken)
    # SELECT of key columns only: the probe never reads the table row (EXISTS (SELECT *) would).
    probe = select(token.token).where(token.patient_id == patient_id, _ranges(token.token, bounds))
    return probe.exists()


def _not_archived(
    patient_id: ColumnElement[uuid.UUID] | InstrumentedAttribute[uuid.UUID],
) -> ColumnElement[bool]:
    """Not an archived patient (read from ix_patient_archived, which holds only those)."""
    return patient_id.not_in(select(Patient.id).where(Patient.archived.is_(True)))


def _own(patient_id: Any) -> ColumnElement[bool]:
    """A practitioner's own patient (services.patient_access), the practitioner bound as
    `practitioner_id`: a probe of the appointment and participant indexes."""
    staff = bindparam("practitioner_id", type_=Appointment.__table__.c.practitioner_id.type)
    return own_patient_clause(staff, patient_id)


def _term_list(bounds: Bounds) -> tuple[Any, Rows]:
    """(token alias, SELECT sort_key, patient_id of the term's tokens): index-only."""
    token = aliased(PatientSearchToken)
    return token, select(token.sort_key, token.patient_id).where(_ranges(token.token, bounds))


@lru_cache(maxsize=64)
def _at_least_statement(shape: Shape) -> Rows:
    """Whether each term has at least `at_least_{i}` tokens (reads no further than that)."""

    def at_least(i: int, bounds: Bounds) -> ColumnElement[bool]:
        return (
            select(literal(1))
            .select_from(PatientSearchToken)
            .where(_ranges(PatientSearchToken.token, bounds))
            .limit(1)
            .offset(bindparam(f"skip_{i}", type_=Integer))
            .exists()
        )

    return select(*(at_least(i, b).label(f"t{i}") for i, b in enumerate(_bounds(shape))))


@lru_cache(maxsize=64)
def _count_statement(shape: Shape, common: int) -> Rows:
    """Each term's number of tokens, counted no further than `common`."""

    def counted(bounds: Bounds) -> ColumnElement[int]:
        matching = _ranges(PatientSearchToken.token, bounds)
        at_least_common = (
            select(literal(1))
            .select_from(PatientSearchToken)
            .where(matching)
            .limit(1)
            .offset(common - 1)
            .exists()
        )
        count = select(func.count()).select_from(PatientSearchToken).where(matching)
        return case((at_least_common, common), else_=count.scalar_subquery())

    return select(*(counted(bounds).label(f"t{i}") for i, bounds in enumerate(_bounds(shape))))


# What the search list shows of each patient (PatientSummary), selected as columns.
# The id and date of birth as the driver returns them (converted in _summaries, faster than
# the column types' own result processing).
_SUMMARY_COLUMNS = (
    raw_id(Patient.id),
    Patient.legal_first_name,
    Patient.legal_last_name,
    Patient.preferred_name,
    type_coerce(Patient.date_of_birth, NullType()).label("date_of_birth"),
    Patient.mobile_phone,
    Patient.email,
)


def _summaries(rows: list[Any]) -> list[PatientSummary]:
    """The summaries of rows that start with _SUMMARY_COLUMNS (by position: a Row's
    attribute access cost more than everything else done per row). Each patient is listed
    once, so ids are made straight from SQLite's 32 hex digits (PostgreSQL's driver already
    returns uuid.UUID)."""
    if not rows:
        return []
    make_id: Any = uuid_of_hex if isinstance(rows[0][0], str) else Ids()
    summary = PatientSummary  # positional: keyword arguments cost a third more per row
    return [
        summary(
            make_id(row[0]),
            display_name_of(row[1], row[2], row[3]),
            legal_name_of(row[1], row[2]),
            _date_of(row[4]),
            row[5],
            row[6],
        )
        for row in rows
    ]


def _date_of(stored: Any) -> date | None:
    """A date column's value as the driver returns it (ISO text on SQLite) as a date."""
    return date.fromisoformat(stored) if isinstance(stored, str) else stored


def _summaries_of(found: Any) -> Rows:
    """The summary columns of the patients in subquery `found` (sort_key, patient_id)."""
    return (
        select(*_SUMMARY_COLUMNS)
        .join_from(found, Patient, Patient.id == found.c.patient_id)
        .order_by(found.c.sort_key, found.c.patient_id)
    )


@lru_cache(maxsize=64)
def _walk_statement(shape: Shape, own: bool = False) -> Rows:
    """Patients in name order, each checked by a probe per term, until `limit` match."""
    return (
        select(*_SUMMARY_COLUMNS)
        .where(Patient.archived.is_(False), *(_has_token(Patient.id, b) for b in _bounds(shape)),
               *([_own(Patient.id)] if own else []))
        .order_by(Patient.sort_key, Patient.id)
        .limit(bindparam("search_limit", type_=Integer))
    )


@lru_cache(maxsize=64)
def _first_rows_statement(shape: Shape, rarest: int, own: bool = False) -> Rows:
    """The first `limit` patients among the first `first_rows` rows of the rarest term's list
    in name order who match the other terms (checked for these rows only), and how many rows
    were read (`rows_read`)."""
    terms = _bounds(shape)
    token, rows = _term_list(terms[rarest])
    first = (
        rows.where(_not_archived(token.patient_id))
        .order_by(token.sort_key, token.patient_id)
        .limit(bindparam("first_rows", type_=Integer))
        .subquery("first_rows")
    )
    # rows_read is counted over the rows themselves: a second read of them would cost as much.
    counted = select(first, func.count().over().label("rows_read")).subquery("counted")
    others = [_has_token(counted.c.patient_id, b) for i, b in enumerate(terms) if i != rarest]
    if own:
        others.append(_own(counted.c.patient_id))
    hits = select(counted).where(*others).distinct().subquery("hits")
    return (
        _summaries_of(hits)
        .add_columns(hits.c.rows_read)
        .limit(bindparam("search_limit", type_=Integer))
    )


@lru_cache(maxsize=64)
def _whole_list_statement(
    shape: Shape, rarest: int, near: tuple[int, ...], far: tuple[int, ...], own: bool = False
) -> Rows:
    """The first `limit` patients on the rarest term's whole list (and on the `near` terms'
    lists) who also match the `far` terms, in name order."""
    terms = _bounds(shape)
    limit = bindparam("search_limit", type_=Integer)
    token, rarest_rows = _term_list(terms[rarest])
    rarest_rows = rarest_rows.where(_not_archived(token.patient_id))
    if own:
        rarest_rows = rarest_rows.where(_own(token.patient_id))
    if near:
        # A sorted merge of the lists: each is sorted once, then walked side by side.
        rarest_rows = rarest_rows.where(*(_has_token(token.patient_id, terms[i]) for i in far))
        merged = intersect(rarest_rows, *(_term_list(terms[i])[1] for i in near))
        found = (
            merged.order_by(merged.selected_columns.sort_key, merged.selected_columns.patient_id)
            .limit(limit)
            .subquery("found")
        )
    else:
        # One list: each patient on it once, then probed for the other terms.
        listed = (
            rarest_rows.distinct().order_by(token.sort_key, token.patient_id).subquery("listed")
        )
        found = (
            select(listed.c.sort_key, listed.c.patient_id)
            .where(*(_has_token(listed.c.patient_id, terms[i]) for i in far))
            .order_by(listed.c.sort_key, listed.c.patient_id)
            .limit(limit)
            .subquery("found")
        )
    return _summaries_of(found)


@lru_cache(maxsize=64)
def _prefix_lists_statement(longer: tuple[tuple[bool, ...], ...], own: bool = False) -> Rows:
    """The first `limit` patients, in name order, on the prefix lists of every term (the
    patients under an alternative's first PREFIX_LENGTH characters, stored in name order);
    an alternative longer than that (`longer[i][j]`) is checked by a probe for each patient
    read from its list.

    One term: its list read from the start (the lists of its alternatives merged, for a
    term such as "416-5"), stopping at the `limit`th patient. Several terms, one alternative
    each: the lists merged side by side in name order (SQLite's merge of an ordered
    INTERSECT), stopping at the `limit`th patient on all of them. Nothing is sorted and no
    patient is probed unless a term is longer than the listed prefixes."""
    terms = _bounds(tuple(len(alternatives) for alternatives in longer))
    limit = bindparam("search_limit", type_=Integer)
    lists: list[Rows] = []
    for i, alternatives in enumerate(longer):
        for j, probed in enumerate(alternatives):
            listed = aliased(PatientSearchPrefix)
            rows = select(listed.sort_key, listed.patient_id).where(
                listed.prefix == bindparam(f"prefix_{i}_{j}", type_=String)
            )
            if i == 0:  # every alternative of the first term: its rows start the result
                rows = rows.where(_not_archived(listed.patient_id))
                if own:
                    rows = rows.where(_own(listed.patient_id))
            if probed:
                rows = rows.where(_has_token(listed.patient_id, [terms[i][j]]))
            lists.append(rows)
    if len(lists) == 1:
        found = (
            lists[0].order_by(listed.sort_key, listed.patient_id).limit(limit).subquery("found")
        )
    else:
        merged = union(*lists) if len(longer) == 1 else intersect(*lists)
        order = (merged.selected_columns.sort_key, merged.selected_columns.patient_id)
        found = merged.order_by(*order).limit(limit).subquery("found")
    return _summaries_of(found)


def find_patients(
    s: Session | Connection,
    query: str,
    limit: int = SEARCH_LIMIT,
    practitioner_id: uuid.UUID | None = None,
) -> list[PatientSummary]:
    """The search box's rule: every term must prefix-match one of a patient's tokens; archived
    patients are left out; the first `limit` by sort key, then id. With `practitioner_id`,
    only that practitioner's own patients (services.patient_access), checked in every plan
    below as one more probe per patient read.

    On 100,000 patients "m" matches 21,000 and "walsh" 2,500, so no single plan is quick for
    every keystroke. The patients under the first PREFIX_LENGTH characters of every token
    are listed in name order (patient_search_prefix): a single term is the first `limit`
    rows of its list (or of its alternatives' lists merged); several terms with one
    alternative each, or a longer term, use the lists (a merge, see
    _prefix_lists_statement) unless
    some term has fewer than PREFIX_LIST_TOKENS_PER_RESULT tokens per result wanted (or a
    longer term fewer than PROBED_TERM_TOKENS_PER_RESULT: each patient on its prefix's list
    is probed, which only pays when most of them match), when the ways below read that
    rare term's tokens whole. Otherwise (several terms, one of which also reads as a
    number or date: "maddy 1985-03") each term's tokens are counted first (no further than
    COMMON_TERM_TOKENS), then:

    - every term common ("m", "416", "(416) 5"): patients are read in sort-key order, each
      checked by an index probe per term, until `limit` match (a few hundred rows).
    - else the rarest term's list, read from the token index alone, which holds each token's
      sort key: first its first FIRST_ROWS_PER_RESULT * `limit` rows in name order, the other
      terms checked for those only. That settles single terms ("smi") and terms whose
      companions are common ("priya p", "(416) 555-1"), unless some patient matches it
      through many tokens. Otherwise the whole list: merged with the lists of terms of a
      similar size ("liam smith"), and checked for the others by a probe per patient on it
      ("liam s").

    Results never depend on the counts, only the time taken; tests/test_search_plans.py forces
    each way and compares it with the rule worked out in Python. Statements are built once per
    shape (terms and their alternatives), with the values bound at execution.
    """
    conn, dialect = driver_connection(s)
    return search_on(conn, dialect, query, limit, practitioner_id)


def search_on(
    conn: Any,
    dialect: Dialect,
    query: str,
    limit: int = SEARCH_LIMIT,
    practitioner_id: uuid.UUID | None = None,
) -> list[PatientSummary]:
    """find_patients on the driver's own connection `conn` (services.driver_statements)."""
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []

    def run(statement: Rows, bound: dict[str, Any]) -> list[Any]:
        return fetch_all(conn, dialect, statement, bound)

    shape = tuple(len(alternatives) for alternatives in terms)
    values: dict[str, Any] = {"search_limit": limit, "practitioner_id": practitioner_id}
    own = practitioner_id is not None
    for i, alternatives in enumerate(terms):
        for j, alt in enumerate(alternatives):
            values[f"low_{i}_{j}"] = alt
            values[f"high_{i}_{j}"] = prefix_upper_bound(alt)
    # A merge of lists takes one list per term: several terms need one alternative each.
    if USE_PREFIX_LISTS and (len(terms) == 1 or max(shape) == 1):
        longer = tuple(tuple(len(alt) > PREFIX_LENGTH for alt in alts) for alts in terms)
        for i, alternatives in enumerate(terms):
            for j, alt in enumerate(alternatives):
                values[f"prefix_{i}_{j}"] = alt[:PREFIX_LENGTH]
        if len(terms) == 1 and not any(longer[0]):
            return _summaries(run(_prefix_lists_statement(longer, own), values))
        wanted = [
            (PROBED_TERM_TOKENS_PER_RESULT if any(probed) else PREFIX_LIST_TOKENS_PER_RESULT)
            * limit
            for probed in longer
        ]
        # "At least n tokens": the n-th token exists (n of 0 or 1: the term matches at all).
        skips = {f"skip_{i}": max(n - 1, 0) for i, n in enumerate(wanted)}
        if all(run(_at_least_statement(shape), {**values, **skips})[0]):
            return _summaries(run(_prefix_lists_statement(longer, own), values))
    counts = list(run(_count_statement(shape, COMMON_TERM_TOKENS), values)[0])
    if min(counts) >= COMMON_TERM_TOKENS:
        return _summaries(run(_walk_statement(shape, own), values))
    rarest = counts.index(min(counts))
    first_rows = FIRST_ROWS_PER_RESULT * limit
    if first_rows > 0:
        rows = run(_first_rows_statement(shape, rarest, own), {**values, "first_rows": first_rows})
        # Rows come in name order and a patient's rows are adjacent: `limit` patients among
        # the first rows are the first `limit` overall, and a short list was read whole.
        if len(rows) == limit or (rows and rows[0][-1] < first_rows):  # [-1]: rows_read
            return _summaries(rows)
    others = [i for i in range(len(terms)) if i != rarest]
    near = tuple(
        i
        for i in others
        if counts[i] < COMMON_TERM_TOKENS and counts[i] <= NEAR_TERM_FACTOR * counts[rarest]
    )
    far = tuple(i for i in others if i not in near)
    whole = run(_whole_list_statement(shape, rarest, near, far, own), values)
    return _summaries(whole)


class PatientService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def search(self, actor: Actor, query: str, limit: int = SEARCH_LIMIT) -> list[PatientSummary]:
        require(actor, Permission.VIEW_PATIENTS)
        # The driver's connection from the pool, not a Session or Connection: search reads
        # columns only, and their set-up and rollback were a third of a keystroke's time
        # once the SQL took a fraction of a millisecond.
        own_of = actor.staff_id if sees_only_own_patients(actor) else None
        conn = self.db.engine.raw_connection()
        try:
            return search_on(conn, self.db.engine.dialect, query[:200], limit, own_of)
        finally:
            conn.close()

    def get(self, actor: Actor, patient_id: uuid.UUID) -> PatientDetails:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            p = self._load(s, patient_id)
            require_patient(s, actor, p.id)
            return details_of(p)

    def open_profile(self, actor: Actor, patient_id: uuid.UUID) -> PatientDetails:
        """Open a patient's profile; the view is logged so 'recent patients' and audits work."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.transaction() as s:
            p = self._load(s, patient_id)
            require_patient(s, actor, p.id)
            audit.record(s, actor, "patient.viewed", entity=p, patient_id=p.id)
            return details_of(p)

    def recent(self, actor: Actor, limit: int = 10) -> list[PatientSummary]:
        """The patients this staff member opened most recently, newest first."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            last_seen = (
                select(AuditEvent.patient_id, func.max(AuditEvent.created_at).label("seen"))
                .where(AuditEvent.staff_id == actor.staff_id)
                .where(AuditEvent.action == "patient.viewed")
                .group_by(AuditEvent.patient_id)
                .subquery()
            )
            recent = (
                select(Patient)
                .join(last_seen, last_seen.c.patient_id == Patient.id)
                .where(Patient.archived.is_(False))
                .order_by(last_seen.c.seen.desc())
                .limit(limit)
            )
            if sees_only_own_patients(actor):  # one they no longer see is left out
                recent = recent.where(own_patient_clause(actor.staff_id, Patient.id))
            rows = s.scalars(recent)
            return [summary_of(p) for p in rows]

    def create(self, actor: Actor, data: PatientInput) -> PatientDetails:
        require(actor, Permission.EDIT_PATIENTS)
        with self.db.transaction() as s:
            clinic = s.get_one(Clinic, actor.clinic_id)
            clean = clean_patient_input(data, clinic_today(self.db.clock, clinic.time_zone))
            p = Patient(clinic_id=actor.clinic_id, **clean.as_dict())
            s.add(p)
            s.flush()
            refresh_search_tokens(s, p)
            audit.record(
                s,
                actor,
                "patient.created",
                entity=p,
                patient_id=p.id,
                summary=f"Added patient {p.display_name}",
            )
            s.flush()
            return details_of(p)

    def update(
        self, actor: Actor, patient_id: uuid.UUID, data: PatientInput, expected_version: int
    ) -> PatientDetails:
        require(actor, Permission.EDIT_PATIENTS)
        with self.db.transaction() as s:
            require_patient(s, actor, patient_id)
            p = self._load(s, patient_id)
            if p.version != expected_version:
                raise Conflict(
                    f"{p.display_name}'s details were changed by someone else while you were "
                    "editing. Your changes were not saved; reopen the profile and try again."
                )
            clinic = s.get_one(Clinic, actor.clinic_id)
            clean = clean_patient_input(data, clinic_today(self.db.clock, clinic.time_zone))
            before = details_of(p).data.as_dict()
            after = clean.as_dict()
            changed = {
                k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]
            }
            if not changed:
                return details_of(p)
            for key, value in after.items():
                setattr(p, key, value)
            refresh_search_tokens(s, p)
            audit.record(
                s,
                actor,
                "patient.updated",
                entity=p,
                patient_id=p.id,
                summary="Changed " + ", ".join(sorted(changed)),
                details=changed,
            )
            s.flush()
            return details_of(p)

    @staticmethod
    def _load(s: Session, patient_id: uuid.UUID) -> Patient:
        p = s.get(Patient, patient_id)
        if p is None:
            raise NotFound("That patient no longer exists.")
        return p
