"""Reading which package covers a visit, and how many uses a package has had.

How the ledger shows a package visit: the money was paid once, on the invoice that sold the
package. A visit the package covers is invoiced at the package's per-visit charge: nothing for
an ordinary package, the discounted "Additional Charge" for an insurer-friendly one. The
visit's invoice line names the package; balance, credit and receipts need no special case,
and no cent is counted twice. The use itself is a ``PackageRedemption`` row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk_app.models.packages import PackageRedemption, PackageSale


@dataclass(frozen=True, slots=True)
class Coverage:
    sale: PackageSale
    redemption_id: uuid.UUID  # the +1 row a give-back reverses


def uses_of(s: Session, sale_id: uuid.UUID, treatment_type_id: uuid.UUID | None = None) -> int:
    """Net uses of a package (of one treatment type when given)."""
    query = select(func.coalesce(func.sum(PackageRedemption.uses), 0)).where(
        PackageRedemption.sale_id == sale_id
    )
    if treatment_type_id is not None:
        query = query.where(PackageRedemption.treatment_type_id == treatment_type_id)
    return int(s.scalar(query) or 0)


def coverage_of(s: Session, appointment_id: uuid.UUID,
                patient_id: uuid.UUID | None = None) -> Coverage | None:
    """The package covering this visit now (a +1 row not yet given back), if any; on a class,
    the one covering ``patient_id``'s own place (see ``appointment_parties.payer_of``)."""
    query = (
        select(PackageRedemption.id, PackageRedemption.sale_id, PackageRedemption.uses,
               PackageRedemption.reverses_id)
        .where(PackageRedemption.appointment_id == appointment_id)
        .order_by(PackageRedemption.created_at)
    )
    if patient_id is not None:
        query = query.where(PackageRedemption.patient_id == patient_id)
    rows = s.execute(query).all()
    reversed_ids = {r.reverses_id for r in rows if r.uses < 0}
    for row in reversed(rows):
        if row.uses > 0 and row.id not in reversed_ids:
            return Coverage(s.get_one(PackageSale, row.sale_id), row.id)
    return None


def covered_line_description(treatment: str, package_name: str) -> str:
    return f"{treatment} (package: {package_name})"[:300]
