"""The demo clinic's packages and memberships: a few plans, and a few patients who bought them.

So that someone trying the demo finds real content on the Packages tab, in an appointment's
package panel, in the usage report and in "My day":

- a massage pass with per-item limits, bought four months ago, paid, partly used, with a
  visit booked today that it pays for;
- a chiropractic pass with an insurer-friendly "Additional Charge", one sold today and
  awaiting payment, another paid and used (each visit still invoiced at the discounted charge);
- a physio pack shared with the household, used by the buyer and by a household member;
- a massage pass bought almost a year ago that expires in about ten days;
- a monthly membership in its third period.

Rows are written the way the services write them (``packages.create_sale``,
``invoicing.invoice_appointment`` for a covered visit, one ``PackageRedemption`` per use),
already in storage form through the demo's writer, so this adds milliseconds to the demo. Every
date is relative to the demo's "now" and nothing is random: the same demo every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from desk_app.models.enums import (
    AppointmentStatus,
    CollectedBy,
    ExpiryUnit,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    PlanKind,
    Recurrence,
)
from desk_app.services.invoicing import line_amounts
from desk_app.services.package_coverage import covered_line_description
from desk_app.services.package_terms import expiry_date, period_start

if TYPE_CHECKING:
    from desk_app.services.demo import _Catalog, _Writer

#: The demo's packages go to its 2nd to 8th patients (the first, Maddy, keeps a plain history).
DEMO_PACKAGE_PATIENTS = 8


def _stored(moment: datetime) -> str:
    """A UTC-aware time as SQLAlchemy stores it on SQLite (as services.demo writes it)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@dataclass(frozen=True)
class _Plan:
    id: str
    name: str
    kind: PlanKind
    price_cents: int
    tax_rate_bp: int
    income_category: str
    uses: int | None
    expiry_months: int
    additional_charge_cents: int
    auto_select: bool
    shared: bool
    items: tuple[tuple[str, int | None], ...]  # treatment type id, limit inside one package


@dataclass(frozen=True)
class _Sale:
    id: str
    plan: _Plan
    patient_id: str


