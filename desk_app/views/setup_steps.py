"""The optional steps at the end of setting up a new clinic, and the hook that adds more.

Each step is a title, what it is for, and either a dialog to open now or where to find it later
(Clinic ▸ Settings). Payments opens the payment accounts dialog. Messaging and the central
database are set up in dialogs other work brings; until their `open` is wired with
`set_opener("messaging", ...)` / `set_opener("central_database", ...)`, the page says they can
be set later, which is true whatever is wired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6.QtWidgets import QDialog, QWidget

from desk_app.views.view_context import ViewContext

#: Builds the step's dialog (not yet shown) for the new clinic's first Full Access user.
Opener = Callable[[ViewContext, QWidget], QDialog]


@dataclass(frozen=True)
class OptionalStep:
    key: str
    title: str
    description: str
    later: str  # where the setting lives once the clinic is running
    button: str  # the label of the button that opens it now
    open: Opener | None = None


def _payment_accounts(ctx: ViewContext, parent: QWidget) -> QDialog:
    from desk_app.views.payment_accounts_dialog import PaymentAccountsDialog

    return PaymentAccountsDialog(ctx, parent)


def _billing_notices(ctx: ViewContext, parent: QWidget) -> QDialog:
    from desk_app.views.notice_settings_dialog import NoticeSettingsDialog

    return NoticeSettingsDialog(ctx, parent)


def _central_database(ctx: ViewContext, parent: QWidget) -> QDialog:
    from desk_app.views.central_settings_dialog import CentralSettingsDialog

    return CentralSettingsDialog(ctx, parent)


_STEPS: dict[str, OptionalStep] = {
    step.key: step
    for step in (
        OptionalStep(
            key="payments",
            title="Card payments",
            description="Connect the clinic's Stripe account to charge cards on file and "
            "take card payments at the desk.",
            later="Clinic ▸ Payment accounts",
            button="Set up card payments…",
            open=_payment_accounts,
        ),
        OptionalStep(
            key="messaging",
            title="Messages to patients",
            description="Text and email patients a link to pay their balance: how long links "
            "last, partial payments, and what the messages say. (The email and text providers "
            "are set in config.toml, their passwords in the keyring: see the README.)",
            later="Clinic ▸ Billing notices",
            button="Set up messaging…",
            open=_billing_notices,
        ),
        OptionalStep(
            key="central_database",
            title="Central database",
            description="Share the clinic's data between several front-desk computers through "
            "a central PostgreSQL server.",
            later="Clinic ▸ Central database",
            button="Connect a central database…",
            open=_central_database,
        ),
    )
}


def optional_steps() -> list[OptionalStep]:
    return list(_STEPS.values())


def set_opener(key: str, opener: Opener | None) -> None:
    """Wire (or unwire, with None) the dialog a step opens."""
    if key not in _STEPS:
        raise KeyError(f"no optional set-up step {key!r}; known: {', '.join(_STEPS)}")
    _STEPS[key] = replace(_STEPS[key], open=opener)
