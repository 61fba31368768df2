"""Crashes, lost answers and late commits: nothing lost, nothing counted twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from desk_app.models import Payment, PaymentMethod
from desk_app.models.sync import SyncOutbox, SyncState
from desk_app.services.sync import central as central_side
from desk_app.services.sync.apply import apply_rows
from tests.sync.convergence import assert_converged
from tests.sync.crash_child import CRASH_EXIT
from tests.sync_fixtures import SyncWorld, open_desk

pytestmark = pytest.mark.pg
ROOT = Path(__file__).resolve().parents[2]


def _run_child(mode: str, args: dict[str, object]) -> None:
    done = subprocess.run([sys.executable, "-m", "tests.sync.crash_child", mode, json.dumps(args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == CRASH_EXIT, done.stderr[-3000:]


def _payments(db, amount: int) -> int:  # type: ignore[no-untyped-def]
    with db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(Payment)
                            .where(Payment.amount_cents == amount)) or 0)


def test_killed_after_local_commit_before_push_ack(world: SyncWorld, patients) -> None:
    """The desk dies after central committed its push but before it heard back: after a
    restart the push is replayed and central holds the payment exactly once."""
    d1 = world.desks[0]
    d1.close()
    _run_child("push", {"desk": "DESK1", "path": str(d1.path), "central_url": world.central_url,
                        "patient_id": str(patients[0]), "amount": 4321})
    central = world.central
    assert _payments(central, 4321) == 1  # central committed before the crash
    restarted = open_desk("DESK1", d1.path, world.central_url)
    world.desks[0] = restarted
    with restarted.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(SyncOutbox)) > 0  # never acknowledged
    restarted.sync()
    assert _payments(central, 4321) == 1
    assert _payments(restarted.db, 4321) == 1
    for desk in world.desks:
        desk.sync()
    assert_converged(world)
    central.dispose()


def test_crash_while_applying_a_pulled_batch(world: SyncWorld, patients) -> None:
    """DESK1 dies inside the local transaction that applies a batch: neither the rows nor the
    cursor moved (no gap); the next pull applies them, and applying again changes nothing."""
    d1, d2, _ = world.desks
    d2.services.ledger.record_payment(d2.actor(), patients[1], PaymentMethod.CASH, 777)
    d2.sync()
    with d1.db.reading() as s:
        cursor_before = s.scalar(select(SyncState.value).where(SyncState.key == "cursor"))
    d1.close()
    _run_child("apply", {"desk": "DESK1", "path": str(d1.path),
                         "central_url": world.central_url})
    restarted = open_desk("DESK1", d1.path, world.central_url)
    world.desks[0] = restarted
    with restarted.db.reading() as s:
        assert s.scalar(select(SyncState.value).where(SyncState.key == "cursor")) == cursor_before
    assert _payments(restarted.db, 777) == 0
    batch = restarted.client.pull_once()
    assert batch.entries > 0
    assert _payments(restarted.db, 777) == 1
    # The same batch applied a second time changes nothing.
    with restarted.db.engine.begin() as conn:
        apply_rows(conn, batch.rows, batch.deleted)
    assert _payments(restarted.db, 777) == 1
    for desk in world.desks:
        desk.sync()
    assert_converged(world)


def test_a_transaction_that_commits_late_is_not_skipped(world: SyncWorld, patients) -> None:
    """Central transaction T1 gets its id first and commits after T2: a desk that pulls in
    between does not move its cursor past T1's rows, which arrive on a later pull."""
    d1, d2, d3 = world.desks
    d2.services.ledger.record_payment(d2.actor(), patients[0], PaymentMethod.CASH, 1111)
    batch_id = d2.client.claim_batch()
    assert batch_id is not None
    early = d2.client.read_batch(batch_id)
    slow = d2.client.central.connect()
    t1 = slow.begin()
    slow.exec_driver_sql("SELECT pg_current_xact_id()")  # T1 takes the lower transaction id
    central_side.apply_push(slow, batch_id, "DESK2", early, d2.db.clock.now())
    # T2: DESK3 pushes and commits while T1 is still open.
    d3.services.ledger.record_payment(d3.actor(), patients[1], PaymentMethod.CASH, 2222)
    assert d3.client.push_once() is not None
    d1.client.pull_once()
    assert _payments(d1.db, 1111) == 0  # not committed yet
    t1.commit()  # seconds later
    slow.close()
    d1.client.pull_once()
    assert _payments(d1.db, 1111) == 1
    assert _payments(d1.db, 2222) == 1
    for desk in world.desks:
        desk.sync()
    assert_converged(world)


def test_one_desk_offline_for_a_week_catches_up(world: SyncWorld, patients, clock) -> None:
    """DESK3 keeps working offline for a week (new patients, invoices, cash); the others
    carry on. When it is back, one sync brings everyone together."""
    from datetime import timedelta

    from desk_app.services.patient_input import PatientInput

    d1, d2, d3 = world.desks
    for day in range(7):
        clock.advance(timedelta(days=1))
        for desk in (d1, d2, d3):
            actor = desk.actor()
            pid = desk.services.patients.create(
                actor, PatientInput(legal_first_name=f"Day{day}", legal_last_name=desk.name)).id
            desk.services.ledger.record_payment(actor, pid, PaymentMethod.CASH, 1000 + day)
            desk.services.ledger.record_payment(actor, patients[day % 3], PaymentMethod.CASH,
                                                 100 + day)
        d1.sync()
        d2.sync()
    d3.client.pull_batch = 7  # many small batches
    d3.sync()
    d1.sync()
    d2.sync()
    assert _payments(d1.db, 1006) == 3
    assert_converged(world)


def test_a_restored_central_makes_desks_resync(world: SyncWorld, patients, pg_cluster) -> None:
    """Central is restored from last night's backup (and given a new epoch, as the restore
    procedure says): each desk uploads what central lost and copies central again instead of
    merging with a stale cursor. Nothing taken since the backup is lost."""
    d1, d2, d3 = world.desks
    name = make_url(world.central_url).database
    backup = f"{name}_backup"

    def disconnect() -> None:
        for desk in world.desks:
            desk.client.central.dispose()

    disconnect()
    pg_cluster.create_database(backup, template=name)
    d1.services.ledger.record_payment(d1.actor(), patients[2], PaymentMethod.CASH, 999)
    d2.services.ledger.record_payment(d2.actor(), patients[1], PaymentMethod.CASH, 888)
    for desk in world.desks:
        desk.sync()
    disconnect()
    pg_cluster.drop_database(name)
    pg_cluster.create_database(name, template=backup)
    pg_cluster.drop_database(backup)
    central = world.central
    assert _payments(central, 999) == 0  # lost with the restore
    with central.engine.begin() as conn:
        central_side.new_epoch(conn)
    for desk in (d1, d2, d3, d1, d2, d3):
        desk.sync()
    assert _payments(central, 999) == 1
    assert _payments(central, 888) == 1
    assert_converged(world)
    central.dispose()
