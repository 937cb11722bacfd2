"""kits: lines of given items or N units of a category, booked as one

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("departement_code", sa.String(length=3), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["departement_code"], ["departements.code"], name=op.f("fk_kits_departement_code_departements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kits")),
        sa.UniqueConstraint("slug", name=op.f("uq_kits_slug")),
    )
    op.create_table(
        "kit_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(resource_id IS NULL) <> (category_id IS NULL)", name=op.f("ck_kit_lines_item_or_category")
        ),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_kit_lines_quantity_positive")),
        sa.ForeignKeyConstraint(["kit_id"], ["kits.id"], name=op.f("fk_kit_lines_kit_id_kits"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], name=op.f("fk_kit_lines_resource_id_resources")),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], name=op.f("fk_kit_lines_category_id_categories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kit_lines")),
    )
    op.create_index(op.f("ix_kit_lines_kit_id"), "kit_lines", ["kit_id"])
    op.create_table(
        "kit_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kit_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["kit_id"], ["kits.id"], name=op.f("fk_kit_bookings_kit_id_kits")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_kit_bookings_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kit_bookings")),
    )
    op.create_index(op.f("ix_kit_bookings_kit_id"), "kit_bookings", ["kit_id"])
    op.create_index(op.f("ix_kit_bookings_user_id"), "kit_bookings", ["user_id"])
    # A plain ADD COLUMN on bookings: a rebuild on SQLite would drop its triggers (0007, 0008).
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE bookings ADD COLUMN kit_booking_id INTEGER REFERENCES kit_bookings (id)")
    else:
        op.add_column("bookings", sa.Column("kit_booking_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_bookings_kit_booking_id_kit_bookings"), "bookings", "kit_bookings", ["kit_booking_id"], ["id"]
        )
    op.create_index(op.f("ix_bookings_kit_booking_id"), "bookings", ["kit_booking_id"])


def downgrade():
    op.drop_index(op.f("ix_bookings_kit_booking_id"), table_name="bookings")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("fk_bookings_kit_booking_id_kit_bookings"), "bookings", type_="foreignkey")
    op.drop_column("bookings", "kit_booking_id")
    op.drop_table("kit_bookings")
    op.drop_table("kit_lines")
    op.drop_table("kits")
