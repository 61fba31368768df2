"""Which desk bills memberships on schedule, when every desk works on its own synced cache.

On one database (standalone SQLite, or every desk on one PostgreSQL) the membership row lock
in ``MembershipService.run_due`` already makes a period invoiced once. With synced caches each
desk would invoice and charge the same period from its own copy, so one workstation bills
(``Clinic.membership_billing_workstation``, a synced field): the first desk whose schedule
runs claims it, an admin can move it to another desk, and every other desk's scheduled run
does nothing. If two desks claim it while apart, the field merge keeps one name everywhere,
and the card charge's idempotency key is made from the membership and the period (not from
either desk's invoice), so Stripe moves the money for that period once.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from desk_app.models.clinic import Clinic
from desk_app.services import audit
from desk_app.services.actor import Actor


def bills_here(s: Session, actor: Actor, clinic: Clinic, synced: bool) -> bool:
    """Whether this desk's scheduled run bills memberships (claiming the job when unclaimed)."""
    if not synced:
        return True
    if not clinic.membership_billing_workstation:
        claim(s, actor, clinic)
        return True
    return clinic.membership_billing_workstation == actor.workstation


def claim(s: Session, actor: Actor, clinic: Clinic) -> None:
    before = clinic.membership_billing_workstation
    if before == actor.workstation:
        return
    clinic.membership_billing_workstation = actor.workstation
    audit.record(
        s,
        actor,
        "clinic.membership_billing_desk",
        entity=clinic,
        summary=f"Memberships are billed on workstation {actor.workstation}",
        details={"before": before, "after": actor.workstation},
    )
