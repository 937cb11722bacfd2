"""waitlist: wishes, and the "proposed" hold that keeps a freed slot for the first person waiting

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25

A hold is a booking in the new state "proposed": it keeps the slot from anyone else, so it
joins the holding states everywhere the database guards them — the status CHECK, PostgreSQL's
exclusion constraint and out-of-service trigger, SQLite's four triggers. "lapsed" is a hold
nobody confirmed in time. SQLite changes a CHECK only by rebuilding the table, which drops its
triggers: they are dropped first and created again after, with the new list.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Copied here, not imported, so that this migration keeps meaning what it meant.
OLD_STATES = ("requested", "approved", "picked_up", "returned", "rejected", "cancelled", "no_show")
NEW_STATES = (*OLD_STATES, "proposed", "lapsed")
OLD_HOLDING = "('requested', 'approved', 'picked_up')"
NEW_HOLDING = "('proposed', 'requested', 'approved', 'picked_up')"
WHEN = {"insert": "INSERT", "update": "UPDATE OF resource_id, starts_at, held_until, status"}
COVERS = """
    SELECT 1 FROM out_of_service AS o
    WHERE o.resource_id = NEW.resource_id
      AND o.starts_at < NEW.held_until
      AND (o.ends_at IS NULL OR NEW.starts_at < o.ends_at)
"""


def _listed(values):
    return ", ".join(f"'{v}'" for v in values)


def _sqlite_triggers(holding: str) -> list[str]:
    made = []
    for when, what in WHEN.items():
        made.append(
            f"""
            CREATE TRIGGER bookings_no_overlap_{when}
            BEFORE {what} ON bookings
            WHEN NEW.status IN {holding}
            BEGIN
                SELECT RAISE(ABORT, 'ex_bookings_no_overlap: overlapping holding bookings')
                WHERE EXISTS (
                    SELECT 1 FROM bookings AS other
                    WHERE other.resource_id = NEW.resource_id
                      AND other.id IS NOT NEW.id
                      AND other.status IN {holding}
                      AND other.starts_at < NEW.held_until
                      AND NEW.starts_at < other.held_until
                );
            END
            """
        )
        made.append(
            f"""
            CREATE TRIGGER bookings_not_out_of_service_{when}
            BEFORE {what} ON bookings
            WHEN NEW.status IN {holding}
            BEGIN
                SELECT RAISE(ABORT, 'out_of_service: the resource is out of service over this period')
                WHERE EXISTS ({COVERS});
            END
            """
        )
    return made


def _pg_guards(holding: str) -> None:
    op.execute("ALTER TABLE bookings DROP CONSTRAINT ex_bookings_no_overlap")
    op.execute(
        f"""
        ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap
        EXCLUDE USING gist (resource_id WITH =, tstzrange(starts_at, held_until, '[)') WITH &&)
        WHERE (status IN {holding})
        """
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION bookings_not_out_of_service() RETURNS trigger AS $$
        BEGIN
            IF NEW.status IN {holding} AND EXISTS ({COVERS}) THEN
                RAISE EXCEPTION 'out_of_service: the resource is out of service over this period'
                    USING ERRCODE = 'exclusion_violation';
            END IF;
            RETURN NEW;
        END
        $$ LANGUAGE plpgsql
        """
    )


def _states(states, holding: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for when in WHEN:
            op.execute(f"DROP TRIGGER IF EXISTS bookings_no_overlap_{when}")
            op.execute(f"DROP TRIGGER IF EXISTS bookings_not_out_of_service_{when}")
    with op.batch_alter_table("bookings") as batch_op:
        batch_op.drop_constraint(op.f("ck_bookings_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_bookings_status"), f"status IN ({_listed(states)})")
    if bind.dialect.name == "sqlite":
        for statement in _sqlite_triggers(holding):
            op.execute(statement)
    else:
        _pg_guards(holding)


def upgrade():
    _states(NEW_STATES, NEW_HOLDING)
    op.create_table(
        "wishes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("departement_code", sa.String(length=3), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(resource_id IS NULL) <> (category_id IS NULL)", name=op.f("ck_wishes_resource_or_category")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_wishes_ends_after_start")),
        sa.CheckConstraint(
            "status <> 'offered' OR (booking_id IS NOT NULL AND offer_expires_at IS NOT NULL)",
            name=op.f("ck_wishes_offer_has_hold"),
        ),
        sa.CheckConstraint("status <> 'waiting' OR booking_id IS NULL", name=op.f("ck_wishes_waiting_has_no_hold")),
        sa.CheckConstraint(
            "status IN ('waiting', 'offered', 'confirmed', 'declined', 'lapsed', 'expired', 'withdrawn')",
            name=op.f("ck_wishes_status"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_wishes_user_id_users")),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], name=op.f("fk_wishes_resource_id_resources")),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], name=op.f("fk_wishes_category_id_categories")),
        sa.ForeignKeyConstraint(
            ["departement_code"], ["departements.code"], name=op.f("fk_wishes_departement_code_departements")
        ),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_wishes_booking_id_bookings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wishes")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_wishes_booking_id")),
    )
    op.create_index(op.f("ix_wishes_user_id"), "wishes", ["user_id"])
    op.create_index(op.f("ix_wishes_resource_id"), "wishes", ["resource_id"])
    op.create_index(op.f("ix_wishes_category_id"), "wishes", ["category_id"])
    op.create_index(op.f("ix_wishes_status"), "wishes", ["status"])


def downgrade():
    op.drop_table("wishes")
    op.execute("DELETE FROM bookings WHERE status IN ('proposed', 'lapsed')")
    _states(OLD_STATES, OLD_HOLDING)
