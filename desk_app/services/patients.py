"""Finding patients, opening a profile, adding and editing a patient's details."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    ScalarSelect,
    Select,
    String,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from desk_app.models.audit import AuditEvent
from desk_app.models.clinic import Clinic
from desk_app.models.patient import Patient, PatientSearchToken
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.clock import clinic_today
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, NotFound
from desk_app.services.patient_input import PatientInput, clean_patient_input
from desk_app.services.permissions import Permission, require
from desk_app.services.search_tokens import (
    PatientSearchFields,
    prefix_upper_bound,
    query_terms,
    sort_key,
    tokens_for,
)

SEARCH_LIMIT = 50


@dataclass(frozen=True, slots=True)
class PatientSummary:
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
    """Rebuild one patient's search tokens and sort key from their current details."""
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
    session.execute(delete(PatientSearchToken).where(PatientSearchToken.patient_id == patient.id))
    session.add_all(
        PatientSearchToken(patient_id=patient.id, token=t) for t in sorted(tokens_for(fields))
    )


# How search_statement picks its way of finding patients (see there). Counts are of search
# tokens: a patient has several per term ("walsh" matches the name and the e-mail's "walsh12").
RARE_TERM_TOKENS = 6_000  # below this, listing a term's patients is always cheap enough
COMMON_TERM_TOKENS = 15_000  # from this on, walking in name order meets matches soon enough
NAME_BLOCK_PATIENTS = 200  # this many sort keys starting with a term: it is a last name


Bounds = list[tuple[Any, Any]]  # (lower, upper) of each alternative of a term


def _ranges(column: Any, bounds: Bounds) -> ColumnElement[bool]:
    """`column` starts with one of the alternatives (an index range scan per alternative)."""
    return or_(*(and_(column >= low, column < high) for low, high in bounds))


def _count_upto(cap: int, table: Any, condition: ColumnElement[bool]) -> ScalarSelect[int]:
    """How many rows meet `condition`, reading no more than `cap` of them."""
    upto = select(literal(1)).select_from(table).where(condition).limit(cap).subquery()
    return select(func.count()).select_from(upto).scalar_subquery()


def search_statement(query: str, limit: int = SEARCH_LIMIT) -> Select[Any] | None:
    """The SELECT behind the search box: every term must prefix-match one of a patient's tokens.

    Results are ordered by sort key then id, at most `limit` of them. On 100,000 patients "m"
    matches 21,000 and "walsh" 2,500, so no single plan is quick for every keystroke. The
    statement first counts, through the indexes and never further than needed, each term's
    matching tokens and the sort keys starting with it, then runs the one way that suits:

    - all lists: some term is rare (< RARE_TERM_TOKENS tokens) and none common
      (< COMMON_TERM_TOKENS): each term's patients are listed from the token index and the
      patients on every list sorted ("liam smith"). Checking a list needs no table row.
    - one list: the first rare term's patients are listed and the other terms checked for each
      by an index probe ("liam s": the list of "s" would cost too much). Also used for a term
      that is not common and starts many sort keys, i.e. a last name ("w", "odegard"): its
      matches all sit late in name order, where a walk would take long to reach them.
    - walk: every term is common ("m", "416"): patients are read in sort-key order and each
      checked by an index probe per term, stopping at `limit` matches, which takes a few
      hundred rows. (Several common terms that rarely meet, such as initials "m s", make a
      long walk: the one slow case left, 0.1-0.3 s on 100,000 patients.)

    Each way is a branch of a UNION ALL whose LIMIT is zero unless it is the chosen one; the
    database evaluates LIMIT first and skips the other branches. Building the statement costs
    more than running it for most keystrokes, so it is built once per shape (the number of
    terms and of their alternatives) with bound parameters, and only the values change.
    """
    terms = query_terms(query)
    if not terms:
        return None
    values: dict[str, Any] = {"search_limit": limit}
    for i, alternatives in enumerate(terms):
        for j, alt in enumerate(alternatives):
            values[f"low_{i}_{j}"] = alt
            values[f"high_{i}_{j}"] = prefix_upper_bound(alt)
    return _search_template(tuple(len(alternatives) for alternatives in terms)).params(values)


