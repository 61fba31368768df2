"""Settings > Packages & Memberships: setting up, editing and archiving what the clinic sells.

Editing a plan changes what is sold from then on. Packages already sold keep the terms they
were sold on unless the desk chooses "Update Sold Packages", which copies the name, uses,
income category, auto-selection and eligible items onto every open sale of the plan.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from desk_app.models.catalog import TreatmentType
from desk_app.models.enums import ExpiryUnit, PlanKind, Recurrence
from desk_app.models.packages import PackagePlan, PackagePlanItem, PackageSale, PackageSaleItem
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.db import Database
from desk_app.services.errors import NotFound, ValidationError
from desk_app.services.invoicing import MAX_LINE_CENTS
from desk_app.services.permissions import Permission, require

MAX_USES = 1000


@dataclass(frozen=True, slots=True)
class EligibleItem:
    treatment_type_id: uuid.UUID
    max_uses: int | None = None  # a limit inside one package; None: only the package's total


@dataclass(frozen=True, slots=True)
class PlanInput:
    name: str
    price_cents: int
    items: Sequence[EligibleItem]
    uses: int | None = 10  # None: unlimited
    kind: PlanKind = PlanKind.PACKAGE
    tax_rate_bp: int = 0
    income_category: str = ""
    expiry_unit: ExpiryUnit = ExpiryUnit.NONE
    expiry_count: int = 0
    recurrence: Recurrence | None = None
    additional_charge_cents: int = 0
    auto_select: bool = False
    auto_redeem_online: bool = False
    shared_with_household: bool = False


@dataclass(frozen=True, slots=True)
class PlanItemRow:
    treatment_type_id: uuid.UUID
    treatment: str
    max_uses: int | None


@dataclass(frozen=True, slots=True)
class PlanRow:
    id: uuid.UUID
    kind: PlanKind
    name: str
    price_cents: int
    tax_rate_bp: int
    income_category: str
    uses: int | None
    expiry_unit: ExpiryUnit
    expiry_count: int
    recurrence: Recurrence | None
    additional_charge_cents: int
    auto_select: bool
    auto_redeem_online: bool
    shared_with_household: bool
    archived: bool
    items: list[PlanItemRow] = field(default_factory=list)
    sold_open: int = 0  # open sales that "Update Sold Packages" would change

    @property
    def uses_text(self) -> str:
        return "Unlimited" if self.uses is None else str(self.uses)

    @property
    def expiry_text(self) -> str:
        if self.recurrence is not None:
            return f"Renews {self.recurrence.label.lower()}"
        if self.expiry_unit is ExpiryUnit.NONE or self.expiry_count <= 0:
            return "No expiry"
        return f"{self.expiry_count} {self.expiry_unit.value} after sale"

    def input(self) -> PlanInput:
        """The plan as an editable input (the edit form starts from this)."""
        return PlanInput(
            name=self.name,
            price_cents=self.price_cents,
            items=[EligibleItem(i.treatment_type_id, i.max_uses) for i in self.items],
            uses=self.uses,
            kind=self.kind,
            tax_rate_bp=self.tax_rate_bp,
            income_category=self.income_category,
            expiry_unit=self.expiry_unit,
            expiry_count=self.expiry_count,
            recurrence=self.recurrence,
            additional_charge_cents=self.additional_charge_cents,
            auto_select=self.auto_select,
            auto_redeem_online=self.auto_redeem_online,
            shared_with_household=self.shared_with_household,
        )


def check_plan(data: PlanInput) -> str:
    """The cleaned name; raises ValidationError saying what to change."""
    name = " ".join(data.name.split())
    if not name:
        raise ValidationError("Give the package a name.", "name")
    if len(name) > 160:
        raise ValidationError("Shorten the name to 160 characters or fewer.", "name")
    if not 0 < data.price_cents <= MAX_LINE_CENTS:
        raise ValidationError("Enter a price greater than zero.", "price")
    if not 0 <= data.tax_rate_bp <= 10_000:
        raise ValidationError("A tax rate is between 0% and 100%.", "tax")
    if data.uses is not None and not 1 <= data.uses <= MAX_USES:
        raise ValidationError(
            f"The number of uses is between 1 and {MAX_USES}, or unlimited.", "uses"
        )
    if data.kind is PlanKind.MEMBERSHIP:
        if data.recurrence is None:
            raise ValidationError("Choose how often the membership renews.", "recurrence")
    else:
        if data.recurrence is not None:
            raise ValidationError("Only a membership renews; a package is sold once.", "recurrence")
        if data.uses is None and data.expiry_unit is ExpiryUnit.NONE:
            raise ValidationError(
                "A package with unlimited uses needs an expiry; choose a number of uses "
                "or an expiry.",
                "uses",
            )
    if data.expiry_unit is not ExpiryUnit.NONE and not 1 <= data.expiry_count <= 3650:
        raise ValidationError("Enter how many days or months the package lasts.", "expiry")
    if not 0 <= data.additional_charge_cents <= MAX_LINE_CENTS:
        raise ValidationError("The additional charge cannot be negative.", "additional_charge")
    if not data.items:
        raise ValidationError(
            "Choose at least one eligible item the package can be redeemed on.", "items"
        )
    seen: set[uuid.UUID] = set()
    for item in data.items:
        if item.treatment_type_id in seen:
            raise ValidationError("Each eligible item is listed once.", "items")
        seen.add(item.treatment_type_id)
        if item.max_uses is not None:
            if item.max_uses < 1:
                raise ValidationError("A per-item limit is at least 1 use.", "items")
            if data.uses is not None and item.max_uses > data.uses:
                raise ValidationError(
                    f"A per-item limit ({item.max_uses}) cannot be more than the package's "
                    f"{data.uses} uses.",
                    "items",
                )
    return name


class PackagePlanService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def plans(self, actor: Actor, *, include_archived: bool = False) -> list[PlanRow]:
        """Every plan, by kind then name. The desk reads them to sell; settings to edit."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            query = select(PackagePlan).where(PackagePlan.clinic_id == actor.clinic_id)
            if not include_archived:
                query = query.where(PackagePlan.archived.is_(False))
            plans = list(s.scalars(query.order_by(PackagePlan.kind, PackagePlan.name)))
            return [self._row(s, p) for p in plans]

    def plan(self, actor: Actor, plan_id: uuid.UUID) -> PlanRow:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            plan = s.get(PackagePlan, plan_id)
            if plan is None or plan.clinic_id != actor.clinic_id:
                raise NotFound("That package no longer exists.")
            return self._row(s, plan)

    def create(self, actor: Actor, data: PlanInput) -> uuid.UUID:
        require(actor, Permission.MANAGE_PACKAGES)
        name = check_plan(data)
        with self.db.transaction() as s:
            self._check_items(s, data.items)
            plan = PackagePlan(clinic_id=actor.clinic_id, name=name)
            self._assign(plan, data, name)
            s.add(plan)
            s.flush()
            self._set_items(s, plan.id, data.items)
            audit.record(
                s, actor, "package_plan.created", entity=plan,
                summary=f"Set up {plan.kind.label.lower()} {name}",
            )
            return plan.id

    def update(
        self, actor: Actor, plan_id: uuid.UUID, data: PlanInput, *, update_sold: bool
    ) -> int:
        """Save the plan; with ``update_sold`` ("Update Sold Packages") copy the name, uses,
        income category, auto-selection and eligible items onto its open sales. Returns how
        many sold packages changed."""
        require(actor, Permission.MANAGE_PACKAGES)
        name = check_plan(data)
        with self.db.transaction() as s:
            plan = s.get(PackagePlan, plan_id)
            if plan is None or plan.clinic_id != actor.clinic_id:
                raise NotFound("That package no longer exists.")
            if data.kind is not plan.kind:
                raise ValidationError("A package cannot become a membership, or the reverse; "
                                      "set up a new one instead.", "kind")
            self._check_items(s, data.items)
            self._assign(plan, data, name)
            s.execute(delete(PackagePlanItem).where(PackagePlanItem.plan_id == plan.id))
            self._set_items(s, plan.id, data.items)
            changed = 0
            if update_sold:
                sales = list(s.scalars(select(PackageSale).where(
                    PackageSale.plan_id == plan.id, PackageSale.closed_at.is_(None))))
                for sale in sales:
                    sale.name = name
                    sale.uses_total = data.uses
                    sale.income_category = data.income_category
                    sale.auto_select = data.auto_select
                    s.execute(delete(PackageSaleItem).where(PackageSaleItem.sale_id == sale.id))
                    for item in data.items:
                        s.add(PackageSaleItem(sale_id=sale.id,
                                              treatment_type_id=item.treatment_type_id,
                                              max_uses=item.max_uses))
                changed = len(sales)
            audit.record(
                s, actor, "package_plan.updated", entity=plan,
                summary=f"Edited {name}" + (f"; updated {changed} sold" if update_sold else ""),
                details={"update_sold": update_sold, "sold_changed": changed},
            )
            return changed

    def set_archived(self, actor: Actor, plan_id: uuid.UUID, archived: bool) -> None:
        """Stop (or resume) selling a plan; what was sold stays redeemable."""
        require(actor, Permission.MANAGE_PACKAGES)
        with self.db.transaction() as s:
            plan = s.get(PackagePlan, plan_id)
            if plan is None or plan.clinic_id != actor.clinic_id:
                raise NotFound("That package no longer exists.")
            plan.archived = archived
            audit.record(s, actor, "package_plan.archived" if archived else
                         "package_plan.restored", entity=plan, summary=plan.name)

    # ----- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _assign(plan: PackagePlan, data: PlanInput, name: str) -> None:
        plan.kind = data.kind
        plan.name = name
        plan.price_cents = data.price_cents
        plan.tax_rate_bp = data.tax_rate_bp
        plan.income_category = data.income_category.strip()[:120]
        plan.uses = data.uses
        plan.expiry_unit = data.expiry_unit
        plan.expiry_count = data.expiry_count if data.expiry_unit is not ExpiryUnit.NONE else 0
        plan.recurrence = data.recurrence
        plan.additional_charge_cents = data.additional_charge_cents
        plan.auto_select = data.auto_select
        plan.auto_redeem_online = data.auto_redeem_online
        plan.shared_with_household = data.shared_with_household

    @staticmethod
    def _check_items(s: Session, items: Sequence[EligibleItem]) -> None:
        ids = [i.treatment_type_id for i in items]
        found = set(s.scalars(select(TreatmentType.id).where(TreatmentType.id.in_(ids))))
        if len(found) != len(set(ids)):
            raise ValidationError("An eligible item no longer exists; choose again.", "items")

    @staticmethod
    def _set_items(s: Session, plan_id: uuid.UUID, items: Sequence[EligibleItem]) -> None:
        for item in items:
            s.add(PackagePlanItem(plan_id=plan_id, treatment_type_id=item.treatment_type_id,
                                  max_uses=item.max_uses))
        s.flush()

    @staticmethod
    def _row(s: Session, plan: PackagePlan) -> PlanRow:
        items = [
            PlanItemRow(tid, name, limit)
            for tid, name, limit in s.execute(
                select(PackagePlanItem.treatment_type_id, TreatmentType.name,
                       PackagePlanItem.max_uses)
                .join(TreatmentType, TreatmentType.id == PackagePlanItem.treatment_type_id)
                .where(PackagePlanItem.plan_id == plan.id)
                .order_by(TreatmentType.name)
            )
        ]
        sold_open = len(list(s.scalars(select(PackageSale.id).where(
            PackageSale.plan_id == plan.id, PackageSale.closed_at.is_(None)))))
        return PlanRow(
            id=plan.id, kind=plan.kind, name=plan.name, price_cents=plan.price_cents,
            tax_rate_bp=plan.tax_rate_bp, income_category=plan.income_category, uses=plan.uses,
            expiry_unit=plan.expiry_unit, expiry_count=plan.expiry_count,
            recurrence=plan.recurrence, additional_charge_cents=plan.additional_charge_cents,
            auto_select=plan.auto_select, auto_redeem_online=plan.auto_redeem_online,
            shared_with_household=plan.shared_with_household, archived=plan.archived,
            items=items, sold_open=sold_open,
        )
