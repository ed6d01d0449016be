"""one open employment per worker, host, via and role

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 15:00:00.000000

A partial unique index (``uq_employments_open``) so that two requests at once cannot both record
the same open employment. A database that already holds such duplicates is not changed: the
upgrade stops and names them. Which of two open records is the true one is the host's and the
agency's to say (ending one changes who worked where, which pre-start checks, findings and cases
read), so the operator ends the extra ones and runs the upgrade again.
"""
import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

OPEN = sa.text('ends_on IS NULL')
SHOWN = 50  # duplicate groups named in the message; the rest are counted

DUPLICATES = sa.text("""
    SELECT e.id, e.worker_id, e.employer_id, e.via_id, e.role, e.starts_on
    FROM employments e
    WHERE e.ends_on IS NULL AND EXISTS (
        SELECT 1 FROM employments o
        WHERE o.id <> e.id AND o.ends_on IS NULL AND o.worker_id = e.worker_id
          AND o.employer_id = e.employer_id AND COALESCE(o.via_id, '') = COALESCE(e.via_id, '')
          AND o.role = e.role)
    ORDER BY e.worker_id, e.employer_id, e.via_id, e.role, e.starts_on, e.created_at, e.id
""")


def _refuse_duplicates():
    groups = {}
    for row in op.get_bind().execute(DUPLICATES):
        groups.setdefault((row.worker_id, row.employer_id, row.via_id, row.role), []).append(row)
    if not groups:
        return
    lines = [f"worker {w}, host {h}, via {v or '(none)'}, role {r}: "
             f"open {', '.join(f'{e.id} (from {e.starts_on})' for e in rows)}"
             for (w, h, v, r), rows in list(groups.items())[:SHOWN]]
    if len(groups) > SHOWN:
        lines.append(f"... and {len(groups) - SHOWN} more")
    raise CommandError(
        f"Migration 0002 cannot add uq_employments_open: {len(groups)} placement(s) (same worker, "
        "host, via and role) are recorded open more than once. Nothing was changed. End all but "
        "one of each (PATCH /api/v1/employments/<id> with ends_on, as the host or the one in "
        "between), then run the upgrade again:\n  " + "\n  ".join(lines))


def upgrade():
    _refuse_duplicates()
    op.create_index('uq_employments_open', 'employments',
                    ['worker_id', 'employer_id', sa.text("COALESCE(via_id, '')"), 'role'],
                    unique=True, postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade():
    op.drop_index('uq_employments_open', table_name='employments')
