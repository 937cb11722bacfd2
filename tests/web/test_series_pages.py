"""Series through the pages: preview every date with its status, book the free ones, cancel in three scopes."""

import html
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.models import Booking, BookingSeries, TrainingSession, TrainingTopic
from tests.factories import NOW

PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=PARIS).astimezone(UTC)


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)


@pytest.fixture
def camera(make_category, make_resource):
    return make_resource(
        name="Caméra Sony", category=make_category(name="Caméra", needs_approval=False), departement_code="31"
    )


@pytest.fixture
def member(make_user):
    return make_user(display_name="Léa Membre")


def four_wednesdays(**more) -> dict:
    """Wednesday 17 March 2027, 10 h – 12 h Paris, four weeks."""
    return {
        "starts_at": "2027-03-17T10:00",
        "ends_at": "2027-03-17T12:00",
        "recurrence": "weekly",
        "interval": "1",
        "count": "4",
        "purpose": "Live du mercredi",
        **more,
    }


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def test_the_preview_shows_every_date_with_its_status_in_words(
    client, auth, session, camera, member, make_user, make_booking
):
    make_booking(resource=camera, user=make_user(), starts_at=paris(2027, 3, 31, 9), ends_at=paris(2027, 3, 31, 15))
    auth.login(member)
    assert client.get(f"/series/new?resource={camera.id}").status_code == 200
    response = client.post(f"/series/new?resource={camera.id}", data=four_wednesdays(preview="1"))
    assert response.status_code == 200
    page = text_of(response)
    assert page.count(">Libre<") == 3 and page.count(">Déjà pris<") == 1
    assert "Chaque semaine, le mercredi" in page
    assert "mercredi 31 mars 2027, 10 h 00 – 12 h 00" in page
    assert "Prochain créneau libre de cette durée : mercredi 31 mars 2027, 15 h 00" in page
    # The next free slot, as a link to book that one alone.
    assert f"/bookings/new?resource={camera.id}&start=2027-03-31T15:00&end=2027-03-31T17:00" in page
    assert "Réserver les 3 créneaux libres" in page
    assert session.scalars(select(Booking)).all() != [] and session.scalars(select(BookingSeries)).all() == []


def test_booking_the_free_dates_in_one_go(client, auth, session, camera, member, make_user, make_booking):
    make_booking(resource=camera, user=make_user(), starts_at=paris(2027, 3, 31, 9), ends_at=paris(2027, 3, 31, 15))
    auth.login(member)
    response = client.post(f"/series/new?resource={camera.id}", data=four_wednesdays(book="1"))
    assert response.status_code == 302
    made = session.scalar(select(BookingSeries))
    assert response.headers["Location"].endswith(f"/series/{made.id}")
    bookings = session.scalars(select(Booking).where(Booking.series_id == made.id)).all()
    assert len(bookings) == 3 and {b.user_id for b in bookings} == {member.id}
    page = text_of(client.get(f"/series/{made.id}"))
    assert "3 dates réservées. 1 date n'était pas libre : elle n'est pas réservée." in page
    assert page.count("Annuler celle-ci et les suivantes") == 3
    assert "data-confirm" in page


def test_a_series_of_500_dates_is_refused_on_the_page_and_nothing_is_stored(client, auth, session, camera, member):
    auth.login(member)
    for button in ("preview", "book"):
        response = client.post(f"/series/new?resource={camera.id}", data=four_wednesdays(count="500", **{button: "1"}))
        assert response.status_code == 200
        assert "Une série compte au plus 52 dates." in text_of(response)
    assert session.scalars(select(BookingSeries)).all() == []
    response = client.post(
        f"/series/new?resource={camera.id}", data=four_wednesdays(ends_at="2027-03-17T09:00", preview="1")
    )
    assert "La fin doit venir après le début." in text_of(response)


def test_nothing_free_says_so_and_books_nothing(client, auth, session, camera, member, make_user, make_booking):
    other = make_user()
    for day in (17, 24, 31):
        make_booking(resource=camera, user=other, starts_at=paris(2027, 3, day, 9), ends_at=paris(2027, 3, day, 13))
    make_booking(resource=camera, user=other, starts_at=paris(2027, 4, 7, 9), ends_at=paris(2027, 4, 7, 13))
    auth.login(member)
    response = client.post(f"/series/new?resource={camera.id}", data=four_wednesdays(book="1"))
    page = text_of(response)
    assert response.status_code == 200 and "rien n'a été réservé" in page
    assert page.count(">Déjà pris<") == 4 and "créneaux libres" not in page
    assert session.scalars(select(BookingSeries)).all() == []


