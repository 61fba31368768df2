"""Every use-case service of one open database, built once by the composition root.

The services the main window needs as it opens are built with the registry; the others
(and the modules that hold them) on first use, so that signing in does not wait for code
only a profile, a report or a settings window needs (docs/PERFORMANCE.md, "Cold start").
The app loads them on the database thread once the main window is on screen (`warm_up`).
A new service belongs with them unless the main window needs it while it opens.
"""

from __future__ import annotations

import threading
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar, overload

from desk_app.services.auth import AuthService
from desk_app.services.card_payments import CardPaymentService
from desk_app.services.cards import CardService
from desk_app.services.clinic_settings import ClinicSettingsService
from desk_app.services.db import Database
from desk_app.services.link_payments import DEFAULT_SUCCESS_URL, LinkPaymentService
from desk_app.services.mail import Mailer
from desk_app.services.memberships import MembershipService
from desk_app.services.patients import PatientService
from desk_app.services.payment_accounts import PaymentAccountService
from desk_app.services.secret_store import KeyringSecretStore, SecretStore
from desk_app.services.sms import SmsSettings
from desk_app.services.staff_notifications import StaffNotificationService
from desk_app.services.stripe_gateway import GatewayFactory, StripeGatewayFactory
from desk_app.services.sync.service import SyncService

if TYPE_CHECKING:
    from desk_app.config import CentralConfig
    from desk_app.services.appointment_copies import AppointmentCopyService
    from desk_app.services.appointments import AppointmentService
    from desk_app.services.audit_trail import AuditTrailService
    from desk_app.services.billing_notices import BillingNoticeService
    from desk_app.services.invoicing import InvoicingService
    from desk_app.services.ledger import LedgerService
    from desk_app.services.package_plans import PackagePlanService
    from desk_app.services.package_reports import PackageReportService
    from desk_app.services.packages import PackageService
    from desk_app.services.patient_documents import PatientDocumentsService
    from desk_app.services.receipts import ReceiptsService
    from desk_app.services.staff_admin import StaffAdminService
    from desk_app.services.sync.conflicts import ConflictLogService

T = TypeVar("T")


class built_once(Generic[T]):
    """A service built on first use, once: like `functools.cached_property`, but under the
    registry's lock on every Python (3.12 dropped cached_property's), so the UI thread and
    the database thread asking at the same moment get the same service (some hold a lock of
    their own, e.g. billing notices' send lock). Once built it is a plain attribute."""

    def __init__(self, make: Callable[[Services], T]) -> None:
        self._make = make
        self.name = make.__name__

    @overload
    def __get__(self, services: None, owner: type) -> built_once[T]: ...

    @overload
    def __get__(self, services: Services, owner: type) -> T: ...

    def __get__(self, services: Services | None, owner: type) -> built_once[T] | T:
        if services is None:
            return self
        with services._building:
            built = services.__dict__.get(self.name)
            if built is None:
                built = services.__dict__[self.name] = self._make(services)
        return typing.cast(T, built)


