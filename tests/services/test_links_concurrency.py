"""A link is single-use under concurrency too: of several answers at once, exactly one is taken.

Both passes of `make test`: on SQLite the unit of work's BEGIN IMMEDIATE serialises the
answers; on PostgreSQL `links.read` locks the booking row, so the second answer reads the
sequence the first one grew and is refused.
"""

import threading
from datetime import timedelta

from sqlalchemy import select

from app.db import unit_of_work
from app.extensions import db
from app.models import AuditEntry, Booking, BookingStatus
from app.services import booking, links
from tests.factories import NOW, ctx

D = timedelta(days=1)
ANSWERS = 8


def test_eight_answers_at_once_from_two_hosts_links_leave_exactly_one_decision(
    app, session, make_user, make_resource, make_booking
):
    member = make_user()
    hosts = [make_user(hosts=("31",)), make_user(hosts=("31",))]
    request_ = make_booking(
        resource=make_resource(departement_code="31"),
        user=member,
        starts_at=NOW + 3 * D,
        ends_at=NOW + 4 * D,
        status="requested",
    )
    tokens = [
        links.sign(ctx(), booking=request_, user=hosts[i % 2], action=("approve", "reject")[i // 2 % 2])
        for i in range(ANSWERS)
    ]
    barrier = threading.Barrier(ANSWERS)
    outcomes: list[str] = []
    guard = threading.Lock()

    def answer(token: str) -> None:
        barrier.wait()
        with app.app_context():
            try:
                with unit_of_work(db.session):
                    found = links.read(db.session, ctx(), token=token)
                    acting = ctx(found.user)
                    if found.action == "approve":
                        booking.approve(db.session, acting, booking=found.booking)
                    else:
                        booking.reject(db.session, acting, booking=found.booking, reason="Indisponible")
                result = "answered"
            except links.DeadLink:
                result = "dead"
            except Exception as exc:  # anything else is a failure of the guarantee
                result = f"error: {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with guard:
                outcomes.append(result)

    session.commit()  # the test's own connection goes back to the pool
    threads = [threading.Thread(target=answer, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(outcomes) == ["answered"] + ["dead"] * (ANSWERS - 1)
    session.expire_all()
    decided = session.get(Booking, request_.id)
    assert decided.status in (BookingStatus.APPROVED, BookingStatus.REJECTED)
    assert decided.sequence == 1
    decisions = session.scalars(
        select(AuditEntry).where(
            AuditEntry.subject_type == "booking",
            AuditEntry.subject_id == request_.id,
            AuditEntry.action.in_(("approve", "reject")),
        )
    ).all()
    assert len(decisions) == 1
