"""The Receipts tab at the desk: what the patient sees, ten to a page, filtered by payment date;
viewing, saving, printing and emailing receipts; statements; the Billing tab's Receipt."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtPrintSupport import QPrintPreviewDialog
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox, QPushButton, QTableView
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from desk_app import paths
from desk_app.models import AuditEvent, PaymentMethod
from desk_app.models import Clinic as ClinicRow
from desk_app.services.actor import Actor
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.invoicing import LineSpec
from desk_app.services.mail import KEYRING_SERVICE, Mailer, SmtpSecurity, SmtpSettings
from desk_app.services.patient_input import PatientInput
from desk_app.services.registry import Services
from desk_app.views.a11y import unnamed_controls
from desk_app.views.documents.printers import FilePrinters, NoPrinters
from desk_app.views.profile.document_dialog import DocumentDialog
from desk_app.views.profile.email_dialog import EmailDialog
from desk_app.views.profile.period_dialog import PeriodDialog
from desk_app.views.profile.profile_view import ProfileView
from desk_app.views.tasks import TaskRunner
from desk_app.views.view_context import ViewContext
from tests.gui.conftest import signed_in, wait_idle
from tests.gui.helpers_profile import click, named, open_dialog, open_profile, select_row
from tests.pdf_checks import page_count, page_points, pdf_text
from tests.smtp_fixtures import SMTP_PASSWORD, SMTP_USER, MemoryKeyring, SmtpServer
from tests.smtp_fixtures import mail_keyring as mail_keyring
from tests.smtp_fixtures import smtp_server as smtp_server

pytestmark = pytest.mark.gui

ZOE = "Zoë Ødegård-Nguyễn"
MASSAGE = 12430


def new_zoe(services: Services, actor: Actor) -> uuid.UUID:
    data = PatientInput(legal_first_name="Zoë", legal_last_name="Ødegård-Nguyễn",
                        email="zoe@example.com")  # fmt: skip
    return services.patients.create(actor, data).id


def payments_on_days(
    services: Services, actor: Actor, clock: FixedClock, patient: uuid.UUID, days: int
) -> None:
    """One payment on account a day from Nov 1 (Toronto afternoon): $10.00, $10.01, ..."""
    for day in range(days):
        clock.set(datetime(2026, 11, 1, 18, 0, tzinfo=UTC) + timedelta(days=day))
        services.ledger.record_payment(actor, patient, PaymentMethod.CASH, 1000 + day)
    clock.set(datetime(2026, 11, 21, 19, 0, tzinfo=UTC))


def zoe_paid_on_account(services: Services, actor: Actor) -> uuid.UUID:
    """Zoë, with $42.00 paid in cash and held on account."""
    patient = new_zoe(services, actor)
    services.ledger.record_payment(actor, patient, PaymentMethod.CASH, 4200)
    return patient


def zoe_paid_daily(
    qtbot: QtBot, ctx: ViewContext, services: Services, actor: Actor, clock: FixedClock,
    days: int,
) -> ProfileView:  # fmt: skip
    """Zoë's Receipts tab, after `payments_on_days` of payments on account."""
    patient = new_zoe(services, actor)
    payments_on_days(services, actor, clock, patient, days)
    return receipts_view(qtbot, ctx, patient)


def receipts_view(qtbot: QtBot, ctx: ViewContext, patient: uuid.UUID) -> ProfileView:
    view = open_profile(qtbot, ctx, patient, "Receipts")
    qtbot.waitUntil(lambda: view.receipts.page is not None, timeout=10_000)
    wait_idle(qtbot, ctx)
    return view


def amounts(view: ProfileView) -> list[str]:
    model = view.receipts.model
    return [str(model.index(r, model.AMOUNT).data()) for r in range(model.rowCount())]


def choose_file(qtbot: QtBot, parent: ProfileView | DocumentDialog, path: Path) -> None:
    """Answer the save dialog the last click opened with `path`."""
    dialog = open_dialog(qtbot, parent, QFileDialog)
    dialog.setDirectory(str(path.parent))  # as a person browses there, then types the name
    name_box = dialog.findChild(QLineEdit, "fileNameEdit")
    assert name_box is not None
    name_box.setText(path.name)
    dialog.accept()


def test_receipts_show_ten_to_a_page_newest_payment_first(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    clock: FixedClock,
) -> None:  # fmt: skip
    view = zoe_paid_daily(qtbot, view_ctx, demo_services, front_desk, clock, 12)
    tab = view.receipts

    assert amounts(view) == [f"${10 + d / 100:.2f}" for d in range(11, 1, -1)]
    assert tab.showing.text() == "Showing 1–10 of 12 receipts"
    assert tab.page_label.text() == "Page 1 of 2"
    assert not tab.previous_button.isEnabled() and tab.next_button.isEnabled()
    assert tab.model.index(0, tab.model.APPLIED_TO).data() == "Account credit"

    click(qtbot, view, "Next")
    wait_idle(qtbot, view_ctx)
    assert amounts(view) == ["$10.01", "$10.00"]
    assert tab.showing.text() == "Showing 11–12 of 12 receipts"
    assert tab.previous_button.isEnabled() and not tab.next_button.isEnabled()
    assert unnamed_controls(view) == []


