"""The top of the profile: who the patient is, and the two figures the desk asks about first."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desk_app.models.money import format_money
from desk_app.services.ledger import PatientBalance
from desk_app.services.patients import PatientDetails
from desk_app.views.profile.elided_label import ElidedLabel
from desk_app.views.profile.formats import age_on, day_text

WARM = "#b54708"  # owing: noticeable, not alarming
CALM = "#1f2a30"
CREDIT = "#15767a"


class Figure(QFrame):
    """A caption over a large amount."""

    def __init__(self, caption: str, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setStyleSheet(
            "QFrame#card { background: #ffffff; border: 1px solid #d5dde1; border-radius: 8px; }"
        )
        self.caption = QLabel(caption)
        self.caption.setStyleSheet("color: #5b6b73; font-weight: 600;")
        self.value = QLabel("—")
        self.value.setObjectName(object_name)
        self.value.setAccessibleName(caption)
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.set_amount("—", CALM)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        self.setMinimumWidth(170)

    def set_amount(self, text: str, colour: str) -> None:
        self.value.setText(text)
        self.value.setStyleSheet(f"font-size: 19pt; font-weight: 700; color: {colour};")


class ProfileHeader(QWidget):
    def __init__(self, currency: str, show_pronouns: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currency = currency
        self.show_pronouns = show_pronouns

        self.name = ElidedLabel()
        self.name.setObjectName("patientName")
        self.name.setStyleSheet("font-size: 19pt; font-weight: 700; color: #1f2a30;")
        self.pronouns = QLabel()
        self.pronouns.setObjectName("pronouns")
        self.pronouns.setStyleSheet(
            "color: #34474f; background: #e8f4f4; border: 1px solid #bfe0df;"
            " border-radius: 9px; padding: 1px 8px;"
        )
        self.pronouns.setVisible(False)
        self.legal_name = ElidedLabel()
        self.legal_name.setObjectName("legalName")
        self.legal_name.setStyleSheet("color: #5b6b73;")
        self.born = QLabel()
        self.born.setObjectName("birthDate")
        self.born.setStyleSheet("color: #34474f;")
        self.contact = QLabel()
        self.contact.setObjectName("contactLine")
        self.contact.setStyleSheet("color: #34474f;")
        self.contact.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.contact.setWordWrap(True)

        self.owing = Figure("Balance owing", "balanceOwing")
        self.credit = Figure("Available credit", "availableCredit")

        title_row = QHBoxLayout()
        title_row.setSpacing(10)
        title_row.addWidget(self.name, 0)
        title_row.addWidget(self.pronouns, 0, Qt.AlignmentFlag.AlignVCenter)
        title_row.addStretch(1)
        who = QVBoxLayout()
        who.setSpacing(4)
        who.addLayout(title_row)
        who.addWidget(self.legal_name)
        who.addWidget(self.born)
        who.addWidget(self.contact)
        who.addStretch(1)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 12)
        layout.setSpacing(12)
        layout.addLayout(who, 1)
        layout.addWidget(self.owing, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.credit, 0, Qt.AlignmentFlag.AlignTop)

    def set_details(self, details: PatientDetails, today: date) -> None:
        data = details.data
        self.name.setText(details.display_name)
        legal = f"{data.legal_first_name} {data.legal_last_name}".strip()
        self.legal_name.setText(f"Legal name {legal}")
        self.legal_name.setVisible(legal != details.display_name)
        pronouns = data.pronouns if self.show_pronouns else ""
        self.pronouns.setText(pronouns)
        self.pronouns.setVisible(bool(pronouns))
        born = data.date_of_birth
        self.born.setText(
            f"Born {day_text(born)} (age {age_on(born, today)})"
            if born is not None
            else "Date of birth not known"
        )
        phones = [p for p in (data.mobile_phone, data.home_phone) if p]
        reach = [*phones[:1], *([data.email] if data.email else [])]
        self.contact.setText("  ·  ".join(reach) if reach else "No phone or email on file")

    def set_balance(self, balance: PatientBalance) -> None:
        owing, credit = balance.owing_cents, balance.credit_cents
        self.owing.set_amount(format_money(owing, self.currency), WARM if owing > 0 else CALM)
        self.credit.set_amount(format_money(credit, self.currency), CREDIT if credit > 0 else CALM)
