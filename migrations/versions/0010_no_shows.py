"""categories: release unused account bookings, and the no-show rule

An online account booked but never opened is released some minutes after its start, so
someone else may use it; after a number of no-shows within a window, a member's bookings
in the category need the host's approval.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("categories") as batch_op:
        batch_op.add_column(sa.Column("release_after_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("no_show_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("no_show_window_days", sa.Integer(), nullable=False, server_default="180"))
        batch_op.create_check_constraint(
            batch_op.f("ck_categories_release_after_positive"),
            "release_after_minutes IS NULL OR release_after_minutes > 0",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_categories_no_show_limit_positive"), "no_show_limit IS NULL OR no_show_limit > 0"
        )
    # Accounts already in the catalogue are released after 30 minutes, as the issue asks.
    op.execute("UPDATE categories SET release_after_minutes = 30 WHERE needs_pickup = false")


def downgrade():
    with op.batch_alter_table("categories") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_categories_no_show_limit_positive"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_categories_release_after_positive"), type_="check")
        batch_op.drop_column("no_show_window_days")
        batch_op.drop_column("no_show_limit")
        batch_op.drop_column("release_after_minutes")
