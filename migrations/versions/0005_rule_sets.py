"""rule sets: the set each certificate was issued under, and credentials held from outside

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 00:00:00.000000

- ``certificates.rules``: the rule set a certificate was issued under (training/data/rulesets.json).
  Rows stored before are ``2010``: the only set there was when they were issued, whose figures
  (a three-yearly review) they were given, whatever the date.
- ``credentials``: vocational-skill certificates and national licences recorded as evidence.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('certificates', sa.Column('rules', sa.String(length=16), nullable=True))
    op.execute("UPDATE certificates SET rules = '2010'")
    op.create_table(
        'credentials',
        sa.Column('id', sa.String(length=16), nullable=False),
        sa.Column('worker_id', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('authority', sa.String(length=200), nullable=False),
        sa.Column('level', sa.String(length=20), nullable=True),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('checked_on', sa.Date(), nullable=False),
        sa.Column('recorded_by', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=16), nullable=True),
        sa.Column('voided_at', sa.DateTime(), nullable=True),
        sa.Column('void_reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['recorded_by'], ['organizations.id']),
        sa.ForeignKeyConstraint(['worker_id'], ['workers.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_credentials_worker_kind', 'credentials', ['worker_id', 'kind', 'category'])


def downgrade():
    op.drop_index('ix_credentials_worker_kind', table_name='credentials')
    op.drop_table('credentials')
    op.drop_column('certificates', 'rules')
