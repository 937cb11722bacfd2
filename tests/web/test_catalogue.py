from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from app.extensions import db
from app.models import Blackout
from tests.factories import NOW


def names_on(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_visitors_browse_the_catalogue_by_category_and_departement(client, make_category, make_resource):
    cameras = make_category(name="Caméra")
    micros = make_category(name="Micro")
    make_resource(name="Caméra de Nîmes", category=cameras, departement_code="30")
    make_resource(name="Caméra de Toulouse", category=cameras, departement_code="31")
    make_resource(name="Micro de Toulouse", category=micros, departement_code="31")

    page = names_on(client, f"/resources?category={cameras.id}")
    assert "Caméra de Nîmes" in page and "Caméra de Toulouse" in page and "Micro de Toulouse" not in page

    page = names_on(client, "/resources?departement=31")
    assert "Caméra de Nîmes" not in page and "Caméra de Toulouse" in page and "Micro de Toulouse" in page

    page = names_on(client, f"/resources?category={cameras.id}&departement=30")
    assert "Caméra de Nîmes" in page and "Caméra de Toulouse" not in page

    page = names_on(client, "/resources?q=nîmes")
    assert "Caméra de Nîmes" in page and "Caméra de Toulouse" not in page


def test_free_between_hides_what_is_booked_then_including_the_turnaround_buffer(
    client, make_category, make_resource, make_user, make_booking
):
    stands = make_category(name="Stand", buffer_hours=24)
    busy = make_resource(name="Stand occupé", category=stands)
    after_buffer = make_resource(name="Stand libre", category=stands)
    member = make_user()
    # Busy 12–14 January (Paris), buffer until the 15th at 18:00.
    make_booking(
        resource=busy,
        user=member,
        starts_at=datetime(2027, 1, 12, 8, tzinfo=UTC),
        ends_at=datetime(2027, 1, 14, 17, tzinfo=UTC),
    )
    # The other stand is busy until the 10th only (buffer until the 11th, 18:00 Paris).
    make_booking(
        resource=after_buffer,
        user=member,
        starts_at=datetime(2027, 1, 8, 8, tzinfo=UTC),
        ends_at=datetime(2027, 1, 10, 17, tzinfo=UTC),
    )

    page = names_on(client, "/resources?free_from=2027-01-13T09:00&free_until=2027-01-13T18:00")
    assert "Stand occupé" not in page and "Stand libre" in page

    # Inside the first stand's buffer: still not free.
    page = names_on(client, "/resources?free_from=2027-01-15T09:00&free_until=2027-01-15T12:00")
    assert "Stand occupé" not in page

    # A new booking's own buffer counts too: ending the 11th at 10:00 (Paris) needs the stand
    # until the 12th at 10:00, an hour into the booking that starts at 09:00.
    page = names_on(client, "/resources?free_from=2027-01-11T08:00&free_until=2027-01-11T10:00")
    assert "Stand occupé" not in page
    assert "Stand libre" not in page  # still inside its buffer from the 10th

    page = names_on(client, "/resources?free_from=2027-01-20T09:00&free_until=2027-01-21T09:00")
    assert "Stand occupé" in page and "Stand libre" in page


def test_cancelled_bookings_do_not_make_a_resource_busy(client, make_resource, make_user, make_booking):
    resource = make_resource(name="Caméra annulée")
    make_booking(
        resource=resource,
        user=make_user(),
        status="cancelled",
        starts_at=datetime(2027, 1, 12, 8, tzinfo=UTC),
        ends_at=datetime(2027, 1, 14, 17, tzinfo=UTC),
    )
    page = names_on(client, "/resources?free_from=2027-01-13T09:00&free_until=2027-01-13T18:00")
    assert "Caméra annulée" in page


def test_a_period_that_ends_before_it_starts_is_explained(client, make_resource):
    make_resource(name="Caméra")
    page = names_on(client, "/resources?free_from=2027-01-13T09:00&free_until=2027-01-12T09:00")
    assert "La fin de la période doit suivre son début." in page


def test_half_a_period_or_garbage_dates_are_explained_not_crashed_on(client, make_resource):
    make_resource()
    assert "Indiquez le début et la fin de la période." in names_on(client, "/resources?free_from=2027-01-13T09:00")
    assert "pas une date/heure valide" in names_on(client, "/resources?free_from=lundi&free_until=mardi")
    names_on(client, "/resources?category=abc&departement=99&page=-3")


def test_a_time_skipped_by_the_spring_clock_change_is_refused(client, make_resource):
    make_resource()
    page = names_on(client, "/resources?free_from=2027-03-28T02:30&free_until=2027-03-28T05:00")
    assert "Cette heure n&#39;existe pas ce jour-là" in page or "Cette heure n'existe pas ce jour-là" in page


def test_the_catalogue_is_paginated(client, make_category, make_resource):
    category = make_category()
    for n in range(25):
        make_resource(name=f"Objet {n:02d}", category=category)
    first = names_on(client, "/resources")
    assert "Objet 00" in first and "Objet 24" not in first
    assert "25 ressources" in first
    second = names_on(client, "/resources?page=2")
    assert "Objet 24" in second and "Objet 00" not in second


def test_a_resource_page_shows_rules_host_and_a_french_monday_first_month(
    client, make_category, make_resource, make_user
):
    category = make_category(buffer_hours=24, min_lead_hours=72, max_duration_hours=336, needs_approval=True)
    resource = make_resource(name="Stand PLV Aude", category=category, departement_code="11")
    make_user(display_name="Martin Aubert", hosts=("11",))
    page = names_on(client, f"/resources/{resource.id}?month=2027-02")
    assert "Martin Aubert" in page
    assert "Durée maximale : 14 jours" in page.replace("\u00a0", " ").replace("&nbsp;", " ")
    assert "Battement de 1 jour" in page
    assert "février 2027" in page.lower()
    assert page.index("lun.") < page.index("mar.") < page.index("dim.")


def test_an_invalid_month_falls_back_to_this_month_with_a_message(client, make_resource):
    resource = make_resource()
    page = names_on(client, f"/resources/{resource.id}?month=2027-13")
    assert "Mois non valide" in page
    page = names_on(client, f"/resources/{resource.id}?month=<script>")
    assert "Mois non valide" in page and "<script>" not in page


def test_an_unknown_resource_is_404(client):
    assert client.get("/resources/999999").status_code == 404


def test_the_calendar_shows_busy_periods_to_visitors_without_names(client, make_resource, make_user, make_booking):
    resource = make_resource()
    owner = make_user(display_name="Propriétaire Secrète")
    make_booking(
        resource=resource,
        user=owner,
        purpose="Projet confidentiel",
        starts_at=datetime(2027, 2, 10, 9, tzinfo=UTC),
        ends_at=datetime(2027, 2, 10, 11, tzinfo=UTC),
    )
    page = names_on(client, f"/resources/{resource.id}?month=2027-02")
    assert "10\u00a0h\u00a000 – 12\u00a0h\u00a000" in page
    assert "occupé" in page
    assert "Propriétaire Secrète" not in page and "Projet confidentiel" not in page


def test_the_home_page_counts_what_is_in_the_catalogue(client, make_category, make_resource):
    category = make_category(name="Micro", name_plural="Micros")
    make_resource(category=category)
    make_resource(category=category)
    page = names_on(client, "/")
    assert "Micros" in page
    assert NOW.year == 2027


def statements_for(app, client, url: str) -> list[str]:
    """The SQL statements one page costs (SQLite's BEGIN left out)."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
    return seen


def fill_the_departement(make_category, make_resource, make_user, make_booking, *, units: int, per_unit: int):
    """Units in the 31 with bookings in the week of 18 January 2027, months of history before
    it, and cancelled ones, each by a person of their own."""
    category = make_category(buffer_hours=2)
    week = datetime(2027, 1, 18, 8, tzinfo=UTC)
    made = []
    for _ in range(units):
        unit = make_resource(category=category, departement_code="31")
        made.append(unit)
        for n in range(per_unit):
            starts_at = week + timedelta(hours=14 * n)
            make_booking(resource=unit, user=make_user(), starts_at=starts_at, ends_at=starts_at + timedelta(hours=3))
            long_ago = starts_at - timedelta(days=200 + 30 * n)
            make_booking(resource=unit, user=make_user(), starts_at=long_ago, ends_at=long_ago + timedelta(hours=3))
            make_booking(
                resource=unit,
                user=make_user(),
                status="cancelled",
                starts_at=starts_at + timedelta(hours=6),
                ends_at=starts_at + timedelta(hours=8),
            )
    return made


def test_the_week_and_month_views_cost_the_same_queries_whatever_the_data(
    app, client, auth, make_category, make_resource, make_user, make_booking
):
    host = make_user(hosts=("31",))
    few = fill_the_departement(make_category, make_resource, make_user, make_booking, units=1, per_unit=1)
    db.session.add(
        Blackout(
            departement_code="31",
            starts_at=datetime(2027, 1, 20, 8, tzinfo=UTC),
            ends_at=datetime(2027, 1, 20, 12, tzinfo=UTC),
            reason="Inventaire",
        )
    )
    db.session.commit()
    week, month = "/departements/31/week?start=2027-01-18", f"/resources/{few[0].id}?month=2027-01"
    auth.login(host)  # the host sees names: the costlier reading
    small = (statements_for(app, client, week), statements_for(app, client, month))

    fill_the_departement(make_category, make_resource, make_user, make_booking, units=6, per_unit=5)
    for n in range(7):  # and the month's first half, in long loans
        starts_at = datetime(2027, 1, 1, 8, tzinfo=UTC) + timedelta(days=2 * n)
        make_booking(resource=few[0], user=make_user(), starts_at=starts_at, ends_at=starts_at + timedelta(hours=30))
    large = (statements_for(app, client, week), statements_for(app, client, month))

    assert [len(s) for s in large] == [len(s) for s in small]
    page = names_on(client, week)
    assert page.count("Inventaire") == 7  # one closure of the store, on each of its 7 units


def test_free_between_is_worked_out_once_for_a_page_and_its_count(app, client, make_category, make_resource):
    category = make_category()
    for n in range(25):
        make_resource(name=f"Objet {n:02d}", category=category)
    url = "/resources?free_from=2027-01-13T09:00&free_until=2027-01-13T18:00"
    for page in (url, url + "&page=2"):
        reading_bookings = [s for s in statements_for(app, client, page) if "bookings" in s]
        assert len(reading_bookings) == 1, reading_bookings
    assert "25 ressources" in names_on(client, url + "&page=2")
    assert "Objet 24" in names_on(client, url + "&page=2")
    assert "25 ressources" in names_on(client, url + "&page=9")  # past the end: an empty page, the same total


def test_wtforms_messages_are_parsed_once_per_language(client, make_resource, monkeypatch):
    from babel import support
    from flask_babel import refresh

    from app import i18n

    loads = []
    original = support.Translations.load.__func__

    def counting_load(cls, *args, **kwargs):
        loads.append(kwargs.get("domain"))
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(support.Translations, "load", classmethod(counting_load))
    i18n._form_catalogue.cache_clear()
    make_resource()
    garbage = "/resources?free_from=lundi&free_until=mardi"
    for _ in range(3):
        assert "pas une date/heure valide" in names_on(client, garbage)
    client.post("/language", data={"lang": "en", "next": "/"})
    refresh()  # the test's app context outlives requests, and Flask-Babel keeps the language there
    assert "Not a valid datetime value" in names_on(client, garbage)
    assert loads.count("wtforms") == 2  # French once, English once
