"""Every use-case service of one open database, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from desk_app.services.appointment_copies import AppointmentCopyService
from desk_app.services.appointments import AppointmentService
from desk_app.services.audit_trail import AuditTrailService
from desk_app.services.auth import AuthService
from desk_app.services.billing_notices import (
    DEFAULT_SUCCESS_URL,
    PREVIEW_LINK,
    STRIPE_CHECKOUT_URL_LENGTH,
    BillingNoticeService,
)
from desk_app.services.card_payments import CardPaymentService
from desk_app.services.cards import CardService
from desk_app.services.clinic_settings import ClinicSettingsService
from desk_app.services.db import Database
from desk_app.services.invoicing import InvoicingService
from desk_app.services.ledger import LedgerService
from desk_app.services.link_payments import LinkPaymentService
from desk_app.services.mail import Mailer
from desk_app.services.memberships import MembershipService
from desk_app.services.package_plans import PackagePlanService
from desk_app.services.package_reports import PackageReportService
from desk_app.services.packages import PackageService
from desk_app.services.patient_documents import PatientDocumentsService
from desk_app.services.patients import PatientService
from desk_app.services.payment_accounts import PaymentAccountService
from desk_app.services.receipts import ReceiptsService
from desk_app.services.secret_store import KeyringSecretStore, SecretStore
from desk_app.services.sms import SmsSender, SmsSettings
from desk_app.services.staff_admin import StaffAdminService
from desk_app.services.staff_notifications import StaffNotificationService
from desk_app.services.stripe_gateway import GatewayFactory, StripeGatewayFactory
from desk_app.services.sync.conflicts import ConflictLogService
from desk_app.services.sync.service import SyncService

if TYPE_CHECKING:
    from desk_app.config import CentralConfig


@dataclass(frozen=True)
class Services:
    db: Database
    auth: AuthService
    patients: PatientService
    appointments: AppointmentService
    appointment_copies: AppointmentCopyService
    ledger: LedgerService
    invoicing: InvoicingService
    clinic: ClinicSettingsService
    receipts: ReceiptsService
    documents: PatientDocumentsService
    mail: Mailer
    payment_accounts: PaymentAccountService
    cards: CardService
    card_payments: CardPaymentService
    staff: StaffAdminService
    audit_trail: AuditTrailService
    billing_notices: BillingNoticeService
    link_payments: LinkPaymentService
    notifications: StaffNotificationService
    package_plans: PackagePlanService
    packages: PackageService
    memberships: MembershipService
    package_reports: PackageReportService
    sync: SyncService
    conflicts: ConflictLogService

    @classmethod
    def build(
        cls,
        db: Database,
        *,
        gateway_factory: GatewayFactory | None = None,
        secrets: SecretStore | None = None,
        mailer: Mailer | None = None,
        sms: SmsSettings | None = None,
        payment_link_success_url: str = DEFAULT_SUCCESS_URL,
        central: CentralConfig | None = None,
        workstation: str = "DESK1",
    ) -> Services:
        """``gateway_factory`` makes the Stripe gateway of an account from its secret key
        (tests point it at localstripe); ``secrets`` is the OS keyring by default; ``mailer``
        sends email (by default none is configured: emails go to the outbox); ``sms`` is the
        text-message provider (none: texts go to the outbox); ``central`` is the central
        database this cache syncs with (None: standalone)."""
        secrets = secrets or KeyringSecretStore()
        factory = gateway_factory or StripeGatewayFactory()
        accounts = PaymentAccountService(db, secrets, factory)
        # Real Stripe's Checkout URLs are a few hundred characters long; a stand-in's are not.
        real_stripe = isinstance(factory, StripeGatewayFactory) and factory.api_base is None
        cards = CardService(db, accounts)
        card_payments = CardPaymentService(db, accounts)
        if central is not None:
            card_payments.reconcile_only_workstation = workstation
        mail = mailer or Mailer(clock=db.clock)
        packages = PackageService(db, card_payments)
        return cls(
            db=db,
            auth=AuthService(db),
            patients=PatientService(db),
            appointments=AppointmentService(db),
            appointment_copies=AppointmentCopyService(db, packages),
            ledger=LedgerService(db),
            invoicing=InvoicingService(db),
            clinic=ClinicSettingsService(db),
            receipts=ReceiptsService(db),
            documents=PatientDocumentsService(db),
            mail=mail,
            payment_accounts=accounts,
            cards=cards,
            card_payments=card_payments,
            staff=StaffAdminService(db),
            audit_trail=AuditTrailService(db),
            billing_notices=BillingNoticeService(
                db, accounts, cards, mail, SmsSender(sms, secrets, clock=db.clock),
                success_url=payment_link_success_url, secrets=secrets,
                checkout_link_length=STRIPE_CHECKOUT_URL_LENGTH if real_stripe
                else len(PREVIEW_LINK)),
            link_payments=LinkPaymentService(db, accounts, mail),
            notifications=StaffNotificationService(db),
            package_plans=PackagePlanService(db),
            packages=packages,
            memberships=MembershipService(db, card_payments),
            package_reports=PackageReportService(db),
            sync=SyncService(db, central, workstation, secrets),
            conflicts=ConflictLogService(db),
        )
