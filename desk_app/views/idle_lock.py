"""Locking a shared desk: after the clinic's idle time (Clinic settings, "Lock after") or on
File ▸ Lock, the main window is covered by a lock screen that hides every patient detail.

Nothing is closed: a half-typed note or an open dialog is hidden, not discarded, and comes
back as it was when the same person types their password. "Switch user" signs them out
instead (what they had open is discarded) so a colleague can sign in at the same desk.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.actor import Actor
from desk_app.views.a11y import name
from desk_app.views.forms import form_error_label, push_button
from desk_app.views.sign_in import show_password_refusal
from desk_app.views.tasks import TaskRunner
from desk_app.views.theme import app_icon

#: What counts as someone at the desk.
_ACTIVITY = frozenset({
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
})


class IdleWatcher(QObject):
    """Emits `idle` once no key, click, wheel or mouse movement reached the app for
    `interval_ms`; any such input starts the count again."""

    idle = Signal()

    def __init__(self, interval_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.idle)
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)
        self._timer.start()

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    def set_interval(self, interval_ms: int) -> None:
        self._timer.setInterval(interval_ms)
        if self._timer.isActive():
            self._timer.start()

    def pause(self) -> None:
        self._timer.stop()

    def resume(self) -> None:
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY and self._timer.isActive():
            self._timer.start()
        return False

    def stop_watching(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._timer.stop()


class LockScreen(QFrame):
    """Covers its parent window. `unlocked(Actor)` after the right password; `switch_user`
    when someone else wants the desk."""

    unlocked = Signal(object)
    switch_user = Signal()

    def __init__(
        self,
        actor: Actor,
        unlock: Callable[[Actor, str], Actor],
        tasks: TaskRunner,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._actor = actor
        self._unlock = unlock
        self._tasks = tasks
        self.setObjectName("lockScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            "#lockScreen { background: #eef3f4; }"
            " #lockCard { background: #ffffff; border: 1px solid #d5dde1; border-radius: 10px; }"
        )
        card = QFrame()
        card.setObjectName("lockCard")
        card.setFixedWidth(420)
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(48, 48))
        title = QLabel("Front Desk is locked")
        title.setObjectName("dialogTitle")
        who = QLabel(f"{actor.name} is signed in at {actor.workstation}. Their work is kept.")
        who.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(f"{actor.name}'s password")
        name(self.password, "Password")
        self.password.returnPressed.connect(self.submit)
        self.error = form_error_label()
        self.error.setAccessibleName("Unlock problem")
        self.unlock_button = push_button("Unlock", primary=True)
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.submit)
        self.switch_button = push_button("Switch user…")
        self.switch_button.setToolTip(f"Signs {actor.name} out; what they had open is closed.")
        self.switch_button.clicked.connect(self.switch_user)

        buttons = QHBoxLayout()
        buttons.addWidget(self.switch_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(28, 24, 28, 22)
        inner.setSpacing(12)
        inner.addWidget(icon, 0, Qt.AlignmentFlag.AlignHCenter)
        inner.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        inner.addWidget(who)
        inner.addWidget(self.password)
        inner.addWidget(self.error)
        inner.addLayout(buttons)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.hide()

    def cover(self) -> None:
        parent = self.parentWidget()
        assert parent is not None
        self.setGeometry(parent.rect())
        self.error.hide()
        self.password.clear()
        self.show()
        self.raise_()
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> None:
        if not self.unlock_button.isEnabled():
            return
        password, actor, unlock = self.password.text(), self._actor, self._unlock
        self.unlock_button.setEnabled(False)
        self.error.hide()
        self._tasks.db(lambda: unlock(actor, password), self._done, self._failed, owner=self)

    def _done(self, actor: Actor) -> None:
        self.unlock_button.setEnabled(True)
        self.password.clear()
        self.hide()
        self.unlocked.emit(actor)

    def _failed(self, error: BaseException) -> None:
        self.unlock_button.setEnabled(True)
        show_password_refusal(error, self.error, self.password, self._tasks)

    @property
    def error_text(self) -> str:
        return "" if self.error.isHidden() else self.error.text()
