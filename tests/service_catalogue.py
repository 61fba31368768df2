"""Every service class of the registry, for the structural tests that walk their methods."""

from __future__ import annotations

from desk_app.services.db import Database
from desk_app.services.registry import Services


def service_classes() -> dict[str, type]:
    """Name -> class of every service, those the registry builds on first use included."""
    services = Services.build(Database("sqlite://"))
    try:
        return services.service_classes()
    finally:
        services.db.dispose()
