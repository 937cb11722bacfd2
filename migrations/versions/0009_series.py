"""series: bookings that repeat (each occurrence a booking linked to its series), training series

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "booking_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column(
            "recurrence",
            sa.Enum(
                "weekly",
                "monthly_date",
                "monthly_weekday",
                name="recurrence",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("until_date", sa.Date(), nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("interval >= 1", name=op.f("ck_booking_series_interval_positive")),
        sa.CheckConstraint("until_date IS NOT NULL OR occurrences IS NOT NULL", name=op.f("ck_booking_series_bounded")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_booking_series_user_id_users")),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"], name=op.f("fk_booking_series_resource_id_resources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_series")),
    )
    op.create_index(op.f("ix_booking_series_user_id"), "booking_series", ["user_id"])
    op.create_index(op.f("ix_booking_series_resource_id"), "booking_series", ["resource_id"])
    # A plain ADD COLUMN on bookings: rebuilding it on SQLite (batch mode) would drop its
    # triggers (0007, 0008); SQLite takes the reference inline, PostgreSQL as a named constraint.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE bookings ADD COLUMN series_id INTEGER REFERENCES booking_series (id)")
    else:
        op.add_column("bookings", sa.Column("series_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_bookings_series_id_booking_series"), "bookings", "booking_series", ["series_id"], ["id"]
        )
    op.create_index(op.f("ix_bookings_series_id"), "bookings", ["series_id"])
    op.add_column("training_sessions", sa.Column("series_key", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_training_sessions_series_key"), "training_sessions", ["series_key"])


def downgrade():
    op.drop_index(op.f("ix_training_sessions_series_key"), table_name="training_sessions")
    op.drop_column("training_sessions", "series_key")
    op.drop_index(op.f("ix_bookings_series_id"), table_name="bookings")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("fk_bookings_series_id_booking_series"), "bookings", type_="foreignkey")
    op.drop_column("bookings", "series_id")
    op.drop_table("booking_series")
