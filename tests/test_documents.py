"""Receipts, statements and superbills as patients and insurers get them: the PDF's text, and
each page drawn to PNG (pdftoppm) so a broken layout fails loudly."""

from __future__ import annotations

import io
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4, letter

from desk_app.models import Clinic as ClinicRow
from desk_app.models import PaymentMethod
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.documents.package_visit import PackageVisit, build_package_visit_receipt
from desk_app.services.documents.parties import Branding, Party, Practitioner
from desk_app.services.documents.payment_receipt import build_payment_receipts
from desk_app.services.errors import Conflict, ValidationError
from desk_app.services.receipts import ReceiptKind
from tests.builders import Clinic, small_clinic
from tests.pdf_checks import (
    assert_page_looks_printed,
    page_count,
    page_points,
    pdf_text,
    render_pages,
)

ZOE = "Zoë Ødegård-Nguyễn"
MASSAGE = 12430


@pytest.fixture
def clinic(sqlite_db: Database) -> Clinic:
    return small_clinic(sqlite_db)


def zoe(c: Clinic) -> uuid.UUID:
    return c.patient("Zoë", "Ødegård-Nguyễn", date_of_birth=date(1988, 3, 14),
                     email="zoe@example.com")  # fmt: skip


def looks_printed(data: bytes, tmp_path: Path, name: str) -> None:
    pages = render_pages(data, tmp_path, name)
    assert len(pages) == page_count(data)
    for png in pages:
        assert_page_looks_printed(png, page_points(data))


def test_payment_receipt_names_the_patient_what_was_paid_and_by_whom(
    clinic: Clinic, clock: FixedClock, tmp_path: Path
) -> None:
    patient = zoe(clinic)
    massage = clinic.visit(patient, "Massage 60 min")
    clinic.services.ledger.record_payment(
        clinic.desk, patient, PaymentMethod.DEBIT, MASSAGE, apply_to=[massage], reference="A-77"
    )
    (receipt,) = clinic.services.receipts.receipts(clinic.desk, patient)
    document = clinic.services.documents.payment_receipts(clinic.desk, patient, [receipt])

    text = pdf_text(document.data)
    for expected in (
        ZOE, "Payment receipt", receipt.number, "Maple Grove Wellness", "HST 81234 5678 RT0001",
        "120 King Street West", "Massage 60 min", "Daniel Okoye, RMT", "Nov 20, 2026",
        "Debit", "A-77", "$124.30", "Total of this receipt",
    ):  # fmt: skip
        assert expected in text, expected
    assert page_points(document.data) == pytest.approx(letter)
    assert document.filename == f"receipt-{receipt.number}.pdf"
    assert ZOE not in document.filename
    assert document.amount_cents == MASSAGE and document.kind == "receipt"
    looks_printed(document.data, tmp_path, "payment-receipt")


def test_a_payment_on_account_receipt_says_it_is_held_as_credit(
    clinic: Clinic, tmp_path: Path
) -> None:
    patient = zoe(clinic)
    clinic.services.ledger.record_payment(clinic.desk, patient, PaymentMethod.CASH, 5000)
    (receipt,) = clinic.services.receipts.receipts(clinic.desk, patient)
    assert receipt.kind == ReceiptKind.ON_ACCOUNT
    document = clinic.services.documents.payment_receipts(clinic.desk, patient, [receipt])
    text = pdf_text(document.data)
    assert "Payment on account" in text and "held as account credit" in text
    assert "$50.00" in text and ZOE in text
    looks_printed(document.data, tmp_path, "on-account")


def test_download_page_puts_each_receipt_on_its_own_page_in_list_order(
    clinic: Clinic, clock: FixedClock
) -> None:
    patient = zoe(clinic)
    for cents in (1000, 2000, 3000):
        clock.advance(timedelta(hours=1))
        clinic.services.ledger.record_payment(clinic.desk, patient, PaymentMethod.CASH, cents)
    page = clinic.services.receipts.page(clinic.desk, patient)
    numbers = [r.number for r in page.receipts]
    document = clinic.services.documents.payment_receipts(clinic.desk, patient, page.receipts)
    assert page_count(document.data) == 3
    text = pdf_text(document.data)
    assert [text.index(n) for n in numbers] == sorted(text.index(n) for n in numbers)
    assert "$30.00" in text and "$10.00" in text and "Page 3 of 3" in text
    with pytest.raises(ValidationError):
        clinic.services.documents.payment_receipts(clinic.desk, patient, [])


