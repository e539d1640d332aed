"""An index on candidates.person_id: removing imported rows (an import and its people) checks each row against the
candidates pointing at it, which without the index read the whole queue per row

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 10:25:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.create_index('ix_candidates_person_id', ['person_id'], unique=False)


def downgrade():
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_candidates_person_id')
