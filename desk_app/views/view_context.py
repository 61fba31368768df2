"""What every widget of a signed-in session is handed: services, who is acting, the runner."""

from __future__ import annotations

from dataclasses import dataclass

from desk_app.services.actor import Actor
from desk_app.services.clinic_settings import ClinicInfo
from desk_app.services.permissions import Permission, has_permission
from desk_app.services.registry import Services
from desk_app.views.tasks import TaskRunner


@dataclass(frozen=True)
class ViewContext:
    services: Services
    actor: Actor
    tasks: TaskRunner
    clinic: ClinicInfo

    def can(self, permission: Permission) -> bool:
        """Whether to offer an action; the service checks again when it runs."""
        return has_permission(self.actor, permission)
