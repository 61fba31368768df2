"""What the clinic sells: disciplines, treatment types and products."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import Base, Versioned


class Discipline(Versioned, Base):
    __tablename__ = "discipline"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))


class TreatmentType(Versioned, Base):
    __tablename__ = "treatment_type"

    discipline_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("discipline.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    duration_minutes: Mapped[int]
    price_cents: Mapped[int]
    # Basis points: 1300 = 13.00%.
    tax_rate_bp: Mapped[int] = mapped_column(default=0)
    income_category: Mapped[str] = mapped_column(String(120), default="")
    archived: Mapped[bool] = mapped_column(default=False)


class Product(Versioned, Base):
    __tablename__ = "product"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    price_cents: Mapped[int]
    tax_rate_bp: Mapped[int] = mapped_column(default=0)
    income_category: Mapped[str] = mapped_column(String(120), default="")
    archived: Mapped[bool] = mapped_column(default=False)
