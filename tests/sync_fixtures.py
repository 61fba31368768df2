"""Sync fixtures: a central PostgreSQL and two or three workstation caches (SQLite).

``synced_templates`` (session) builds once: a central database holding a small clinic (staff,
catalog, three patients with a visit and a payment) uploaded by DESK1, and the caches of DESK1,
DESK2 and DESK3 bootstrapped from it. Each test gets its own copies (``CREATE DATABASE ...
TEMPLATE`` and file copies): a ``SyncWorld`` with ``central`` and ``desks``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from desk_app.models import PaymentMethod, Staff
from desk_app.services.actor import Actor
from desk_app.services.auth import actor_for
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database, make_engine
from desk_app.services.patient_input import PatientInput
from desk_app.services.registry import Services
from desk_app.services.sync.client import SyncClient
from tests.builders import small_clinic
from tests.db_fixtures import TEST_NOW
from tests.pgcluster import PgCluster

DESKS = ("DESK1", "DESK2", "DESK3")


@dataclass
class Desk:
    name: str
    db: Database
    client: SyncClient
    services: Services
    path: Path

    def actor(self, username: str = "owner") -> Actor:
        with self.db.reading() as s:
            staff = s.scalars(select(Staff).where(Staff.username == username)).one()
            return actor_for(staff, self.name)

    def sync(self) -> None:
        self.client.sync_once()

    def close(self) -> None:
        self.client.central.dispose()
        self.db.dispose()


def open_desk(name: str, path: Path, central_url: str, clock: FixedClock | None = None,
              **client_options: Any) -> Desk:
    db = Database(f"sqlite:///{path}", clock or FixedClock(TEST_NOW), run_migrations=False,
                  capture_changes=True)
    client = SyncClient(db, central_engine(central_url), name, **client_options)
    return Desk(name, db, client, Services.build(db), path)


def central_engine(url: str) -> Engine:
    return make_engine(url)


@dataclass
class SyncWorld:
    central_url: str
    desks: list[Desk] = field(default_factory=list)
    tmp: Path = Path()

    @property
    def central(self) -> Database:
        return Database(self.central_url, run_migrations=False)

    def desk(self, name: str) -> Desk:
        return next(d for d in self.desks if d.name == name)


@dataclass(frozen=True)
class Templates:
    central: str  # database name
    caches: dict[str, Path]
    patients: list[uuid.UUID]


@pytest.fixture(scope="session")
def synced_templates(pg_cluster: PgCluster,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"sync_tmpl_{worker}_{uuid.uuid4().hex[:6]}".lower()
    url = pg_cluster.create_database(name)
    Database(url).dispose()  # migrated
    folder = tmp_path_factory.mktemp("sync-templates")
    # DESK1 holds the clinic and joins central first (uploads everything).
    first = folder / "DESK1.sqlite3"
    seed = Database(f"sqlite:///{first}", FixedClock(TEST_NOW))
    clinic = small_clinic(seed)
    patients = []
    names = (("Maddy", "Ødegård"), ("Omar", "Haddad"), ("Lin", "Zhao"))
    for hour, (first_name, last) in enumerate(names, start=9):
        pid = clinic.services.patients.create(
            clinic.owner, PatientInput(legal_first_name=first_name, legal_last_name=last)).id
        invoice = clinic.visit(pid, when=datetime(2026, 11, 20, hour, 0))
        clinic.services.ledger.record_payment(clinic.owner, pid, PaymentMethod.CASH, 5000,
                                              apply_to=[invoice])
        patients.append(pid)
    seed.dispose()
    desks = [open_desk("DESK1", first, url)]
    desks[0].sync()
    for desk_name in DESKS[1:]:
        path = folder / f"{desk_name}.sqlite3"
        shutil.copyfile(_empty_cache(tmp_path_factory), path)
        desk = open_desk(desk_name, path, url)
        desk.sync()
        desks.append(desk)
    for desk in desks:
        desk.close()
    try:
        yield Templates(name, {d.name: d.path for d in desks}, patients)
    finally:
        pg_cluster.drop_database(name)


def _empty_cache(factory: pytest.TempPathFactory) -> Path:
    path = factory.mktemp("empty") / "empty.sqlite3"
    Database(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def world(synced_templates: Templates, pg_cluster: PgCluster, tmp_path: Path,
          clock: FixedClock) -> Iterator[SyncWorld]:
    """Central and DESK1..DESK3, in sync, with three patients; each test its own copies."""
    with make_world(synced_templates, pg_cluster, tmp_path, clock) as made:
        yield made


@contextlib.contextmanager
def make_world(synced_templates: Templates, pg_cluster: PgCluster, tmp_path: Path,
               clock: FixedClock, **client_options: Any) -> Iterator[SyncWorld]:
    name = f"sync_{uuid.uuid4().hex[:10]}"
    url = pg_cluster.create_database(name, template=synced_templates.central)
    world = SyncWorld(url, tmp=tmp_path)
    for desk_name, template in synced_templates.caches.items():
        path = tmp_path / f"{desk_name}.sqlite3"
        shutil.copyfile(template, path)
        world.desks.append(open_desk(desk_name, path, url, clock, **client_options))
    try:
        yield world
    finally:
        for desk in world.desks:
            desk.close()
        pg_cluster.drop_database(name)


@pytest.fixture
def patients(synced_templates: Templates) -> list[uuid.UUID]:
    return synced_templates.patients
