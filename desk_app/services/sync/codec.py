"""Column values as JSON and back, by the column's type (the outbox's base values, the
conflict log's kept and lost values)."""

from __future__ import annotations

import base64
import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.types import Date, DateTime, LargeBinary, TypeDecorator, Uuid


def _impl(column: Column[Any]) -> Any:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        return kind.impl_instance if hasattr(kind, "impl_instance") else kind.impl
    return kind


def encode_value(column: Column[Any], value: Any) -> Any:
    """A JSON-able form of ``value`` (None, bool, int, str)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def decode_value(column: Column[Any], value: Any) -> Any:
    """The Python value ``encode_value`` was given (enums come back as their text)."""
    if value is None:
        return None
    kind = _impl(column)
    if isinstance(kind, Uuid):
        return uuid.UUID(value)
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, LargeBinary):
        return base64.b64decode(value)
    return value


def same_value(a: Any, b: Any) -> bool:
    """Equal as stored: an enum equals its text, bytes equal a memoryview of them."""
    if isinstance(a, memoryview):
        a = bytes(a)
    if isinstance(b, memoryview):
        b = bytes(b)
    return bool(a == b)


def shown(value: Any) -> str:
    """A value as the conflict log shows it."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"({len(bytes(value))} bytes)"
    encoded = encode_value(Column("x", Uuid()), value)  # column unused for encoding
    return str(encoded)
