"""Upgrading keeps data: the previous release's clinic, opened by this version, loses nothing;
a migration that fails leaves the old database as it was and says where the backup is."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from desk_app.services import db as db_module
from desk_app.services.clock import FixedClock
from desk_app.services.db import (
    HEAD_REVISION,
    Database,
    current_revision,
    downgrade,
    make_engine,
)
from desk_app.services.demo import create_demo_clinic
from desk_app.services.schema_upgrade import SchemaUpgradeFailed
from tests.db_fixtures import TEST_NOW
from tests.pgcluster import PgCluster
from tests.upgrade_support import (
    PREVIOUS_RELEASE_REVISION,
    Snapshot,
    migrations_with_a_failing_step,
    missing_or_changed,
    snapshot,
    tables_that_must_hold_rows,
    upgrade_sources,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def with_packages(database: Database) -> None:
    """Packages sold, paid and used in the clinic (the demo has none): what a later release's
    upgrade must carry over too."""
    from datetime import datetime

    from sqlalchemy import select

    from desk_app.models import Location, Patient, Staff, TreatmentType
    from desk_app.models.enums import PaymentMethod
    from desk_app.services.auth import actor_for
    from desk_app.services.package_plans import EligibleItem, PlanInput
    from desk_app.services.registry import Services

    services = Services.build(database)
    with database.reading() as s:
        owner = actor_for(s.scalars(select(Staff).where(Staff.username == "owner")).one(), "UP1")
        massage = s.scalars(select(TreatmentType.id)
                            .where(TreatmentType.name == "Massage 60 min")).one()
        practitioner = s.scalars(select(Staff.id).where(Staff.username == "dokoye")).one()
        location = s.scalars(select(Location.id).where(Location.name == "Downtown")).one()
        patient = s.scalars(select(Patient.id).order_by(Patient.sort_key).limit(1)).one()
    plan = services.package_plans.create(owner, PlanInput(
        name="5 Massages", price_cents=40000, uses=5, items=[EligibleItem(massage, 5)]))
    sold = services.packages.sell(owner, patient, plan, location)
    services.ledger.record_payment(owner, patient, PaymentMethod.CASH, sold.total_cents,
                                   apply_to=[sold.invoice_id])
    visit = services.appointments.book(owner, patient, practitioner, massage, location,
                                       datetime(2026, 12, 1, 9, 0))
    services.packages.redeem(owner, visit, sold.sale_id)


def previous_release_sqlite(
    demo_template: Path, folder: Path, revision: str = PREVIOUS_RELEASE_REVISION
) -> str:
    """The demo clinic as an older release left it: built, then taken back to its schema."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "front-desk.sqlite3"
    shutil.copyfile(demo_template, path)
    url = f"sqlite:///{path}"
    database = Database(url, FixedClock(TEST_NOW), run_migrations=False)
    with_packages(database)
    downgrade(database.engine, revision)
    database.dispose()
    return url


@contextmanager
def pg_clinic(pg_cluster: PgCluster, revision: str) -> Iterator[str]:
    """A PostgreSQL database of its own holding a small demo clinic at `revision`."""
    name = f"desk_upgrade_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.create_database(name)
    try:
        database = Database(url, FixedClock(TEST_NOW))
        create_demo_clinic(database, patients=25)
        with_packages(database)
        downgrade(database.engine, revision)
        database.dispose()
        yield url
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture
def pg_clinic_url(pg_cluster: PgCluster) -> Iterator[str]:
    with pg_clinic(pg_cluster, PREVIOUS_RELEASE_REVISION) as url:
        yield url


def assert_previous_release(url: str, revision: str = PREVIOUS_RELEASE_REVISION) -> Snapshot:
    engine = make_engine(url)
    try:
        assert current_revision(engine) == revision
        before = snapshot(engine)
    finally:
        engine.dispose()
    empty = [t for t in tables_that_must_hold_rows(before) if not before.get(t)]
    assert empty == [], f"the previous release's clinic should have rows in {empty}"
    return before


@pytest.mark.parametrize("revision", upgrade_sources())
def test_a_clinic_from_an_older_release_keeps_every_row_on_sqlite(
    demo_template: Path, tmp_path: Path, revision: str
) -> None:
    url = previous_release_sqlite(demo_template, tmp_path / "clinic", revision)
    before = assert_previous_release(url, revision)

    database = Database(url, FixedClock(TEST_NOW))  # what the app does when it starts
    after = snapshot(database.engine)
    assert database.schema_revision() == HEAD_REVISION
    backup = database.upgrade_backup
    database.dispose()

    assert missing_or_changed(before, after) == []
    assert backup is not None and backup.parent == tmp_path / "clinic"
    assert backup.name.startswith(f"front-desk.before-upgrade-from-{revision}-")
    backup_engine = make_engine(f"sqlite:///{backup}")
    assert current_revision(backup_engine) == revision
    assert snapshot(backup_engine) == before
    backup_engine.dispose()


