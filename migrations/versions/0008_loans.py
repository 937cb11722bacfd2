"""loans: pickup points with opening hours, contents, inventory codes, handovers, out of service

Each département gets its store as a pickup point (address and hours to be filled in by
its hosts); physical items are attached to their département's store, accounts to none.
Every item gets a printable inventory code ("34-0012").

An item out of service cannot be held: like overlapping bookings (0002, 0007), a holding
booking over an out-of-service period is refused by the database itself — a trigger on
both databases — whatever writes the row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

HOLDING = "('requested', 'approved', 'picked_up')"
COVERS = """
    SELECT 1 FROM out_of_service AS o
    WHERE o.resource_id = NEW.resource_id
      AND o.starts_at < NEW.held_until
      AND (o.ends_at IS NULL OR NEW.starts_at < o.ends_at)
"""
SQLITE_TRIGGERS = {
    "insert": "INSERT",
    "update": "UPDATE OF resource_id, starts_at, held_until, status",
}


def upgrade():
    op.create_table(
        "pickup_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("departement_code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("access_notes", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["departement_code"], ["departements.code"], name=op.f("fk_pickup_points_departement_code_departements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_points")),
    )
    op.create_index(op.f("ix_pickup_points_departement_code"), "pickup_points", ["departement_code"])
    op.create_table(
        "opening_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pickup_point_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.Time(), nullable=False),
        sa.Column("closes_at", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name=op.f("ck_opening_hours_weekday_in_week")),
        sa.CheckConstraint("closes_at > opens_at", name=op.f("ck_opening_hours_closes_after_opening")),
        sa.ForeignKeyConstraint(
            ["pickup_point_id"],
            ["pickup_points.id"],
            name=op.f("fk_opening_hours_pickup_point_id_pickup_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opening_hours")),
    )
    op.create_index(op.f("ix_opening_hours_pickup_point_id"), "opening_hours", ["pickup_point_id"])
    op.create_table(
        "closing_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pickup_point_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["pickup_point_id"],
            ["pickup_points.id"],
            name=op.f("fk_closing_days_pickup_point_id_pickup_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closing_days")),
        sa.UniqueConstraint("pickup_point_id", "day", name="uq_closing_days_point_day"),
    )
    op.create_index(op.f("ix_closing_days_pickup_point_id"), "closing_days", ["pickup_point_id"])
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("pickup", "return", name="kind", native_enum=False, create_constraint=True, length=10),
            nullable=False,
        ),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("checked_json", sa.Text(), nullable=False),
        sa.Column(
            "condition",
            sa.Enum(
                "ok", "incomplete", "damaged", name="condition", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("photo", sa.String(length=80), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_handovers_booking_id_bookings")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_handovers_recorded_by_id_users")),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["users.id"], name=op.f("fk_handovers_confirmed_by_id_users")),
        sa.ForeignKeyConstraint(["undone_by_id"], ["users.id"], name=op.f("fk_handovers_undone_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handovers")),
    )
    op.create_index(op.f("ix_handovers_booking_id"), "handovers", ["booking_id"])
    op.create_index(
        "uq_handovers_live",
        "handovers",
        ["booking_id", "kind"],
        unique=True,
        sqlite_where=sa.text("undone_at IS NULL"),
        postgresql_where=sa.text("undone_at IS NULL"),
    )
    op.create_table(
        "out_of_service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("handover_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name=op.f("ck_out_of_service_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"], name=op.f("fk_out_of_service_resource_id_resources")
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_out_of_service_created_by_id_users")),
        sa.ForeignKeyConstraint(["ended_by_id"], ["users.id"], name=op.f("fk_out_of_service_ended_by_id_users")),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handovers.id"], name=op.f("fk_out_of_service_handover_id_handovers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_out_of_service")),
    )
    op.create_index(op.f("ix_out_of_service_resource_id"), "out_of_service", ["resource_id"])
    op.create_table(
        "repair_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("out_of_service_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_repair_notes_author_id_users")),
        sa.ForeignKeyConstraint(
            ["out_of_service_id"],
            ["out_of_service.id"],
            name=op.f("fk_repair_notes_out_of_service_id_out_of_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_notes")),
    )
    op.create_index(op.f("ix_repair_notes_out_of_service_id"), "repair_notes", ["out_of_service_id"])

    with op.batch_alter_table("resources") as batch_op:
        batch_op.add_column(sa.Column("inventory_code", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("contents", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("pickup_point_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_resources_pickup_point_id_pickup_points"), "pickup_points", ["pickup_point_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_resources_inventory_code"), ["inventory_code"], unique=True)
        batch_op.create_index(batch_op.f("ix_resources_pickup_point_id"), ["pickup_point_id"])
    # A plain ADD COLUMN: rebuilding `bookings` on SQLite would drop its triggers (0007).
    op.add_column("bookings", sa.Column("hours_override", sa.Boolean(), nullable=False, server_default=sa.false()))

    bind = op.get_bind()
    for code, name in bind.execute(sa.text("SELECT code, name FROM departements ORDER BY code")).all():
        bind.execute(
            sa.text(
                "INSERT INTO pickup_points (departement_code, name, address, access_notes, phone, email) "
                "VALUES (:code, :name, '', '', '', '')"
            ),
            {"code": code, "name": f"Stock – {name}"},
        )
    bind.execute(
        sa.text(
            """
            UPDATE resources SET pickup_point_id = (
                SELECT p.id FROM pickup_points AS p WHERE p.departement_code = resources.departement_code
            )
            WHERE category_id IN (SELECT id FROM categories WHERE needs_pickup)
            """
        )
    )
    for resource_id, code in bind.execute(sa.text("SELECT id, departement_code FROM resources")).all():
        bind.execute(
            sa.text("UPDATE resources SET inventory_code = :inventory WHERE id = :id"),
            {"inventory": f"{code}-{resource_id:04d}", "id": resource_id},
        )

    if bind.dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION bookings_not_out_of_service() RETURNS trigger AS $$
            BEGIN
                IF NEW.status IN {HOLDING} AND EXISTS ({COVERS}) THEN
                    RAISE EXCEPTION 'out_of_service: the resource is out of service over this period'
                        USING ERRCODE = 'exclusion_violation';
                END IF;
                RETURN NEW;
            END
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            """
            CREATE TRIGGER bookings_not_out_of_service
            BEFORE INSERT OR UPDATE OF resource_id, starts_at, held_until, status ON bookings
            FOR EACH ROW EXECUTE FUNCTION bookings_not_out_of_service()
            """
        )
    else:
        for when, what in SQLITE_TRIGGERS.items():
            op.execute(
                f"""
                CREATE TRIGGER bookings_not_out_of_service_{when}
                BEFORE {what} ON bookings
                WHEN NEW.status IN {HOLDING}
                BEGIN
                    SELECT RAISE(ABORT, 'out_of_service: the resource is out of service over this period')
                    WHERE EXISTS ({COVERS});
                END
                """
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS bookings_not_out_of_service ON bookings")
        op.execute("DROP FUNCTION IF EXISTS bookings_not_out_of_service()")
    else:
        for when in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS bookings_not_out_of_service_{when}")
    op.drop_column("bookings", "hours_override")
    with op.batch_alter_table("resources") as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_pickup_point_id"))
        batch_op.drop_index(batch_op.f("ix_resources_inventory_code"))
        batch_op.drop_constraint(batch_op.f("fk_resources_pickup_point_id_pickup_points"), type_="foreignkey")
        batch_op.drop_column("pickup_point_id")
        batch_op.drop_column("contents")
        batch_op.drop_column("inventory_code")
    op.drop_table("repair_notes")
    op.drop_table("out_of_service")
    op.drop_index("uq_handovers_live", table_name="handovers")
    op.drop_table("handovers")
    op.drop_table("closing_days")
    op.drop_table("opening_hours")
    op.drop_table("pickup_points")
