"""The main window: find or add a patient on the left, their profile on the right."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMenuBar,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.actor import Actor
from desk_app.services.clinic_settings import ClinicInfo
from desk_app.services.patients import PatientDetails
from desk_app.services.permissions import Permission
from desk_app.views.about import show_about
from desk_app.views.clinic_settings_dialog import ClinicSettingsDialog
from desk_app.views.forms import push_button
from desk_app.views.idle_lock import IdleWatcher, LockScreen
from desk_app.views.new_patient_dialog import NewPatientDialog
from desk_app.views.notification_bell import NotificationBell
from desk_app.views.patient_search import PatientSearch
from desk_app.views.recent_patients import RecentPatients
from desk_app.views.sync_status import install_sync_ui
from desk_app.views.theme import app_icon
from desk_app.views.view_context import ViewContext

log = logging.getLogger(__name__)

NO_FAILED_CHARGES = "Failed membership charges"  # the status-bar button's text while hidden

if TYPE_CHECKING:
    from desk_app.views.audit_trail_dialog import AuditTrailDialog
    from desk_app.views.payment_accounts_dialog import PaymentAccountsDialog
    from desk_app.views.staff.staff_dialog import StaffDialog

ProfileFactory = Callable[[ViewContext, uuid.UUID], QWidget]

BUSY_DELAY_MS = 300
#: How often the desk invoices membership periods that have started (one hour).
MEMBERSHIP_RUN_MS = 60 * 60 * 1000
LEFT_PANE_WIDTH = 400


def default_profile_factory(ctx: ViewContext, patient_id: uuid.UUID) -> QWidget:
    # Imported here: the profile package is large and only needed once a patient is opened.
    from desk_app.views.profile.profile_view import ProfileView

    return ProfileView(ctx, patient_id)


def window_title(clinic_name: str, patient: str = "") -> str:
    base = f"Front Desk — {clinic_name}"
    return f"{base} — {patient}" if patient else base


class MainWindow(QMainWindow):
    """Emits `signed_out` (File ▸ Sign out) or `closed` (Quit, or the window closed)."""

    signed_out = Signal()
    closed = Signal()
    profile_shown = Signal(object)

    def __init__(
        self,
        ctx: ViewContext,
        profile_factory: ProfileFactory | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._make_profile = profile_factory or default_profile_factory
        self._opening: uuid.UUID | None = None
        self._signing_out = False
        self.profile: QWidget | None = None
        self.current_patient_id: uuid.UUID | None = None
        self.setWindowTitle(window_title(ctx.clinic.name))
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)

        self.search = PatientSearch(ctx)
        self.search.patient_chosen.connect(self.open_patient)
        self.recent = RecentPatients(ctx)
        self.recent.patient_chosen.connect(self.open_patient)
        self.new_patient_button = push_button("New patient…")
        self.new_patient_button.setEnabled(ctx.can(Permission.EDIT_PATIENTS))
        self.new_patient_button.clicked.connect(self.new_patient)

        left = QWidget()
        left.setObjectName("leftPane")
        left.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        left.setMinimumWidth(280)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(14, 14, 14, 14)
        left_layout.setSpacing(10)
        left_layout.addWidget(self.search, 0)
        left_layout.addWidget(self.recent, 1)
        left_layout.addWidget(self.new_patient_button)
        self._left_layout = left_layout
        self.search.results_changed.connect(self._share_left_pane)

        self.empty_state = _empty_state()
        self.right = QStackedWidget()
        self.right.addWidget(self.empty_state)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(1)
        splitter.addWidget(left)
        splitter.addWidget(self.right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([LEFT_PANE_WIDTH, 1280 - LEFT_PANE_WIDTH])
        self.setCentralWidget(splitter)

        self._build_menus()
        self._build_status_bar()
        self.sync_status = install_sync_ui(self)
        self._find = QShortcut(
            QKeySequence(QKeySequence.StandardKey.Find), self, self.search.focus_search
        )
        self.search.box.setFocus(Qt.FocusReason.OtherFocusReason)
        self.recent.reload()
        # Memberships: invoice the periods that have started (and charge the cards on file)
        # at sign-in and every hour after; failed charges are shown in the status bar.
        self._membership_timer = QTimer(self)
        self._membership_timer.setInterval(MEMBERSHIP_RUN_MS)
        self._membership_timer.timeout.connect(self.bill_memberships)
        if self.ctx.can(Permission.CREATE_INVOICE):
            self._membership_timer.start()
            self.bill_memberships()

        # The shared desk locks itself after the clinic's idle time (views/idle_lock.py).
        self.lock_screen = LockScreen(ctx.actor, ctx.services.auth.unlock, ctx.tasks, self)
        self.lock_screen.unlocked.connect(self._unlocked)
        self.lock_screen.switch_user.connect(self.sign_out)
        self._hidden_while_locked: list[QWidget] = []
        self.idle = IdleWatcher(ctx.clinic.idle_lock_minutes * 60_000, self)
        self.idle.idle.connect(self.lock)

    def _share_left_pane(self) -> None:
        """Results get most of the height while there are any; else recent patients do."""
        searching = self.search.showing_results
        self._left_layout.setStretchFactor(self.search, 3 if searching else 0)
        self._left_layout.setStretchFactor(self.recent, 2 if searching else 1)

    # -- menus and status bar ----------------------------------------------------------

    def _build_menus(self) -> None:
        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        self.new_patient_action = _action(self, "&New patient…", self.new_patient, "Ctrl+N")
        self.new_patient_action.setEnabled(self.ctx.can(Permission.EDIT_PATIENTS))
        file_menu.addAction(self.new_patient_action)
        file_menu.addSeparator()
        self.lock_action = _action(self, "&Lock", self.lock, "Ctrl+L")
        file_menu.addAction(self.lock_action)
        file_menu.addAction(_action(self, "&Sign out", self.sign_out))
        file_menu.addAction(
            _action(self, "&Quit", self.close, QKeySequence(QKeySequence.StandardKey.Quit))
        )
        self.settings_action: QAction | None = None
        self.payment_accounts_action: QAction | None = None
        self._clinic_menu: QMenu | None = None
        if self.ctx.can(Permission.MANAGE_CLINIC):
            clinic_menu = self.clinic_menu()
            self.settings_action = _action(self, "&Settings…", self.clinic_settings)
            clinic_menu.addAction(self.settings_action)
            self.payment_accounts_action = _action(
                self, "&Payment accounts…", self.payment_accounts
            )
            clinic_menu.addAction(self.payment_accounts_action)
            clinic_menu.addAction(_action(self, "&Billing notices…", self.notice_settings))
        self.staff_action: QAction | None = None
        if self.ctx.can(Permission.MANAGE_STAFF):
            self.staff_action = _action(self, "S&taff…", self.staff)
            self.clinic_menu().addAction(self.staff_action)
        self.audit_action: QAction | None = None
        if self.ctx.can(Permission.VIEW_AUDIT):
            self.audit_action = _action(self, "&Audit trail…", self.audit_trail)
            self.clinic_menu().addAction(self.audit_action)
        self._build_package_menus(menus)
        help_menu = menus.addMenu("&Help")
        help_menu.addAction(_action(self, "&About Front Desk", self.about))

    def clinic_menu(self) -> QMenu:
        """The Clinic menu, made the first time something goes in it (not every role has
        one)."""
        if self._clinic_menu is None:
            self._clinic_menu = self.menuBar().addMenu("&Clinic")
        return self._clinic_menu

    def _build_package_menus(self, menus: QMenuBar) -> None:
        """Clinic ▸ Packages & Memberships (Administrative/All Billing and higher), Reports."""
        self.packages_action: QAction | None = None
        self.package_reports_action: QAction | None = None
        if self.ctx.can(Permission.MANAGE_PACKAGES):
            self.packages_action = _action(self, "Packages && &Memberships…",
                                           self.package_plans)
            self.clinic_menu().addAction(self.packages_action)
        reports_menu = menus.addMenu("&Reports")
        if self.ctx.can(Permission.VIEW_REPORTS):
            self.package_reports_action = _action(self, "Package && Membership &Usage…",
                                                  self.package_reports)
            reports_menu.addAction(self.package_reports_action)
        self.my_day_action = _action(self, "My &day…", self.my_day)
        reports_menu.addAction(self.my_day_action)

    def package_plans(self) -> QDialog:
        from desk_app.views.packages.plans_dialog import PlansDialog

        dialog = PlansDialog(self.ctx, self)
        dialog.open()
        return dialog

    def package_reports(self) -> QDialog:
        from desk_app.views.packages.reports_dialog import PackageReportsDialog

        dialog = PackageReportsDialog(self.ctx, self)
        dialog.open()
        return dialog

    def my_day(self) -> QDialog:
        from desk_app.views.packages.my_day_dialog import MyDayDialog

        dialog = MyDayDialog(self.ctx, self)
        dialog.open()
        return dialog

    def bill_memberships(self) -> None:
        services, actor = self.ctx.services, self.ctx.actor

        def work() -> int:
            services.memberships.run_due(actor)
            return len(services.memberships.notices(actor))

        # Card charges talk to Stripe: the network pool, never the UI thread.
        self.ctx.tasks.network(work, self._membership_notices, lambda _e: None, owner=self)

    def _membership_notices(self, count: int) -> None:
        text = NO_FAILED_CHARGES if count == 0 else (
            f"{count} membership charge{'s' if count != 1 else ''} failed: take payment or "
            "send a pay-balance link")
        self.notices_label.setText(text)
        self.notices_label.setAccessibleName(text)
        self.notices_label.setVisible(count > 0)

    def failed_charges(self) -> QDialog:
        from desk_app.views.packages.failed_charges_dialog import FailedChargesDialog

        dialog = FailedChargesDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open_patient.connect(self.open_patient)
        dialog.changed.connect(self._membership_notices)
        dialog.open()
        return dialog

    def _build_status_bar(self) -> None:
        actor = self.ctx.actor
        self.user_label = QLabel(
            f"Signed in as {actor.name} ({actor.role.label}) · Workstation {actor.workstation}"
        )
        self.busy_label = QLabel("Working…")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setFixedWidth(90)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setAccessibleName("Working")
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        bar.addWidget(self.user_label, 1)
        # Failed membership charges: a link-like button that opens the list to act on.
        self.notices_label = QPushButton(NO_FAILED_CHARGES)
        self.notices_label.setAccessibleName(NO_FAILED_CHARGES)
        self.notices_label.setFlat(True)
        self.notices_label.setCursor(Qt.CursorShape.PointingHandCursor)
        self.notices_label.setStyleSheet(
            "QPushButton { color: #b42318; border: none; text-decoration: underline; }"
        )
        self.notices_label.clicked.connect(self.failed_charges)
        self.notices_label.setVisible(False)
        bar.addPermanentWidget(self.notices_label)
        bar.addPermanentWidget(self.busy_label)
        bar.addPermanentWidget(self.busy_bar)
        # Billing notices: paid links are polled for; the bell lists who was notified.
        self.bell = NotificationBell(self.ctx, self)
        self.bell.payments_recorded.connect(self._link_paid)
        bar.addPermanentWidget(self.bell)
        self._set_busy_visible(False)
        # Only show the indicator for work that takes long enough to notice.
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(lambda: self._set_busy_visible(True))
        self.ctx.tasks.busy_changed.connect(self._busy_changed)

    def _link_paid(self) -> None:
        reload = getattr(self.profile, "reload", None)
        if callable(reload):
            reload()

    def _busy_changed(self, busy: bool) -> None:
        if busy:
            self._busy_timer.start()
        else:
            self._busy_timer.stop()
            self._set_busy_visible(False)

    def _set_busy_visible(self, visible: bool) -> None:
        self.busy_label.setVisible(visible)
        self.busy_bar.setVisible(visible)

    @property
    def busy_indicator_visible(self) -> bool:
        return not self.busy_bar.isHidden()

    # -- opening patients -----------------------------------------------------------

    def open_patient(self, patient_id: uuid.UUID) -> None:
        """Log the view (recent patients, audit) then show the profile."""
        if patient_id in (self._opening, self.current_patient_id):
            return
        self._opening = patient_id
        patients, actor = self.ctx.services.patients, self.ctx.actor
        self.ctx.tasks.db(
            lambda: patients.open_profile(actor, patient_id),
            self._opened,
            self._open_failed,
            owner=self,
        )

    def _opened(self, details: PatientDetails) -> None:
        if details.id != self._opening:
            return  # another patient was asked for meanwhile
        self._opening = None
        self._show_profile(details.id)
        self.recent.reload()

    def _open_failed(self, error: BaseException) -> None:
        self._opening = None
        self.ctx.tasks.default_failure(error)

    def _show_profile(self, patient_id: uuid.UUID) -> None:
        old = self.profile
        profile = self._make_profile(self.ctx, patient_id)
        title_changed = getattr(profile, "title_changed", None)
        if title_changed is not None:
            title_changed.connect(self._patient_title)
        self.profile = profile
        self.current_patient_id = patient_id
        self.right.addWidget(profile)
        self.right.setCurrentWidget(profile)
        if old is not None:
            self.right.removeWidget(old)
            old.deleteLater()
        self.setWindowTitle(window_title(self.ctx.clinic.name))
        self.search.select_patient(patient_id)
        self.profile_shown.emit(patient_id)

    def _patient_title(self, title: str) -> None:
        self.setWindowTitle(window_title(self.ctx.clinic.name, title))

    # -- actions ---------------------------------------------------------------------------

    def new_patient(self) -> NewPatientDialog:
        dialog = NewPatientDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._patient_added(dialog.patient))
        dialog.open()
        return dialog

    def _patient_added(self, patient: PatientDetails | None) -> None:
        if patient is not None:
            self.search.refresh()
            self.open_patient(patient.id)

    def clinic_settings(self) -> ClinicSettingsDialog:
        dialog = ClinicSettingsDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._clinic_changed)
        dialog.open()
        return dialog

    def audit_trail(self) -> AuditTrailDialog:
        from desk_app.views.audit_trail_dialog import AuditTrailDialog

        dialog = AuditTrailDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def staff(self) -> StaffDialog:
        from desk_app.views.staff.staff_dialog import StaffDialog

        dialog = StaffDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def notice_settings(self) -> QWidget:
        from desk_app.views.notice_settings_dialog import NoticeSettingsDialog

        dialog = NoticeSettingsDialog(self.ctx, self)
        dialog.open()
        return dialog

    def payment_accounts(self) -> PaymentAccountsDialog:
        # Imported here: it uses parts of the profile package, which start-up does not need.
        from desk_app.views.payment_accounts_dialog import PaymentAccountsDialog

        dialog = PaymentAccountsDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.changed.connect(self._payment_accounts_changed)
        dialog.open()
        return dialog

    def _payment_accounts_changed(self) -> None:
        # Card actions on the open profile depend on there being an account.
        reload = getattr(self.profile, "reload", None)
        if reload is not None:
            reload()

    def _clinic_changed(self, info: ClinicInfo) -> None:
        self.ctx = dataclasses.replace(self.ctx, clinic=info)
        self.idle.set_interval(info.idle_lock_minutes * 60_000)
        self.setWindowTitle(window_title(info.name))
        if self.current_patient_id is not None:
            # Settings such as Client Pronouns change what a profile shows: rebuild it.
            self._show_profile(self.current_patient_id)

    def about(self) -> None:
        show_about(self, self.ctx)

    # -- locking ---------------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        return self.lock_screen.isVisible()

    def lock(self) -> None:
        """Cover everything; hide open dialogs (kept as they are) until unlocked."""
        if self.locked:
            return
        self.idle.pause()
        self._hidden_while_locked = [
            w for w in QApplication.topLevelWidgets()
            if w is not self and w.isVisible() and _belongs_to(w, self)
        ]
        for window in self._hidden_while_locked:
            window.hide()
        self._set_usable(False)
        self.lock_screen.cover()
        log.info("workstation locked")

    def _unlocked(self, actor: Actor) -> None:
        self._set_usable(True)
        if (actor.role, actor.billing_permission) != (
            self.ctx.actor.role, self.ctx.actor.billing_permission
        ):
            # Their permissions changed meanwhile: the menus and buttons were built for the
            # old ones. Sign out so they sign in afresh.
            self.sign_out()
            return
        for window in self._hidden_while_locked:
            window.show()
        self._hidden_while_locked = []
        self.idle.resume()

    def _set_usable(self, usable: bool) -> None:
        for part in (self.centralWidget(), self.menuBar(), self.statusBar()):
            if part is not None:
                part.setEnabled(usable)
        self._find.setEnabled(usable)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.locked:
            self.lock_screen.setGeometry(self.rect())

    def sign_out(self) -> None:
        self._signing_out = True
        for window in self._hidden_while_locked:
            window.close()
        self._hidden_while_locked = []
        self.idle.stop_watching()
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        if not event.isAccepted():
            return
        self.bell.stop()
        if self._signing_out:
            self.signed_out.emit()
        else:
            self.closed.emit()


def _belongs_to(window: QWidget, main: QWidget) -> bool:
    parent = window.parentWidget()
    while parent is not None:
        if parent is main:
            return True
        parent = parent.parentWidget()
    return False


def _action(
    window: QMainWindow,
    text: str,
    slot: Callable[[], object],
    shortcut: str | QKeySequence | None = None,
) -> QAction:
    action = QAction(text, window)
    action.triggered.connect(lambda _checked=False: slot())
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    return action


def _empty_state() -> QWidget:
    page = QWidget()
    page.setObjectName("emptyState")
    page.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
    icon = QLabel()
    icon.setPixmap(app_icon().pixmap(96, 96))
    icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
    title = QLabel("No patient open")
    title.setObjectName("emptyTitle")
    title.setAlignment(Qt.AlignmentFlag.AlignCenter)
    text = QLabel(
        "Find a patient with the search box on the left, or pick someone from your recent "
        "patients. Press Ctrl+F to search from anywhere."
    )
    text.setObjectName("emptyText")
    text.setWordWrap(True)
    text.setAlignment(Qt.AlignmentFlag.AlignCenter)
    # A fixed-width column centred by stretches (not by an alignment flag, which would
    # give the wrapped text its one-line height and clip it).
    column = QWidget()
    column.setFixedWidth(460)
    column_layout = QVBoxLayout(column)
    column_layout.setContentsMargins(0, 0, 0, 0)
    column_layout.setSpacing(8)
    column_layout.addWidget(icon)
    column_layout.addWidget(title)
    column_layout.addWidget(text)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(column)
    row.addStretch(1)
    layout = QVBoxLayout(page)
    layout.addStretch(1)
    layout.addLayout(row)
    layout.addStretch(2)
    return page
