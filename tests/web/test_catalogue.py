from datetime import UTC, datetime

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
    assert "10 h 00 – 12 h 00" in page
    assert "occupé" in page
    assert "Propriétaire Secrète" not in page and "Projet confidentiel" not in page


def test_the_home_page_counts_what_is_in_the_catalogue(client, make_category, make_resource):
    category = make_category(name="Micro", name_plural="Micros")
    make_resource(category=category)
    make_resource(category=category)
    page = names_on(client, "/")
    assert "Micros" in page
    assert NOW.year == 2027
