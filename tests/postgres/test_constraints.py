"""What the PostgreSQL schema itself refuses, whatever the application code does."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.factories import NOW

pytestmark = pytest.mark.postgres

INSERT = text(
    """
    INSERT INTO bookings (resource_id, user_id, starts_at, ends_at, held_until, status, purpose,
                          created_at, updated_at, sequence)
    VALUES (:resource, :user, :starts, :ends, :held, :status, '', now(), now(), 0)
    """
)


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
