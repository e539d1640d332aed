"""Family list indexes that carry the status, so filtered pages are answered from the index

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("families", schema=None) as batch_op:
        batch_op.drop_index("ix_families_status")
        batch_op.drop_index("ix_families_review")
        batch_op.drop_index("ix_families_colour_review")
        batch_op.drop_index("ix_families_area_colour_review")
        batch_op.create_index("ix_families_area_colour_review", ["area_id", "colour", "status", "next_review_on", "id"])
        batch_op.create_index("ix_families_colour_review", ["colour", "status", "next_review_on", "id"])
        batch_op.create_index("ix_families_status_review", ["status", "next_review_on", "id"])


def downgrade():
    with op.batch_alter_table("families", schema=None) as batch_op:
        batch_op.drop_index("ix_families_status_review")
        batch_op.drop_index("ix_families_colour_review")
        batch_op.drop_index("ix_families_area_colour_review")
        batch_op.create_index("ix_families_area_colour_review", ["area_id", "colour", "next_review_on", "id"])
        batch_op.create_index("ix_families_colour_review", ["colour", "next_review_on", "id"])
        batch_op.create_index("ix_families_review", ["next_review_on", "id"])
        batch_op.create_index("ix_families_status", ["status"])
