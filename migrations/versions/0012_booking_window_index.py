"""bookings: one index on (resource, start, held until) for the window and availability reads

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25

"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    # A plain index, so SQLite adds it without rebuilding the table (which would drop its triggers).
    op.create_index("ix_bookings_resource_window", "bookings", ["resource_id", "starts_at", "held_until"])


def downgrade():
    op.drop_index("ix_bookings_resource_window", table_name="bookings")
