"""Stipend payments: adjustment records, failed and reissued attempts, bank reconciliation

Revision ID: 0009
Revises: 0011
Create Date: 2026-11-24 02:00:00

"""
from alembic import op
import sqlalchemy as sa

from assist.db_types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0011'
branch_labels = None
depends_on = None

REGULAR = sa.text("kind = 'regular'")


def upgrade():
    with op.batch_alter_table('stipend_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('regular', 'adjustment', name='stipendkind', native_enum=False, create_constraint=True, length=24), nullable=False, server_default='regular'))
        batch_op.add_column(sa.Column('corrects_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('reconciled_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('failure_reason', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_foreign_key(batch_op.f('fk_stipend_records_corrects_id_stipend_records'), 'stipend_records', ['corrects_id'], ['id'])
        # one regular record per agreement and month; adjustments are extra rows
        batch_op.drop_constraint('uq_stipend_records_agreement_month', type_='unique')
        batch_op.create_index('uq_stipend_records_agreement_month', ['month', 'agreement_id'], unique=True, sqlite_where=REGULAR, postgresql_where=REGULAR)
        batch_op.create_index('ix_stipend_records_corrects', ['corrects_id'], unique=False)


def downgrade():
    with op.batch_alter_table('stipend_records', schema=None) as batch_op:
        batch_op.drop_index('ix_stipend_records_corrects')
        batch_op.drop_index('uq_stipend_records_agreement_month', sqlite_where=REGULAR, postgresql_where=REGULAR)
    op.execute("DELETE FROM stipend_records WHERE kind <> 'regular'")
    with op.batch_alter_table('stipend_records', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_stipend_records_agreement_month', ['agreement_id', 'month'])
        batch_op.drop_constraint(batch_op.f('fk_stipend_records_corrects_id_stipend_records'), type_='foreignkey')
        batch_op.drop_column('attempts')
        batch_op.drop_column('failure_reason')
        batch_op.drop_column('reconciled_at')
        batch_op.drop_column('reason')
        batch_op.drop_column('corrects_id')
        batch_op.drop_constraint('stipendkind', type_='check')
        batch_op.drop_column('kind')
