"""The workstation's SQLite database, encrypted at rest with SQLCipher.

A clinic's database file on a workstation holds patients' names, contacts and money: a copy of
the file (a stolen laptop, a backup left on a share) must be unreadable. So the file is
encrypted with SQLCipher (AES-256, through the ``sqlcipher3`` driver) and its key, 32 random
bytes, is kept in the OS keyring under service ``front-desk-database``, named by the file's
absolute path: each workstation has its own.

- A new database file is created encrypted, with a new key.
- A plain (unencrypted) file from an earlier version is encrypted in place on first open: it
  is exported into an encrypted copy, which then replaces it; the plain file is gone.
- An encrypted file whose key this keyring does not have cannot be opened, and the message
  says so and what to do.

The demo clinic is not encrypted (its people are invented, and it must start on a computer
without a keyring). Nothing here logs a key.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from desk_app.services.errors import ServiceError
from desk_app.services.secret_store import SecretStore

log = logging.getLogger(__name__)

KEY_SERVICE = "front-desk-database"
SQLITE_HEADER = b"SQLite format 3\x00"


class DatabaseKeyMissing(ServiceError):
    """An encrypted database file whose key is not in this computer's keyring."""


def dbapi() -> Any:
    """The SQLCipher DB-API module (imported when first needed)."""
    from sqlcipher3 import dbapi2  # type: ignore[import-untyped]

    return dbapi2


def key_pragma(key_hex: str) -> str:
    """The statement that unlocks a connection: a raw 256-bit key, so no key derivation runs
    (that costs a tenth of a second per connection)."""
    if len(key_hex) != 64 or any(c not in "0123456789abcdef" for c in key_hex):
        raise ValueError("a database key is 64 lower-case hex digits")
    return f"PRAGMA key = \"x'{key_hex}'\""


def is_plain_sqlite(path: Path) -> bool:
    """The file is an ordinary, unencrypted SQLite database."""
    try:
        with path.open("rb") as file:
            return file.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except FileNotFoundError:
        return False


def has_content(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def workstation_key(path: Path, store: SecretStore) -> str:
    """The key of the database file at `path`, made (and the file encrypted) if need be."""
    name = str(path.resolve())
    key = store.get(KEY_SERVICE, name)
    if key is not None:
        if is_plain_sqlite(path):
            encrypt_in_place(path, key)
        return key
    if has_content(path) and not is_plain_sqlite(path):
        raise DatabaseKeyMissing(
            f"The clinic's database on this computer ({path}) is encrypted, and this "
            "computer's keyring does not hold its key. Sign in to the desktop account that "
            "set Front Desk up (its keyring has the key), or move the file aside and let Front "
            "Desk set up this workstation again."
        )
    key = secrets.token_hex(32)
    store.set(KEY_SERVICE, name, key)  # kept before anything is encrypted with it
    if has_content(path):
        encrypt_in_place(path, key)
    return key


def encrypt_in_place(path: Path, key_hex: str) -> None:
    """Replace the plain SQLite file at `path` by an encrypted copy of it."""
    sqlcipher = dbapi()
    encrypted = path.with_name(path.name + ".encrypting")
    encrypted.unlink(missing_ok=True)
    plain = sqlcipher.connect(str(path))
    try:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        plain.execute(f"ATTACH DATABASE ? AS encrypted KEY \"x'{key_hex}'\"", (str(encrypted),))
        plain.execute("SELECT sqlcipher_export('encrypted')")
        version = plain.execute("PRAGMA user_version").fetchone()[0]
        plain.execute(f"PRAGMA encrypted.user_version = {int(version)}")
        plain.execute("DETACH DATABASE encrypted")
    finally:
        plain.close()
    check = sqlcipher.connect(str(encrypted))
    try:
        check.execute(key_pragma(key_hex))
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise RuntimeError(f"the encrypted copy of {path} failed its integrity check")
    finally:
        check.close()
    os.replace(encrypted, path)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()
    log.info("database file encrypted in place: %s", path)
