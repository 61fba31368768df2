"""The card payments list on the Cards & charges tab, and the refund preview it shows."""

from __future__ import annotations

from datetime import datetime

from desk_app.services.card_payment_rows import refund_preview
from desk_app.services.card_payments import ChargeAmount
from tests.stripe_fixtures import CardClinic


def test_preview_takes_credit_first_then_the_newest_invoice_as_the_refund_does(
    card_clinic: CardClinic,
) -> None:
    c = card_clinic
    card = c.add_card()
    c.clinic.visit(c.patient_id, when=datetime(2026, 11, 21, 9, 0))
    owing = c.owing()
    payments = c.services.card_payments
    outcome = payments.charge_card(c.desk, c.patient_id, card.id, ChargeAmount(owing + 1000))
    assert outcome.succeeded

    [row] = payments.card_payments_for_patient(c.desk, c.patient_id)
    assert (row.amount_cents, row.applied_cents, row.unapplied_cents) == (
        owing + 1000, owing, 1000)
    assert row.card_label == "Visa •••• 4242" and row.account_label == "Harbour Physio"
    assert sum(share.cents for share in row.applications) == owing

    preview = refund_preview(row, 1500, "card")
    assert preview.from_credit_cents == 1000 and not preview.too_much
    refund = payments.refund_card_payment(c.billing, row.id, 1500, to="card")
    assert refund.succeeded
    assert refund.unapplied == {share.invoice_id: share.cents for share in preview.unapplied}

    [row] = payments.card_payments_for_patient(c.desk, c.patient_id)
    assert (row.refunded_cents, row.unapplied_cents) == (1500, 0)
    assert refund_preview(row, row.refundable_cents + 1, "card").too_much
    assert refund_preview(row, row.applied_cents + 1, "credit").too_much
    credit = refund_preview(row, 700, "credit")
    assert credit.from_credit_cents == 0 and sum(s.cents for s in credit.unapplied) == 700
    moved = payments.refund_card_payment(c.billing, row.id, 700, to="credit")
    assert moved.unapplied == {share.invoice_id: share.cents for share in credit.unapplied}
