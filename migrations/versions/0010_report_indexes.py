"""Covering indexes for the monthly report: a month's records grouped by sponsor, by area and by colour are summed
from an index alone (month, group, status, amount); they replace the month indexes without the amount

Revision ID: 0010
Revises: 0008
"""

from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "stipend_records"


def upgrade():
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_stipend_records_month_sponsor")
        batch_op.drop_index("ix_stipend_records_month_area")
        batch_op.create_index("ix_stipend_records_month_sponsor", ["month", "sponsor_id", "status", "amount_fen"])
        batch_op.create_index("ix_stipend_records_month_area", ["month", "area_id", "status", "amount_fen"])
        batch_op.create_index("ix_stipend_records_month_colour", ["month", "colour", "status", "amount_fen"])


def downgrade():
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_stipend_records_month_colour")
        batch_op.drop_index("ix_stipend_records_month_area")
        batch_op.drop_index("ix_stipend_records_month_sponsor")
        batch_op.create_index("ix_stipend_records_month_area", ["month", "area_id"])
        batch_op.create_index("ix_stipend_records_month_sponsor", ["month", "sponsor_id", "status"])
