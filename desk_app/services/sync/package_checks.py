"""The packages' rules that span desks, checked centrally on every push (services/sync/
checks.py): a package's uses, or an item's limit inside it, taken beyond what was sold
because two offline desks each redeemed the last one. Both redemptions are kept (the visits
happened); the package is flagged for review in the conflict log."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, func, select

from desk_app.models.catalog import TreatmentType
from desk_app.models.packages import PackageRedemption, PackageSale, PackageSaleItem
from desk_app.services.sync.checks import Flag, register


@register
def package_uses_not_exceeded(conn: Connection, touched: dict[str, set[str]]) -> list[Flag]:
    redeemed = touched.get("package_redemption", set())
    if not redeemed:
        return []
    sale_ids = set(conn.scalars(
        select(PackageRedemption.sale_id)
        .where(PackageRedemption.id.in_([uuid.UUID(k) for k in redeemed]))
    ))
    flags = []
    # Locked, so two desks pushing at once are checked one after the other.
    sales = conn.execute(
        select(PackageSale.id, PackageSale.name, PackageSale.uses_total)
        .where(PackageSale.id.in_(sale_ids)).order_by(PackageSale.id).with_for_update()
    ).all()
    for sale_id, name, uses_total in sales:
        used = int(conn.scalar(
            select(func.coalesce(func.sum(PackageRedemption.uses), 0))
            .where(PackageRedemption.sale_id == sale_id)
        ) or 0)
        if uses_total is not None and used > uses_total:
            flags.append(Flag(
                "package_sale", str(sale_id),
                f"{name}: {used} uses redeemed of {uses_total} (its last use was redeemed on "
                "two desks while offline). Remove the package from one visit, or charge it.",
            ))
            continue
        limits = conn.execute(
            select(PackageSaleItem.treatment_type_id, PackageSaleItem.max_uses, TreatmentType.name)
            .join(TreatmentType, TreatmentType.id == PackageSaleItem.treatment_type_id)
            .where(PackageSaleItem.sale_id == sale_id, PackageSaleItem.max_uses.is_not(None))
        ).all()
        for treatment_id, max_uses, treatment in limits:
            item_used = int(conn.scalar(
                select(func.coalesce(func.sum(PackageRedemption.uses), 0))
                .where(PackageRedemption.sale_id == sale_id,
                       PackageRedemption.treatment_type_id == treatment_id)
            ) or 0)
            if max_uses is not None and item_used > max_uses:
                flags.append(Flag(
                    "package_sale", str(sale_id),
                    f"{name}: {item_used} {treatment} visits redeemed, more than its limit of "
                    f"{max_uses} (redeemed on two desks while offline). Remove one.",
                ))
    return flags