@pytest.mark.pg
@pytest.mark.parametrize("revision", upgrade_sources())
def test_a_clinic_from_an_older_release_keeps_every_row_on_postgresql(
    pg_cluster: PgCluster, revision: str
) -> None:
    with pg_clinic(pg_cluster, revision) as url:
        before = assert_previous_release(url, revision)
        database = Database(url, FixedClock(TEST_NOW))
        after = snapshot(database.engine)
        assert database.schema_revision() == HEAD_REVISION
        assert database.upgrade_backup is None  # the server's backups are pg_dump's business
        database.dispose()
    assert missing_or_changed(before, after) == []


def test_desk_app_migrate_upgrades_an_old_file_and_names_the_backup(
    demo_template: Path, tmp_path: Path
) -> None:
    revision = upgrade_sources()[0]
    url = previous_release_sqlite(demo_template, tmp_path / "clinic", revision)
    before = assert_previous_release(url, revision)
    result = subprocess.run(
        [sys.executable, "-m", "desk_app", "migrate", "--url", url],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"Schema is at revision {HEAD_REVISION}" in result.stdout
    assert "A copy from before the upgrade is at " in result.stdout
    backup_prefix = tmp_path / "clinic" / f"front-desk.before-upgrade-from-{revision}-"
    assert str(backup_prefix) in result.stdout
    engine = make_engine(url)
    assert missing_or_changed(before, snapshot(engine)) == []
    engine.dispose()


@pytest.fixture
def failing_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The app's migrations plus one (9999) that changes a table and some rows, then fails."""
    migrations = migrations_with_a_failing_step(tmp_path / "code", HEAD_REVISION)
    monkeypatch.setattr(db_module, "MIGRATIONS_DIR", migrations)
    monkeypatch.setattr(db_module, "HEAD_REVISION", "9999")
    return "9999"


def test_a_failed_upgrade_leaves_the_sqlite_file_untouched_and_says_where_the_backup_is(
    demo_template: Path, tmp_path: Path, failing_migration: str
) -> None:
    url = previous_release_sqlite(demo_template, tmp_path / "clinic")
    before = assert_previous_release(url)

    with pytest.raises(SchemaUpgradeFailed) as raised:
        Database(url, FixedClock(TEST_NOW))

    error = raised.value
    assert error.backup is not None and error.backup.is_file()
    assert "could not update the clinic's database" in error.message
    assert f"(schema {PREVIOUS_RELEASE_REVISION} to 9999)" in error.message
    assert "Nothing was changed" in error.message
    assert f"A copy made before the attempt is at:\n{error.backup}" in error.message
    assert "this migration fails on purpose" in error.message
    engine = make_engine(url)
    assert current_revision(engine) == PREVIOUS_RELEASE_REVISION
    assert snapshot(engine) == before  # no upgrade_probe column, the audit trail still there
    engine.dispose()
    backup = make_engine(f"sqlite:///{error.backup}")
    assert snapshot(backup) == before
    backup.dispose()


@pytest.mark.pg
def test_a_failed_upgrade_rolls_back_on_postgresql(
    pg_clinic_url: str, failing_migration: str
) -> None:
    before = assert_previous_release(pg_clinic_url)
    with pytest.raises(SchemaUpgradeFailed) as raised:
        Database(pg_clinic_url, FixedClock(TEST_NOW))
    assert raised.value.backup is None
    assert "Nothing was changed" in raised.value.message
    assert "A copy made" not in raised.value.message
    engine = make_engine(pg_clinic_url)
    assert current_revision(engine) == PREVIOUS_RELEASE_REVISION
    assert snapshot(engine) == before
    engine.dispose()


def test_no_backup_is_made_for_a_new_empty_database_or_one_already_current(
    tmp_path: Path, demo_template: Path
) -> None:
    fresh = Database(f"sqlite:///{tmp_path / 'new.sqlite3'}", FixedClock(TEST_NOW))
    assert fresh.upgrade_backup is None
    fresh.dispose()
    current = tmp_path / "current.sqlite3"
    shutil.copyfile(demo_template, current)
    database = Database(f"sqlite:///{current}", FixedClock(TEST_NOW))
    assert database.upgrade_backup is None
    database.dispose()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["new.sqlite3", "current.sqlite3", *[p.name for p in tmp_path.glob("*-wal")],
         *[p.name for p in tmp_path.glob("*-shm")]]
    )


def test_only_the_three_newest_backups_are_kept(demo_template: Path, tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    revision = upgrade_sources()[0]
    for minute in range(5):
        url = previous_release_sqlite(demo_template, folder, revision)
        clock = FixedClock(TEST_NOW.replace(minute=minute))
        Database(url, clock).dispose()
    backups = sorted(p.name for p in folder.glob("*.before-upgrade-from-*"))
    assert backups == [
        f"front-desk.before-upgrade-from-{revision}-20261121-19{m:02d}00.sqlite3"
        for m in (2, 3, 4)
    ]
