"""Who is acting: the signed-in staff member at this workstation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from desk_app.models.enums import Role


@dataclass(frozen=True, slots=True)
class Actor:
    staff_id: uuid.UUID
    clinic_id: uuid.UUID
    name: str
    role: Role
    billing_permission: bool
    workstation: str

    @property
    def description(self) -> str:
        return f"{self.name} at {self.workstation}"
