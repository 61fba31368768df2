"""Random work on three desks, random sync order and faults, then quiesce: every cache
equals central and every outbox is empty."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from desk_app.models import Patient, PaymentMethod
from desk_app.services.clock import FixedClock
from desk_app.services.errors import ServiceError
from desk_app.services.patient_input import PatientInput
from tests.db_fixtures import TEST_NOW
from tests.pgcluster import PgCluster
from tests.sync.convergence import assert_converged
from tests.sync_fixtures import Desk, Templates, make_world

pytestmark = [pytest.mark.pg, pytest.mark.slow]

FIELDS = ("email", "mobile_phone", "preferred_name", "pronouns")


class DroppedAnswer(ConnectionError):
    pass


def _drop_answer(_batch: object) -> None:
    raise DroppedAnswer("the push's answer was lost")


def _edit(desk: Desk, patient_index: int, field: str, value: str) -> None:
    with desk.db.reading() as s:
        ids = list(s.scalars(select(Patient.id).order_by(Patient.id)))
        p = s.get_one(Patient, ids[patient_index % len(ids)])
        data = {f: getattr(p, f) for f in PatientInput.__dataclass_fields__}
        version, pid = p.version, p.id
    data[field] = f"{value}@example.com" if field == "email" else value
    if field == "mobile_phone":
        data[field] = f"416-555-{value[:4].rjust(4, '0')}"
    desk.services.patients.update(desk.actor(), pid, PatientInput(**data), version)


operation = st.one_of(
    st.tuples(st.just("sync"), st.integers(0, 2)),
    st.tuples(st.just("push_dropped"), st.integers(0, 2)),
    st.tuples(st.just("pull"), st.integers(0, 2)),
    st.tuples(st.just("pay"), st.integers(0, 2), st.integers(0, 5), st.integers(1, 9999)),
    st.tuples(st.just("new_patient"), st.integers(0, 2), st.text("abcdefg", min_size=1,
                                                                  max_size=6)),
    st.tuples(st.just("edit"), st.integers(0, 2), st.integers(0, 5), st.sampled_from(FIELDS),
              st.text("0123456789", min_size=1, max_size=4)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=1, max_size=25))
def test_random_work_and_faults_converge(synced_templates: Templates, pg_cluster: PgCluster,
                                         tmp_path_factory: pytest.TempPathFactory,
                                         ops: list[tuple[object, ...]]) -> None:
    tmp: Path = tmp_path_factory.mktemp("prop")
    with make_world(synced_templates, pg_cluster, tmp, FixedClock(TEST_NOW),
                    push_batch=3, pull_batch=4) as world:
        for op in ops:
            desk = world.desks[int(op[1])]  # type: ignore[call-overload]
            kind = op[0]
            if kind == "sync":
                desk.sync()
            elif kind == "pull":
                desk.client.pull_once()
            elif kind == "push_dropped":
                desk.client.after_central_commit = _drop_answer
                try:
                    desk.client.push_once()
                except DroppedAnswer:
                    pass
                finally:
                    desk.client.after_central_commit = None
            elif kind == "pay":
                with desk.db.reading() as s:
                    ids = list(s.scalars(select(Patient.id).order_by(Patient.id)))
                desk.services.ledger.record_payment(
                    desk.actor(), ids[int(op[2]) % len(ids)],  # type: ignore[call-overload]
                    PaymentMethod.CASH, int(op[3]))  # type: ignore[call-overload]
            elif kind == "new_patient":
                desk.services.patients.create(desk.actor(), PatientInput(
                    legal_first_name=str(op[2]), legal_last_name=desk.name))
            elif kind == "edit":
                # Refused input (a bad value) writes nothing.
                with contextlib.suppress(ServiceError):
                    _edit(desk, int(op[2]), str(op[3]), str(op[4]))  # type: ignore[call-overload]
        for _ in range(2):
            for desk in world.desks:
                desk.sync()
        assert_converged(world)
