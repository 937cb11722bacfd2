"""What the database itself refuses, whatever the application code does, on both databases.

PostgreSQL holds the no-overlap rule with an exclusion constraint, SQLite with triggers
(migration 0007); both refuse a status no enum knows with a CHECK constraint.
"""

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Enum, bindparam, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Enrolment, OutboxMessage, OutOfService
from app.models.types import UTCDateTime
from tests.conftest import ON_POSTGRES
from tests.factories import NOW

INSERT = text(
    """
    INSERT INTO bookings (resource_id, user_id, starts_at, ends_at, held_until, status, purpose,
                          created_at, updated_at, sequence)
    VALUES (:resource, :user, :starts, :ends, :held, :status, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)
    """
).bindparams(*(bindparam(name, type_=UTCDateTime()) for name in ("starts", "ends", "held")))


def insert(session, resource, user, start_h, end_h, held_h, status="approved"):
    session.execute(
        INSERT,
        {
            "resource": resource.id,
            "user": user.id,
            "starts": NOW + timedelta(hours=start_h),
            "ends": NOW + timedelta(hours=end_h),
            "held": NOW + timedelta(hours=held_h),
            "status": status,
        },
    )
    session.commit()


@pytest.mark.postgres
def test_the_migrated_schema_has_the_exclusion_constraint(session):
    definition = session.execute(
        text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ex_bookings_no_overlap'")
    ).scalar_one()
    assert "EXCLUDE USING gist" in definition and "tstzrange(starts_at, held_until" in definition


def test_plain_sql_cannot_insert_an_overlapping_holding_booking(session, make_user, make_resource):
    resource, user = make_resource(), make_user()
    insert(session, resource, user, 24, 48, 60)  # held until hour 60 (buffer)
    with pytest.raises(IntegrityError) as refused:
        insert(session, resource, user, 59, 70, 70)  # starts inside the buffer
    assert "ex_bookings_no_overlap" in str(refused.value)
    session.rollback()
    insert(session, resource, user, 60, 70, 70)  # touching the end is allowed: [start, held_until)


def test_cancelled_rows_and_other_resources_do_not_count(session, make_user, make_resource, make_category):
    category = make_category()
    first, second, user = make_resource(category=category), make_resource(category=category), make_user()
    insert(session, first, user, 24, 48, 48)
    insert(session, first, user, 30, 40, 40, status="cancelled")
    insert(session, second, user, 24, 48, 48)
    with pytest.raises(IntegrityError):
        insert(session, first, user, 30, 40, 40, status="requested")


def test_plain_sql_cannot_bring_a_cancelled_booking_back_over_another(session, make_user, make_resource):
    resource, user = make_resource(), make_user()
    insert(session, resource, user, 24, 48, 48)
    insert(session, resource, user, 30, 40, 40, status="cancelled")
    with pytest.raises(IntegrityError) as refused:
        session.execute(text("UPDATE bookings SET status = 'approved' WHERE status = 'cancelled'"))
        session.commit()
    assert "ex_bookings_no_overlap" in str(refused.value)


@pytest.fixture
def one_row_each(session, make_user, make_resource, make_training, make_event):
    user = make_user()
    insert(session, make_resource(), user, 24, 48, 48)
    training = make_training()
    session.add(
        Enrolment(
            session_id=training.id,
            user_id=user.id,
            status="registered",
            queued_at=NOW,
            created_at=NOW,
            updated_at=NOW,
            sequence=0,
        )
    )
    make_event()
    session.add(
        OutboxMessage(
            key="k",
            to_address="a@example.org",
            subject="s",
            body_text="t",
            status="pending",
            created_at=NOW,
            next_attempt_at=NOW,
            attempts=0,
        )
    )
    session.commit()


@pytest.mark.parametrize(
    ("table", "status"), [("bookings", "lost"), ("enrolments", "maybe"), ("agenda_events", "draft"), ("outbox", "x")]
)
def test_a_status_no_enum_knows_is_refused_by_the_database(session, one_row_each, table, status):
    assert session.scalar(text(f"SELECT count(*) FROM {table}")) == 1
    with pytest.raises(IntegrityError) as refused:
        session.execute(text(f"UPDATE {table} SET status = :status"), {"status": status})
        session.commit()
    assert f"ck_{table}_status" in str(refused.value) or "CHECK constraint failed" in str(refused.value)


@pytest.mark.skipif(ON_POSTGRES, reason="the triggers are SQLite's twin of PostgreSQL's exclusion constraint")
def test_the_migrated_sqlite_schema_has_the_no_overlap_triggers(session):
    names = session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")).all()
    assert names == [
        "bookings_no_overlap_insert",
        "bookings_no_overlap_update",
        "bookings_not_out_of_service_insert",
        "bookings_not_out_of_service_update",
    ]


def test_plain_sql_cannot_hold_an_item_over_its_out_of_service_period(session, make_user, make_resource):
    resource, user = make_resource(), make_user()
    insert(session, resource, user, 24, 30, 30)  # held before the item broke: it stays
    session.add(OutOfService(resource_id=resource.id, starts_at=NOW + timedelta(hours=40), reason="Écran fêlé"))
    session.commit()
    insert(session, resource, user, 30, 40, 40)  # ends as the period begins
    with pytest.raises(IntegrityError) as refused:
        insert(session, resource, user, 100, 110, 110)  # an open period covers every later day
    assert "out_of_service" in str(refused.value)
    session.rollback()
    insert(session, resource, user, 100, 110, 110, status="cancelled")  # not holding: allowed


def test_plain_sql_cannot_move_a_booking_onto_an_item_out_of_service(session, make_user, make_resource):
    broken, spare, user = make_resource(), make_resource(), make_user()
    insert(session, spare, user, 24, 30, 30)
    session.add(OutOfService(resource_id=broken.id, starts_at=NOW, ends_at=NOW + timedelta(days=5), reason="Panne"))
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE bookings SET resource_id = :id"), {"id": broken.id})
        session.commit()


def _same_width_state(change) -> bool:
    """A state column is a VARCHAR in the database and an Enum (with its CHECK) in the model."""
    if not isinstance(change, list) or change[0][0] != "modify_type":
        return False
    _op, _schema, _table, _column, _info, stored, declared = change[0]
    return isinstance(declared, Enum) and not declared.native_enum and stored.length == declared.length


def test_the_models_and_the_migrations_describe_the_same_schema(session):
    context = MigrationContext.configure(session.connection())
    drift = [change for change in compare_metadata(context, db.metadata) if not _same_width_state(change)]
    assert drift == []