class Services:
    """The use cases of one database. Build with `Services.build`."""

    db: Database
    mail: Mailer
    auth: AuthService
    patients: PatientService
    clinic: ClinicSettingsService
    payment_accounts: PaymentAccountService
    cards: CardService
    card_payments: CardPaymentService
    link_payments: LinkPaymentService
    notifications: StaffNotificationService
    memberships: MembershipService
    sync: SyncService

    def __init__(
        self,
        db: Database,
        *,
        factory: GatewayFactory,
        secrets: SecretStore,
        mail: Mailer,
        sms: SmsSettings | None,
        payment_link_success_url: str,
        central: CentralConfig | None,
        workstation: str,
    ) -> None:
        self.db = db
        self.mail = mail
        self._building = threading.RLock()  # one service may need another (Book again)
        self._factory = factory
        self._secrets = secrets
        self._sms = sms
        self._success_url = payment_link_success_url
        self.auth = AuthService(db)
        self.patients = PatientService(db)
        self.clinic = ClinicSettingsService(db)
        self.payment_accounts = PaymentAccountService(db, secrets, factory)
        self.cards = CardService(db, self.payment_accounts)
        self.card_payments = CardPaymentService(db, self.payment_accounts)
        if central is not None:
            self.card_payments.reconcile_only_workstation = workstation
        self.link_payments = LinkPaymentService(db, self.payment_accounts, mail)
        self.notifications = StaffNotificationService(db)
        self.memberships = MembershipService(db, self.card_payments)
        self.sync = SyncService(db, central, workstation, secrets)

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
        return cls(
            db,
            factory=gateway_factory or StripeGatewayFactory(),
            secrets=secrets or KeyringSecretStore(),
            mail=mailer or Mailer(clock=db.clock),
            sms=sms,
            payment_link_success_url=payment_link_success_url,
            central=central,
            workstation=workstation,
        )

    def service_classes(self) -> dict[str, type]:
        """Each service's name and class, those built on first use included (this builds
        them): what the structural tests walk (every action checks a permission, ...)."""
        names = [name for name in typing.get_type_hints(Services) if name != "db"]
        return {name: type(getattr(self, name)) for name in [*names, *LAZY_SERVICES]}

    def warm_up(self) -> None:
        """Build every service not built yet (imports their code); for the database thread
        once the main window shows, so the first profile or report opens without waiting."""
        for name in LAZY_SERVICES:
            getattr(self, name)

    # -- built on first use -----------------------------------------------------------

    @built_once
    def ledger(self) -> LedgerService:
        from desk_app.services.ledger import LedgerService

        return LedgerService(self.db)

    @built_once
    def invoicing(self) -> InvoicingService:
        from desk_app.services.invoicing import InvoicingService

        return InvoicingService(self.db)

    @built_once
    def appointments(self) -> AppointmentService:
        from desk_app.services.appointments import AppointmentService

        return AppointmentService(self.db)

    @built_once
    def packages(self) -> PackageService:
        from desk_app.services.packages import PackageService

        return PackageService(self.db, self.card_payments)

    @built_once
    def appointment_copies(self) -> AppointmentCopyService:
        from desk_app.services.appointment_copies import AppointmentCopyService

        return AppointmentCopyService(self.db, self.packages)

    @built_once
    def receipts(self) -> ReceiptsService:
        from desk_app.services.receipts import ReceiptsService

        return ReceiptsService(self.db)

    @built_once
    def documents(self) -> PatientDocumentsService:
        from desk_app.services.patient_documents import PatientDocumentsService

        return PatientDocumentsService(self.db)

    @built_once
    def package_plans(self) -> PackagePlanService:
        from desk_app.services.package_plans import PackagePlanService

        return PackagePlanService(self.db)

    @built_once
    def billing_notices(self) -> BillingNoticeService:
        from desk_app.services.billing_notices import (
            PREVIEW_LINK,
            STRIPE_CHECKOUT_URL_LENGTH,
            BillingNoticeService,
        )
        from desk_app.services.sms import SmsSender

        # Real Stripe's Checkout URLs are a few hundred characters long; a stand-in's are not.
        factory = self._factory
        real_stripe = isinstance(factory, StripeGatewayFactory) and factory.api_base is None
        return BillingNoticeService(
            self.db,
            self.payment_accounts,
            self.cards,
            self.mail,
            SmsSender(self._sms, self._secrets, clock=self.db.clock),
            success_url=self._success_url,
            secrets=self._secrets,
            checkout_link_length=STRIPE_CHECKOUT_URL_LENGTH if real_stripe else len(PREVIEW_LINK),
        )

    @built_once
    def staff(self) -> StaffAdminService:
        from desk_app.services.staff_admin import StaffAdminService

        return StaffAdminService(self.db)

    @built_once
    def audit_trail(self) -> AuditTrailService:
        from desk_app.services.audit_trail import AuditTrailService

        return AuditTrailService(self.db)

    @built_once
    def package_reports(self) -> PackageReportService:
        from desk_app.services.package_reports import PackageReportService

        return PackageReportService(self.db)

    @built_once
    def conflicts(self) -> ConflictLogService:
        from desk_app.services.sync.conflicts import ConflictLogService

        return ConflictLogService(self.db)


#: The services built on first use, in the order `warm_up` builds them.
LAZY_SERVICES = tuple(name for name, kind in vars(Services).items() if isinstance(kind, built_once))
