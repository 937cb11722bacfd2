"""The release delay and the no-show rule, as admins set them and members read them."""

from datetime import timedelta

import pytest
from flask import render_template_string
from sqlalchemy import select

from app.models import Booking, BookingStatus, Category
from tests.factories import NOW

D = timedelta(days=1)
H = timedelta(hours=1)


@pytest.fixture(autouse=True)
def monday_morning(clock):
    return clock(NOW)


@pytest.fixture
def admin(make_user):
    return make_user(roles={"admin"})


def test_the_category_form_groups_the_three_fields_with_their_units(client, auth, admin, make_category):
    category = make_category(needs_pickup=False, release_after_minutes=45, no_show_limit=3, no_show_window_days=90)
    auth.login(admin)
    page = client.get(f"/admin/categories/{category.id}/edit").get_data(as_text=True)
    assert "Réservations non utilisées" in page
    assert "minutes depuis son début" in page and "(jours)" in page and "non-retraits" in page
    for name, value in (("release_after_minutes", "45"), ("no_show_limit", "3"), ("no_show_window_days", "90")):
        assert f'name="{name}"' in page and f'value="{value}"' in page


def test_the_category_form_saves_the_release_delay_and_the_no_show_rule(client, auth, admin, session):
    auth.login(admin)
    response = client.post(
        "/admin/categories/new",
        data={
            "name": "Compte Twitch",
            "name_plural": "Comptes Twitch",
            "max_duration": "4",
            "max_duration_unit": "hours",
            "min_lead_unit": "hours",
            "max_advance_days": "60",
            "release_after_minutes": "20",
            "no_show_limit": "2",
            "no_show_window_days": "60",
        },
    )
    assert response.status_code == 302
    category = session.scalar(select(Category).where(Category.slug == "compte-twitch"))
    assert (category.release_after_minutes, category.no_show_limit, category.no_show_window_days) == (20, 2, 60)


def test_the_form_refuses_a_release_delay_of_zero(client, auth, admin, session):
    auth.login(admin)
    response = client.post(
        "/admin/categories/new",
        data={
            "name": "Compte Meet",
            "name_plural": "Comptes Meet",
            "max_duration": "4",
            "max_duration_unit": "hours",
            "min_lead_unit": "hours",
            "max_advance_days": "60",
            "release_after_minutes": "0",
        },
    )
    assert response.status_code == 200
    assert session.scalar(select(Category)) is None


def test_a_resource_page_says_the_rules_in_words(client, make_category, make_resource):
    zoom = make_resource(category=make_category(needs_pickup=False, release_after_minutes=30))
    camera = make_resource(category=make_category(no_show_limit=3, no_show_window_days=180))
    page = client.get(f"/resources/{zoom.id}").get_data(as_text=True)
    assert "Libéré 30 minutes après le début si les identifiants n'ont pas été affichés" in page
    page = client.get(f"/resources/{camera.id}").get_data(as_text=True)
    assert "Après 3 non-retraits en 6 mois, validation par l'hôte" in page
    assert "Libéré" not in page


def test_a_held_back_member_is_told_why_their_booking_waits(
    app, client, auth, session, make_user, make_booking, make_category, make_resource
):
    camera = make_resource(
        category=make_category(needs_approval=False, no_show_limit=2, no_show_window_days=45, min_lead_hours=0),
        departement_code="11",
    )
    member = make_user()
    for days_ago in (3, 20):
        start = NOW - days_ago * D
        make_booking(
            resource=camera, user=member, starts_at=start, ends_at=start + H, status=BookingStatus.NO_SHOW.value
        )
    auth.login(member)
    client.post(
        f"/bookings/new?resource={camera.id}",
        data={"starts_at": _local(NOW + 2 * D), "ends_at": _local(NOW + 2 * D + 2 * H), "purpose": "Live"},
    )
    made = session.scalar(select(Booking).where(Booking.status == BookingStatus.REQUESTED))
    assert made is not None and made.user_id == member.id
    assert "Demande envoyée" in client.get(f"/bookings/{made.id}").get_data(as_text=True)
    with app.test_request_context():
        said = render_template_string(
            "{% from 'macros/rules.html' import no_show_notice %}{{ no_show_notice(b) }}", b=made
        )
    assert "après 2 non-retraits en 45 jours dans cette catégorie" in said


def _local(instant):
    from zoneinfo import ZoneInfo

    return instant.astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M")
