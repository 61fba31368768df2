"""Running a dialog's action on the database thread and reporting back to the dialog."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import shiboken6
from PySide6.QtCore import QObject

from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.view_context import ViewContext

T = TypeVar("T")


def submit_from(
    ctx: ViewContext,
    owner: QObject,
    dialog: ActionDialog,
    work: Callable[[], T],
    on_done: Callable[[T], None],
    *,
    network: bool = False,
) -> None:
    """Run `work`; on success close `dialog` then call `on_done`, else keep it open and say why.

    `owner` (the tab) outlives the dialog, so a write that finishes still refreshes the tab.
    `network` runs it on the network pool (a Stripe call) instead of the database thread.
    """

    def succeeded(result: T) -> None:
        if shiboken6.isValid(dialog):
            dialog.finish()
        on_done(result)

    def failed(error: BaseException) -> None:
        if shiboken6.isValid(dialog):
            dialog.refuse(error)
        else:
            ctx.tasks.default_failure(error)

    run = ctx.tasks.network if network else ctx.tasks.db
    run(work, succeeded, failed, owner=owner)
