"""Push, pull, conflicts and convergence with a real PostgreSQL and three SQLite caches."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from desk_app.models import Patient, Payment, PaymentMethod
from desk_app.models.sync import SyncOutbox
from tests.search_rows_check import assert_prefixes_follow_tokens
from tests.sync.convergence import assert_converged
from tests.sync_fixtures import SyncWorld

pytestmark = pytest.mark.pg


def test_a_cash_payment_on_one_desk_reaches_the_others(world: SyncWorld, patients) -> None:
    d1, d2, d3 = world.desks
    d1.services.ledger.record_payment(d1.actor(), patients[1], PaymentMethod.CASH, 2500)
    with d1.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(SyncOutbox)) > 0
    d1.sync()
    d2.sync()
    d3.sync()
    for desk in (d2, d3):
        with desk.db.reading() as s:
            amounts = sorted(s.scalars(select(Payment.amount_cents)
                                       .where(Payment.patient_id == patients[1])))
        assert amounts == [2500, 5000]
    assert_converged(world)


def _rename(desk, patient_id, **changes) -> None:  # type: ignore[no-untyped-def]
    from desk_app.services.patient_input import PatientInput

    svc = desk.services.patients
    actor = desk.actor()
    with desk.db.reading() as s:
        p = s.get_one(Patient, patient_id)
        data = {f: getattr(p, f) for f in PatientInput.__dataclass_fields__}
        version = p.version
    data.update(changes)
    svc.update(actor, patient_id, PatientInput(**data), version)


def test_same_patient_edited_on_two_offline_desks(world: SyncWorld, patients) -> None:
    """DESK2 reaches central first, so its email is kept; DESK3's goes to the conflict log.
    Fields only one desk changed are merged; every cache converges."""
    from desk_app.models.sync import SyncConflict

    d1, d2, d3 = world.desks
    maddy = patients[0]
    _rename(d2, maddy, email="maddy@two.example", mobile_phone="416-555-0102")
    _rename(d3, maddy, email="maddy@three.example", preferred_name="Mads")
    d2.sync()
    d3.sync()
    d1.sync()
    d2.sync()
    for desk in world.desks:
        with desk.db.reading() as s:
            p = s.get_one(Patient, maddy)
            assert (p.email, p.preferred_name) == ("maddy@two.example", "Mads")
            assert p.mobile_phone.endswith("0102")
            conflicts = [(c.kind, c.field, c.kept_value, c.lost_value, c.kept_workstation,
                          c.lost_workstation) for c in s.scalars(select(SyncConflict))]
        assert conflicts == [
            ("field", "email", "maddy@two.example", "maddy@three.example", "DESK2", "DESK3")]
    # The losing desk can find the patient by the winning email (search tokens rebuilt).
    found = d3.services.patients.search(d3.actor(), "maddy@two")
    assert [p.id for p in found] == [maddy]
    assert d3.services.patients.search(d3.actor(), "maddy@three") == []
    # ...and by the merged preferred name (its name-ordered prefix lists rebuilt too).
    for desk in world.desks:
        assert_prefixes_follow_tokens(desk.db)
        assert maddy in [p.id for p in desk.services.patients.search(desk.actor(), "mads")]
        assert maddy in [p.id for p in desk.services.patients.search(desk.actor(), "mads o")]
    assert_converged(world)


def test_a_replayed_push_changes_nothing(world: SyncWorld, patients) -> None:
    """The answer to a push is lost after central committed: the retry is a no-op."""
    from desk_app.models.sync import SyncChangeLog

    d1 = world.desks[0]
    d1.services.ledger.record_payment(d1.actor(), patients[2], PaymentMethod.CASH, 1234)

    def drop_answer(_batch: object) -> None:
        raise ConnectionError("connection reset while reading the answer")

    d1.client.after_central_commit = drop_answer
    with pytest.raises(ConnectionError):
        d1.client.push_once()
    central = world.central
    before = _central_counts(central)
    d1.client.after_central_commit = None
    outcome = d1.client.push_once()
    assert outcome is not None and outcome.replayed
    assert _central_counts(central) == before
    with central.reading() as s:
        assert s.scalar(select(func.count()).select_from(Payment)
                        .where(Payment.amount_cents == 1234)) == 1
        log_rows = s.scalar(select(func.count()).select_from(SyncChangeLog))
    assert d1.client.push_once() is None  # the outbox is empty
    with central.reading() as s:
        assert s.scalar(select(func.count()).select_from(SyncChangeLog)) == log_rows
    central.dispose()


def _central_counts(central) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from desk_app.services.sync.tables import synced_tables

    with central.reading() as s:
        return {t.name: int(s.scalar(select(func.count()).select_from(t)) or 0)
                for t in synced_tables()}
