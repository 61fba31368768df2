"""Clinic ▸ Payment accounts: a Full Access user adds a test-mode Stripe account.

The secret key goes from a password field to the service and into the (in-memory) OS keyring:
never into the database, and never into a log line.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import shiboken6
from pytestqt.qtbot import QtBot

from desk_app.services.db import Database
from desk_app.services.secret_store import STRIPE_SERVICE
from desk_app.views.main_window import MainWindow
from desk_app.views.payment_account_form import PaymentAccountForm
from desk_app.views.payment_accounts_dialog import PaymentAccountsModel
from desk_app.views.tasks import TaskRunner
from desk_app.views.view_context import ViewContext
from tests.db_fixtures import actor_named
from tests.gui.cards.conftest import card_services
from tests.gui.conftest import signed_in, wait_idle
from tests.gui.helpers_profile import click, open_dialog, type_into
from tests.memory_keyring import MemoryKeyring

pytestmark = pytest.mark.gui

SECRET = "sk_test_harbourSecret42"


@pytest.fixture
def owner_card_ctx(demo_db: Database, stripe_url: str, memory_keyring: MemoryKeyring,
                   tasks: TaskRunner) -> ViewContext:
    return signed_in(card_services(demo_db, stripe_url), actor_named(demo_db, "owner"), tasks)


def test_full_access_adds_a_test_mode_account_whose_secret_stays_in_the_keyring(
    qtbot: QtBot, owner_card_ctx: ViewContext, memory_keyring: MemoryKeyring, demo_db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ctx = owner_card_ctx
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    assert window.payment_accounts_action is not None
    assert window.payment_accounts_action.text() == "&Payment accounts…"
    dialog = window.payment_accounts()
    qtbot.waitUntil(lambda: dialog.add_button.isEnabled(), timeout=5_000)
    assert dialog.model.rowCount() == 0

    click(qtbot, dialog, "Add account…")
    form = open_dialog(qtbot, dialog, PaymentAccountForm)
    type_into(qtbot, form, "Name", "Harbour Physio")
    type_into(qtbot, form, "Publishable key", "pk_live_wrongMode")
    type_into(qtbot, form, "Secret key", SECRET)
    assert form.mode.text() == "This key is for: Test mode (no real money)"
    click(qtbot, form, "Save")
    qtbot.waitUntil(lambda: form.form.error_text("publishable_key") != "", timeout=10_000)
    assert "pk_test_" in form.form.error_text("publishable_key")

    type_into(qtbot, form, "Publishable key", "pk_test_harbour")
    click(qtbot, form, "Save")
    qtbot.waitUntil(lambda: not shiboken6.isValid(form) or not form.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=5_000)
    wait_idle(qtbot, ctx)

    m = dialog.model
    cells = [m.index(0, column).data() for column in range(m.columnCount())]
    assert cells == ["Harbour Physio", "Test mode (no real money)", "Primary", "The whole clinic",
                     "Yes"]
    [account] = ctx.services.payment_accounts.list_accounts(ctx.actor)
    assert memory_keyring.entries == {(STRIPE_SERVICE, str(account.id)): SECRET}
    database = Path(demo_db.url.removeprefix("sqlite:///")).read_bytes()
    assert SECRET.encode() not in database
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    assert dialog.banner.text() == "Harbour Physio added."

    # Another workstation's keyring does not have it: the list says so.
    memory_keyring.entries.clear()
    with qtbot.waitSignal(dialog.loaded, timeout=5_000):
        dialog.reload()
    assert m.index(0, PaymentAccountsModel.KEY).data() == "No: enter it with Edit…"
    dialog.accept()


def test_only_full_access_has_the_payment_accounts_menu(qtbot: QtBot, view_ctx: ViewContext
                                                         ) -> None:
    window = MainWindow(view_ctx)
    qtbot.addWidget(window)
    assert window.payment_accounts_action is None
    wait_idle(qtbot, view_ctx)

