"""The workstation's SQLite file is encrypted at rest: a copy is unreadable without the key,
which lives in the OS keyring; an older plain file is encrypted in place on first open."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from sqlalchemy import func, select

from desk_app import paths
from desk_app.app import database_key, open_context
from desk_app.config import Config
from desk_app.models import Patient
from desk_app.services.cache_encryption import (
    KEY_SERVICE,
    DatabaseKeyMissing,
    is_plain_sqlite,
)
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.demo import create_demo_clinic
from tests.db_fixtures import TEST_NOW
from tests.memory_keyring import MemoryKeyring


@pytest.fixture
def ring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def patients_in(db: Database) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(Patient)) or 0)


def test_a_new_clinic_file_is_encrypted_and_a_copy_cannot_be_read(
    ring: MemoryKeyring, tmp_path: Path, desk_home: Path
) -> None:
    path = tmp_path / "clinic.sqlite3"
    url = f"sqlite:///{path}"
    key = database_key(url)
    assert key is not None and ring.entries[(KEY_SERVICE, str(path.resolve()))] == key
    db = Database(url, FixedClock(TEST_NOW), key=key)
    create_demo_clinic(db, patients=12)
    assert patients_in(db) == 12
    db.dispose()

    assert not is_plain_sqlite(path)
    copy = tmp_path / "stolen.sqlite3"
    shutil.copyfile(path, copy)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(copy).execute("SELECT count(*) FROM patient").fetchone()
    raw = path.read_bytes()
    assert b"Maddy" not in raw and b"frontdesk" not in raw

    again = Database(url, FixedClock(TEST_NOW), key=database_key(url))  # same key from ring
    assert patients_in(again) == 12
    again.dispose()


def test_a_plain_file_from_an_earlier_version_is_encrypted_in_place(
    ring: MemoryKeyring, tmp_path: Path
) -> None:
    path = tmp_path / "old.sqlite3"
    url = f"sqlite:///{path}"
    plain = Database(url, FixedClock(TEST_NOW))
    create_demo_clinic(plain, patients=7)
    plain.dispose()
    assert is_plain_sqlite(path)

    db = Database(url, FixedClock(TEST_NOW), key=database_key(url))
    assert patients_in(db) == 7
    db.dispose()
    assert not is_plain_sqlite(path)
    assert not path.with_name(path.name + ".encrypting").exists()


def test_an_encrypted_file_without_its_key_is_explained(
    ring: MemoryKeyring, tmp_path: Path
) -> None:
    path = tmp_path / "clinic.sqlite3"
    url = f"sqlite:///{path}"
    Database(url, FixedClock(TEST_NOW), key=database_key(url)).dispose()
    ring.entries.clear()  # another desktop account, or a restored file
    with pytest.raises(DatabaseKeyMissing, match="keyring does not hold its key"):
        database_key(url)


def test_the_app_opens_a_clinic_encrypted_and_the_demo_plain(
    ring: MemoryKeyring, desk_home: Path
) -> None:
    clinic_file = desk_home / "data" / "clinic.sqlite3"
    context = open_context(config=Config(database_url=f"sqlite:///{clinic_file}"))
    context.close()
    assert clinic_file.exists() and not is_plain_sqlite(clinic_file)
    demo = open_context(demo=True)
    demo.close()
    demo_file = paths.data_dir() / "demo-clinic.sqlite3"
    assert is_plain_sqlite(demo_file)


def test_without_a_keyring_a_plain_file_stays_plain_and_opens(
    tmp_path: Path, desk_home: Path
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        path = tmp_path / "clinic.sqlite3"
        assert database_key(f"sqlite:///{path}") is None
    finally:
        keyring.set_keyring(previous)
