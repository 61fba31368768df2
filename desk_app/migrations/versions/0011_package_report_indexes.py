"""Package & Membership Usage report: indexes that cover it (docs/PERFORMANCE.md).

Revision ID: 0011
Revises: 0010

- The two redemption indexes also hold where and by whom each use was (location,
  practitioner), so the report's filters are read from the index, never the table; the one by
  package also holds the visit time, so a long period is summed in one pass in package order
  (uses in the period and uses to date together, no sort).
- ``ix_package_sale_report`` holds what the report shows of a package, so each listed package
  is one index lookup instead of an index lookup and a table read.

Indexes only: no table is rebuilt and no row changes. Written for SQLite and PostgreSQL;
imports nothing from desk_app.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SALE_USES = ["sale_id", "treatment_type_id", "uses"]
VISIT_USES = ["visit_at", "sale_id", "uses"]
WHERE_WHO = ["location_id", "practitioner_id"]
SALE_REPORT = ["id", "clinic_id", "patient_id", "plan_id", "uses_total", "expires_on", "name"]


def upgrade() -> None:
    op.drop_index("ix_package_redemption_sale", table_name="package_redemption")
    op.create_index("ix_package_redemption_sale", "package_redemption",
                    [*SALE_USES, "visit_at", *WHERE_WHO])
    op.drop_index("ix_package_redemption_visit", table_name="package_redemption")
    op.create_index("ix_package_redemption_visit", "package_redemption",
                    [*VISIT_USES, *WHERE_WHO])
    op.create_index("ix_package_sale_report", "package_sale", SALE_REPORT)


def downgrade() -> None:
    op.drop_index("ix_package_sale_report", table_name="package_sale")
    op.drop_index("ix_package_redemption_visit", table_name="package_redemption")
    op.create_index("ix_package_redemption_visit", "package_redemption", VISIT_USES)
    op.drop_index("ix_package_redemption_sale", table_name="package_redemption")
    op.create_index("ix_package_redemption_sale", "package_redemption", SALE_USES)
