"""Two workstations (two Database objects and Services on one PostgreSQL) poll the same paid
link at the same moment: one payment is recorded, one card saved, one notification each, and
one receipt emailed to the patient."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from desk_app.models import (
    Allocation,
    AuditEvent,
    CardOnFile,
    NoticeChannel,
    NoticeStatus,
    Patient,
    Payment,
    StaffNotification,
)
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.link_payments import LinkCheckReport
from desk_app.services.registry import Services
from tests.checkout_stand_in import CheckoutStandIn
from tests.db_fixtures import _truncate_all
from tests.memory_keyring import MemoryKeyring
from tests.notice_fixtures import NoticeClinic, build_notice_clinic, services_for


@pytest.fixture
def central_notice_clinic(pg_migrated_url: str, clock: FixedClock, stripe_url: str,
                          checkout: CheckoutStandIn,
                          memory_keyring: MemoryKeyring) -> Iterator[NoticeClinic]:
    database = Database(pg_migrated_url, clock, run_migrations=False)
    _truncate_all(database)
    try:
        yield build_notice_clinic(database, stripe_url, checkout, memory_keyring, sms=None,
                                  smtp=None)
    finally:
        database.dispose()


def _poll_together(desks: list[Services], c: NoticeClinic) -> list[object]:
    barrier = threading.Barrier(len(desks))
    results: list[object] = [None] * len(desks)

    def run(i: int, services: Services) -> None:
        barrier.wait()
        try:
            results[i] = services.link_payments.check_open_links(c.desk)
        except Exception as exc:  # the test looks at what each got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, d)) for i, d in enumerate(desks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _count(db: Database, model: type) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _recorded_once(c: NoticeClinic, results: list[object]) -> None:
    assert all(isinstance(r, LinkCheckReport) and not r.problems for r in results), results
    assert _count(c.db, Payment) == 1
    assert _count(c.db, Allocation) == 1
    assert _count(c.db, CardOnFile) == 1
    with c.db.reading() as s:
        per_person = list(s.execute(select(StaffNotification.staff_id, func.count())
                                    .group_by(StaffNotification.staff_id)))
    assert per_person and all(n == 1 for _staff, n in per_person)
    (notice,) = c.notices()
    assert notice.status is NoticeStatus.PAID
    assert c.owing() == 0 and c.credit() == 0
    # The patient's receipt went once (to the outbox: these desks have no email provider).
    assert notice.receipt_status in ("sent", "not_sent")
    with c.db.reading() as s:
        receipts = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "receipt.emailed"))
    assert receipts == 1


def _consent_to_emails(c: NoticeClinic) -> None:
    with c.db.transaction() as s:
        s.get_one(Patient, c.patient_id).consent_emails = True


@pytest.mark.pg
def test_two_workstations_polling_a_paid_link_record_one_payment(
        central_notice_clinic: NoticeClinic, clock: FixedClock) -> None:
    c = central_notice_clinic
    _consent_to_emails(c)
    c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.TEXT)
    (notice,) = c.notices()
    c.checkout.pay(notice.stripe_checkout_session_id)  # type: ignore[union-attr]
    other_desk = Database(c.db.url, clock, run_migrations=False)
    third_desk = Database(c.db.url, clock, run_migrations=False)
    try:
        desks = [c.services,
                 services_for(other_desk, c.checkout, sms=None, smtp=None),  # type: ignore[arg-type]
                 services_for(third_desk, c.checkout, sms=None, smtp=None)]  # type: ignore[arg-type]
        results = _poll_together(desks, c)
    finally:
        other_desk.dispose()
        third_desk.dispose()
    _recorded_once(c, results)
    assert sum(len(r.paid) for r in results if isinstance(r, LinkCheckReport)) >= 1


def test_two_windows_polling_at_once_record_one_payment(notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    _consent_to_emails(c)
    c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.EMAIL)
    (notice,) = c.notices()
    c.checkout.pay(notice.stripe_checkout_session_id)  # type: ignore[union-attr]
    results = _poll_together([c.services] * 3, c)
    _recorded_once(c, results)