def test_a_receipt_unapplied_since_the_list_was_shown_is_refused_clearly(
    clinic: Clinic, clock: FixedClock
) -> None:
    patient = zoe(clinic)
    massage = clinic.visit(patient)
    paid = clinic.services.ledger.record_payment(
        clinic.desk, patient, PaymentMethod.CASH, MASSAGE, apply_to=[massage]
    )
    (receipt,) = clinic.services.receipts.receipts(clinic.desk, patient)
    clock.advance(timedelta(minutes=5))
    clinic.services.ledger.unapply(clinic.billing, paid.payment_id, massage)
    with pytest.raises(Exception, match="no longer exists"):
        clinic.services.documents.payment_receipts(clinic.desk, patient, [receipt])


def test_detailed_invoice_receipt_has_what_an_insurer_needs(
    clinic: Clinic, clock: FixedClock, tmp_path: Path
) -> None:
    patient = zoe(clinic)
    massage = clinic.visit(patient, "Massage 60 min")
    clock.advance(timedelta(minutes=10))
    clinic.services.ledger.record_payment(
        clinic.desk, patient, PaymentMethod.E_TRANSFER, 10000, apply_to=[massage]
    )
    document = clinic.services.documents.invoice_receipt(clinic.desk, massage)
    text = pdf_text(document.data)
    for expected in (
        ZOE, "Date of birth: Mar 14, 1988", "DESK1-00001", "Massage 60 min",
        "Daniel Okoye, RMT", "CMTO U4567", "Nov 20, 2026", "$110.00", "$14.30", "(13%)",
        "$124.30", "Payments applied", "E-transfer", "$100.00", "Balance owing", "$24.30",
        "HST 81234 5678 RT0001",
    ):  # fmt: skip
        assert expected in text, expected
    assert document.filename == "invoice-receipt-DESK1-00001.pdf"
    looks_printed(document.data, tmp_path, "invoice-receipt")


def test_a_deleted_invoice_has_no_receipt(clinic: Clinic) -> None:
    patient = zoe(clinic)
    massage = clinic.visit(patient)
    clinic.services.invoicing.delete_invoice(clinic.billing, massage)
    with pytest.raises(Conflict, match="was deleted"):
        clinic.services.documents.invoice_receipt(clinic.desk, massage)


def test_statement_shows_opening_balance_charges_payments_and_closing_balance(
    clinic: Clinic, clock: FixedClock, tmp_path: Path
) -> None:
    patient = zoe(clinic)
    ledger = clinic.services.ledger
    clock.set(datetime(2026, 10, 15, 15, 0, tzinfo=UTC))
    october = clinic.visit(patient, "Massage 60 min", when=datetime(2026, 10, 15, 10, 0))
    ledger.record_payment(clinic.desk, patient, PaymentMethod.CASH, 10000, apply_to=[october])
    clock.set(datetime(2026, 11, 10, 15, 0, tzinfo=UTC))
    november = clinic.visit(patient, "Physio follow-up", when=datetime(2026, 11, 10, 9, 0))
    clock.set(datetime(2026, 11, 12, 15, 0, tzinfo=UTC))
    ledger.record_payment(clinic.desk, patient, PaymentMethod.DEBIT, 5000, apply_to=[november])
    clock.set(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))

    document = clinic.services.documents.statement(
        clinic.desk, patient, date(2026, 11, 1), date(2026, 11, 30)
    )
    text = pdf_text(document.data)
    opening = MASSAGE - 10000  # $24.30 owing from October
    closing = opening + 8500 - 5000
    for expected in (
        ZOE, "Statement of account", "Nov 1, 2026 – Nov 30, 2026", "Opening balance", "$24.30",
        "Physio follow-up", "$85.00", "Debit", "$50.00", "Closing balance", "$59.30",
        "Balance owing",
    ):  # fmt: skip
        assert expected in text, expected
    assert "Massage 60 min" not in text  # October's invoice is in the opening balance only
    assert document.amount_cents == closing
    looks_printed(document.data, tmp_path, "statement")
    with pytest.raises(ValidationError, match="From date is after the To date"):
        clinic.services.documents.statement(
            clinic.desk, patient, date(2026, 11, 30), date(2026, 11, 1)
        )


def test_a_statement_with_credit_says_so(clinic: Clinic, clock: FixedClock) -> None:
    patient = zoe(clinic)
    clinic.services.ledger.record_payment(clinic.desk, patient, PaymentMethod.CASH, 2500)
    document = clinic.services.documents.statement(
        clinic.desk, patient, date(2026, 11, 1), date(2026, 11, 30)
    )
    text = pdf_text(document.data)
    assert "-$25.00" in text and "Credit on account" in text