def test_filter_by_payment_date_and_blank_shows_all(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    clock: FixedClock,
) -> None:  # fmt: skip
    view = zoe_paid_daily(qtbot, view_ctx, demo_services, front_desk, clock, 12)
    tab = view.receipts

    named(view, QLineEdit, "From").setText("2026-11-03")
    named(view, QLineEdit, "To").setText("2026-11-05")
    click(qtbot, view, "Filter")
    wait_idle(qtbot, view_ctx)
    assert amounts(view) == ["$10.04", "$10.03", "$10.02"]
    assert tab.page_label.text() == "Page 1 of 1"

    named(view, QLineEdit, "To").setText("")
    click(qtbot, view, "Filter")
    wait_idle(qtbot, view_ctx)
    assert tab.showing.text() == "Showing 1–10 of 10 receipts"

    named(view, QLineEdit, "From").setText("Nov 3")
    click(qtbot, view, "Filter")
    assert tab.banner.kind == "error" and "year-month-day" in tab.banner.text()

    click(qtbot, view, "Clear")
    wait_idle(qtbot, view_ctx)
    assert tab.showing.text() == "Showing 1–10 of 12 receipts"
    assert tab.banner.kind == ""


def test_download_page_saves_the_pages_receipts_in_one_pdf(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    clock: FixedClock, tmp_path: Path,
) -> None:  # fmt: skip
    view = zoe_paid_daily(qtbot, view_ctx, demo_services, front_desk, clock, 12)
    target = tmp_path / "chosen" / "page-one.pdf"
    target.parent.mkdir()

    click(qtbot, view, "Download Page")
    choose_file(qtbot, view, target)
    qtbot.waitUntil(lambda: target.exists(), timeout=10_000)

    data = target.read_bytes()
    assert page_count(data) == 10
    text = pdf_text(data)
    assert ZOE in text and "$10.11" in text and "$10.02" in text and "$10.01" not in text
    assert [p.name for p in target.parent.iterdir()] == ["page-one.pdf"]  # nothing else written
    assert view.receipts.banner.kind == "success"


def test_view_opens_the_receipt_in_a_preview_that_writes_no_file(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    clock: FixedClock,
) -> None:  # fmt: skip
    patient = new_zoe(demo_services, front_desk)
    massage = demo_services.invoicing.create_invoice(
        front_desk, patient, [_massage_line()]
    ).invoice_id
    demo_services.ledger.record_payment(
        front_desk, patient, PaymentMethod.DEBIT, MASSAGE, apply_to=[massage]
    )
    view = receipts_view(qtbot, view_ctx, patient)
    receipt = view.receipts.selected_receipt()
    assert receipt is not None and receipt.amount_cents == MASSAGE

    click(qtbot, view, "View")
    dialog = open_dialog(qtbot, view, DocumentDialog)
    assert receipt.number in dialog.windowTitle()
    assert dialog.pdf.pageCount() == 1
    assert ZOE in pdf_text(dialog.document.data)
    assert unnamed_controls(dialog) == []
    assert not list((paths.data_dir()).glob("**/*.pdf"))
    dialog.close()


def _massage_line() -> LineSpec:
    return LineSpec("Massage 60 min", 11000, 1300, 1)


def test_save_as_pdf_writes_the_receipt_where_chosen(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    tmp_path: Path,
) -> None:  # fmt: skip
    patient = zoe_paid_on_account(demo_services, front_desk)
    view = receipts_view(qtbot, view_ctx, patient)
    target = tmp_path / "zoe-receipt.pdf"

    click(qtbot, view, "Save as PDF…")
    choose_file(qtbot, view, target)
    qtbot.waitUntil(lambda: target.exists(), timeout=10_000)
    text = pdf_text(target.read_bytes())
    assert ZOE in text and "$42.00" in text and "Payment on account" in text
    assert f"Saved {target.name}" in view.receipts.banner.text()


