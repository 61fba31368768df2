"""What the upgrade tests share: the previous release's schema, row snapshots, a failing migration.

A snapshot reads every row of every table by reflection (no model classes), so it describes
an old schema as faithfully as the current one, and the comparison keeps working as
migrations are added: every row of the previous release must still be there after the
upgrade, with the same value in every column that still exists.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, select

#: The schema the previous release (Front Desk 0.1.0) shipped with. Move it forward when a
#: release ships; the tests then build that release's database and upgrade it to head.
PREVIOUS_RELEASE_REVISION = "0004"

#: Tables that must hold rows in the previous release's demo clinic, so the test cannot pass
#: on an empty database. Any table named package* present at that revision is added to these.
KEY_TABLES = ("patient", "invoice", "payment", "allocation")



def upgrade_sources() -> list[str]:
    """The revisions an upgrade is tested from: the previous release, and the revision just
    before head (so every new migration meets a database full of data), head itself aside."""
    from alembic.script import ScriptDirectory

    from desk_app.services.db import alembic_config, head_revision

    head = head_revision()
    before_head = ScriptDirectory.from_config(alembic_config()).get_revision(head).down_revision
    candidates = [PREVIOUS_RELEASE_REVISION, before_head]
    return sorted({r for r in candidates if isinstance(r, str) and r != head})


Rows = dict[tuple[Any, ...], dict[str, Any]]
Snapshot = dict[str, Rows]


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every table (alembic_version aside), keyed by primary key."""
    metadata = MetaData()
    metadata.reflect(engine)
    result: Snapshot = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            key_columns = [c.name for c in table.primary_key.columns] or [
                c.name for c in table.columns
            ]
            rows: Rows = {}
            for row in connection.execute(select(table)).mappings():
                rows[tuple(row[c] for c in key_columns)] = dict(row)
            result[table.name] = rows
    return result


def tables_that_must_hold_rows(before: Snapshot) -> list[str]:
    packages = [name for name in before if name.startswith("package")]
    return [*KEY_TABLES, *packages]


def missing_or_changed(before: Snapshot, after: Snapshot) -> list[str]:
    """What the upgrade lost: tables, rows, or values of columns that still exist."""
    problems: list[str] = []
    for table, rows in before.items():
        if table not in after:
            problems.append(f"table {table} is gone ({len(rows)} rows)")
            continue
        now = after[table]
        for key, old_row in rows.items():
            new_row = now.get(key)
            if new_row is None:
                problems.append(f"{table} {key} is gone")
                continue
            for column, value in old_row.items():
                if column in new_row and new_row[column] != value:
                    problems.append(
                        f"{table} {key}.{column}: {value!r} became {new_row[column]!r}"
                    )
    return problems


FAILING_MIGRATION = '''"""Fails on purpose, after changing a table (tests/upgrade_support.py)."""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patient") as batch:
        batch.add_column(sa.Column("upgrade_probe", sa.Integer(), nullable=True))
    op.execute("UPDATE patient SET upgrade_probe = 1")
    op.execute("DELETE FROM audit_event")
    raise RuntimeError("this migration fails on purpose")


def downgrade() -> None:
    pass
'''


def migrations_with_a_failing_step(target: Path, down_revision: str) -> Path:
    """A copy of the app's migrations with one more that changes data, then fails."""
    from desk_app.services.db import MIGRATIONS_DIR

    copy = target / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "9999_fails_on_purpose.py").write_text(
        FAILING_MIGRATION.format(down=down_revision), encoding="utf-8"
    )
    return copy
