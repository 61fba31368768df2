"""Accessible names that equal the visible label, so screen readers and tests find controls."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabWidget,
    QTextEdit,
    QWidget,
)

INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
    QPlainTextEdit,
    QTextEdit,
    QTabWidget,
)


def plain(label: str) -> str:
    """A label as read aloud: the visible text without a mnemonic '&' or a trailing colon."""
    text = label.replace("&&", "\0").replace("&", "").replace("\0", "&").strip()
    return text[:-1].rstrip() if text.endswith(":") else text


def name(widget: QWidget, label: str) -> QWidget:
    """Give a control the accessible name of its visible label."""
    widget.setAccessibleName(plain(label))
    return widget


def labelled(label: str, widget: QWidget) -> QLabel:
    """A QLabel for `widget` (its buddy), and the widget named after it."""
    lab = QLabel(label)
    lab.setBuddy(widget)
    name(widget, label)
    return lab


def button_named(button: QAbstractButton) -> QAbstractButton:
    name(button, button.text())
    return button


def unnamed_controls(root: QWidget) -> list[QWidget]:
    """Interactive controls under `root` whose accessible name is missing or not their label."""
    missing: list[QWidget] = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, INTERACTIVE) or widget.objectName().startswith("qt_"):
            continue
        if (
            type(widget).__module__.startswith("PySide6")
            and widget.parent() is not None
            and type(widget.parent()).__name__
            in {
                "QCalendarWidget",
                "QLineEdit",
                "QComboBox",
                "QAbstractSpinBox",
                "QDateTimeEdit",
                "QDateEdit",
                "QTimeEdit",
                "QSpinBox",
            }
        ):
            continue  # Qt's own sub-controls inside a compound widget
        accessible = widget.accessibleName()
        if not accessible or (
            isinstance(widget, QAbstractButton)
            and widget.text()
            and accessible != plain(widget.text())
        ):
            missing.append(widget)
    return missing
