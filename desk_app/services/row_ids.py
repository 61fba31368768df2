"""Ids read as the database driver returns them, made into uuid.UUID once each.

Long reads (a profile's years of invoices, payments and allocations) repeat the same ids in
many rows. The Uuid column type builds a new uuid.UUID for every value read, and a uuid.UUID
is hashed in Python each time it keys a dict; on a 5-year profile that was a fifth of the
time spent. Selecting ``raw_id(column)`` returns the stored value instead (32 hex digits on
SQLite, a uuid.UUID from psycopg on PostgreSQL), cheap to hash and compare, and an ``Ids``
turns each distinct one into a uuid.UUID once, for the rows handed back.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, type_coerce
from sqlalchemy.types import NullType


def raw_id(column: Any, name: str | None = None) -> ColumnElement[Any]:
    """`column` (a Uuid column) as the driver returns it, labelled with its own name."""
    return type_coerce(column, NullType()).label(name or column.key)


_new = object.__new__
_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown


def uuid_of_hex(raw: str) -> uuid.UUID:
    """uuid.UUID of 32 hex digits as stored, without UUID.__init__'s argument checks (the
    same two attributes set the way UUID's own pickling sets them): a third of the time of
    uuid.UUID(int=...), which was half that of parsing the text. ValueError if not hex."""
    made: uuid.UUID = _new(uuid.UUID)
    _set(made, "int", int(raw, 16))
    _set(made, "is_safe", _UNKNOWN)
    return made


class Ids:
    """Turns raw ids into uuid.UUID, one object per distinct id."""

    def __init__(self) -> None:
        self._made: dict[Any, uuid.UUID] = {}

    def __call__(self, raw: Any) -> uuid.UUID:
        made = self._made.get(raw)
        if made is None:
            if isinstance(raw, uuid.UUID):
                made = raw
            elif isinstance(raw, str) and len(raw) == 32:  # as Uuid stores it on SQLite
                made = uuid_of_hex(raw)
            else:
                made = uuid.UUID(str(raw))
            self._made[raw] = made
        return made