def test_print_with_no_printer_says_so_and_offers_to_save_instead(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    tmp_path: Path,
) -> None:  # fmt: skip
    patient = zoe_paid_on_account(demo_services, front_desk)
    view = receipts_view(qtbot, view_ctx, patient)
    view.receipts.documents.printers = NoPrinters()

    click(qtbot, view, "Print")
    box = open_dialog(qtbot, view, QMessageBox)
    assert box.windowTitle() == "No printer is set up"
    assert "No printer is installed on this computer" in box.text()
    assert "Save it as a PDF instead" in box.text()
    assert unnamed_controls(box) == []
    assert "No printer is installed" in view.receipts.banner.text()

    target = tmp_path / "instead.pdf"
    click(qtbot, box, "Save as PDF…")
    choose_file(qtbot, view, target)
    qtbot.waitUntil(lambda: target.exists(), timeout=10_000)
    assert "$42.00" in pdf_text(target.read_bytes())


def test_print_sends_the_receipt_to_the_default_printer_exactly_as_it_looks(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    tmp_path: Path,
) -> None:  # fmt: skip
    patient = new_zoe(demo_services, front_desk)
    demo_services.ledger.record_payment(front_desk, patient, PaymentMethod.DEBIT, 13560)
    view = receipts_view(qtbot, view_ctx, patient)
    receipt = view.receipts.selected_receipt()
    assert receipt is not None
    view.receipts.documents.printers = FilePrinters(lambda n: tmp_path / f"job-{n}.pdf")

    with qtbot.waitSignal(view.receipts.documents.printed, timeout=20_000):
        click(qtbot, view, "Print")
    wait_idle(qtbot, view_ctx)

    printed = (tmp_path / "job-1.pdf").read_bytes()
    text = pdf_text(printed)
    assert ZOE in text  # the exact name, accents and all
    assert receipt.number in text and "$135.60" in text and "Maple Grove Wellness" in text
    assert page_points(printed) == pytest.approx((612, 792), abs=1)  # US Letter, as built
    assert "Sent the receipt (1 page) to print" in view.receipts.banner.text()


def test_print_preview_shows_the_pages(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor
) -> None:
    patient = zoe_paid_on_account(demo_services, front_desk)
    document = demo_services.documents.payment_receipts(
        front_desk, patient, demo_services.receipts.receipts(front_desk, patient)[:1]
    )
    dialog = DocumentDialog(view_ctx, document, patient)
    qtbot.addWidget(dialog)
    dialog.show()
    click(qtbot, dialog, "Print preview")
    preview = open_dialog(qtbot, dialog, QPrintPreviewDialog)
    assert preview.windowTitle().startswith("Print preview — Payment on account")
    preview.close()


def test_email_with_no_provider_saves_to_the_outbox_and_says_so(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    demo_db: Database,
) -> None:  # fmt: skip
    patient = zoe_paid_on_account(demo_services, front_desk)
    view = receipts_view(qtbot, view_ctx, patient)

    click(qtbot, view, "Email…")
    dialog = open_dialog(qtbot, view, EmailDialog)
    assert named(dialog, QLineEdit, "To").text() == "zoe@example.com"
    assert unnamed_controls(dialog) == []
    click(qtbot, dialog, "Send")
    wait_idle(qtbot, view_ctx)

    message = view.receipts.banner.text()
    assert "not sent: no email provider configured; saved to the outbox" in message
    (saved,) = (paths.data_dir() / "outbox").glob("*.eml")
    assert b"zoe@example.com" in saved.read_bytes()
    with demo_db.reading() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "receipt.emailed")).one()
        assert event.patient_id == patient


def test_email_goes_through_the_clinics_smtp_server(
    qtbot: QtBot, demo_db: Database, front_desk: Actor, tasks: TaskRunner,
    smtp_server: SmtpServer, mail_keyring: MemoryKeyring,
) -> None:  # fmt: skip
    mail_keyring.set_password(KEYRING_SERVICE, SMTP_USER, SMTP_PASSWORD)
    settings = SmtpSettings("127.0.0.1", smtp_server.port, SmtpSecurity.NONE, SMTP_USER,
                            SMTP_USER, timeout_seconds=5.0)  # fmt: skip
    services = Services.build(demo_db, mailer=Mailer(settings))
    ctx = signed_in(services, front_desk, tasks)
    patient = new_zoe(services, front_desk)
    services.ledger.record_payment(front_desk, patient, PaymentMethod.CASH, 4200)
    view = receipts_view(qtbot, ctx, patient)

    click(qtbot, view, "Email…")
    dialog = open_dialog(qtbot, view, EmailDialog)
    named(dialog, QLineEdit, "To").setText("zoe.work@example.com")
    click(qtbot, dialog, "Send")
    wait_idle(qtbot, ctx)

    assert view.receipts.banner.text() == "Receipt emailed to zoe.work@example.com."
    (message,) = smtp_server.inbox.messages
    assert message["To"] == "zoe.work@example.com"
    assert message["Subject"] == "Your receipt from Maple Grove Wellness"
    (attachment,) = list(message.iter_attachments())
    assert ZOE in pdf_text(attachment.get_content())


