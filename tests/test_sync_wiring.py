"""The composition root with and without a central database."""

from __future__ import annotations

from desk_app.app import open_context
from desk_app.config import CentralConfig, Config
from desk_app.models import PaymentMethod
from desk_app.services.demo import create_demo_clinic
from desk_app.services.sync.outbox import waiting
from tests.db_fixtures import actor_named


def test_standalone_captures_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = open_context(config=Config(database_url=f"sqlite:///{tmp_path / 'a.sqlite3'}"))
    try:
        assert not ctx.services.db.capture_changes
        assert not ctx.services.sync.configured
        assert ctx.services.sync.run_once().summary == "Standalone (no central database)"
        assert ctx.services.card_payments.reconcile_only_workstation is None
    finally:
        ctx.close()


def test_with_central_every_change_goes_to_the_outbox(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = Config(database_url=f"sqlite:///{tmp_path / 'b.sqlite3'}", workstation="FRONT-2",
                    central=CentralConfig(url="postgresql://desk@127.0.0.1:1/clinic"))
    ctx = open_context(config=config)
    try:
        services = ctx.services
        assert services.db.capture_changes and services.sync.configured
        assert services.card_payments.reconcile_only_workstation == "FRONT-2"
        create_demo_clinic(services.db, patients=2)  # Core bulk writes: not captured
        actor = actor_named(services.db, "frontdesk", "FRONT-2")
        patient = services.patients.recent(actor) or services.patients.search(actor, "a")
        services.ledger.record_payment(actor, patient[0].id, PaymentMethod.CASH, 500)
        with services.db.engine.connect() as conn:
            assert waiting(conn) == 2  # the payment and its audit event
        assert not services.sync.bootstrapped()
    finally:
        ctx.close()
