"""The search box for a practitioner: the same matching rule, among their own patients only.

A practitioner's own patients (services.patient_access) are a few hundred, so the plan is
simple: their patients from the appointment index, each checked by one token probe per term,
in name order. The rule is the search box's (services.patients.find_patients): every term
prefix-matches one of a patient's tokens, archived patients are left out, first by sort key.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from desk_app.models.patient import Patient, PatientSearchToken, display_name_of, legal_name_of
from desk_app.services.patient_access import own_patient_clause
from desk_app.services.search_tokens import prefix_upper_bound, query_terms

if TYPE_CHECKING:
    from desk_app.services.patients import PatientSummary


def find_own_patients(
    s: Session, staff_id: uuid.UUID, query: str, limit: int
) -> list[PatientSummary]:
    from desk_app.services.patients import PatientSummary  # here: patients imports this module

    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    conditions = [
        or_(
            *(
                exists().where(
                    PatientSearchToken.patient_id == Patient.id,
                    and_(
                        PatientSearchToken.token >= alt,
                        PatientSearchToken.token < prefix_upper_bound(alt),
                    ),
                )
                for alt in alternatives
            )
        )
        for alternatives in terms
    ]
    rows = s.execute(
        select(
            Patient.id,
            Patient.legal_first_name,
            Patient.legal_last_name,
            Patient.preferred_name,
            Patient.date_of_birth,
            Patient.mobile_phone,
            Patient.email,
        )
        .where(own_patient_clause(staff_id, Patient.id), Patient.archived.is_(False),
               *conditions)
        .order_by(Patient.sort_key, Patient.id)
        .limit(limit)
    )
    return [
        PatientSummary(
            id=r.id,
            display_name=display_name_of(r.legal_first_name, r.legal_last_name, r.preferred_name),
            legal_name=legal_name_of(r.legal_first_name, r.legal_last_name),
            date_of_birth=r.date_of_birth,
            mobile_phone=r.mobile_phone,
            email=r.email,
        )
        for r in rows
    ]
