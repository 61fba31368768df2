"""After a working session at the desk (cards, charges, payment links, emailed receipts,
all logged at DEBUG), the logs and the config hold no Stripe key, no SMTP password, no SMS
token, no card number and no patient e-mail address; nor does anything else the app wrote
outside its database and outbox."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from desk_app import logs, paths
from desk_app.config import Config, save_config
from desk_app.models.billing_notices import NoticeChannel
from desk_app.models.enums import PaymentMethod
from desk_app.services.charge_targets import WholeBalance
from tests.notice_fixtures import MADDY_EMAIL, SMS_TOKEN, NoticeClinic
from tests.smtp_fixtures import SMTP_PASSWORD
from tests.stripe_fixtures import SECRET_KEY, VISA

SECRETS = {"Stripe key": SECRET_KEY, "SMTP password": SMTP_PASSWORD, "SMS token": SMS_TOKEN,
           "card number": VISA, "patient email": MADDY_EMAIL}


def _written_files(home: Path) -> list[Path]:
    """Everything under the app's folders but the database files and the email outbox
    (which hold patients' details by design: the database encrypted, the outbox is mail)."""
    skipped = {"outbox"}
    return [
        p for p in home.rglob("*")
        if p.is_file() and not skipped & set(p.parts) and ".sqlite3" not in p.name
    ]


def test_a_full_session_leaves_no_secret_or_contact_in_logs_or_config(
    notice_clinic: NoticeClinic, desk_home: Path
) -> None:
    c = notice_clinic
    save_config(Config(workstation="DESK1"))
    log_file = logs.setup_logging("DEBUG")
    logging.getLogger("desk_app").debug("session starts")
    try:
        card = c.add_card(VISA)
        charged = c.services.card_payments.charge_card(c.desk, c.patient_id, card.id,
                                                       WholeBalance())
        assert charged.succeeded
        c.clinic.visit(c.patient_id, when=datetime(2026, 11, 21, 9, 0))
        c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id,
                                                         NoticeChannel.EMAIL)
        c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id,
                                                         NoticeChannel.TEXT)
        (notice, *_rest) = c.notices()
        c.checkout.pay(notice.stripe_checkout_session_id)  # type: ignore[union-attr]
        c.services.link_payments.check_open_links(c.desk)
        c.services.ledger.record_payment(c.desk, c.patient_id, PaymentMethod.CASH, 2500)
        documents = c.services.documents
        receipt = documents.invoice_receipt(c.desk, c.invoice_id)
        email = documents.prepare_email(c.desk, c.patient_id, receipt, MADDY_EMAIL)
        c.services.mail.deliver(email)
        # A failure with the details in its message, as a bug might log it.
        logging.getLogger("desk_app.test").error(
            "charge of %s for %s failed with key %s", VISA, MADDY_EMAIL, SECRET_KEY)
    finally:
        for handler in logging.getLogger().handlers:
            handler.flush()
    files = _written_files(desk_home)
    assert log_file in files and paths.config_file() in files
    assert "session starts" in log_file.read_text(encoding="utf-8")
    leaks = [
        f"{what} in {path.relative_to(desk_home)}"
        for path in files
        for what, secret in SECRETS.items()
        if secret in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert leaks == []
