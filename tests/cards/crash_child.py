"""A desk process for the crash test (tests/cards/test_card_faults.py).

    python -m tests.cards.crash_child charge  <json>   # dies right after Stripe says "paid"
    python -m tests.cards.crash_child startup <json>   # a fresh start: reconcile, print report

<json> holds the database URL, the Stripe URL, the account, patient and card ids; the payment
account's secret key comes in the environment (FD_TEST_STRIPE_KEY) and goes into this
process's own in-memory keyring, as the OS keyring would hold it.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import datetime

import keyring
from sqlalchemy import select

from desk_app.models import Staff
from desk_app.services.auth import actor_for
from desk_app.services.card_payments import WholeBalance
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.registry import Services
from desk_app.services.secret_store import STRIPE_SERVICE
from desk_app.services.stripe_gateway import StripeGatewayFactory
from tests.memory_keyring import MemoryKeyring

CRASH_EXIT = 17


def main() -> int:
    mode, raw = sys.argv[1], sys.argv[2]
    args = json.loads(raw)
    keyring.set_keyring(MemoryKeyring())
    keyring.set_password(STRIPE_SERVICE, args["account_id"], os.environ["FD_TEST_STRIPE_KEY"])
    db = Database(args["db_url"], FixedClock(datetime.fromisoformat(args["now"])),
                  run_migrations=False)
    services = Services.build(db, gateway_factory=StripeGatewayFactory(api_base=args["stripe_url"]))
    if mode == "charge":
        with db.reading() as s:
            actor = actor_for(s.scalars(select(Staff).where(Staff.username == "frontdesk2")).one(),
                              "DESK2")

        def crash(_attempt_id: uuid.UUID) -> None:
            os._exit(CRASH_EXIT)  # the power cord, between Stripe's "paid" and our commit

        services.card_payments.after_gateway_success = crash
        services.card_payments.charge_card(actor, uuid.UUID(args["patient_id"]),
                                           uuid.UUID(args["card_id"]), WholeBalance())
        return 1  # not reached
    report = services.card_payments.reconcile_unknown()
    print(json.dumps({"checked": report.checked,
                      "succeeded": [str(i) for i in report.succeeded],
                      "problems": report.problems}))
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