def test_a_typo_in_the_address_is_shown_under_the_field(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor
) -> None:
    patient = zoe_paid_on_account(demo_services, front_desk)
    view = receipts_view(qtbot, view_ctx, patient)
    click(qtbot, view, "Email…")
    dialog = open_dialog(qtbot, view, EmailDialog)
    named(dialog, QLineEdit, "To").setText("zoe@example")
    click(qtbot, dialog, "Send")
    assert dialog.isVisible()
    assert not (paths.data_dir() / "outbox").exists()
    dialog.close()


def test_statement_for_a_period_opens_in_the_preview(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    clock: FixedClock,
) -> None:  # fmt: skip
    view = zoe_paid_daily(qtbot, view_ctx, demo_services, front_desk, clock, 3)
    assert not named_or_none(view, "Superbill…")  # a Canadian clinic

    click(qtbot, view, "Statement…")
    dialog = open_dialog(qtbot, view, PeriodDialog)
    assert unnamed_controls(dialog) == []
    assert dialog.start.date().toPython() == date(2026, 1, 1)
    click(qtbot, dialog, "Make statement")
    preview = open_dialog(qtbot, view, DocumentDialog)
    assert preview.document.kind == "statement"
    text = pdf_text(preview.document.data)
    assert "Statement of account" in text and ZOE in text and "$30.03" in text
    preview.close()


def named_or_none(view: ProfileView, name: str) -> bool:
    return any(
        b.accessibleName() == name and b.isVisibleTo(view) for b in view.findChildren(QPushButton)
    )


def test_us_clinics_are_offered_superbills(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    demo_db: Database,
) -> None:  # fmt: skip
    with demo_db.transaction() as s:
        s.execute(update(ClinicRow).values(country="US"))
    patient = new_zoe(demo_services, front_desk)
    view = receipts_view(qtbot, view_ctx, patient)
    assert named_or_none(view, "Superbill…")
    click(qtbot, view, "Superbill…")
    dialog = open_dialog(qtbot, view, PeriodDialog)
    click(qtbot, dialog, "Make superbill")
    preview = open_dialog(qtbot, view, DocumentDialog)
    assert "Superbill" in pdf_text(preview.document.data)
    preview.close()


def test_billing_tab_receipt_shows_the_detailed_invoice_receipt(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor
) -> None:
    patient = new_zoe(demo_services, front_desk)
    created = demo_services.invoicing.create_invoice(front_desk, patient, [_massage_line()])
    view = open_profile(qtbot, view_ctx, patient)
    select_row(view.billing.invoice_table, created.invoice_id)

    click(qtbot, view, "Receipt")
    dialog = open_dialog(qtbot, view, DocumentDialog)
    assert dialog.windowTitle().startswith(f"Receipt for invoice {created.number}")
    text = pdf_text(dialog.document.data)
    assert "Detailed receipt" in text and "Balance owing" in text and "$124.30" in text
    dialog.close()


def test_unapplying_on_the_billing_tab_updates_the_receipt_shown(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    clock: FixedClock, demo_db: Database,
) -> None:  # fmt: skip
    patient = new_zoe(demo_services, front_desk)
    invoice = demo_services.invoicing.create_invoice(front_desk, patient, [_massage_line()])
    paid = demo_services.ledger.record_payment(
        front_desk, patient, PaymentMethod.CASH, MASSAGE, apply_to=[invoice.invoice_id]
    )
    view = receipts_view(qtbot, view_ctx, patient)
    (original,) = view.receipts.model.rows
    assert amounts(view) == ["$124.30"]

    clock.advance(timedelta(hours=1))
    demo_services.ledger.unapply(front_desk, paid.payment_id, invoice.invoice_id, 4000)
    view.billing.money_changed("$40.00 unapplied.")  # what the Billing tab does after a write
    qtbot.waitUntil(lambda: len(view.receipts.model.rows) == 2, timeout=10_000)
    wait_idle(qtbot, view_ctx)

    rows = {r.number: r for r in view.receipts.model.rows}
    assert rows[original.number].amount_cents == MASSAGE - 4000
    assert sorted(amounts(view)) == ["$40.00", "$84.30"]


def test_receipts_table_is_named_for_screen_readers(
    qtbot: QtBot, view_ctx: ViewContext, maddy_id: uuid.UUID
) -> None:
    view = receipts_view(qtbot, view_ctx, maddy_id)
    table = named(view, QTableView, "Receipts")
    assert table.model().rowCount() > 0
    assert unnamed_controls(view) == []
    for label in ("View", "Print", "Save as PDF…", "Email…", "Statement…", "Filter", "Clear",
                  "Download Page", "Previous", "Next"):  # fmt: skip
        assert named(view, QPushButton, label).text() == label
