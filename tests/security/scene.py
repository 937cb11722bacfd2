"""One scene for the security tests: a person in each role and an object of every kind the pages name.

`build(session)` returns the people (by role) and the ids the route tables turn into URLs. The
holder ("member") owns the bookings, the kit booking, the series, the wish and the enrolment; the
host keeps département 34, where everything is stored; the trainer runs the training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app, g
from sqlalchemy import func, select

from app.db import unit_of_work
from app.extensions import db
from app.models import (
    AgendaEvent,
    AgendaSource,
    AgendaTheme,
    Blackout,
    Booking,
    ClosingDay,
    Condition,
    Enrolment,
    EnrolmentStatus,
    GuidePage,
    GuideRevision,
    Handover,
    HandoverKind,
    Organisation,
    OutboxMessage,
    TrainingTopic,
)
from app.services import accounts, credentials, feeds, kits, links, maintenance, series, tokens, training, waitlist
from app.services.kits import LineSpec
from app.services.series import Recurrence
from tests import factories
from tests.factories import NOW, PASSWORD, ctx

ROLES = (
    "visitor",
    "pending",
    "member",
    "other_member",
    "other_host",
    "host",
    "trainer",
    "other_trainer",
    "admin",
)
DEPARTEMENT = "34"


@dataclass
class Scene:
    people: dict[str, object] = field(default_factory=dict)
    ids: dict[str, object] = field(default_factory=dict)


def _at(days: float, hour: int = 9) -> datetime:
    return (NOW + timedelta(days=days)).replace(hour=hour)


def build(session) -> Scene:
    scene = Scene()
    people = scene.people
    people["member"] = factories.make_user(session, display_name="Léa Titulaire", departement_code=DEPARTEMENT)
    people["other_member"] = factories.make_user(session, display_name="Paul Autre", departement_code=DEPARTEMENT)
    people["pending"] = factories.make_user(session, display_name="Émile Nouveau", approved=False)
    people["host"] = factories.make_user(session, display_name="Inès Hôte", hosts=(DEPARTEMENT,))
    people["other_host"] = factories.make_user(session, display_name="Marc Hôte Aude", hosts=("11",))
    people["trainer"] = factories.make_user(session, display_name="Sofia Formatrice", roles={"trainer"})
    people["other_trainer"] = factories.make_user(session, display_name="Yanis Formateur", roles={"trainer"})
    people["admin"] = factories.make_user(session, display_name="Alice Admin", roles={"admin"})
    # The one the admin pages act upon, so that no role of the scene loses its account on the way.
    target = factories.make_user(session, display_name="Zoé Cible", approved=False)
    member, host, admin = people["member"], people["host"], people["admin"]

    cameras = factories.make_category(session, slug="camera", name="Caméra", needs_approval=True)
    micros = factories.make_category(session, slug="micro", name="Micro", needs_approval=False)
    camera = factories.make_resource(session, name="Caméra Sony", category=cameras, departement_code=DEPARTEMENT)
    spare = factories.make_resource(session, name="Caméra Canon", category=cameras, departement_code=DEPARTEMENT)
    broken = factories.make_resource(session, name="Caméra en panne", category=cameras, departement_code=DEPARTEMENT)
    micro = factories.make_resource(session, name="Micro Rode", category=micros, departement_code=DEPARTEMENT)

    booking = factories.make_booking(session, resource=camera, user=member, starts_at=_at(2), ends_at=_at(3))
    video_accounts = factories.make_category(session, slug="zoom", name="Compte Zoom", needs_approval=False)
    secret = credentials.encrypt(
        current_app.config["CREDENTIALS_KEY"], credentials.Credentials("zoom@example.org", "mot-zoom")
    )
    zoom = factories.make_resource(
        session, name="Zoom 1", category=video_accounts, departement_code=DEPARTEMENT, credentials_encrypted=secret
    )
    in_use = factories.make_booking(session, resource=zoom, user=member, starts_at=_at(-1), ends_at=_at(1))
    requested = factories.make_booking(
        session, resource=spare, user=member, starts_at=_at(2), ends_at=_at(3), status="requested"
    )
    returned = factories.make_booking(
        session, resource=camera, user=member, starts_at=_at(-5), ends_at=_at(-4), status="returned"
    )
    handover = Handover(
        booking_id=returned.id,
        kind=HandoverKind.RETURN,
        recorded_at=_at(-4),
        recorded_by_id=host.id,
        condition=Condition.DAMAGED,
        note="Écran fêlé",
    )
    session.add(handover)
    session.commit()

    training_session = factories.make_training(session, trainer=people["trainer"])
    blackout = Blackout(
        departement_code=DEPARTEMENT,
        starts_at=_at(40),
        ends_at=_at(41),
        reason="Inventaire",
    )
    point = factories.make_pickup_point(session, departement_code=DEPARTEMENT, name="Stock de l'Hérault")
    closing = ClosingDay(pickup_point_id=point.id, day=date(2027, 2, 1), reason="Pont")
    event = factories.make_event(session, departement_code=DEPARTEMENT, town="Montpellier")
    proposed = factories.make_event(
        session, title="Proposé", departement_code=DEPARTEMENT, status="proposed", proposed_by_id=member.id
    )
    source = AgendaSource(name="Partenaire", trusted=False)
    organisation = Organisation(name="Structure tapée", confirmed=False)
    message = OutboxMessage(
        key="security:scene",
        to_address=member.email,
        subject="Essai",
        body_text="Essai",
        created_at=NOW,
        next_attempt_at=NOW,
        status="failed",
    )
    session.add_all([blackout, closing, source, organisation, message])
    session.commit()

    with unit_of_work(session):
        kit = kits.save(
            session,
            ctx(admin),
            kit=None,
            name="Kit live",
            description="",
            departement_code=None,
            lines=[LineSpec(category_id=micros.id)],
        )
    with unit_of_work(session):
        kit_booking = kits.book(session, ctx(member), kit=kit, starts_at=_at(6), ends_at=_at(7), purpose="Live")
    with unit_of_work(session):
        made = series.book(
            session,
            ctx(member),
            resource=micro,
            starts_at=_at(20),
            ends_at=_at(20, 12),
            recurrence=Recurrence.WEEKLY,
            count=2,
            purpose="Série",
        )
    with unit_of_work(session):
        enrolment = training.sign_up(session, ctx(member), training=training_session)
    enrolment.status = EnrolmentStatus.ATTENDED  # so that a certificate exists to be read
    session.commit()
    with unit_of_work(session):
        wish = waitlist.wish(session, ctx(member), resource=camera, starts_at=_at(2), ends_at=_at(3))
    with unit_of_work(session):
        period = maintenance.put_out_of_service(session, ctx(admin), resource=broken, reason="Objectif cassé")
    with unit_of_work(session):
        api_token = tokens.create(session, ctx(member), name="script")
    with unit_of_work(session):
        feed_token = feeds.new_token(session, ctx(member))
    with unit_of_work(session):
        host_feed_token = feeds.new_token(session, ctx(host))
    with unit_of_work(session):
        answer = links.sign(ctx(), booking=requested, user=host, action="approve")

    page = session.scalar(select(GuidePage).order_by(GuidePage.id))
    revision_id = session.scalar(select(func.min(GuideRevision.id)).where(GuideRevision.page_id == page.id))
    topic_id = session.scalar(select(func.min(TrainingTopic.id)))
    scene.ids = {
        "booking": booking.id,
        "requested": requested.id,
        "in_use": in_use.id,
        "returned": returned.id,
        "handover": handover.id,
        "camera": camera.id,
        "spare": spare.id,
        "broken": broken.id,
        "period": period.id,
        "category": cameras.id,
        "training": training_session.id,
        "enrolled": member.id,
        "enrolment": enrolment.id,
        "blackout": blackout.id,
        "point": point.id,
        "closing": closing.id,
        "event": event.id,
        "proposed": proposed.id,
        "source": source.id,
        "organisation": organisation.id,
        "message": message.id,
        "kit": kit.id,
        "kit_slug": kit.slug,
        "kit_booking": kit_booking.id,
        "series": made.series.id,
        "series_booking": made.bookings[0].id,
        "wish": wish.id,
        "api_token": api_token.token.id,
        "feed_token": feed_token,
        "host_feed_token": host_feed_token,
        "answer": answer,
        "guide_slug": page.slug,
        "revision": revision_id,
        "topic": topic_id,
        "user": target.id,
        "reset_token": accounts.make_reset_token(ctx(), target),
        "theme": session.scalar(select(AgendaTheme.slug).order_by(AgendaTheme.id)),
        "dept": DEPARTEMENT,
        "code": DEPARTEMENT,
    }
    return scene


# A refused attempt to read credentials is written to the audit trail on purpose.
WRITTEN_ON_REFUSAL = {"audit_entries"}


def row_counts() -> dict[str, int]:
    """How many rows each table holds: what a refused request must leave as it was."""
    return {
        table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in db.metadata.sorted_tables
        if table.name not in WRITTEN_ON_REFUSAL
    }


def statuses() -> dict[str, list]:
    """The states the pages change most: bookings', enrolments' and events'."""
    booked = select(Booking.id, Booking.status, Booking.resource_id, Booking.starts_at, Booking.ends_at)
    return {
        "bookings": sorted(db.session.execute(booked).all()),
        "enrolments": sorted(db.session.execute(select(Enrolment.id, Enrolment.status)).all()),
        "events": sorted(db.session.execute(select(AgendaEvent.id, AgendaEvent.status)).all()),
    }


class Browser:
    """One person's browser: a client of their own, logged in once (nobody: a visitor's)."""

    def __init__(self, app, person=None):
        self.client = app.test_client()
        if person is not None:
            g.pop("_login_user", None)
            answer = self.client.post("/login", data={"email": person.email, "password": PASSWORD})
            assert answer.status_code == 302, f"{person.email} could not log in"

    def forget_messages(self) -> None:
        """Drop the flashed messages no page has shown yet, so that the next ones are the answer's own."""
        with self.client.session_transaction() as cookie:
            cookie.pop("_flashes", None)

    def open(self, method: str, url: str, data=None):
        # The tests' app context outlives a request and Flask-Login caches the user on it.
        g.pop("_login_user", None)
        if method == "GET":
            return self.client.get(url, query_string=data or None)
        return self.client.open(url, method=method, data=data)
