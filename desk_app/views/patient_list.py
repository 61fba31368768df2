"""A list of patients (search results, recent patients): the model and a two-line delegate."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from desk_app.services.patients import PatientSummary
from desk_app.views.a11y import name

PATIENT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 2

_MUTED = QColor("#5b6b73")
_PAD_X, _PAD_Y, _GAP = 10, 6, 2

AnyIndex = QModelIndex | QPersistentModelIndex


def birth_date_text(dob: date | None) -> str:
    # Month name, day, year ("Mar 4, 1985", as the profile shows it): unlike 04/03/1985 it
    # cannot be misread.
    return f"{dob:%b} {dob.day}, {dob.year}" if dob is not None else ""


def detail_line(patient: PatientSummary) -> str:
    """What tells two patients of the same name apart: birth date, then mobile or email."""
    parts = []
    if patient.date_of_birth is not None:
        parts.append(f"Born {birth_date_text(patient.date_of_birth)}")
    if patient.mobile_phone:
        parts.append(patient.mobile_phone)
    elif patient.email:
        parts.append(patient.email)
    return " · ".join(parts) or "No birth date or phone on file"


class PatientListModel(QAbstractListModel):
    """Patient summaries in the order the service returned them."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._patients: list[PatientSummary] = []

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._patients)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._patients):
            return None
        patient = self._patients[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return patient.display_name
        if role == DETAIL_ROLE:
            return detail_line(patient)
        if role == PATIENT_ID_ROLE:
            return patient.id
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{patient.display_name}, {detail_line(patient)}"
        return None

    def set_patients(self, patients: list[PatientSummary]) -> None:
        self.beginResetModel()
        self._patients = list(patients)
        self.endResetModel()

    def patients(self) -> list[PatientSummary]:
        return list(self._patients)

    def patient_id(self, row: int) -> uuid.UUID | None:
        return self._patients[row].id if 0 <= row < len(self._patients) else None

    def names(self) -> list[str]:
        return [p.display_name for p in self._patients]


class PatientItemDelegate(QStyledItemDelegate):
    """Name on the first line, birth date and phone underneath in a quieter colour."""

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        name_font = QFont(option.font)
        name_font.setWeight(QFont.Weight.DemiBold)
        detail_font = QFont(option.font)
        detail_font.setPointSizeF(max(detail_font.pointSizeF() - 0.5, 8.0))
        return name_font, detail_font

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        name_font, detail_font = self._fonts(option)
        height = QFontMetrics(name_font).height() + QFontMetrics(detail_font).height()
        return QSize(200, height + _GAP + 2 * _PAD_Y)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget: QWidget | None = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

        name_font, detail_font = self._fonts(opt)
        rect: QRect = opt.rect.adjusted(_PAD_X, _PAD_Y, -_PAD_X, -_PAD_Y)
        name_metrics, detail_metrics = QFontMetrics(name_font), QFontMetrics(detail_font)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = opt.palette
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text

        painter.save()
        painter.setFont(name_font)
        painter.setPen(palette.color(text_role))
        name_rect = QRect(rect.left(), rect.top(), rect.width(), name_metrics.height())
        elided = name_metrics.elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole) or ""),
            Qt.TextElideMode.ElideRight,
            rect.width(),
        )
        painter.drawText(
            name_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), elided
        )
        painter.setFont(detail_font)
        painter.setPen(palette.color(text_role) if selected else _MUTED)
        detail_rect = QRect(
            rect.left(), name_rect.bottom() + 1 + _GAP, rect.width(), detail_metrics.height()
        )
        detail = detail_metrics.elidedText(
            str(index.data(DETAIL_ROLE) or ""), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.drawText(
            detail_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), detail
        )
        painter.restore()


def patient_list_view(accessible_name: str, model: PatientListModel) -> QListView:
    view = QListView()
    name(view, accessible_name)
    view.setModel(model)
    view.setItemDelegate(PatientItemDelegate(view))
    view.setUniformItemSizes(True)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setMouseTracking(True)
    return view
