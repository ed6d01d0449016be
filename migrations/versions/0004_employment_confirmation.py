"""placements through an agency wait for the host's confirmation

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 00:00:00.000000

- ``employments.status``: ``active``, or ``pending`` for a placement an agency or subcontractor
  recorded with a host that has not yet confirmed it (a pending one gives the host no standing,
  no notices and no place among a case's parties). Rows stored before are ``active``: they were
  recorded when any placement counted at once, and ending them is the host's remedy.
- ``employments.confirmed_by_key``: the host's key that confirmed it.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: SQLite adds and drops these columns in place (3.35 and later),
# while a batch would copy the table and lose uq_employments_open, an index on an expression.
def upgrade():
    op.add_column('employments', sa.Column('status', sa.String(length=10), server_default='active', nullable=False))
    op.add_column('employments', sa.Column('confirmed_by_key', sa.String(length=16), nullable=True))


def downgrade():
    op.drop_column('employments', 'confirmed_by_key')
    op.drop_column('employments', 'status')
