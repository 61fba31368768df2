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
    desk = open_desk("DESK4", path, world.central_url, bootstrap_page=7)
    world.desks.append(desk)
    seen: list[BootstrapProgress] = []

    def cut_after_five(progress: BootstrapProgress) -> None:
        seen.append(progress)
        if len(seen) == 5:
            raise PowerCut

    with pytest.raises(PowerCut):
        desk.client.bootstrap(cut_after_five)
    assert not desk.client.bootstrapped()
    # Meanwhile another desk keeps working: those changes arrive after the copy.
    d1 = world.desks[0]
    d1.services.ledger.record_payment(d1.actor(), patients[0], PaymentMethod.CASH, 6060)
    d1.sync()
    resumed: list[BootstrapProgress] = []
    assert desk.client.bootstrap(resumed.append)
    assert resumed[0].done > seen[-1].done - 7  # carried on, did not start again
    assert resumed[-1].done == resumed[-1].total
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
