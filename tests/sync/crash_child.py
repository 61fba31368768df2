"""A workstation process for the sync crash tests (tests/sync/test_sync_faults.py).

    python -m tests.sync.crash_child push  <json>  # a cash payment; dies after central
                                                   # committed, before the outbox is cleared
    python -m tests.sync.crash_child apply <json>  # pulls, dies inside the local apply

<json> holds the cache path, the central URL, the workstation, the patient and the amount.
"""

from __future__ import annotations

import json
import os
import sys
import uuid

from desk_app.models import PaymentMethod
from tests.sync_fixtures import open_desk

CRASH_EXIT = 17


def _die(_what: object) -> None:
    os._exit(CRASH_EXIT)  # the power cord


def main() -> int:
    mode, args = sys.argv[1], json.loads(sys.argv[2])
    from pathlib import Path

    desk = open_desk(args["desk"], Path(args["path"]), args["central_url"])
    if mode == "push":
        desk.services.ledger.record_payment(desk.actor(), uuid.UUID(args["patient_id"]),
                                            PaymentMethod.CASH, args["amount"])
        desk.client.after_central_commit = _die
        desk.client.sync_once()
    elif mode == "apply":
        desk.client.before_apply_commit = _die
        desk.client.pull_once()
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