@lru_cache(maxsize=64)
def _search_template(shape: tuple[int, ...]) -> Select[Any]:
    """search_statement for queries of this shape: `shape[i]` alternatives for term i."""
    terms: list[Bounds] = [
        [
            (bindparam(f"low_{i}_{j}", type_=String), bindparam(f"high_{i}_{j}", type_=String))
            for j in range(size)
        ]
        for i, size in enumerate(shape)
    ]
    limit = bindparam("search_limit", type_=Integer)
    counts = select(
        *(
            _count_upto(
                COMMON_TERM_TOKENS, PatientSearchToken, _ranges(PatientSearchToken.token, bounds)
            ).label(f"t{i}")
            for i, bounds in enumerate(terms)
        ),
        *(
            _count_upto(NAME_BLOCK_PATIENTS, Patient, _ranges(Patient.sort_key, bounds)).label(
                f"n{i}"
            )
            for i, bounds in enumerate(terms)
        ),
    ).cte("search_counts")
    k = len(terms)
    rare = [counts.c[f"t{i}"] < RARE_TERM_TOKENS for i in range(k)]
    not_common = [counts.c[f"t{i}"] < COMMON_TERM_TOKENS for i in range(k)]
    last_name = [and_(not_common[i], counts.c[f"n{i}"] >= NAME_BLOCK_PATIENTS) for i in range(k)]
    # The plan: k = collect through the token lists of all terms (some term is rare and none
    # is common: the lists are cheap to build, and checking a list needs no table row);
    # i < k = collect term i's patients, checking the others by an index probe each (some
    # other term is common: its list would cost too much); -1 = walk.
    all_lists = [(and_(or_(*rare), *not_common), k)] if k > 1 else []
    plan = select(
        case(
            *all_lists,
            *((rare[i], i) for i in range(k)),
            *((last_name[i], i) for i in range(k)),
            else_=-1,
        ).label("plan")
    ).select_from(counts)
    chosen = plan.scalar_subquery()

    def term_in(bounds: Bounds) -> ColumnElement[bool]:
        """The patient is among the term's matches: a list built from the token index."""
        token = aliased(PatientSearchToken)
        return Patient.id.in_(select(token.patient_id).where(_ranges(token.token, bounds)))

    def term_exists(bounds: Bounds) -> ColumnElement[bool]:
        """The patient has a matching token: one index probe per patient checked."""
        token = aliased(PatientSearchToken)
        return exists().where(token.patient_id == Patient.id, _ranges(token.token, bounds))

    def branch(use: ColumnElement[bool], *conditions: ColumnElement[bool]) -> Select[Any]:
        ids = (
            select(Patient.id, Patient.sort_key)
            .where(Patient.archived.is_(False), *conditions)
            .order_by(Patient.sort_key, Patient.id)
            .limit(case((use, limit), else_=0))
            .subquery()
        )
        return select(ids.c.id)

    branches = [
        branch(
            chosen == i,
            term_in(bounds),
            *(term_exists(other) for j, other in enumerate(terms) if j != i),
        )
        for i, bounds in enumerate(terms)
    ]
    if k > 1:
        branches.append(branch(chosen == k, *(term_in(bounds) for bounds in terms)))
    branches.append(branch(chosen == -1, *(term_exists(bounds) for bounds in terms)))
    found = union_all(*branches).subquery("found")
    return (
        select(Patient)
        .join(found, found.c.id == Patient.id)
        .order_by(Patient.sort_key, Patient.id)
        .limit(limit)
    )


class PatientService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def search(self, actor: Actor, query: str, limit: int = SEARCH_LIMIT) -> list[PatientSummary]:
        require(actor, Permission.VIEW_PATIENTS)
        stmt = search_statement(query[:200], limit)
        if stmt is None:
            return []
        with self.db.reading() as s:
            return [summary_of(p) for p in s.scalars(stmt)]

    def get(self, actor: Actor, patient_id: uuid.UUID) -> PatientDetails:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            return details_of(self._load(s, patient_id))

    def open_profile(self, actor: Actor, patient_id: uuid.UUID) -> PatientDetails:
        """Open a patient's profile; the view is logged so 'recent patients' and audits work."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.transaction() as s:
            p = self._load(s, patient_id)
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
            rows = s.scalars(
                select(Patient)
                .join(last_seen, last_seen.c.patient_id == Patient.id)
                .where(Patient.archived.is_(False))
                .order_by(last_seen.c.seen.desc())
                .limit(limit)
            )
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
