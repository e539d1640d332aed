"""One sent offer per post at a time (partial unique index)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 00:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SENT = "status = 'sent'"


def upgrade():
    # an older database may hold two sent offers of one post (nothing prevented it): the later ones lapse first
    op.execute(
        "UPDATE offers SET status = 'lapsed' WHERE status = 'sent' AND id NOT IN "
        "(SELECT min(id) FROM offers WHERE status = 'sent' GROUP BY post_id)"
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(
            "uq_offers_post_sent",
            ["post_id"],
            unique=True,
            sqlite_where=sa.text(SENT),
            postgresql_where=sa.text(SENT),
        )


def downgrade():
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("uq_offers_post_sent", sqlite_where=sa.text(SENT), postgresql_where=sa.text(SENT))
