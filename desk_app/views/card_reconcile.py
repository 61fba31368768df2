"""At sign-in, settle every card charge or refund whose outcome was left unknown.

A crash or a dropped connection can leave an attempt "pending" or "unknown"; until Stripe is
asked what happened, that patient cannot be charged again. This runs once, in the background
(network pool), after the main window is shown. If some stay unknown (Stripe unreachable), a
notice sits in the status bar; it never blocks anyone.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QLabel, QMainWindow

from desk_app.services.card_payments import ReconcileReport
from desk_app.views.view_context import ViewContext

log = logging.getLogger(__name__)

NOTICE_STYLE = "QLabel { color: #7a4a00; background: #fff6e5; padding: 1px 8px; }"


def notice_text(unsettled: int) -> str:
    what = "1 card charge or refund is" if unsettled == 1 else (
        f"{unsettled} card charges or refunds are")
    return (f"{what} still being checked with Stripe; the patient's Cards & charges tab "
            "shows it.")


def reconcile_at_startup(ctx: ViewContext, window: QMainWindow) -> None:
    payments = ctx.services.card_payments

    def done(report: ReconcileReport) -> None:
        if report.checked:
            log.info("startup reconciliation: %d checked, %d succeeded, %d failed, %d unsettled",
                     report.checked, len(report.succeeded), len(report.failed),
                     len(report.still_unsettled))
        else:
            log.info("startup reconciliation: no unsettled card charges or refunds")
        for problem in report.problems:
            log.warning("startup reconciliation: %s", problem)
        if report.still_unsettled:
            _notice(window, notice_text(len(report.still_unsettled)))

    def failed(error: BaseException) -> None:
        log.warning("startup reconciliation failed", exc_info=error)
        _notice(window, "Unsettled card charges could not be checked with Stripe at start-up; "
                "they are checked again before any new charge.")

    # Actor None: the audit trail names each attempt's own staff member, not whoever signed in.
    ctx.tasks.network(payments.reconcile_unknown, done, failed, owner=window)


def _notice(window: QMainWindow, text: str) -> None:
    label = QLabel(text)
    label.setObjectName("reconcileNotice")
    label.setStyleSheet(NOTICE_STYLE)
    label.setAccessibleName(text)
    window.statusBar().addPermanentWidget(label)
