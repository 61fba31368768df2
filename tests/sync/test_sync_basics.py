"""Push, pull, conflicts and convergence with a real PostgreSQL and three SQLite caches."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from desk_app.models import Patient, Payment, PaymentMethod
from desk_app.models.sync import SyncOutbox
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
