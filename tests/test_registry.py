"""The registry builds the services the main window does not need on first use, once."""

from __future__ import annotations

import threading

from desk_app.services.db import Database
from desk_app.services.registry import LAZY_SERVICES, Services


def test_two_threads_asking_at_once_get_the_same_service() -> None:
    services = Services.build(Database("sqlite://"))
    try:
        start = threading.Barrier(4)
        seen: list[object] = []

        def ask() -> None:
            start.wait()
            seen.append(services.billing_notices)

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(seen) == 4 and len({id(service) for service in seen}) == 1
        assert "billing_notices" in LAZY_SERVICES and "ledger" not in vars(services)
        services.warm_up()
        assert set(LAZY_SERVICES) <= vars(services).keys()
    finally:
        services.db.dispose()
