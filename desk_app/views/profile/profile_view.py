"""A patient's profile: the header with the balance, and Billing, Receipts, Cards & charges,
Appointments, Contact tabs."""

from __future__ import annotations

import uuid
from datetime import date

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QTabWidget, QVBoxLayout, QWidget

from desk_app.services.clock import clinic_today
from desk_app.services.invoicing import InvoiceCreated
from desk_app.services.ledger import BillingSummary
from desk_app.services.patients import PatientDetails
from desk_app.views import a11y
from desk_app.views.profile.appointments_tab import AppointmentsTab
from desk_app.views.profile.billing_tab import BillingTab
from desk_app.views.profile.cards_tab import CardsTab
from desk_app.views.profile.contact_tab import ContactTab
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.header import ProfileHeader
from desk_app.views.profile.invoice_link_action import install_invoice_link_menu
from desk_app.views.profile.notices_tab import NoticesTab
from desk_app.views.profile.packages_tab import PackagesTab
from desk_app.views.profile.receipts_tab import ReceiptsTab
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.view_context import ViewContext

TAB_STYLE = """
QTabWidget::tab-bar { left: 14px; }
QTabWidget::pane { border: none; border-top: 1px solid #d5dde1; }
QTabBar::tab {
    background: transparent; border: none; border-bottom: 3px solid transparent;
    padding: 8px 16px; margin-right: 4px; color: #5b6b73; font-weight: 600;
}
QTabBar::tab:selected { color: #15767a; border-bottom: 3px solid #15767a; }
QTabBar::tab:hover:!selected { color: #1f2a30; border-bottom: 3px solid #c3ced3; }
"""


class ProfileView(QWidget):
    """Opening it loads the patient in the background (and logs the view for the audit trail).

    `balance_changed` fires after a write changed what the patient owes or holds, once the
    new figures are on screen; `title_changed` carries the patient's display name whenever it
    is loaded or edited.
    """

    balance_changed = Signal()
    title_changed = Signal(str)

    def __init__(
        self, ctx: ViewContext, patient_id: uuid.UUID, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._patient_id = patient_id
        self._opened = False
        self.details: PatientDetails | None = None
        today = self._today()

        self.header = ProfileHeader(ctx.clinic.currency, ctx.clinic.show_pronouns)
        self.banner = StatusBanner(self)
        self.billing = BillingTab(ctx, patient_id)
        self.notices = NoticesTab(ctx, patient_id)
        self.receipts = ReceiptsTab(ctx, patient_id)
        self.cards = CardsTab(ctx, patient_id)
        self.appointments = AppointmentsTab(ctx, patient_id)
        self.packages = PackagesTab(ctx, patient_id)
        self.contact = ContactTab(ctx, patient_id, today)
        self.tabs = QTabWidget()
        a11y.name(self.tabs, "Profile sections")
        self.tabs.setDocumentMode(True)
        self.tabs.setStyleSheet(TAB_STYLE)
        self.tabs.addTab(self.billing, "Billing")
        self.tabs.addTab(self.notices, "Billing notices")
        self.tabs.addTab(self.receipts, "Receipts")
        self.tabs.addTab(self.cards, "Cards && charges")  # "&&": a literal &, not a mnemonic
        self.tabs.addTab(self.appointments, "Appointments")
        self.tabs.addTab(self.packages, "Packages")
        self.tabs.addTab(self.contact, "Contact info")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(16, 0, 16, 0)  # no gap while the banner is hidden
        banner_row.addWidget(self.banner)
        layout.addLayout(banner_row)
        layout.addWidget(self.tabs, 1)

        self.billing.summary_loaded.connect(self._summary_loaded)
        self.billing.balance_changed.connect(self.balance_changed)
        self.billing.balance_changed.connect(self.receipts.mark_stale)
        self.billing.balance_changed.connect(self.cards.reload)
        self.cards.money_written.connect(lambda: self.billing.money_changed())
        # Billing notices (issue 4): a paid link moves the balance; a card needing 3-D Secure
        # offers a pay-balance link; invoices get Send 1-Time Payment Link.
        self.billing.balance_changed.connect(self.notices.reload)
        self.notices.money_written.connect(lambda: self.billing.money_changed())
        self.cards.pay_link_requested.connect(self.offer_pay_link)
        install_invoice_link_menu(self.billing, lambda _row: self.notices.reload())
        self.appointments.invoiced.connect(self._visit_invoiced)
        self.packages.balance_changed.connect(lambda: self.billing.money_changed())
        self.billing.balance_changed.connect(self.packages.mark_stale)
        self.contact.saved.connect(self._details_loaded)
        self.contact.stale.connect(lambda: self._load_details(force=True))
        self.reload()

    @property
    def patient_id(self) -> uuid.UUID:
        return self._patient_id

    def reload(self) -> None:
        """Fetch everything again (after a sync, or when the profile is shown again)."""
        self._load_details()
        self.billing.reload()
        self.appointments.mark_stale()
        self.packages.mark_stale()
        self.receipts.mark_stale()
        self.cards.reload()
        self.notices.reload()

    def offer_pay_link(self) -> None:
        """Show Billing notices with the Text Reminder open (or Email if texts cannot go)."""
        self.tabs.setCurrentWidget(self.notices)
        panel = self.notices.panel
        if panel is None:
            return
        from desk_app.models.billing_notices import NoticeChannel

        channel = NoticeChannel.TEXT if not panel.text_blocked else NoticeChannel.EMAIL
        if channel is NoticeChannel.EMAIL and panel.email_blocked:
            self.notices.banner.show_error(panel.text_blocked + " " + panel.email_blocked)
            return
        self.notices.open_reminder(channel)

    # ----- loading -------------------------------------------------------------------------

    def _load_details(self, *, force: bool = False) -> None:
        actor, pid, patients = self.ctx.actor, self._patient_id, self.ctx.services.patients
        # Opening is logged once ("patient.viewed"); later refreshes only read.
        first = not self._opened
        self._opened = True
        load = patients.open_profile if first else patients.get
        self.ctx.tasks.db(
            lambda: load(actor, pid),
            lambda details: self._details_loaded(details, force=force),
            self._load_failed,
            owner=self,
        )

    def _details_loaded(self, details: PatientDetails, *, force: bool = True) -> None:
        self.details = details
        self.banner.clear_message()
        self.header.set_details(details, self._today())
        for tab in (self.billing, self.appointments, self.receipts, self.cards, self.notices,
                    self.packages):
            tab.patient_name = details.display_name
        self.contact.set_details(details, force=force)
        self.title_changed.emit(details.display_name)

    def _load_failed(self, error: BaseException) -> None:
        self.banner.show_error(f"This profile could not be opened: {message_for(error)}")

    def _summary_loaded(self, summary: BillingSummary) -> None:
        self.header.set_balance(summary.balance)

    def _visit_invoiced(self, created: InvoiceCreated | None) -> None:
        self.billing.money_changed(select=created.invoice_id if created else None)
        self.packages.mark_stale()

    def _today(self) -> date:
        return clinic_today(self.ctx.services.db.clock, self.ctx.clinic.time_zone)
