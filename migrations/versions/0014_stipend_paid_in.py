"""Supplementary stipends (补发): each record names the batch that pays it (paid_in), so a month whose batch was
already approved when an agreement was signed or entered late is paid in a later batch, still one record per agreement
and month worked; the report and sponsor indexes follow the paying batch

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

TABLE = 'stipend_records'
REGULAR = sa.text("kind = 'regular'")
SUPPLEMENTARY = sa.text("paid_in <> month")
GROUPS = ('sponsor_id', 'area_id', 'colour')


def _short(column: str) -> str:
    return column.removesuffix('_id')


def upgrade():
    # every record so far is paid in its own month's batch (an adjustment's month already is its batch)
    op.add_column(TABLE, sa.Column('paid_in', sa.String(length=7), nullable=True))
    op.execute(f"UPDATE {TABLE} SET paid_in = month")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.alter_column('paid_in', existing_type=sa.String(length=7), nullable=False)
        # SQLite recreates the table here: the partial unique index is recreated explicitly, with its condition
        batch_op.drop_index('uq_stipend_records_agreement_month', sqlite_where=REGULAR, postgresql_where=REGULAR)
        batch_op.create_index(
            'uq_stipend_records_agreement_month', ['month', 'agreement_id'], unique=True,
            sqlite_where=REGULAR, postgresql_where=REGULAR,
        )
        for column in GROUPS:
            batch_op.drop_index(f'ix_stipend_records_month_{_short(column)}')
            batch_op.create_index(
                f'ix_stipend_records_paid_in_{_short(column)}', ['paid_in', column, 'status', 'amount_fen']
            )
        batch_op.drop_index('ix_stipend_records_sponsor_status')
        batch_op.create_index('ix_stipend_records_sponsor_status', ['sponsor_id', 'status', 'paid_in'])
    # the few supplementary records of a batch, without reading the rest (a plain index operation: no batch mode)
    op.create_index(
        'ix_stipend_records_supplementary', TABLE, ['paid_in', 'month'],
        sqlite_where=SUPPLEMENTARY, postgresql_where=SUPPLEMENTARY,
    )


def downgrade():
    op.drop_index('ix_stipend_records_supplementary', table_name=TABLE)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index('ix_stipend_records_sponsor_status')
        batch_op.create_index('ix_stipend_records_sponsor_status', ['sponsor_id', 'status', 'month'])
        for column in GROUPS:
            batch_op.drop_index(f'ix_stipend_records_paid_in_{_short(column)}')
            batch_op.create_index(
                f'ix_stipend_records_month_{_short(column)}', ['month', column, 'status', 'amount_fen']
            )
        batch_op.drop_index('uq_stipend_records_agreement_month', sqlite_where=REGULAR, postgresql_where=REGULAR)
        batch_op.create_index(
            'uq_stipend_records_agreement_month', ['month', 'agreement_id'], unique=True,
            sqlite_where=REGULAR, postgresql_where=REGULAR,
        )
        batch_op.drop_column('paid_in')
