"""A new workstation copies the clinic from central: resumable, and equal to central."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desk_app.models import Patient, PatientSearchToken, PaymentMethod
from desk_app.services.sync.client import BootstrapProgress
from tests.search_rows_check import assert_prefixes_follow_tokens
from tests.sync.convergence import assert_converged
from tests.sync_fixtures import SyncWorld, open_desk

pytestmark = pytest.mark.pg


class PowerCut(Exception):
    pass


def test_an_interrupted_bootstrap_resumes_where_it_stopped(
        world: SyncWorld, patients, tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "DESK4.sqlite3"
    shutil.copyfile(sqlite_template, path)
    # Every table over 7 rows loads without its plain indexes (built when it is in).
    desk = open_desk("DESK4", path, world.central_url, bootstrap_page=7, bulk_index_rows=7)
    world.desks.append(desk)
    seen: list[BootstrapProgress] = []

    def cut_while_indexes_are_dropped(progress: BootstrapProgress) -> None:
        seen.append(progress)
        if set(_indexes(desk)) < set(indexes):  # mid-way through a table loading in bulk
            raise PowerCut

    indexes = _indexes(desk)
    with pytest.raises(PowerCut):
        desk.client.bootstrap(cut_while_indexes_are_dropped)
    assert not desk.client.bootstrapped()
    assert _indexes(desk) == indexes  # an interrupted copy leaves them built
    # Meanwhile another desk keeps working: those changes arrive after the copy.
    d1 = world.desks[0]
    d1.services.ledger.record_payment(d1.actor(), patients[0], PaymentMethod.CASH, 6060)
    d1.sync()
    resumed: list[BootstrapProgress] = []
    assert desk.client.bootstrap(resumed.append)
    assert resumed[0].done > seen[-1].done - 7  # carried on, did not start again
    assert resumed[-1].done == resumed[-1].total
    assert _indexes(desk) == indexes
    desk.sync()
    with desk.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Patient)) == 3
        assert s.scalar(select(func.count()).select_from(PatientSearchToken)) > 0
    found = desk.services.patients.search(desk.actor(), "Ødeg")
    assert [p.id for p in found] == [patients[0]]
    assert_prefixes_follow_tokens(desk.db)
    for other in world.desks:
        other.sync()
    assert_converged(world)


def _indexes(desk) -> list[str]:  # type: ignore[no-untyped-def]
    with desk.db.engine.connect() as conn:
        return [name for (name,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")]


def test_cancelling_a_bootstrap_keeps_its_place(world: SyncWorld, tmp_path: Path,
                                                sqlite_template: Path) -> None:
    path = tmp_path / "DESK5.sqlite3"
    shutil.copyfile(sqlite_template, path)
    desk = open_desk("DESK5", path, world.central_url, bootstrap_page=5)
    world.desks.append(desk)
    pages: list[BootstrapProgress] = []
    assert desk.client.bootstrap(pages.append, cancelled=lambda: len(pages) >= 3) is False
    assert len(pages) == 3
    assert desk.client.bootstrap(pages.append) is True
    desk.sync()
    assert_converged(world)


def test_a_row_whose_parent_arrived_after_its_table_was_copied(
        world: SyncWorld, tmp_path: Path, sqlite_template: Path) -> None:
    """A patient and their payment are written on central after the patient table was copied
    but before the payment table: the payment's page fails its foreign key in the cache, and is
    written again with the missing patient fetched from central."""
    from desk_app.services.patient_input import PatientInput

    path = tmp_path / "DESK6.sqlite3"
    shutil.copyfile(sqlite_template, path)
    desk = open_desk("DESK6", path, world.central_url, bootstrap_page=2)
    world.desks.append(desk)
    d1 = world.desks[0]
    made: list[object] = []
    refetched: list[object] = []
    write = desk.client._write_stored_page

    def spy(local, table, saved, count, page, parents):  # type: ignore[no-untyped-def]
        if parents is not None:
            refetched.append((table.name, sorted(parents.rows)))
        write(local, table, saved, count, page, parents)

    desk.client._write_stored_page = spy  # type: ignore[method-assign]

    def after_patients(progress: BootstrapProgress) -> None:
        if progress.table == "staff" and not made:
            actor = d1.actor()
            pid = d1.services.patients.create(
                actor, PatientInput(legal_first_name="Late", legal_last_name="Comer")).id
            d1.services.ledger.record_payment(actor, pid, PaymentMethod.CASH, 4242)
            d1.sync()
            made.append(pid)

    assert desk.client.bootstrap(after_patients)
    assert ("payment", ["patient"]) in refetched
    with desk.db.reading() as s:
        assert s.get(Patient, made[0]) is not None
    desk.sync()
    for other in world.desks:
        other.sync()
    assert_converged(world)
