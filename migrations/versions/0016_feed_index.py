"""bookings: an index on (resource, held until) for a département's feed

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25

"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    # A plain index: SQLite adds it without rebuilding the table (which would drop its triggers).
    op.create_index("ix_bookings_resource_held_until", "bookings", ["resource_id", "held_until"])


def downgrade():
    op.drop_index("ix_bookings_resource_held_until", table_name="bookings")