class _DemoPackages:
    """Writes plans, sales, payments and covered visits as the services would."""

    def __init__(self, out: _Writer, cat: _Catalog, last_seq: int, now: datetime,
                 workstation: str) -> None:
        self.out, self.cat, self.seq, self.now = out, cat, last_seq, now
        self.workstation = workstation
        self.tz = ZoneInfo(cat.time_zone)
        self.today = now.astimezone(self.tz).date()
        self.now_text = _stored(now)
        self.treatment = {t[4]: t for items in cat.treatments.values() for t in items}
        self.practitioner = {discipline: pid for pid, discipline in cat.practitioners}
        self.discipline = {t[4]: d for d, items in cat.treatments.items() for t in items}

    def at(self, days: int, hour: int, minute: int = 0) -> datetime:
        """A clinic-local wall-clock time `days` from today, as an aware datetime."""
        local = datetime.combine(self.today + timedelta(days=days), time(hour, minute))
        return local.replace(tzinfo=self.tz)

    def stamp(self, moment: str) -> dict[str, Any]:
        return {"created_at": moment, "updated_at": moment, "version": 1}

    def plan(self, name: str, price_cents: int, tax_rate_bp: int, category: str,
             items: list[tuple[str, int | None]], *, uses: int | None, expiry_months: int = 0,
             kind: PlanKind = PlanKind.PACKAGE, recurrence: Recurrence | None = None,
             additional_charge_cents: int = 0, auto_select: bool = False,
             shared: bool = False) -> _Plan:
        treatment_items = tuple((self.treatment[t][0], limit) for t, limit in items)
        plan_id = self.out.add("package_plan", {
            "clinic_id": self.cat.clinic_id, "kind": kind.value, "name": name,
            "price_cents": price_cents, "tax_rate_bp": tax_rate_bp, "income_category": category,
            "uses": uses,
            "expiry_unit": (ExpiryUnit.MONTHS if expiry_months else ExpiryUnit.NONE).value,
            "expiry_count": expiry_months,
            "recurrence": recurrence.value if recurrence else None,
            "additional_charge_cents": additional_charge_cents, "auto_select": int(auto_select),
            "auto_redeem_online": 0, "shared_with_household": int(shared), "archived": 0,
            **self.stamp(self.now_text)})
        for treatment_id, limit in treatment_items:
            self.out.add("package_plan_item", {"plan_id": plan_id,
                                               "treatment_type_id": treatment_id,
                                               "max_uses": limit})
        return _Plan(plan_id, name, kind, price_cents, tax_rate_bp, category, uses,
                     expiry_months, additional_charge_cents, auto_select, shared,
                     treatment_items)

    def invoice(self, patient_id: str, when: str, line: dict[str, Any], price: int,
                tax_rate_bp: int) -> tuple[str, int]:
        """An open invoice with one line; returns (id, total)."""
        amounts = line_amounts(price, 1, tax_rate_bp)
        self.seq += 1
        invoice_id = self.out.add("invoice", {
            "clinic_id": self.cat.clinic_id, "patient_id": patient_id,
            "location_id": self.cat.locations[0], "workstation": self.workstation,
            "seq": self.seq, "issued_at": when, "status": InvoiceStatus.OPEN.value,
            "subtotal_cents": amounts.subtotal_cents, "tax_cents": amounts.tax_cents,
            "total_cents": amounts.total_cents, "created_by_id": self.cat.front_desk,
            "deleted_at": None, "deleted_by_id": None, **self.stamp(when)})
        self.out.add("invoice_line", {
            "invoice_id": invoice_id, "position": 0, "quantity": 1, "unit_price_cents": price,
            "tax_rate_bp": tax_rate_bp, "subtotal_cents": amounts.subtotal_cents,
            "tax_cents": amounts.tax_cents, "total_cents": amounts.total_cents,
            "created_at": when, "product_id": None, **line})
        return invoice_id, amounts.total_cents

    def pay(self, patient_id: str, invoice_id: str, amount: int, when: str,
            method: PaymentMethod = PaymentMethod.DEBIT) -> None:
        if amount == 0:
            return
        payment_id = self.out.add("payment", {
            "clinic_id": self.cat.clinic_id, "patient_id": patient_id,
            "location_id": self.cat.locations[0], "method": method.value,
            "amount_cents": amount, "received_at": when,
            "collected_by": CollectedBy.STAFF.value,
            "collected_by_staff_id": self.cat.front_desk, "payment_account_id": None,
            "reference": "", "note": "", "workstation": self.workstation, "created_at": when})
        self.out.add("allocation", {
            "payment_id": payment_id, "invoice_id": invoice_id, "patient_id": patient_id,
            "amount_cents": amount, "created_by_id": self.cat.front_desk,
            "workstation": self.workstation, "created_at": when})

    def sell(self, plan: _Plan, patient_id: str, sold: datetime, *, paid: bool,
             expires_on: date | None = None, membership_id: str | None = None,
             label: str = "") -> _Sale:
        """As ``packages.create_sale``: the invoice with one package line, then the sale with
        the plan's terms copied; paid in full at the desk when `paid`."""
        when = _stored(sold)
        sold_on = sold.astimezone(self.tz).date()
        invoice_id, total = self.invoice(patient_id, when, {
            "kind": LineKind.PACKAGE.value, "description": (label or plan.name)[:300],
            "appointment_id": None, "treatment_type_id": None, "practitioner_id": None,
            "service_date": when, "income_category": plan.income_category},
            plan.price_cents, plan.tax_rate_bp)
        if membership_id is None:
            expiry_unit = ExpiryUnit.MONTHS if plan.expiry_months else ExpiryUnit.NONE
            expires_on = expiry_date(sold_on, expiry_unit, plan.expiry_months)
        sale_id = self.out.add("package_sale", {
            "clinic_id": self.cat.clinic_id, "plan_id": plan.id, "patient_id": patient_id,
            "invoice_id": invoice_id, "membership_id": membership_id,
            "location_id": self.cat.locations[0], "sold_by_id": self.cat.front_desk,
            "name": plan.name, "price_cents": total, "income_category": plan.income_category,
            "uses_total": plan.uses, "additional_charge_cents": plan.additional_charge_cents,
            "auto_select": int(plan.auto_select), "shared_with_household": int(plan.shared),
            "sold_at": when, "expires_on": expires_on.isoformat() if expires_on else None,
            "closed_at": None, "closed_reason": "", "refunded_cents": 0, **self.stamp(when)})
        for treatment_id, limit in plan.items:
            self.out.add("package_sale_item", {"sale_id": sale_id,
                                               "treatment_type_id": treatment_id,
                                               "max_uses": limit})
        if paid:
            self.pay(patient_id, invoice_id, total, when)
        return _Sale(sale_id, plan, patient_id)

    def visit(self, sale: _Sale, patient_id: str, treatment: str, starts: datetime,
              location: int = 0) -> None:
        """A visit the package pays for: the appointment, its use (+1), and, once the visit is
        over, its invoice at the package's per-visit charge, paid."""
        treatment_id, minutes, _price, tax, name = self.treatment[treatment]
        practitioner = self.practitioner[self.discipline[treatment]]
        ends = starts + timedelta(minutes=minutes)
        starts_text, ends_text = _stored(starts), _stored(ends)
        over = ends <= self.now
        status = AppointmentStatus.ARRIVED if over else AppointmentStatus.BOOKED
        where = self.cat.locations[location]
        appointment_id = self.out.add("appointment", {
            "clinic_id": self.cat.clinic_id, "patient_id": patient_id,
            "practitioner_id": practitioner, "treatment_type_id": treatment_id,
            "location_id": where, "starts_at": starts_text, "ends_at": ends_text,
            "status": status.value, "notes": "", **self.stamp(starts_text)})
        # Used at the desk shortly before the visit (or now, for a visit still to come).
        redeemed = min(starts - timedelta(minutes=15), self.now)
        self.out.add("package_redemption", {
            "sale_id": sale.id, "appointment_id": appointment_id, "patient_id": patient_id,
            "treatment_type_id": treatment_id, "practitioner_id": practitioner,
            "location_id": where, "visit_at": starts_text, "uses": 1, "reverses_id": None,
            "created_by_id": self.cat.front_desk, "workstation": self.workstation,
            "created_at": _stored(redeemed)})
        if not over:
            return
        charge = sale.plan.additional_charge_cents
        invoice_id, total = self.invoice(patient_id, ends_text, {
            "kind": LineKind.APPOINTMENT.value,
            "description": covered_line_description(name, sale.plan.name),
            "appointment_id": appointment_id, "treatment_type_id": treatment_id,
            "practitioner_id": practitioner, "service_date": starts_text,
            "income_category": self.discipline[treatment]}, charge, tax)
        self.pay(patient_id, invoice_id, total, ends_text)

    def household(self, patient_ids: list[str]) -> None:
        household_id = self.out.new_id()
        for patient_id in patient_ids:
            self.out.add("household_member", {"household_id": household_id,
                                              "patient_id": patient_id})

    def membership(self, plan: _Plan, patient_id: str, started_on: date,
                   recurrence: Recurrence) -> list[tuple[date, _Sale]]:
        """A membership and every period started by today, each invoiced on its first day
        and paid (as ``MembershipService.run_due`` would, without a card on file)."""
        membership_id = self.out.new_id()
        periods: list[tuple[date, date]] = []
        index = 0
        while (start := period_start(started_on, recurrence, index)) <= self.today:
            periods.append((start, period_start(started_on, recurrence, index + 1)))
            index += 1
        started = _stored(datetime.combine(started_on, time(9)).replace(tzinfo=self.tz))
        self.out.add("membership", {
            "id": membership_id, "clinic_id": self.cat.clinic_id, "plan_id": plan.id,
            "patient_id": patient_id, "location_id": self.cat.locations[0],
            "started_on": started_on.isoformat(), "next_period_on": periods[-1][1].isoformat(),
            "charge_card": 0, "cancelled_at": None, **self.stamp(started)})
        sales = []
        for start, end in periods:
            last = end - timedelta(days=1)
            sold = datetime.combine(start, time(9)).replace(tzinfo=self.tz)
            sales.append((start, self.sell(
                plan, patient_id, min(sold, self.now), paid=True, expires_on=last,
                membership_id=membership_id,
                label=f"{plan.name} ({start.isoformat()} to {last.isoformat()})")))
        return sales


