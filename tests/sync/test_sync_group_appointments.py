"""A class booked on one desk reaches the others with its participants (a synced table,
declared by being in the metadata and not LOCAL_ONLY), and each place's own package use."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from desk_app.models import AppointmentParticipant
from desk_app.models.enums import AppointmentKind
from desk_app.services.sync.tables import LOCAL_ONLY, is_synced
from tests.sync.convergence import assert_converged
from tests.sync_fixtures import SyncWorld

pytestmark = pytest.mark.pg


def test_the_participants_table_syncs() -> None:
    assert is_synced("appointment_participant")
    assert "appointment_participant" not in LOCAL_ONLY


def test_a_class_booked_on_one_desk_reaches_the_others(world: SyncWorld, patients) -> None:
    d1, d2, d3 = world.desks
    actor = d1.actor()
    options = d1.services.appointments.booking_options(actor)
    massage = next(c.id for c in options.treatments if c.label.startswith("Massage 60 min"))
    klass = d1.services.appointments.book(
        actor, patients[0], options.practitioners[0].id, massage, options.locations[0].id,
        datetime(2026, 11, 30, 7, 15), kind=AppointmentKind.CLASS, others=[patients[1]])
    d1.sync()
    d2.sync()
    d3.sync()
    with d2.db.reading() as s:
        on_d2 = {p.patient_id for p in s.scalars(select(AppointmentParticipant).where(
            AppointmentParticipant.appointment_id == klass))}
    assert on_d2 == {patients[0], patients[1]}
    [row] = d2.services.appointments.for_patient(d2.actor(), patients[1]).upcoming
    assert (row.id, row.kind, row.party) == (klass, AppointmentKind.CLASS, "class of 2")
    assert_converged(world)
