"""Packages and memberships: what the clinic offers, what each patient bought, each use.

- ``PackagePlan`` is the offer set up in Settings (price, uses, expiry, eligible items).
- ``PackageSale`` is one patient's purchase: a copy of the plan's terms at the time of sale
  (so editing the plan changes sold packages only when the desk chooses "Update Sold
  Packages"), tied to the invoice that sold it. A membership period is a sale too.
- ``PackageRedemption`` is one use given or given back: append-only, a row of its own with a
  UUID (never a counter edited in place), so uses are derived and two desks never conflict;
  removing a package from a visit is a new row with ``uses = -1``.
- ``Membership`` is a recurring plan a patient is on: it makes one sale per period.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import AppendOnly, Base, IdMixin, Versioned
from desk_app.models.enums import ExpiryUnit, PlanKind, Recurrence, str_enum


class PackagePlan(Versioned, Base):
    """A package or membership the clinic sells (Settings > Packages & Memberships)."""

    __tablename__ = "package_plan"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    kind: Mapped[PlanKind] = mapped_column(str_enum(PlanKind), default=PlanKind.PACKAGE)
    name: Mapped[str] = mapped_column(String(160))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    tax_rate_bp: Mapped[int] = mapped_column(default=0)
    income_category: Mapped[str] = mapped_column(String(120), default="")
    # Uses per package (or per membership period); None means unlimited.
    uses: Mapped[int | None] = mapped_column(default=None)
    expiry_unit: Mapped[ExpiryUnit] = mapped_column(str_enum(ExpiryUnit), default=ExpiryUnit.NONE)
    expiry_count: Mapped[int] = mapped_column(default=0)
    # Memberships only: how often a new period is invoiced.
    recurrence: Mapped[Recurrence | None] = mapped_column(str_enum(Recurrence), default=None)
    # Insurer-friendly ("Additional Charge"): each covered visit is still invoiced this much.
    additional_charge_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    auto_select: Mapped[bool] = mapped_column(default=False)
    auto_redeem_online: Mapped[bool] = mapped_column(default=False)
    shared_with_household: Mapped[bool] = mapped_column(default=False)
    archived: Mapped[bool] = mapped_column(default=False)


class PackagePlanItem(IdMixin, Base):
    """A treatment type a plan may be redeemed on, with an optional limit inside one package."""

    __tablename__ = "package_plan_item"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("package_plan.id", ondelete="CASCADE"), index=True
    )
    treatment_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_type.id"))
    max_uses: Mapped[int | None] = mapped_column(default=None)


class PackageSale(Versioned, Base):
    """One patient's package (or one membership period), with the terms it was sold on."""

    __tablename__ = "package_sale"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"))
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("package_plan.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"), index=True)
    membership_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("membership.id"), default=None, index=True
    )
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"), default=None)
    sold_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"), default=None)
    name: Mapped[str] = mapped_column(String(160))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    income_category: Mapped[str] = mapped_column(String(120), default="")
    uses_total: Mapped[int | None] = mapped_column(default=None)
    additional_charge_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    auto_select: Mapped[bool] = mapped_column(default=False)
    shared_with_household: Mapped[bool] = mapped_column(default=False)
    sold_at: Mapped[datetime]
    # The last day it may be redeemed on, in the clinic's time zone; None: never expires.
    expires_on: Mapped[date | None] = mapped_column(default=None)
    # Refunded (the package closes) or its invoice deleted.
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_reason: Mapped[str] = mapped_column(String(40), default="")
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        # What the usage report shows of each package it lists, from one index lookup.
        Index("ix_package_sale_report", "id", "clinic_id", "patient_id", "plan_id",
              "uses_total", "expires_on", "name"),
    )


class PackageSaleItem(IdMixin, Base):
    """A sold package's eligible treatment type and its per-item limit (copied from the plan)."""

    __tablename__ = "package_sale_item"

    sale_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("package_sale.id", ondelete="CASCADE"), index=True
    )
    treatment_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_type.id"))
    max_uses: Mapped[int | None] = mapped_column(default=None)


class PackageRedemption(AppendOnly, Base):
    """A use of a package on a visit (+1) or the use given back (-1). Never edited."""

    __tablename__ = "package_redemption"

    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("package_sale.id"))
    appointment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appointment.id"), index=True)
    # Who was seen (the purchaser, or a member of the purchaser's household).
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    treatment_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_type.id"))
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"))
    visit_at: Mapped[datetime]
    uses: Mapped[int]
    # The redemption a give-back (-1) reverses.
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("package_redemption.id"), default=None
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        # Uses of a package (per item too), and the usage report with its location and staff
        # filters, read from the indexes alone: by package (a long period in one pass, with
        # the uses to date) or by visit time (a short period). See services/package_reports.
        Index("ix_package_redemption_sale", "sale_id", "treatment_type_id", "uses", "visit_at",
              "location_id", "practitioner_id"),
        Index("ix_package_redemption_visit", "visit_at", "sale_id", "uses", "location_id",
              "practitioner_id"),
        CheckConstraint("uses IN (1, -1)", name="uses_one"),
    )


class HouseholdMember(IdMixin, Base):
    """Patients who share a household: packages marked "shared with household" cover them."""

    __tablename__ = "household_member"

    household_id: Mapped[uuid.UUID] = mapped_column(index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), unique=True
    )


class Membership(Versioned, Base):
    """A patient on a recurring plan: one invoice (and one package period) per period."""

    __tablename__ = "membership"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"))
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("package_plan.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"), default=None)
    started_on: Mapped[date]
    # The first day of the next period still to invoice (clinic time zone).
    next_period_on: Mapped[date]
    charge_card: Mapped[bool] = mapped_column(default=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


class DeskNotice(Versioned, Base):
    """Something the front desk must see (a membership charge that failed)."""

    __tablename__ = "desk_notice"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"))
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoice.id"), default=None)
    message: Mapped[str] = mapped_column(Text)
    dismissed_at: Mapped[datetime | None] = mapped_column(default=None)
