"""Pruning central's sync log: the heartbeat, the horizon, retired desks, pruned receipts.

Real PostgreSQL and three SQLite caches (tests/sync_fixtures.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from desk_app.models import Patient, Payment, PaymentMethod
from desk_app.models.sync import SyncChangeLog, SyncPushReceipt, SyncWorkstation
from desk_app.services.sync import pruning, state
from desk_app.services.sync.changes import Cursor
from tests.sync.convergence import assert_converged
from tests.sync_fixtures import Desk, SyncWorld

pytestmark = pytest.mark.pg


def _cursor(desk: Desk) -> Cursor:
    with desk.db.engine.connect() as conn:
        return Cursor.parse(state.get(conn, state.CURSOR))


def _log_count(world: SyncWorld) -> int:
    central = world.central
    with central.reading() as s:
        count = int(s.scalar(select(func.count()).select_from(SyncChangeLog)) or 0)
    central.dispose()
    return count


def _payments(desk: Desk, amount: int) -> int:
    with desk.db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(Payment)
                            .where(Payment.amount_cents == amount)) or 0)


def test_every_sync_records_the_desks_cursor_centrally(world: SyncWorld, patients) -> None:
    d1 = world.desks[0]
    d1.services.ledger.record_payment(d1.actor(), patients[0], PaymentMethod.CASH, 700)
    d1.sync()
    central = world.central
    with central.reading() as s:
        beats = {w.workstation: (Cursor(w.cursor_txid, w.cursor_seq), w.last_push_at,
                                 w.last_pull_at) for w in s.scalars(select(SyncWorkstation))}
    central.dispose()
    assert set(beats) == {"DESK1", "DESK2", "DESK3"}
    cursor, pushed_at, pulled_at = beats["DESK1"]
    assert cursor == _cursor(d1)
    assert pushed_at is not None and pulled_at is not None


def test_pruning_never_drops_what_a_live_desk_still_needs(world: SyncWorld, patients) -> None:
    """DESK3 lags behind (but synced recently): everything after its cursor stays, and it
    catches up after the prune; once every desk is up to date the log shrinks."""
    d1, d2, d3 = world.desks
    d1.services.ledger.record_payment(d1.actor(), patients[1], PaymentMethod.CASH, 4321)
    d1.sync()
    d2.sync()
    behind = _cursor(d3)
    before = _log_count(world)
    engine = world.central.engine
    report = pruning.prune(engine)
    assert report.horizon == behind and report.retired == []
    with engine.connect() as conn:
        kept = conn.execute(select(SyncChangeLog.txid, SyncChangeLog.seq)).all()
    assert all(Cursor(t, s) > behind for t, s in kept)
    assert len(kept) <= before
    d3.sync()
    assert _payments(d3, 4321) == 1
    # Everyone caught up: the horizon moves to the lowest cursor, the log keeps its newest.
    d1.sync()
    d2.sync()
    report = pruning.prune(engine)
    assert report.horizon == min(_cursor(d) for d in world.desks)
    assert report.change_log_deleted > 0
    assert 1 <= _log_count(world) < before
    # Sync still works after the prune, in both directions.
    d3.services.ledger.record_payment(d3.actor(), patients[2], PaymentMethod.CASH, 888)
    for desk in (d3, d1, d2):
        desk.sync()
    assert [_payments(d, 888) for d in world.desks] == [1, 1, 1]
    engine.dispose()
    assert_converged(world)


def test_a_desk_silent_beyond_the_retention_must_copy_central_again(
        world: SyncWorld, patients) -> None:
    """DESK3 has not synced for 31 days: the prune no longer waits for it; when it returns
    it is told so, uploads what it took meanwhile and copies central again."""
    d1, d2, d3 = world.desks
    d3.services.ledger.record_payment(d3.actor(), patients[0], PaymentMethod.CASH, 3333)
    d1.services.ledger.record_payment(d1.actor(), patients[0], PaymentMethod.CASH, 1111)
    d1.sync()
    d2.sync()
    engine = world.central.engine
    with engine.begin() as conn:
        now = pruning.central_now(conn)
        conn.execute(update(SyncWorkstation).where(SyncWorkstation.workstation == "DESK3")
                     .values(last_seen_at=now - timedelta(days=31)))
    report = pruning.prune(engine)
    assert report.retired == ["DESK3"]
    assert report.horizon > _cursor(d3)
    with pytest.raises(pruning.BehindHorizon, match="copying the central database again"):
        d3.client.pull_once()
    d3.sync()  # re-syncs: uploads its payment, copies central
    d1.sync()
    d2.sync()
    for desk in world.desks:
        assert (_payments(desk, 1111), _payments(desk, 3333)) == (1, 1)
    with engine.connect() as conn:
        beat = conn.execute(select(SyncWorkstation.cursor_txid, SyncWorkstation.cursor_seq)
                            .where(SyncWorkstation.workstation == "DESK3")).one()
        pruning.check_horizon(conn, Cursor(*beat))  # back above the horizon
    engine.dispose()
    assert_converged(world)


def test_a_push_replayed_after_its_receipt_was_pruned_changes_nothing(
        world: SyncWorld, patients) -> None:
    """The answer is lost, and the receipt is pruned before the retry: rows are upserted by
    id and merged against central's values, so the replay still changes nothing."""
    from tests.sync.test_sync_basics import _central_counts, _rename

    d1 = world.desks[0]
    d1.services.ledger.record_payment(d1.actor(), patients[2], PaymentMethod.CASH, 2468)
    _rename(d1, patients[2], preferred_name="Linny")

    def drop_answer(_batch: object) -> None:
        raise ConnectionError("connection reset while reading the answer")

    d1.client.after_central_commit = drop_answer
    with pytest.raises(ConnectionError):
        d1.client.push_once()
    d1.client.after_central_commit = None
    central = world.central
    before = _central_counts(central)
    with central.reading() as s:
        version = s.get_one(Patient, patients[2]).version
    with central.engine.begin() as conn:
        later = pruning.central_now(conn) + timedelta(days=31)
    report = pruning.prune(central.engine, now=later)
    assert report.receipts_deleted >= 1
    with central.reading() as s:
        assert s.scalar(select(func.count()).select_from(SyncPushReceipt)) == 0
    outcome = d1.client.push_once()
    assert outcome is not None and not outcome.replayed and outcome.conflicts == 0
    assert _central_counts(central) == before
    with central.reading() as s:
        lin = s.get_one(Patient, patients[2])
        assert (lin.preferred_name, lin.version) == ("Linny", version)
        assert s.scalar(select(func.count()).select_from(Payment)
                        .where(Payment.amount_cents == 2468)) == 1
    central.dispose()
    assert d1.client.push_once() is None
    for desk in world.desks:
        desk.sync()
    assert_converged(world)


def test_the_prune_runs_at_most_once_a_day(world: SyncWorld) -> None:
    engine = world.central.engine
    first = pruning.prune_if_due(engine, every=timedelta(days=1))
    second = pruning.prune_if_due(engine, every=timedelta(days=1))
    assert second is None
    assert first is None or isinstance(first, pruning.PruneReport)
    assert pruning.prune_if_due(engine, every=timedelta(0)) is not None
    engine.dispose()


def test_desk_app_central_prune(world: SyncWorld, capsys) -> None:  # type: ignore[no-untyped-def]
    from desk_app.__main__ import main

    assert main(["central", "prune", "--url", world.central_url]) == 0
    assert "Pruned" in capsys.readouterr().out
