"""bookings: no two holding bookings of one resource overlap (PostgreSQL exclusion constraint)

The service checks overlaps first and names the next free slot; this constraint is the
guarantee that holds whatever the code does, under any concurrency. The range runs from
the start to `held_until` (end plus the turnaround buffer), half-open so that one booking
may start the instant the previous one's buffer ends.

SQLite has no such constraint: there the check and the insert run in one BEGIN IMMEDIATE
transaction (app/db.py, write_transaction).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        """
        ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap
        EXCLUDE USING gist (resource_id WITH =, tstzrange(starts_at, held_until, '[)') WITH &&)
        WHERE (status IN ('requested', 'approved', 'picked_up'))
        """
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE bookings DROP CONSTRAINT ex_bookings_no_overlap")
