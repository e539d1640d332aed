"""Covering indexes for the monthly report: a month's records grouped by sponsor, by area and by colour are summed
from an index alone (month, group, status, amount); they replace the month indexes without the amount

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "stipend_records"


# plain index operations (no batch mode): recreating the table on SQLite would risk its partial unique index


def upgrade():
    op.drop_index("ix_stipend_records_month_sponsor", table_name=TABLE)
    op.drop_index("ix_stipend_records_month_area", table_name=TABLE)
    op.create_index("ix_stipend_records_month_sponsor", TABLE, ["month", "sponsor_id", "status", "amount_fen"])
    op.create_index("ix_stipend_records_month_area", TABLE, ["month", "area_id", "status", "amount_fen"])
    op.create_index("ix_stipend_records_month_colour", TABLE, ["month", "colour", "status", "amount_fen"])


def downgrade():
    op.drop_index("ix_stipend_records_month_colour", table_name=TABLE)
    op.drop_index("ix_stipend_records_month_area", table_name=TABLE)
    op.drop_index("ix_stipend_records_month_sponsor", table_name=TABLE)
    op.create_index("ix_stipend_records_month_area", TABLE, ["month", "area_id"])
    op.create_index("ix_stipend_records_month_sponsor", TABLE, ["month", "sponsor_id", "status"])
