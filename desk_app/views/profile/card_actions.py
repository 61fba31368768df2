"""What the Cards & charges tab's buttons open, and the Stripe calls they make.

Each `open_*` takes the tab. Anything that talks to Stripe runs on the network pool (never the
UI thread, never the database thread); what only reads the database runs on the database
thread. A charge, top-up or refund that succeeds closes its dialog and ends in
`CardsTab.written`, which reloads the tab and lets the profile reload Billing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtWidgets import QWidget

from desk_app.models.money import format_money
from desk_app.services.appointments import BookingOptions
from desk_app.services.card_payments import ChargeOutcome, ReconcileReport, RefundOutcome
from desk_app.services.cards import CardRow
from desk_app.services.ledger import BillingSummary
from desk_app.views.profile.background import submit_from
from desk_app.views.profile.card_refund_dialog import CardRefundDialog, RefundRequest
from desk_app.views.profile.charge_dialog import ChargeDialog, ChargeRequest
from desk_app.views.profile.confirm_dialog import ConfirmDialog
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.stripe_dialog import StripeActionDialog
from desk_app.views.profile.top_up_dialog import TopUpDialog, TopUpRequest

if TYPE_CHECKING:
    from desk_app.views.profile.add_card_dialog import AddCardDialog
    from desk_app.views.profile.cards_tab import CardsTab


# ----- cards -------------------------------------------------------------------------------


def open_add_card(
    tab: CardsTab, parent: QWidget | None = None, on_added: Callable[[CardRow], None] | None = None
) -> AddCardDialog:
    # Imported here: QtWebEngine is only loaded once someone adds a card.
    from desk_app.views.profile.add_card_dialog import AddCardDialog

    dialog = AddCardDialog(tab.ctx, tab.patient_id, tab.patient_name, parent or tab)

    def added(card: CardRow) -> None:
        tab.written(f"{card.label} saved on file.", money=False)
        if on_added is not None:
            on_added(card)

    dialog.card_added.connect(added)
    dialog.open()
    dialog.start()
    return dialog


def open_remove_card(tab: CardsTab) -> None:
    card = tab.selected_card()
    if card is None:
        return
    name = tab.patient_name or "the patient"
    dialog = ConfirmDialog(
        "Remove card",
        f"Remove {card.label} from {name}'s file? It is removed at Stripe too and can no longer "
        "be charged. To use it again, the card has to be entered again.",
        "Remove card",
        tab,
    )
    cards, actor = tab.ctx.services.cards, tab.ctx.actor
    dialog.submitted.connect(
        lambda _r: submit_from(
            tab.ctx, tab, dialog,
            lambda: cards.remove_card(actor, card.id),
            lambda _none: tab.written(f"{card.label} removed from file.", money=False),
            network=True,
        )
    )
    dialog.open()


# ----- charging ----------------------------------------------------------------------------


def open_charge(tab: CardsTab) -> None:
    snapshot = tab.snapshot
    if snapshot is None:
        return
    ledger, actor, pid = tab.ctx.services.ledger, tab.ctx.actor, tab.patient_id

    def show(summary: BillingSummary) -> None:
        dialog = ChargeDialog(
            tab.ctx, pid, tab.patient_name, snapshot.cards, summary.invoices,
            summary.balance.credit_cents, tab,
        )
        payments = tab.ctx.services.card_payments

        def charge(request: ChargeRequest) -> None:
            _run_charge(tab, dialog, lambda: payments.charge_card(
                actor, pid, request.card_id, request.target, request_id=request.request_id))

        dialog.submitted.connect(charge)
        dialog.open()

    tab.call(lambda: ledger.billing_summary(actor, pid), show)


def open_top_up(tab: CardsTab) -> None:
    snapshot = tab.snapshot
    if snapshot is None or snapshot.primary is None:
        return
    primary = snapshot.primary
    appointments, actor, pid = tab.ctx.services.appointments, tab.ctx.actor, tab.patient_id

    def show(options: BookingOptions) -> None:
        dialog = TopUpDialog(
            tab.patient_name, tab.ctx.clinic.currency, snapshot.cards, primary.id,
            primary.label, options.locations, tab,
        )
        payments = tab.ctx.services.card_payments

        def top_up(request: TopUpRequest) -> None:
            _run_charge(tab, dialog, lambda: payments.top_up_credit(
                actor, pid, request.amount_cents, request.card_id,
                location_id=request.location_id, request_id=request.request_id))

        dialog.submitted.connect(top_up)
        dialog.add_card_requested.connect(lambda: _add_card_for_top_up(tab, dialog))
        dialog.open()

    tab.call(lambda: appointments.booking_options(actor), show)


def _add_card_for_top_up(tab: CardsTab, top_up: TopUpDialog) -> None:
    added: list[CardRow] = []
    form = open_add_card(tab, top_up, added.append)

    def closed(_result: int) -> None:
        if not shiboken6.isValid(top_up):
            return
        if added:
            top_up.card_added(added[0])
        else:
            top_up.card_not_added()

    form.finished.connect(closed)


def _run_charge(tab: CardsTab, dialog: StripeActionDialog, work: Callable[[], ChargeOutcome]
                ) -> None:
    if not dialog.property("link_wired"):  # once per dialog, however many tries
        dialog.setProperty("link_wired", True)

        def send_link() -> None:
            _close(dialog)
            tab.pay_link_requested.emit()

        dialog.link_requested.connect(send_link)
    def done(outcome: ChargeOutcome) -> None:
        if outcome.succeeded:
            _close(dialog)
            tab.written(outcome.message)
            return
        if shiboken6.isValid(dialog):
            dialog.show_outcome(outcome.message, unsettled=outcome.unsettled,
                                offer_link=outcome.needs_authentication)
        if outcome.unsettled:
            tab.reload()  # the banner says it is being checked
            tab.banner.show_error(outcome.message)

    _network(tab, dialog, work, done)


# ----- refunds -----------------------------------------------------------------------------


def open_refund(tab: CardsTab) -> None:
    payment = tab.selected_payment()
    if payment is None:
        return
    dialog = CardRefundDialog(payment, tab.ctx.clinic.currency, tab.ctx.clinic.time_zone, tab)
    payments, actor = tab.ctx.services.card_payments, tab.ctx.actor
    numbers = {share.invoice_id: share.number for share in payment.applications}

    def done(outcome: RefundOutcome) -> None:
        if not outcome.succeeded:
            if shiboken6.isValid(dialog):
                dialog.show_outcome(outcome.message, unsettled=outcome.unsettled)
            if outcome.unsettled:
                tab.reload()
            return
        _close(dialog)
        message = outcome.message
        if outcome.unapplied:
            taken = ", ".join(
                f"{numbers.get(i, 'an invoice')} {format_money(c, outcome.currency)}"
                for i, c in outcome.unapplied.items()
            )
            message += f" Unapplied from {taken}."
        tab.written(message)

    def refund(request: RefundRequest) -> None:
        _network(tab, dialog, lambda: payments.refund_card_payment(
            actor, request.payment_id, request.amount_cents, to=request.to,
            reason=request.reason, request_id=request.request_id), done)

    dialog.submitted.connect(refund)
    dialog.open()


# ----- reconciling -------------------------------------------------------------------------


def check_now(tab: CardsTab) -> None:
    """Ask Stripe what happened to this patient's unsettled charges and refunds."""
    payments, actor, pid = tab.ctx.services.card_payments, tab.ctx.actor, tab.patient_id

    def done(report: ReconcileReport) -> None:
        if report.still_unsettled:
            tab.banner.show_error(
                "Still being checked with Stripe"
                + (f" ({report.problems[0]})" if report.problems else "")
                + ". Try again in a minute."
            )
        elif report.checked:
            tab.banner.show_success("Checked with Stripe: everything is settled.")
        tab.reload()
        tab.money_written.emit()

    def failed(error: BaseException) -> None:
        tab.unsettled.set_checking(False)
        tab.banner.show_error(message_for(error))

    tab.ctx.tasks.network(lambda: payments.reconcile_unknown(actor, patient_id=pid), done, failed,
                          owner=tab)


# ----- helpers -----------------------------------------------------------------------------


def _network(tab: CardsTab, dialog: StripeActionDialog, work: Callable[[], Any],
             done: Callable[[Any], None]) -> None:
    def failed(error: BaseException) -> None:
        if shiboken6.isValid(dialog):
            dialog.refuse(error)
        else:
            tab.ctx.tasks.default_failure(error)

    tab.ctx.tasks.network(work, done, failed, owner=tab)


def _close(dialog: StripeActionDialog) -> None:
    if shiboken6.isValid(dialog):
        dialog.set_busy(False)
        dialog.finish()