def add_demo_packages(out: _Writer, cat: _Catalog, patients: list[str], last_seq: int,
                      now: datetime, workstation: str) -> None:
    """The demo's plans, and packages sold to its 2nd to 8th patients (see the module)."""
    demo = _DemoPackages(out, cat, last_seq, now, workstation)
    massage_pass = demo.plan(
        "Massage 10-Visit Pass", 99000, 1300, "Massage Therapy",
        [("Massage 60 min", None), ("Massage 90 min", 3)], uses=10, expiry_months=12,
        auto_select=True)
    family_physio = demo.plan(
        "Physio Family Pack", 45000, 0, "Physiotherapy",
        [("Physio follow-up", None), ("Physio initial assessment", 1)], uses=6,
        expiry_months=6, shared=True)
    chiro = demo.plan(
        "Chiro 10 (insurer)", 30000, 0, "Chiropractic",
        [("Chiropractic adjustment", None)], uses=10, expiry_months=12,
        additional_charge_cents=1500, auto_select=True)
    wellness = demo.plan(
        "Wellness", 12000, 1300, "Memberships",
        [("Massage 60 min", None), ("Physio follow-up", None)], uses=2,
        kind=PlanKind.MEMBERSHIP, recurrence=Recurrence.MONTHLY)
    regular, awaiting, buyer, relative, expiring, member, insured = patients[1:8]

    # Paid four months ago and partly used; a massage booked today is paid by it.
    sale = demo.sell(massage_pass, regular, demo.at(-120, 10), paid=True)
    for days, treatment in ((-110, "Massage 60 min"), (-81, "Massage 60 min"),
                            (-46, "Massage 90 min"), (-18, "Massage 60 min")):
        demo.visit(sale, regular, treatment, demo.at(days, 10))
    demo.visit(sale, regular, "Massage 60 min", demo.at(0, 18))

    # Sold today, awaiting payment.
    demo.sell(chiro, awaiting, demo.at(0, 9, 30), paid=False)

    # Shared with the household: the buyer and a household member both use it.
    demo.household([buyer, relative])
    sale = demo.sell(family_physio, buyer, demo.at(-60, 11), paid=True)
    demo.visit(sale, buyer, "Physio initial assessment", demo.at(-58, 11), location=1)
    demo.visit(sale, buyer, "Physio follow-up", demo.at(-31, 11), location=1)
    demo.visit(sale, relative, "Physio follow-up", demo.at(-12, 15), location=1)
    demo.visit(sale, relative, "Physio follow-up", demo.at(0, 12, 30), location=1)

    # Bought almost a year ago: it expires in about ten days, with three uses left.
    sold = demo.at(-355, 12)
    sale = demo.sell(massage_pass, expiring, sold, paid=True)
    for days in (-340, -300, -251, -200, -152, -99, -40):
        demo.visit(sale, expiring, "Massage 60 min", demo.at(days, 14))

    # A monthly membership in its third period.
    periods = demo.membership(wellness, member, demo.today - timedelta(days=70),
                              Recurrence.MONTHLY)
    uses = (((3, "Massage 60 min"), (20, "Physio follow-up")), ((6, "Massage 60 min"),))
    for (start, period), visits in zip(periods, uses, strict=False):
        for offset, treatment in visits:
            demo.visit(period, member, treatment, demo.at((start - demo.today).days + offset, 13))
    demo.visit(periods[-1][1], member, "Massage 60 min", demo.at(0, 11))

    # Insurer-friendly: paid up front, each visit still invoiced at the $15 charge.
    sale = demo.sell(chiro, insured, demo.at(-40, 9), paid=True)
    for days in (-33, -19, -5):
        demo.visit(sale, insured, "Chiropractic adjustment", demo.at(days, 9, 30))
    demo.visit(sale, insured, "Chiropractic adjustment", demo.at(0, 10, 30))
