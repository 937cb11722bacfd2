"""states: every status column accepts only its enum's values; no overlap on SQLite too

Status columns were plain strings: a typo in code or a raw SQL write could store a state
no page knows. Each now has a CHECK constraint listing its values (the models declare the
same through `state_column`). On SQLite, triggers refuse an insert or update that would make
two holding bookings of one resource overlap, buffers included — the twin of PostgreSQL's
exclusion constraint (0002), so that a raw insert is refused on both databases.

SQLite rebuilds a table to add a CHECK constraint (batch mode): the triggers are created
after the rebuild, and any later batch migration of `bookings` must create them again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (table, constraint, column, values): copied here, not imported, so that this migration
# keeps meaning what it meant when the models change.
CHECKS = (
    (
        "bookings",
        "ck_bookings_status",
        "status",
        ("requested", "approved", "picked_up", "returned", "rejected", "cancelled", "no_show"),
    ),
    ("bookings", "ck_bookings_condition", "condition", ("ok", "incomplete", "damaged")),
    ("enrolments", "ck_enrolments_status", "status", ("registered", "waitlisted", "cancelled", "attended")),
    ("agenda_events", "ck_agenda_events_status", "status", ("proposed", "published", "refused", "cancelled")),
    ("outbox", "ck_outbox_status", "status", ("pending", "sent", "failed")),
)

HOLDING = "('requested', 'approved', 'picked_up')"
TRIGGERS = {
    "insert": "INSERT",
    "update": "UPDATE OF resource_id, starts_at, held_until, status",
}


def _trigger(when: str, what: str) -> str:
    return f"""
    CREATE TRIGGER IF NOT EXISTS bookings_no_overlap_{when}
    BEFORE {what} ON bookings
    WHEN NEW.status IN {HOLDING}
    BEGIN
        SELECT RAISE(ABORT, 'ex_bookings_no_overlap: overlapping holding bookings')
        WHERE EXISTS (
            SELECT 1 FROM bookings AS other
            WHERE other.resource_id = NEW.resource_id
              AND other.id IS NOT NEW.id
              AND other.status IN {HOLDING}
              AND other.starts_at < NEW.held_until
              AND NEW.starts_at < other.held_until
        );
    END
    """


def upgrade():
    for table, name, column, values in CHECKS:
        listed = ", ".join(f"'{v}'" for v in values)
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_check_constraint(op.f(name), f"{column} IN ({listed})")
    if op.get_bind().dialect.name == "sqlite":
        for when, what in TRIGGERS.items():
            op.execute(_trigger(when, what))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for when in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS bookings_no_overlap_{when}")
    for table, name, _column, _values in reversed(CHECKS):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(name), type_="check")
