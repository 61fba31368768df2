"""The notification bell in the main window's status bar, and the background link poller.

Every POLL_INTERVAL_MS the poller asks Stripe about the clinic's open payment links (on the
network pool); a paid link is recorded by the service (once, whichever desk sees it first)
and notifies the staff it concerns. The bell shows the signed-in person's unread count; its
menu lists their notifications and marks them read.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from desk_app.services.link_payments import LinkCheckReport
from desk_app.services.staff_notifications import NotificationRow
from desk_app.views.profile.formats import clinic_day_text
from desk_app.views.view_context import ViewContext

POLL_INTERVAL_MS = 60_000


class NotificationBell(QToolButton):
    #: A link was paid: what some patient owes changed.
    payments_recorded = Signal()

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None,
                 *, poll_interval_ms: int = POLL_INTERVAL_MS) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rows: list[NotificationRow] = []
        self.unread = 0
        self.setAutoRaise(True)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_ = QMenu(self)
        self.menu_.setAccessibleName("Notifications list")
        self.setMenu(self.menu_)
        self.menu_.aboutToShow.connect(self._fill_menu)
        self._show_count(0)
        self.timer = QTimer(self)
        self.timer.setInterval(poll_interval_ms)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        self.refresh()

    def _show_count(self, unread: int) -> None:
        self.unread = unread
        # Words, not an emoji: the fonts on clinic machines may have no bell glyph.
        text = f"Notifications ({unread})" if unread else "Notifications"
        self.setText(text)
        self.setAccessibleName(text)
        self.setToolTip(f"{unread} unread" if unread else "No unread notifications")
        self.setStyleSheet("QToolButton { font-weight: 600; color: #b54708; }" if unread else "")
        bold = self.font()
        bold.setBold(True)
        self.setMinimumWidth(QFontMetrics(bold).horizontalAdvance(text) + 28)  # + menu arrow

    def stop(self) -> None:
        """No more polling (the window is closing)."""
        self.timer.stop()

    def refresh(self) -> None:
        notes, actor = self.ctx.services.notifications, self.ctx.actor

        def shown(rows: list[NotificationRow]) -> None:
            self.rows = rows
            self._show_count(sum(1 for r in rows if not r.read))

        self.ctx.tasks.db(lambda: notes.list_for(actor), shown, lambda _e: None, owner=self)

    def poll(self) -> None:
        if not self.window().isVisible():
            return  # a closed (or never shown) window: its tasks may be shut down
        links, actor = self.ctx.services.link_payments, self.ctx.actor

        def done(report: LinkCheckReport) -> None:
            if report.paid:
                self.payments_recorded.emit()
            self.refresh()

        try:
            self.ctx.tasks.network(lambda: links.check_open_links(actor), done,
                                   lambda _e: None, owner=self)
        except RuntimeError:  # the task pools were shut down: the app is closing
            self.timer.stop()

    def _fill_menu(self) -> None:
        self.menu_.clear()
        if not self.rows:
            empty = self.menu_.addAction("No notifications")
            empty.setEnabled(False)
            return
        tz = self.ctx.clinic.time_zone
        for row in self.rows:
            mark = "" if row.read else "● "
            action = self.menu_.addAction(
                f"{mark}{row.title} · {clinic_day_text(row.created_at, tz)}")
            action.setToolTip(row.body)
        self.menu_.addSeparator()
        self.menu_.addAction("Mark all as read", self.mark_all_read)

    def mark_all_read(self) -> None:
        notes, actor = self.ctx.services.notifications, self.ctx.actor
        self.ctx.tasks.db(lambda: notes.mark_all_read(actor), lambda _n: self.refresh(),
                          owner=self)