def test_superbill_lists_services_with_provider_registration_and_blank_codes(
    clinic: Clinic, clock: FixedClock, tmp_path: Path
) -> None:
    patient = zoe(clinic)
    massage = clinic.visit(patient, "Massage 60 min")
    physio = clinic.visit(patient, "Physio follow-up", when=datetime(2026, 11, 19, 9, 0))
    clock.advance(timedelta(minutes=5))
    clinic.services.ledger.record_payment(
        clinic.desk, patient, PaymentMethod.DEBIT, MASSAGE, apply_to=[massage]
    )
    document = clinic.services.documents.superbill(
        clinic.desk, patient, date(2026, 11, 1), date(2026, 11, 30)
    )
    text = pdf_text(document.data)
    for expected in (
        "Superbill", ZOE, "Mar 14, 1988", "CPT", "ICD-10", "Massage 60 min",
        "Physio follow-up", "Daniel Okoye, RMT", "NPI / registration: CMTO U4567", "CMTO U4567",
        "Nov 19, 2026", "Nov 20, 2026", "Total charges", "$209.30", "Payments received",
        "$124.30", "Balance due", "$85.00", "Provider signature",
    ):  # fmt: skip
        assert expected in text, expected
    assert physio  # both visits are in the period
    looks_printed(document.data, tmp_path, "superbill")


def test_package_visit_receipt_shows_the_package_and_the_uses_remaining(tmp_path: Path) -> None:
    branding = Branding(name="Maple Grove Wellness", address="120 King Street West",
                        tax_numbers="HST 81234 5678 RT0001")  # fmt: skip
    visit = PackageVisit(
        number="P-DESK1-1A2B-3C4D-5E6F",
        package_name="5 × Massage 60 min",
        visit_at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
        service="Massage 60 min",
        practitioner=Practitioner("Daniel Okoye", "RMT", "CMTO U4567"),
        uses_remaining=3,
        uses_total=5,
        expires_on=date(2027, 5, 20),
        value_cents=10000,
    )
    data = build_package_visit_receipt(branding, Party(ZOE), visit)
    text = pdf_text(data)
    for expected in (
        ZOE, "Package visit receipt", "P-DESK1-1A2B-3C4D-5E6F", "5 × Massage 60 min",
        "Uses remaining", "3 of 5", "Daniel Okoye, RMT", "CMTO U4567", "Nov 20, 2026",
        "May 20, 2027", "$100.00", "no payment was taken",
    ):  # fmt: skip
        assert expected in text, expected
    looks_printed(data, tmp_path, "package-visit")
    unlimited = replace(visit, uses_remaining=None, uses_total=None, value_cents=None)
    assert "Unlimited" in pdf_text(build_package_visit_receipt(branding, Party(ZOE), unlimited))


def test_clinics_outside_north_america_get_a4_paper(clinic: Clinic) -> None:
    patient = zoe(clinic)
    clinic.services.ledger.record_payment(clinic.desk, patient, PaymentMethod.CASH, 5000)
    (receipt,) = clinic.services.receipts.receipts(clinic.desk, patient)
    branding = Branding(name="Clinic", currency="GBP", time_zone="Europe/London", country="GB")
    data = build_payment_receipts(branding, Party(ZOE), [receipt])
    assert page_points(data) == pytest.approx(A4)
    assert "£50.00" in pdf_text(data)


def logo_png() -> bytes:
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 599, 199), fill=(200, 30, 40, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_the_clinic_logo_is_printed_in_the_header(clinic: Clinic, tmp_path: Path) -> None:
    clinic.services.clinic.set_logo(clinic.owner, logo_png())
    patient = zoe(clinic)
    clinic.services.ledger.record_payment(clinic.desk, patient, PaymentMethod.CASH, 5000)
    (receipt,) = clinic.services.receipts.receipts(clinic.desk, patient)
    document = clinic.services.documents.payment_receipts(clinic.desk, patient, [receipt])
    (png,) = render_pages(document.data, tmp_path, "with-logo")
    with Image.open(png) as image:
        pixels = image.convert("RGB").tobytes()
    red = sum(
        1
        for k in range(0, len(pixels), 3)
        if pixels[k] > 180 and pixels[k + 1] < 80 and pixels[k + 2] < 80
    )
    # The logo is drawn 2 inches wide at most: about 160 x 53 pixels at 80 dpi.
    assert red > 5000
    with clinic.db.reading() as s:
        assert s.get_one(ClinicRow, clinic.owner.clinic_id).logo_image is not None
