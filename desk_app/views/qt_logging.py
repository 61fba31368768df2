"""Qt's own messages (warnings from widgets, platform plugins, style sheets) go to our log."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

MessageHandler = Callable[[QtMsgType, QMessageLogContext, str], None]

_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}

#: Messages Qt prints that say nothing about our app (platform plugin chatter).
HARMLESS = ("propagateSizeHints", "Populating font family aliases")


def level_for(mode: QtMsgType, message: str) -> int:
    if any(fragment in message for fragment in HARMLESS):
        return logging.DEBUG
    return _LEVELS.get(mode, logging.WARNING)


def qt_message_handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    category = context.category or "default"
    logger = logging.getLogger("qt" if category == "default" else f"qt.{category}")
    if context.file:
        logger.log(level_for(mode, message), "%s (%s:%s)", message, context.file, context.line)
    else:
        logger.log(level_for(mode, message), "%s", message)


def install_qt_message_handler() -> MessageHandler | None:
    """Route Qt messages into Python logging; returns the handler that was there before."""
    previous: MessageHandler | None = qInstallMessageHandler(qt_message_handler)
    return previous
