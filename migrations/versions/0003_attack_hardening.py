"""what closing the attack holes needs: pinned tokens, enrolments, people's keys, checkpoints

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 13:00:00.000000

- ``certificate_tokens.kid``: the key that signed each token, so a compromised key's status-list
  entry pins exactly the tokens it signed (a NULL, for rows stored before, is pinned for every
  compromised key of the issuer: it lets nothing more through, since the pin covers the kid;
  the table keeps only each token's hash, so the key cannot be read back from old rows).
- ``enrolments``: a training body's standing to record a worker's attendance in its session.
- ``account_keys.minted_with``: the key that minted a person's key, so revoking one reaches what
  it minted.
- ``sign_in_failures.login_digest`` and ``sign_in_locks``: unknown sign-in names are counted and
  locked as real ones are, under a keyed hash of the name.
- ``audit_checkpoints``: the signed checkpoints of the audit trail's head (a convenience copy;
  the published ones and the append-only file are what a rewrite cannot reach).
- an index on ``idempotency_records.created_at`` for pruning records past their lifetime.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('head', sa.String(length=64), nullable=False),
    sa.Column('made_at', sa.DateTime(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('size')
    )
    with op.batch_alter_table('audit_checkpoints', schema=None) as batch_op:
        batch_op.create_index('ix_audit_checkpoints_made_at', ['made_at'], unique=False)

    op.create_table('sign_in_locks',
    sa.Column('login_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('login_digest')
    )

    op.create_table('enrolments',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('session_id', sa.String(length=16), nullable=False),
    sa.Column('worker_id', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'worker_id', name='uq_enrolments_session_worker')
    )
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index('ix_enrolments_worker_id', ['worker_id'], unique=False)

    with op.batch_alter_table('account_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minted_with', sa.String(length=16), nullable=True))
        batch_op.create_index('ix_account_keys_minted_with', ['minted_with'], unique=False)

    with op.batch_alter_table('certificate_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kid', sa.LargeBinary(length=8), nullable=True))
        batch_op.create_index('ix_certificate_tokens_kid_signed_at', ['kid', 'signed_at'], unique=False)
        batch_op.create_foreign_key('fk_certificate_tokens_kid', 'signing_keys', ['kid'], ['kid'])

    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_records_created_at', ['created_at'], unique=False)

    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login_digest', sa.LargeBinary(length=32), nullable=True))
        batch_op.create_index('ix_sign_in_failures_login_digest_at', ['login_digest', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_failures_login_digest_at')
        batch_op.drop_column('login_digest')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_records_created_at')
    with op.batch_alter_table('certificate_tokens', schema=None) as batch_op:
        batch_op.drop_constraint('fk_certificate_tokens_kid', type_='foreignkey')
        batch_op.drop_index('ix_certificate_tokens_kid_signed_at')
        batch_op.drop_column('kid')
    with op.batch_alter_table('account_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_account_keys_minted_with')
        batch_op.drop_column('minted_with')
    op.drop_table('enrolments')
    op.drop_table('sign_in_locks')
    op.drop_table('audit_checkpoints')
