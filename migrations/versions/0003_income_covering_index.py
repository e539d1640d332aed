"""A covering index on incomes, so a family's year of income is summed from the index alone

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incomes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incomes_family_month_amounts", ["family_id", "month", "amount_fen", "medical_fen", "education_fen"]
        )


def downgrade():
    with op.batch_alter_table("incomes", schema=None) as batch_op:
        batch_op.drop_index("ix_incomes_family_month_amounts")
