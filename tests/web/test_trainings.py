"""Trainings through the pages: a trainer runs a session end to end; members sign up."""

import csv
import html
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, select

from app.extensions import db
from app.models import Enrolment, EnrolmentStatus, TrainingSession
from tests.factories import NOW

PARIS = ZoneInfo("Europe/Paris")


def local(dt):
    return dt.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def test_a_trainer_creates_a_session_sees_sign_ups_ticks_attendance_and_exports_csv(
    client, auth, session, clock, make_user, make_category
):
    kits = make_category(name="Kit de streaming")
    trainer = make_user(roles={"trainer"}, display_name="Sofia Roux")
    lea = make_user(display_name="Léa Fabre")
    hugo = make_user(display_name='=HYPERLINK("x")')
    clock(NOW)
    start = NOW + timedelta(days=3)

    auth.login(trainer)
    response = client.post(
        "/trainings/new",
        data={
            "topic": "1",
            "title": "OBS Studio : premiers pas",
            "description": "Apportez **votre ordinateur**.\n\n<script>alert('x')</script>",
            "level": "beginner",
            "starts_at": local(start),
            "ends_at": local(start + timedelta(hours=3)),
            "mode": "online",
            "video_link": "https://visio.example.org/obs",
            "departement": "",
            "capacity": "1",
            "registration_deadline": local(start - timedelta(hours=2)),
            "advised": [str(kits.id)],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    course = session.scalar(select(TrainingSession))
    auth.logout()

    auth.login(lea)
    page = client.get(f"/trainings/{course.id}").get_data(as_text=True)
    assert "<strong>votre ordinateur</strong>" in page
    assert "<script>alert" not in page
    assert "https://visio.example.org/obs" not in page  # the link is for registered people only
    assert "1 place restante" in page
    client.post(f"/trainings/{course.id}/sign-up")
    page = client.get(f"/trainings/{course.id}").get_data(as_text=True)
    assert "https://visio.example.org/obs" in page and "Inscrit·e" in page
    auth.logout()

    auth.login(hugo)
    response = client.post(f"/trainings/{course.id}/sign-up", follow_redirects=True)
    assert "vous êtes n° 1 sur la liste d&#39;attente" in response.get_data(as_text=True)
    assert "https://visio.example.org/obs" not in response.get_data(as_text=True)
    auth.logout()

    auth.login(trainer)
    response = client.get(f"/trainings/{course.id}/participants")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Léa Fabre" in page and "Liste d'attente — 1" in page

    exported = client.get(f"/trainings/{course.id}/participants.csv")
    assert exported.mimetype == "text/csv"
    text = exported.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:2] == ["Nom", "Adresse"]
    # The status reads as on the badges: one label per status.
    assert rows[1][0] == "Léa Fabre" and rows[1][4] == "Inscrit·e"
    assert rows[2][0] == '\'=HYPERLINK("x")' and rows[2][4] == "Liste d'attente"

    # Attendance is ticked once the session has begun.
    clock(start + timedelta(minutes=5))
    client.post(f"/trainings/{course.id}/attendance", data={"attended": [str(lea.id)]})
    session.rollback()
    status = session.scalar(select(Enrolment.status).where(Enrolment.user_id == lea.id))
    assert status == EnrolmentStatus.ATTENDED
    certificate = client.get(f"/trainings/{course.id}/certificate/{lea.id}")
    assert certificate.status_code == 200
    assert "Attestation de présence" in certificate.get_data(as_text=True)
    assert "certificate.css" in certificate.get_data(as_text=True)
    assert client.get(f"/trainings/{course.id}/certificate/{hugo.id}").status_code == 404


def test_attendance_for_someone_not_signed_up_is_refused(client, auth, session, clock, make_user, make_training):
    clock(NOW)
    trainer = make_user(roles={"trainer"})
    course = make_training(trainer=trainer, starts_at=NOW - timedelta(minutes=5))
    stranger = make_user()
    auth.login(trainer)
    response = client.post(
        f"/trainings/{course.id}/attendance", data={"attended": [str(stranger.id)]}, follow_redirects=True
    )
    assert "Seules les personnes inscrites" in response.get_data(as_text=True)
    assert client.post(f"/trainings/{course.id}/attendance", data={"attended": ["abc"]}).status_code == 400
    assert session.scalars(select(Enrolment)).all() == []


def test_members_and_other_trainers_cannot_reach_a_sessions_trainer_pages(client, auth, make_user, make_training):
    course = make_training()
    for person in (make_user(), make_user(roles={"trainer"})):
        auth.login(person)
        for path in ("participants", "participants.csv", "edit"):
            assert client.get(f"/trainings/{course.id}/{path}").status_code == 403, path
        for path in ("attendance", "message", "cancel"):
            assert client.post(f"/trainings/{course.id}/{path}", data={"reason": "x"}).status_code == 403, path
        auth.logout()
    auth.login(make_user())
    assert client.get("/trainings/new").status_code == 403


def test_bad_session_forms_are_answered_field_by_field(client, auth, session, clock, make_user):
    clock(NOW)
    auth.login(make_user(roles={"trainer"}))
    start = NOW + timedelta(days=3)
    base = {
        "topic": "1",
        "title": "Titre",
        "level": "beginner",
        "mode": "online",
        "departement": "",
        "video_link": "https://visio.example.org/x",
        "capacity": "10",
        "starts_at": local(start),
        "ends_at": local(start + timedelta(hours=2)),
        "registration_deadline": local(start - timedelta(days=1)),
    }
    cases = [
        ({"capacity": "0"}, "Le nombre doit être compris entre 1 et 1000."),
        ({"capacity": "-5"}, "Le nombre doit être compris entre 1 et 1000."),
        ({"ends_at": local(start - timedelta(hours=1))}, "La fin doit venir après le début."),
        (
            {"registration_deadline": local(start + timedelta(hours=1))},
            "La clôture des inscriptions doit précéder le début.",
        ),
        ({"video_link": "pas une adresse"}, "URL non valide."),
        ({"mode": "in_person", "place": ""}, "Une session sur place a besoin d'un lieu et d'un département."),
        ({"topic": "999"}, "N'est pas un choix valide."),
    ]
    for change, message in cases:
        response = client.post("/trainings/new", data={**base, **change})
        assert response.status_code == 200, change
        page = response.get_data(as_text=True)
        assert message in html.unescape(page), change
    assert session.scalars(select(TrainingSession)).all() == []


def test_the_catalogue_filters_by_topic_and_mode_and_shows_seats_in_words(
    client, clock, make_training, make_user, session
):
    clock(NOW)
    trainer = make_user(roles={"trainer"})
    make_training(trainer=trainer, title="Session OBS en ligne", capacity=3, starts_at=NOW + timedelta(days=5))
    make_training(
        trainer=trainer,
        title="Session Zoom sur place",
        topic_id=4,
        mode="in_person",
        place="Albi",
        departement_code="81",
        video_link=None,
        starts_at=NOW + timedelta(days=6),
    )
    make_training(trainer=trainer, title="Session déjà passée", starts_at=NOW - timedelta(days=2))
    page = client.get("/trainings").get_data(as_text=True)
    assert "Session OBS en ligne" in page and "3 places restantes" in page
    assert "Session déjà passée" not in page
    page = client.get("/trainings?mode=in_person").get_data(as_text=True)
    assert "Session Zoom sur place" in page and "Session OBS en ligne" not in page
    page = client.get("/trainings?topic=1").get_data(as_text=True)
    assert "Session OBS en ligne" in page and "Session Zoom sur place" not in page
    assert client.get("/trainings?topic=abc&mode=<x>").status_code == 200
    assert client.get("/trainings/99999").status_code == 404


def test_my_trainings_list_my_waitlist_position(client, auth, clock, make_training, make_user):
    clock(NOW)
    course = make_training(capacity=1, starts_at=NOW + timedelta(days=5))
    first, second = make_user(), make_user()
    auth.login(first)
    client.post(f"/trainings/{course.id}/sign-up")
    auth.logout()
    auth.login(second)
    client.post(f"/trainings/{course.id}/sign-up")
    page = client.get("/trainings/mine").get_data(as_text=True)
    assert "Liste d&#39;attente — n° 1" in page or "Liste d'attente — n° 1" in page


def _queries_for(client, path: str) -> int:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_my_trainings_page_takes_as_many_queries_for_many_enrolments_as_for_one(
    client, auth, session, ctx, clock, make_training, make_user
):
    from app.db import unit_of_work
    from app.services import training

    clock(NOW)
    person = make_user()

    def enrol(course):
        with unit_of_work(session):
            training.sign_up(session, ctx(person), training=course)

    first = make_training(capacity=1, starts_at=NOW + timedelta(days=3))
    with unit_of_work(session):
        training.sign_up(session, ctx(make_user()), training=first)
    enrol(first)  # queued: the page looks its place up
    auth.login(person)
    one = _queries_for(client, "/trainings/mine")
    for i in range(4):  # some seated, some queued behind someone
        course = make_training(capacity=1, starts_at=NOW + timedelta(days=4 + i))
        if i % 2:
            with unit_of_work(session):
                training.sign_up(session, ctx(make_user()), training=course)
        enrol(course)
    page = client.get("/trainings/mine").get_data(as_text=True)
    assert page.count("— n° 1") == 3
    assert _queries_for(client, "/trainings/mine") == one


def test_a_refused_sign_up_is_a_message_on_the_page_not_an_error_page(client, auth, clock, make_training, make_user):
    course = make_training(starts_at=NOW + timedelta(days=5))
    clock(course.registration_deadline + timedelta(hours=1))
    auth.login(make_user())
    response = client.post(f"/trainings/{course.id}/sign-up", follow_redirects=True)
    assert response.status_code == 200
    assert "Les inscriptions sont closes." in response.get_data(as_text=True)


def test_a_certificate_is_for_the_person_who_attended_and_whoever_runs_the_session(
    client, auth, session, ctx, clock, make_training, make_user
):
    from app.db import unit_of_work
    from app.services import training

    trainer = make_user(roles={"trainer"})
    course = make_training(trainer=trainer, starts_at=NOW + timedelta(days=2))
    came, absent = make_user(display_name="Léa Fabre"), make_user()
    for person in (came, absent):
        with unit_of_work(session):
            training.sign_up(session, ctx(person), training=course)
    later = NOW + timedelta(days=2, hours=1)
    with unit_of_work(session):
        training.mark_attendance(session, ctx(trainer, now=later), training=course, attended_user_ids={came.id})
    clock(later)
    path = f"/trainings/{course.id}/certificate/{came.id}"
    assert client.get(path).status_code == 302  # to the login page

    auth.login(came)
    page = client.get(path)
    assert page.status_code == 200 and "Léa Fabre" in page.get_data(as_text=True)
    assert "Attestation de présence" in client.get("/trainings/mine").get_data(as_text=True)
    auth.logout()

    auth.login(absent)
    assert client.get(path).status_code == 403
    assert client.get(f"/trainings/{course.id}/certificate/{absent.id}").status_code == 404
    auth.logout()

    auth.login(make_user(roles={"trainer"}))
    assert client.get(path).status_code == 403
    auth.logout()

    auth.login(trainer)
    assert client.get(path).status_code == 200
