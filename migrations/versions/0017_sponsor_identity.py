"""A sponsor's legal identity changes only with the union's approval (sponsor_changes), and an agreement keeps its
parties as signed (agreements.party_a_name, party_a_credit_code, party_b_name, party_c_name), filled here for the
agreements already signed from the names in force now

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:45:00.000000

"""
import json

import sqlalchemy as sa
from alembic import op

from assist.db_types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

DEFAULT_UNION = "平湖市总工会"


def upgrade():
    op.create_table('sponsor_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sponsor_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('old_name', sa.String(length=100), nullable=False),
    sa.Column('old_credit_code', sa.String(length=18), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='sponsorchangestatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('requested_at', UTCDateTime(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_sponsor_changes_decided_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_sponsor_changes_requested_by_id_users')),
    sa.ForeignKeyConstraint(['sponsor_id'], ['sponsors.id'], name=op.f('fk_sponsor_changes_sponsor_id_sponsors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sponsor_changes'))
    )
    with op.batch_alter_table('sponsor_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sponsor_changes_sponsor_id'), ['sponsor_id'], unique=False)
        batch_op.create_index('uq_sponsor_changes_pending', ['sponsor_id'], unique=True, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('party_a_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('party_a_credit_code', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('party_b_name', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('party_c_name', sa.String(length=60), nullable=True))

    backfill_parties(op.get_bind())


def backfill_parties(bind):
    """Agreements signed before this revision: their parties as the names in force now (the best record there is)."""
    stored = bind.execute(sa.text("SELECT value FROM settings WHERE key = 'union_name'")).scalar()
    if isinstance(stored, str) and stored.startswith('"'):
        stored = json.loads(stored)  # SQLite keeps JSON as text
    union = stored if isinstance(stored, str) and stored.strip() else DEFAULT_UNION
    bind.execute(
        sa.text(
            "UPDATE agreements SET "
            "party_a_name = (SELECT name FROM sponsors WHERE sponsors.id = agreements.sponsor_id), "
            "party_a_credit_code = (SELECT credit_code FROM sponsors WHERE sponsors.id = agreements.sponsor_id), "
            "party_b_name = (SELECT name FROM members WHERE members.id = agreements.member_id), "
            "party_c_name = :union "
            "WHERE signed_on IS NOT NULL AND party_a_name IS NULL"
        ),
        {"union": union},
    )


def downgrade():
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_column('party_c_name')
        batch_op.drop_column('party_b_name')
        batch_op.drop_column('party_a_credit_code')
        batch_op.drop_column('party_a_name')

    with op.batch_alter_table('sponsor_changes', schema=None) as batch_op:
        batch_op.drop_index('uq_sponsor_changes_pending', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_sponsor_changes_sponsor_id'))

    op.drop_table('sponsor_changes')