@pytest.fixture
def booked(client, auth, session, camera, member):
    auth.login(member)
    client.post(f"/series/new?resource={camera.id}", data=four_wednesdays(book="1"))
    made = session.scalar(select(BookingSeries))
    return made.id, [b.id for b in session.scalars(select(Booking).order_by(Booking.starts_at))]


def statuses(session, ids) -> list[str]:
    session.expire_all()
    return [str(session.get(Booking, i).status) for i in ids]


@pytest.mark.parametrize(
    ("scope", "expected", "said"),
    [
        ("one", ["approved", "cancelled", "approved", "approved"], "1 réservation annulée."),
        ("following", ["approved", "cancelled", "cancelled", "cancelled"], "3 réservations annulées."),
        ("all", ["cancelled"] * 4, "4 réservations annulées."),
    ],
)
def test_cancelling_from_the_series_page(client, session, booked, scope, expected, said):
    series_id, ids = booked
    response = client.post(f"/series/{series_id}/cancel", data={"booking": ids[1], "scope": scope})
    assert response.status_code == 302
    assert statuses(session, ids) == expected
    page = text_of(client.get(f"/series/{series_id}"))
    assert said in page
    assert page.count("Annuler celle-ci et les suivantes") == expected.count("approved")


def test_another_member_neither_sees_nor_cancels_a_series(client, auth, session, booked, make_user):
    series_id, ids = booked
    auth.logout()
    auth.login(make_user())
    assert client.get(f"/series/{series_id}").status_code == 403
    assert client.post(f"/series/{series_id}/cancel", data={"booking": ids[0], "scope": "all"}).status_code == 403
    assert statuses(session, ids) == ["approved"] * 4


def test_a_booking_of_another_series_or_a_bad_scope_is_refused(client, session, booked):
    series_id, ids = booked
    assert client.post(f"/series/{series_id + 1}/cancel", data={"booking": ids[0], "scope": "one"}).status_code == 404
    assert client.post(f"/series/{series_id}/cancel", data={"booking": ids[0], "scope": "tout"}).status_code == 400
    assert client.post(f"/series/{series_id}/cancel", data={"booking": "x", "scope": "one"}).status_code == 400
    assert client.get("/series/999999").status_code == 404
    assert client.get("/series/new?resource=999999").status_code == 404
    assert statuses(session, ids) == ["approved"] * 4


def test_a_trainer_creates_a_weekly_series_of_sessions(client, auth, session, make_user):
    topic = session.scalar(select(TrainingTopic).order_by(TrainingTopic.id))
    form = {
        "topic": str(topic.id),
        "title": "Montage vidéo",
        "description": "",
        "level": "beginner",
        "starts_at": "2027-03-17T18:00",
        "ends_at": "2027-03-17T20:00",
        "mode": "online",
        "video_link": "https://visio.example.org/montage",
        "place": "",
        "departement": "",
        "capacity": "10",
        "registration_deadline": "2027-03-16T12:00",
        "recurrence": "weekly",
        "interval": "1",
        "count": "3",
    }
    auth.login(make_user())
    assert client.get("/series/trainings/new").status_code == 403
    auth.logout()
    auth.login(make_user(roles={"trainer"}))
    assert client.get("/series/trainings/new").status_code == 200
    refused = client.post("/series/trainings/new", data={**form, "count": "500"})
    assert refused.status_code == 200 and "Une série compte au plus 52 dates." in text_of(refused)
    assert session.scalars(select(TrainingSession)).all() == []
    response = client.post("/series/trainings/new", data=form)
    assert response.status_code == 302
    made = session.scalars(select(TrainingSession).order_by(TrainingSession.starts_at)).all()
    assert len(made) == 3 and {t.series_key for t in made} == {made[0].id}
    assert [t.starts_at.astimezone(PARIS).hour for t in made] == [18, 18, 18]
    assert "3 sessions créées." in text_of(client.get(response.headers["Location"]))
