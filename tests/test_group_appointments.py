"""Group appointments and class bookings (the Packages FAQ): a group is billed to its primary
client, so only the primary client's package pays for it; a class bills each participant for
their own place, and each participant's own package pays for it. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from sqlalchemy import select

from desk_app.models import AppointmentStatus, AuditEvent, Invoice, InvoiceStatus
from desk_app.models.enums import AppointmentKind
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tests.builders import Clinic, small_clinic
from tests.test_packages import book, refused, sold_and_paid, ten_massages

GROUP, CLASS = AppointmentKind.GROUP, AppointmentKind.CLASS
WHEN = datetime(2026, 11, 24, 10, 0)


def book_party(c: Clinic, kind: AppointmentKind, first: uuid.UUID, *others: uuid.UUID,
               treatment: str = "Massage 60 min", when: datetime = WHEN) -> uuid.UUID:
    return c.services.appointments.book(c.owner, first, c.practitioner_id,
                                        c.treatment(treatment), c.location_id, when,
                                        kind=kind, others=others)


def test_a_group_is_invoiced_to_its_primary_client_and_their_package_pays(db: Database) -> None:
    c = small_clinic(db)
    ana, leo, ola = c.patient("Ana", "Silva"), c.patient("Leo", "Silva"), c.patient("Ola", "Berg")
    sale = sold_and_paid(c, ana, ten_massages(c))
    group = book_party(c, GROUP, ana, leo, ola)

    cover = c.services.packages.redeem(c.billing, group, sale)
    assert (cover.package_name, cover.usage_text) == ("10 Massages",
                                                      "1 of 10 used, 9 left, no expiry")
    with pytest.raises(Conflict, match="billed to its primary client, Ana Silva"):
        c.services.invoicing.invoice_appointment(c.billing, group, leo)
    created = c.services.invoicing.invoice_appointment(c.billing, group)
    assert created.total_cents == 0
    [line] = [i for i in c.services.ledger.billing_summary(c.billing, ana).invoices
              if i.id == created.invoice_id]
    assert "package: 10 Massages" in line.description
    assert "group with Ola Berg, Leo Silva" in line.description  # lists the secondary clients
    # Every participant sees the visit; a secondary client sees who is billed for it.
    [leos] = c.services.appointments.for_patient(c.billing, leo).upcoming
    assert (leos.kind, leos.billed_to, leos.invoice_number) == (GROUP, "Ana Silva", "")
    assert leos.party == "group with Ana Silva, Ola Berg"
    [anas] = c.services.appointments.for_patient(c.billing, ana).upcoming
    assert (anas.invoice_number, anas.billed_to) == (created.number, "")
    # From Leo's profile the group's package shows, with who pays for it.
    leo_view = c.services.packages.visit_coverage(c.billing, group, leo)
    assert leo_view.package_name == "10 Massages"
    assert "billed to Ana Silva, the primary client" in leo_view.note


def test_another_participants_package_is_refused_on_a_group_visit(db: Database) -> None:
    c = small_clinic(db)
    ana, leo = c.patient("Ana", "Silva"), c.patient("Leo", "Silva")
    leos = sold_and_paid(c, leo, ten_massages(c, auto_select=True))
    group = book_party(c, GROUP, ana, leo)
    packages = c.services.packages
    err = refused("group_primary", packages.redeem, c.billing, group, leos)
    assert "Only the primary client's package can pay for a group visit" in err.message
    assert "Ana Silva is the primary client" in err.message
    refused("group_primary", packages.redeem, c.billing, group, leos, leo)
    [option] = packages.visit_coverage(c.billing, group, leo).options
    assert option.refusal.startswith("Only the primary client's package")
    # Auto-selection looks at the primary client's packages only: Leo's stays untouched.
    assert packages.auto_redeem(c.billing, group).sale_id is None
    assert packages.sale(c.billing, leos).usage.used == 0


def test_the_refusal_rules_still_hold_for_a_groups_primary_client(db: Database) -> None:
    c = small_clinic(db)
    ana, leo = c.patient("Ana", "Silva"), c.patient("Leo", "Silva")
    plan = ten_massages(c)
    unpaid = c.services.packages.sell(c.billing, ana, plan).sale_id
    refused("not_paid", c.services.packages.redeem, c.billing, book_party(c, GROUP, ana, leo),
            unpaid)
    paid = sold_and_paid(c, ana, plan)
    physio = book_party(c, GROUP, ana, leo, treatment="Physio follow-up",
                        when=datetime(2026, 11, 25, 10, 0))
    refused("not_eligible", c.services.packages.redeem, c.billing, physio, paid)


def test_each_class_participant_uses_their_own_package_and_gets_their_use_back(
        db: Database) -> None:
    c = small_clinic(db)
    maddy, ola, leo = c.patient(), c.patient("Ola", "Berg"), c.patient("Leo", "Silva")
    maddys = sold_and_paid(c, maddy, ten_massages(c, auto_select=True))
    olas = sold_and_paid(c, ola, ten_massages(c, name="Ola's 10", auto_select=True))
    klass = book_party(c, CLASS, maddy, ola, leo)
    packages = c.services.packages

    # Someone else's package is refused on a class place: each pays with their own.
    refused("not_purchaser", packages.redeem, c.billing, klass, olas, leo)
    # Auto-selection runs for each participant.
    packages.auto_redeem(c.billing, klass)
    assert packages.visit_coverage(c.billing, klass, maddy).sale_id == maddys
    assert packages.visit_coverage(c.billing, klass, ola).sale_id == olas
    assert packages.visit_coverage(c.billing, klass, leo).sale_id is None
    assert [packages.sale(c.billing, x).usage.used for x in (maddys, olas)] == [1, 1]

    # Each participant gets their own invoice: $0 for the covered places, full price for Leo.
    invoices = c.services.invoicing.invoice_class(c.billing, klass)
    assert sorted(i.total_cents for i in invoices) == [0, 0, 12430]
    [olas_invoice] = [i for i in c.services.ledger.billing_summary(c.billing, ola).invoices
                      if "package: Ola's 10" in i.description]
    assert olas_invoice.total_cents == 0

    # Removing Ola's package gives Ola's use back (and deletes her $0 invoice); Maddy keeps hers.
    packages.remove_from_appointment(c.billing, klass, ola)
    assert [packages.sale(c.billing, x).usage.used for x in (maddys, olas)] == [1, 0]
    with db.reading() as s:
        assert s.get_one(Invoice, olas_invoice.id).status is InvoiceStatus.DELETED
    assert packages.visit_coverage(c.billing, klass, maddy).sale_id == maddys
    again = c.services.invoicing.invoice_appointment(c.billing, klass, ola)
    assert again.total_cents == 12430
    with pytest.raises(Conflict, match="already on invoice"):
        c.services.invoicing.invoice_appointment(c.billing, klass, maddy)


def test_a_cancelled_class_place_is_neither_billed_nor_covered(db: Database) -> None:
    c = small_clinic(db)
    maddy, leo = c.patient(), c.patient("Leo", "Silva")
    leos = sold_and_paid(c, leo, ten_massages(c))
    klass = book_party(c, CLASS, maddy, leo)
    c.services.appointments.set_status(c.owner, klass, AppointmentStatus.CANCELLED, leo)
    [leos_row] = c.services.appointments.for_patient(c.billing, leo).history
    assert leos_row.status is AppointmentStatus.CANCELLED
    [maddys_row] = c.services.appointments.for_patient(c.billing, maddy).upcoming
    assert maddys_row.status is AppointmentStatus.BOOKED  # the class goes on for the others
    with pytest.raises(Conflict, match="Leo Silva's place was cancelled"):
        c.services.packages.redeem(c.billing, klass, leos, leo)
    assert [i.total_cents for i in c.services.invoicing.invoice_class(c.billing, klass)] == [
        12430]


def test_booking_a_group_or_class_checks_its_participants_and_audits_for_each(
        db: Database) -> None:
    c = small_clinic(db)
    ana, leo = c.patient("Ana", "Silva"), c.patient("Leo", "Silva")
    with pytest.raises(ValidationError, match="at least one other participant"):
        book_party(c, GROUP, ana)
    with pytest.raises(ValidationError, match="already in this class"):
        book_party(c, CLASS, ana, leo, leo)
    with pytest.raises(ValidationError, match="Choose Group or Class"):
        book_party(c, AppointmentKind.INDIVIDUAL, ana, leo)
    with pytest.raises(NotFound):
        book_party(c, CLASS, ana, uuid.uuid4())
    group = book_party(c, GROUP, ana, leo)
    with db.reading() as s:
        booked = s.execute(select(AuditEvent.patient_id, AuditEvent.summary)
                           .where(AuditEvent.action == "appointment.booked")).all()
    assert {e.patient_id for e in booked} == {ana, leo}
    assert all("primary client Ana Silva, with Leo Silva" in e.summary for e in booked)
    with pytest.raises(NotFound, match="not on this appointment"):
        c.services.packages.visit_coverage(c.billing, group, c.patient("Ola", "Berg"))


def test_an_individual_visit_is_unchanged(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    sale = sold_and_paid(c, maddy, ten_massages(c))
    visit = book(c, maddy)
    assert c.services.packages.redeem(c.billing, visit, sale, maddy).sale_id == sale
    [row] = c.services.appointments.for_patient(c.billing, maddy).upcoming
    assert (row.kind, row.party, row.billed_to) == (AppointmentKind.INDIVIDUAL, "", "")


def test_a_practitioner_books_a_class_but_billing_it_needs_the_billing_permission(
        db: Database) -> None:
    c = small_clinic(db)
    maddy, leo = c.patient(), c.patient("Leo", "Silva")
    sale = sold_and_paid(c, maddy, ten_massages(c))
    practitioner = c.actor("psharma")  # BOOK_APPOINTMENTS, not CREATE_INVOICE
    for patient, hour in ((maddy, 8), (leo, 9)):  # the front desk made them her patients
        c.services.appointments.book(c.owner, patient, practitioner.staff_id,
                                     c.treatment("Massage 60 min"), c.location_id,
                                     WHEN.replace(hour=hour))
    klass = c.services.appointments.book(
        practitioner, maddy, practitioner.staff_id, c.treatment("Massage 60 min"),
        c.location_id, WHEN, kind=CLASS, others=[leo])
    c.services.appointments.set_status(practitioner, klass, AppointmentStatus.ARRIVED, leo)
    for call in (lambda: c.services.invoicing.invoice_class(practitioner, klass),
                 lambda: c.services.packages.redeem(practitioner, klass, sale, maddy),
                 lambda: c.services.packages.auto_redeem(practitioner, klass)):
        with pytest.raises(PermissionDenied):
            call()


def test_my_day_lists_everyone_in_a_class_with_the_package_paying_their_place(
        db: Database) -> None:
    c = small_clinic(db)
    ana, leo, ola = c.patient("Ana", "Silva"), c.patient("Leo", "Silva"), c.patient("Ola", "Berg")
    anas, leos = sold_and_paid(c, ana, ten_massages(c)), sold_and_paid(c, leo, ten_massages(c))
    klass = book_party(c, CLASS, ana, leo, ola)
    c.services.packages.redeem(c.billing, klass, anas, ana)
    c.services.packages.redeem(c.billing, klass, leos, leo)
    c.services.appointments.set_status(c.owner, klass, AppointmentStatus.CANCELLED, ola)
    group = book_party(c, GROUP, ana, ola, when=WHEN.replace(hour=14))
    c.services.packages.redeem(c.billing, group, anas)
    rows = c.services.package_reports.my_day(c.owner, c.practitioner_id, WHEN.date())
    assert [(r.appointment_id, r.patient, r.package) for r in rows] == [
        (klass, "Ana Silva", "10 Massages"),
        (klass, "Leo Silva", "10 Massages"),  # his own package, not Ana's
        (group, "Ana Silva", "10 Massages"),  # the primary client's package pays
        (group, "Ola Berg", ""),
    ]
    assert "10 Massages: 8 left" in rows[0].uses_left  # the class and the group
    assert "10 Massages: 9 left" in rows[1].uses_left
