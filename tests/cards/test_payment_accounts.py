"""Payment accounts: Full Access only, keys checked with Stripe, the secret only in the keyring."""

from __future__ import annotations

import logging

import keyring
import keyring.backends.fail
import pytest
from sqlalchemy import Enum, String, Text, select

from desk_app.models import AccountMode, AuditEvent, Base
from desk_app.services.errors import (
    Conflict,
    ExternalServiceError,
    PermissionDenied,
    ValidationError,
)
from desk_app.services.payment_accounts import PaymentAccountInput
from desk_app.services.registry import Services
from desk_app.services.secret_store import (
    STRIPE_SERVICE,
    KeyringSecretStore,
    SecretStoreUnavailable,
)
from desk_app.services.stripe_gateway import StripeGatewayFactory
from tests.fault_proxy import Fault, FaultProxy
from tests.stripe_fixtures import PUBLISHABLE_KEY, SECRET_KEY, CardClinic, MemoryKeyring


def _input(label: str = "Dr Okoye", secret: str | None = "sk_test_second_account",
           publishable: str = "pk_test_second", **extra: object) -> PaymentAccountInput:
    return PaymentAccountInput(label=label, publishable_key=publishable, secret_key=secret,
                               **extra)  # type: ignore[arg-type]


def test_the_first_account_is_primary_and_its_secret_is_only_in_the_keyring(
    card_clinic: CardClinic, memory_keyring: MemoryKeyring
) -> None:
    c = card_clinic
    rows = c.services.payment_accounts.list_accounts(c.desk)
    assert [(r.label, r.is_primary, r.mode, r.key_on_this_computer) for r in rows] == [
        ("Harbour Physio", True, AccountMode.TEST, True)]
    assert rows[0].mode_label == "Test mode (no real money)"
    assert memory_keyring.entries[(STRIPE_SERVICE, str(c.account_id))] == SECRET_KEY
    # Nowhere in the database: scan every text column of every table.
    with c.db.reading() as s:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, String | Text) and not isinstance(column.type, Enum):
                    found = s.execute(select(column).where(column.contains(SECRET_KEY))).all()
                    assert found == [], f"secret key found in {table.name}.{column.name}"
        actions = s.scalars(select(AuditEvent.action)).all()
    assert "payment_account.added" in actions


def test_a_second_account_can_be_made_primary(card_clinic: CardClinic) -> None:
    c = card_clinic
    accounts = c.services.payment_accounts
    second = accounts.add_account(c.owner, _input(practitioner_id=c.clinic.practitioner_id))
    assert not second.is_primary
    assert second.practitioner_name and second.serves == second.practitioner_name
    accounts.make_primary(c.owner, second.id)
    primary = [r.label for r in accounts.list_accounts(c.owner) if r.is_primary]
    assert primary == ["Dr Okoye"]
    with pytest.raises(Conflict, match="another account primary"):
        accounts.remove_account(c.owner, second.id)
    accounts.remove_account(c.owner, c.account_id)
    assert [r.label for r in accounts.list_accounts(c.owner)] == ["Dr Okoye"]


def test_only_full_access_manages_accounts(card_clinic: CardClinic) -> None:
    c = card_clinic
    for actor in (c.desk, c.billing):
        with pytest.raises(PermissionDenied):
            c.services.payment_accounts.add_account(actor, _input())
        with pytest.raises(PermissionDenied):
            c.services.payment_accounts.make_primary(actor, c.account_id)


@pytest.mark.parametrize(("data", "field", "words"), [
    (_input(secret="pk_test_oops"), "secret_key", "not a Stripe secret key"),
    (_input(secret="sk_test_abc", publishable="pk_live_abc"), "publishable_key", "test-mode"),
    (_input(label="  "), "label", "name"),
])
def test_bad_keys_are_refused_before_anything_is_kept(
    card_clinic: CardClinic, memory_keyring: MemoryKeyring, data: PaymentAccountInput,
    field: str, words: str,
) -> None:
    before = dict(memory_keyring.entries)
    with pytest.raises(ValidationError, match=words) as caught:
        card_clinic.services.payment_accounts.add_account(card_clinic.owner, data)
    assert caught.value.field == field
    assert memory_keyring.entries == before


