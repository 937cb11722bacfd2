"""Property: whatever sequence of actions people take, no two holding bookings of a resource overlap."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from app.models import HOLDING_STATUSES, Booking
from app.services import booking, loan
from app.services.errors import DomainError
from tests import factories
from tests.conftest import _empty_tables
from tests.factories import NOW, ctx

HOUR = timedelta(hours=1)

actions = st.lists(
    st.tuples(
        st.sampled_from(["create", "create", "create", "cancel", "change", "approve", "pickup", "return", "extend"]),
        st.integers(min_value=0, max_value=2),  # resource
        st.integers(min_value=0, max_value=3),  # person
        st.integers(min_value=0, max_value=60),  # start, in hours from a base
        st.integers(min_value=-2, max_value=30),  # length in hours (≤ 0: bad input)
        st.integers(min_value=0, max_value=20),  # which booking an action targets
    ),
    min_size=1,
    max_size=25,
)


def holding_overlaps(session) -> list[tuple[int, int]]:
    rows = session.scalars(select(Booking).where(Booking.status.in_([s.value for s in HOLDING_STATUSES]))).all()
    clashes = []
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if a.resource_id == b.resource_id and a.overlaps(b.starts_at, b.held_until):
                clashes.append((a.id, b.id))
    return clashes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions)
def test_no_sequence_of_actions_makes_two_holding_bookings_overlap(app, steps):
    with app.app_context():
        _empty_tables()
        session = db.session
        category = factories.make_category(session, buffer_hours=3, max_duration_hours=24, min_lead_hours=0)
        resources = [factories.make_resource(session, category=category) for _ in range(3)]
        people = [factories.make_user(session) for _ in range(4)]
        host = factories.make_user(session, roles={"admin"})
        base = NOW + timedelta(days=1)
        made: list[Booking] = []
        for action, r, p, start, length, target in steps:
            starts_at, ends_at = base + start * HOUR, base + (start + length) * HOUR
            existing = made[target % len(made)] if made else None
            try:
                if action == "create":
                    made.append(
                        booking.create(
                            session,
                            ctx(people[p], now=NOW),
                            resource=resources[r],
                            starts_at=starts_at,
                            ends_at=ends_at,
                            purpose="",
                        )
                    )
                elif existing is None:
                    continue
                elif action == "cancel":
                    booking.cancel(session, ctx(existing.user, now=NOW), booking=existing)
                elif action == "change":
                    booking.change_dates(
                        session, ctx(existing.user, now=NOW), booking=existing, starts_at=starts_at, ends_at=ends_at
                    )
                elif action == "approve":
                    booking.approve(session, ctx(host, now=NOW), booking=existing)
                elif action == "pickup":
                    loan.record_pickup(session, ctx(host, now=existing.starts_at), booking=existing)
                elif action == "return":
                    loan.record_return(session, ctx(host, now=existing.ends_at), booking=existing, condition="ok")
                elif action == "extend":
                    booking.extend(
                        session, ctx(host, now=NOW), booking=existing, ends_at=existing.ends_at + length * HOUR
                    )
            except DomainError:
                session.rollback()
            assert holding_overlaps(session) == [], (action, r, p, start, length, target)
        db.session.remove()
