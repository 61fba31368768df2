"""The outbox's transaction, schema and epoch checks, rules across desks, refused rows, the
[central] settings and the `desk-app central` command."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from desk_app.__main__ import main
from desk_app.config import CentralConfig, Config, ConfigError, load_config
from desk_app.models import Payment, PaymentMethod
from desk_app.models.staff import Staff
from desk_app.models.sync import SyncConflict, SyncMeta, SyncOutbox
from desk_app.services.errors import ValidationError
from desk_app.services.patient_input import PatientInput
from desk_app.services.sync.changes import SchemaMismatch
from tests.sync.convergence import assert_converged
from tests.sync_fixtures import SyncWorld

pytestmark = pytest.mark.pg


def _outbox(desk) -> int:  # type: ignore[no-untyped-def]
    with desk.db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(SyncOutbox)) or 0)


def test_a_refused_action_leaves_nothing_in_the_outbox(world: SyncWorld, patients) -> None:
    desk = world.desks[0]
    with pytest.raises(ValidationError):
        desk.services.patients.create(desk.actor(), PatientInput(legal_first_name="",
                                                                 legal_last_name="X"))
    assert _outbox(desk) == 0
    desk.services.patients.create(desk.actor(), PatientInput(legal_first_name="Ana",
                                                             legal_last_name="Silva"))
    with desk.db.reading() as s:
        tables = set(s.scalars(select(SyncOutbox.table_name)))
    # The patient and its audit event; search tokens are local-only, rebuilt on each desk.
    assert tables == {"patient", "audit_event"}


def test_a_workstation_older_or_newer_than_central_refuses_to_sync(world: SyncWorld) -> None:
    desk = world.desks[0]
    central = world.central
    with central.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(SchemaMismatch, match="Update Front Desk on this workstation"):
        desk.client.sync_once()
    status = desk.services.sync.status()  # standalone services: not configured
    assert not status.configured
    with central.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    with pytest.raises(SchemaMismatch, match="older than this workstation"):
        desk.client.pull_once()
    central.dispose()


def test_credit_spent_on_two_offline_desks_is_flagged_not_dropped(world: SyncWorld,
                                                                   patients) -> None:
    """A $30 payment held as credit: two offline desks each apply it in full to a new
    invoice. Both applications are kept (they happened) and flagged for review."""
    d1, d2, d3 = world.desks
    pid = patients[2]
    payment = d1.services.ledger.record_payment(d1.actor(), pid, PaymentMethod.CASH, 3000)
    d1.sync()
    d2.sync()
    d3.sync()
    for desk in (d2, d3):
        invoice = desk.services.invoicing.create_invoice(
            desk.actor(), pid, [_line(desk)]).invoice_id
        desk.services.ledger.apply_payment(desk.actor(), payment.payment_id, invoice, 3000)
    d2.sync()
    d3.sync()
    d1.sync()
    d2.sync()
    with d1.db.reading() as s:
        flags = [(c.kind, c.table_name, c.summary) for c in s.scalars(
            select(SyncConflict).where(SyncConflict.kind == "review"))]
    assert len(flags) == 1
    assert flags[0][:2] == ("review", "payment")
    assert "$30.00 more than it holds" in flags[0][2]
    assert_converged(world)


def _line(_desk):  # type: ignore[no-untyped-def]
    from desk_app.services.invoicing import LineSpec

    return LineSpec(description="Supplies", unit_price_cents=3000)


def test_a_row_central_refuses_is_logged_and_the_rest_syncs(world: SyncWorld) -> None:
    """Two offline desks each add a staff member with the same username (unique): central
    keeps the first, refuses the second visibly, and everything else still syncs."""
    from desk_app.models.enums import Role

    d1, d2, _ = world.desks
    with d1.db.reading() as s:
        clinic_id = s.scalar(select(Staff.clinic_id).limit(1))
    for desk, first in ((d1, "Kim"), (d2, "Kai")):
        with desk.db.transaction() as s:
            s.add(Staff(clinic_id=clinic_id, first_name=first, last_name="Lee",
                        username="klee", role=Role.FRONT_DESK, password_hash="x"))
    d2.services.ledger.record_payment(d2.actor(), _any_patient(d2), PaymentMethod.CASH, 4040)
    d1.sync()
    d2.sync()
    central = world.central
    with central.reading() as s:
        assert s.scalar(select(Staff.first_name).where(Staff.username == "klee")) == "Kim"
        assert s.scalar(select(func.count()).select_from(Payment)
                        .where(Payment.amount_cents == 4040)) == 1
        rejected = s.scalars(select(SyncConflict.summary)
                             .where(SyncConflict.kind == "rejected")).all()
    assert len(rejected) == 1 and "Central refused this row" in rejected[0]
    assert _outbox(d2) == 0
    with d2.db.reading() as s:  # the refused row left DESK2's cache; central's came in
        assert s.scalar(select(Staff.first_name).where(Staff.username == "klee")) == "Kim"
    for desk in world.desks:
        desk.sync()
    assert_converged(world)
    central.dispose()


def _any_patient(desk):  # type: ignore[no-untyped-def]
    from desk_app.models import Patient

    with desk.db.reading() as s:
        return s.scalars(select(Patient.id).limit(1)).one()


def test_central_config_is_checked_and_keeps_no_password(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="contains a password"):
        CentralConfig(url="postgresql://desk:hunter2@db/clinic")
    with pytest.raises(ConfigError, match="is not PostgreSQL"):
        CentralConfig(url="sqlite:///x.db")
    with pytest.raises(ConfigError, match="needs sslrootcert"):
        CentralConfig(url="postgresql://desk@db/clinic", sslmode="verify-full")
    path = tmp_path / "config.toml"
    path.write_text('[central]\nurl = "postgresql://desk@db.lan/clinic"\nsslmode = "require"\n')
    loaded = load_config(path)
    assert loaded == Config(central=CentralConfig(url="postgresql+psycopg://desk@db.lan/clinic",
                                                  sslmode="require"))


def test_desk_app_central_init_and_restored(world: SyncWorld, capsys) -> None:  # type: ignore[no-untyped-def]
    central = world.central
    with central.reading() as s:
        before = s.scalar(select(SyncMeta.value).where(SyncMeta.key == "epoch"))
    assert main(["central", "init", "--url", world.central_url]) == 0
    assert main(["central", "restored", "--url", world.central_url]) == 0
    with central.reading() as s:
        after = s.scalar(select(SyncMeta.value).where(SyncMeta.key == "epoch"))
    assert before and after and before != after
    assert "upload what the backup lacks" in capsys.readouterr().out
    for desk in world.desks:
        desk.sync()
    assert_converged(world)
    central.dispose()


def test_a_packages_last_use_redeemed_on_two_offline_desks_is_flagged_not_dropped(
        world: SyncWorld, patients) -> None:  # type: ignore[no-untyped-def]
    """A one-use package, paid: two offline desks each use it on a visit. Both redemptions are
    kept (the visits happened) and the package is flagged for review."""
    from datetime import datetime

    from desk_app.models import Location, Staff, TreatmentType
    from desk_app.services.package_plans import EligibleItem, PlanInput

    d1, d2, d3 = world.desks
    pid = patients[0]
    owner = d1.actor()
    with d1.db.reading() as s:
        massage = s.scalars(select(TreatmentType.id)
                            .where(TreatmentType.name == "Massage 60 min")).one()
        practitioner = s.scalars(select(Staff.id).where(Staff.username == "dokoye")).one()
        location = s.scalars(select(Location.id).where(Location.name == "Downtown")).one()
    plan = d1.services.package_plans.create(owner, PlanInput(
        name="One massage", price_cents=9000, uses=1, items=[EligibleItem(massage)]))
    sold = d1.services.packages.sell(owner, pid, plan, location)
    d1.services.ledger.record_payment(owner, pid, PaymentMethod.CASH, sold.total_cents,
                                      apply_to=[sold.invoice_id])
    for desk in (d1, d2, d3):
        desk.sync()
    for hour, desk in ((9, d2), (11, d3)):  # offline from each other
        actor = desk.actor()
        visit = desk.services.appointments.book(actor, pid, practitioner, massage, location,
                                                datetime(2026, 11, 24, hour, 0))
        desk.services.packages.redeem(actor, visit, sold.sale_id)
    d2.sync()
    d3.sync()
    d1.sync()
    d2.sync()
    with d1.db.reading() as s:
        flags = [(c.table_name, c.summary) for c in s.scalars(
            select(SyncConflict).where(SyncConflict.kind == "review"))]
    assert [table for table, _ in flags] == ["package_sale"]
    assert "2 uses redeemed of 1" in flags[0][1]
    assert_converged(world)