def test_a_key_stripe_refuses_is_not_kept(
    card_clinic: CardClinic, memory_keyring: MemoryKeyring, fault_proxy: FaultProxy
) -> None:
    c = card_clinic
    services = Services.build(c.db, gateway_factory=StripeGatewayFactory(api_base=fault_proxy.url))
    fault_proxy.arm(Fault.RESPOND, method="GET", path_prefix="/v1/balance", status=401,
                    body={"error": {"type": "invalid_request_error",
                                    "message": "Invalid API Key provided: sk_test_****"}})
    with pytest.raises(ValidationError, match="Stripe refused this secret key"):
        services.payment_accounts.add_account(c.owner, _input())
    assert len(memory_keyring.entries) == 1
    fault_proxy.arm(Fault.RESET_BEFORE, method="GET", path_prefix="/v1/balance")
    with pytest.raises(ExternalServiceError, match="nothing was saved"):
        services.payment_accounts.add_account(c.owner, _input())
    assert len(services.payment_accounts.list_accounts(c.owner)) == 1


def test_live_mode_is_shown_plainly(card_clinic: CardClinic) -> None:
    c = card_clinic
    live = c.services.payment_accounts.add_account(
        c.owner, _input("Live account", "sk_live_real_money", "pk_live_real"))
    assert live.mode is AccountMode.LIVE and live.mode_label == "Live (real money)"


def test_mode_cannot_switch_under_saved_cards(card_clinic: CardClinic) -> None:
    c = card_clinic
    c.add_card()
    row = c.services.payment_accounts.list_accounts(c.owner)[0]
    with pytest.raises(ValidationError, match="cannot be charged in live mode"):
        c.services.payment_accounts.update_account(
            c.owner, c.account_id,
            PaymentAccountInput("Harbour Physio", "pk_live_x", "sk_live_x"), row.version)
    # Relabelling and a new key of the same mode are fine.
    updated = c.services.payment_accounts.update_account(
        c.owner, c.account_id,
        PaymentAccountInput("Harbour Physio downtown", PUBLISHABLE_KEY, "sk_test_rotated"),
        row.version)
    assert updated.label == "Harbour Physio downtown"
    assert keyring.get_password(STRIPE_SERVICE, str(c.account_id)) == "sk_test_rotated"


def test_a_workstation_without_the_key_says_so(card_clinic: CardClinic,
                                               memory_keyring: MemoryKeyring) -> None:
    c = card_clinic
    memory_keyring.entries.clear()
    assert not c.services.payment_accounts.list_accounts(c.owner)[0].key_on_this_computer
    with pytest.raises(ExternalServiceError, match="does not have the payment account's secret"):
        c.services.cards.begin_add_card(c.owner, c.patient_id)


def test_removing_an_account_forgets_its_key(card_clinic: CardClinic,
                                             memory_keyring: MemoryKeyring) -> None:
    c = card_clinic
    second = c.services.payment_accounts.add_account(c.owner, _input())
    assert (STRIPE_SERVICE, str(second.id)) in memory_keyring.entries
    c.services.payment_accounts.remove_account(c.owner, second.id)
    assert (STRIPE_SERVICE, str(second.id)) not in memory_keyring.entries


# ----- the keyring wrapper ---------------------------------------------------------------------


def test_keyring_store_round_trip_never_logs_the_value(
    memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    store = KeyringSecretStore()
    with caplog.at_level(logging.DEBUG):
        store.set(STRIPE_SERVICE, "acct-1", "sk_test_hush")
        assert store.get(STRIPE_SERVICE, "acct-1") == "sk_test_hush"
        store.delete(STRIPE_SERVICE, "acct-1")
        store.delete(STRIPE_SERVICE, "acct-1")  # already gone: fine
    assert store.get(STRIPE_SERVICE, "acct-1") is None
    assert "sk_test_hush" not in caplog.text


def test_no_keyring_is_a_clear_error() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        with pytest.raises(SecretStoreUnavailable, match="keyring"):
            KeyringSecretStore().set(STRIPE_SERVICE, "acct-1", "sk_test_hush")
    finally:
        keyring.set_keyring(previous)
