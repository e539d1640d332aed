"""An import's original file in a table of its own (worker_import_files), so writing progress does not rewrite it

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-30 07:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('worker_import_files',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['worker_imports.id'], name=op.f('fk_worker_import_files_import_id_worker_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id', name=op.f('pk_worker_import_files'))
    )
    op.execute("INSERT INTO worker_import_files (import_id, content) SELECT id, content FROM worker_imports WHERE content IS NOT NULL")
    with op.batch_alter_table('worker_imports', schema=None) as batch_op:
        batch_op.drop_column('content')


def downgrade():
    with op.batch_alter_table('worker_imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content', sa.LargeBinary(), nullable=True))
    op.execute("UPDATE worker_imports SET content = (SELECT content FROM worker_import_files WHERE worker_import_files.import_id = worker_imports.id)")
    op.drop_table('worker_import_files')
