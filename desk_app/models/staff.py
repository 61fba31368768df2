"""Staff members, their role and the Billing permission flag."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import Base, Versioned
from desk_app.models.enums import Role, str_enum


class Staff(Versioned, Base):
    __tablename__ = "staff"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    username: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    role: Mapped[Role] = mapped_column(str_enum(Role))
    billing_permission: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Practitioners: what an insurer needs on a detailed receipt.
    title: Mapped[str] = mapped_column(String(100), default="")
    registration_number: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(default=True)
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def full_name(self) -> str:
        return full_name_of(self.first_name, self.last_name)


def full_name_of(first_name: str, last_name: str) -> str:
    """Staff.full_name from the column values."""
    return f"{first_name} {last_name}".strip()
