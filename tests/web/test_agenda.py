"""The regional agenda: filters, campaigns, moderation rights, proposals, feed and print views."""

from datetime import UTC, datetime, timedelta

import icalendar
from sqlalchemy import select

from app.models import AgendaEvent, EventStatus
from tests.factories import NOW


def at(year, month, day, hour=10):
    return datetime(year, month, day, hour, tzinfo=UTC)


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_agenda_filters_by_month_departement_theme_audience_and_campaign(client, make_event):
    make_event(
        title="Course et sciences",
        starts_at=at(2027, 6, 12),
        departement_code="34",
        themes=("science-et-sport",),
        audiences="grand_public",
        campaign="ete",
    )
    make_event(
        title="Atelier robotique",
        starts_at=at(2027, 9, 15),
        departement_code="31",
        themes=("scolaire",),
        audiences="scolaires",
        campaign="rentree",
    )
    make_event(
        title="Visite de grotte",
        starts_at=at(2027, 6, 20),
        departement_code="09",
        themes=("tourisme",),
        audiences="amateurs",
    )
    make_event(title="Pas encore relu", starts_at=at(2027, 6, 21), status=EventStatus.PROPOSED)

    june = page(client, "/agenda?month=2027-06")
    assert "Course et sciences" in june and "Visite de grotte" in june
    assert "Atelier robotique" not in june and "Pas encore relu" not in june
    assert "Visite de grotte" not in page(client, "/agenda?month=2027-06&departement=34")
    assert "Course et sciences" not in page(client, "/agenda?month=2027-06&audience=amateurs")
    sport = page(client, "/agenda/themes/science-et-sport?month=2027-06")
    assert "Course et sciences" in sport and "Visite de grotte" not in sport
    assert "Atelier robotique" in page(client, "/agenda/rentree?month=2027-09")
    summer = page(client, "/agenda/ete?month=2027-06")
    assert "Course et sciences" in summer and "Visite de grotte" not in summer
    grid = page(client, "/agenda?month=2027-06&view=grid")
    assert grid.index("lun.") < grid.index("Course et sciences")
    assert page(client, "/agenda?month=2027-06&theme=nope&audience=<x>")  # bad filters: a message, never a 500
    assert client.get("/agenda/themes/nope").status_code == 404


def test_a_host_moderates_only_the_events_of_their_departement(client, auth, session, make_user, make_event):
    in_31 = make_event(title="Conférence à Toulouse", status=EventStatus.PROPOSED, departement_code="31")
    auth.login(make_user(hosts=("34",)))
    assert "Conférence à Toulouse" not in page(client, "/agenda/moderation")
    assert client.post(f"/agenda/{in_31.id}/publish").status_code == 403
    assert client.post(f"/agenda/{in_31.id}/refuse", data={"reason": "non"}).status_code == 403
    assert client.get(f"/agenda/{in_31.id}/edit").status_code == 403
    session.expire_all()
    assert session.get(AgendaEvent, in_31.id).status == EventStatus.PROPOSED
    auth.logout()
    auth.login(make_user(hosts=("31",)))
    assert "Conférence à Toulouse" in page(client, "/agenda/moderation")
    client.post(f"/agenda/{in_31.id}/publish")
    session.expire_all()
    assert session.get(AgendaEvent, in_31.id).status == EventStatus.PUBLISHED


def test_a_member_proposes_an_event_that_waits_for_moderation(client, auth, session, make_user, clock):
    clock(NOW)
    auth.login(make_user(display_name="Léa Fabre"))
    start = NOW + timedelta(days=20)
    response = client.post(
        "/agenda/propose",
        data={
            "title": "Nuit des chauves-souris",
            "organiser_name": "Biodiversarium",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "departement": "66",
            "town": "Banyuls-sur-Mer",
            "audiences": ["grand_public"],
            "campaign": "",
        },
    )
    assert response.status_code == 302
    event = session.scalar(select(AgendaEvent))
    assert event.status == EventStatus.PROPOSED and event.departement_code == "66" and event.created_at == NOW
    assert "En attente de relecture" in page(client, f"/agenda/{event.id}")  # its proposer sees it
    auth.logout()
    assert client.get(f"/agenda/{event.id}").status_code == 404  # not public until published


def test_a_refusal_needs_a_reason(client, auth, session, make_user, make_event):
    event = make_event(status=EventStatus.PROPOSED)
    auth.login(make_user(roles={"admin"}))
    client.post(f"/agenda/{event.id}/refuse", data={"reason": ""})
    session.expire_all()
    assert session.get(AgendaEvent, event.id).status == EventStatus.PROPOSED
    client.post(f"/agenda/{event.id}/refuse", data={"reason": "Hors thématique"})
    session.expire_all()
    assert session.get(AgendaEvent, event.id).status == EventStatus.REFUSED


def test_a_decision_the_event_no_longer_allows_is_explained_not_an_error_page(
    client, auth, session, make_user, make_event
):
    event = make_event(status=EventStatus.PUBLISHED)
    auth.login(make_user(roles={"admin"}))
    response = client.post(f"/agenda/{event.id}/publish", follow_redirects=True)
    assert response.status_code == 200
    assert "Impossible : cet événement est « Publié »" in response.get_data(as_text=True)
    response = client.post(f"/agenda/{event.id}/refuse", data={"reason": "Trop tard"}, follow_redirects=True)
    assert response.status_code == 200 and "Impossible" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(AgendaEvent, event.id).status == EventStatus.PUBLISHED


def test_a_host_moving_an_event_out_of_their_departement_is_told_why(client, auth, session, make_user, make_event):
    event = make_event(departement_code="34", starts_at=at(2027, 6, 12), town="Sète")
    auth.login(make_user(hosts=("34",)))
    response = client.post(
        f"/agenda/{event.id}/edit",
        data={
            "title": event.title,
            "organiser_name": event.organiser_name,
            "starts_at": "2027-06-12T12:00",
            "ends_at": "2027-06-12T14:00",
            "departement": "31",
            "town": "Toulouse",
            "audiences": ["grand_public"],
            "campaign": "",
        },
    )
    assert response.status_code == 403
    assert "Seuls les administrateurs et les hôtes du département" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(AgendaEvent, event.id).departement_code == "34"


def test_the_agenda_feed_follows_the_page_filters(client, make_event, clock):
    clock(NOW)
    make_event(title="Fête à Albi", departement_code="81", starts_at=NOW + timedelta(days=3))
    make_event(title="Fête à Rodez", departement_code="12", starts_at=NOW + timedelta(days=4))
    make_event(title="Fête passée", departement_code="81", starts_at=NOW - timedelta(days=60))
    body = client.get("/feeds/agenda.ics?departement=81").data
    titles = [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    assert titles == ["Fête à Albi"]


def test_the_printable_programme_and_bookmark_list_the_month(client, make_event):
    for n in range(15):
        make_event(
            title=f"Événement {n:02d}",
            starts_at=at(2027, 5, 1 + n),
            departement_code="11",
            town="Narbonne",
            region_supported=n == 14,
        )
    programme = page(client, "/agenda/print?month=2027-05")
    assert "programme.css" in programme and "Événement 14" in programme and "Narbonne (11)" in programme
    bookmark = page(client, "/agenda/print?month=2027-05&format=bookmark")
    assert 'class="bookmark"' in bookmark
    # Twelve lines: the Region-supported one (the 14th) first in rank, then the earliest.
    assert "Événement 14" in bookmark and "Événement 10" in bookmark and "Événement 11" not in bookmark


def test_the_region_page_groups_the_years_supported_events_by_departement(client, make_event):
    make_event(title="Soutenu dans l'Aude", region_supported=True, departement_code="11", starts_at=at(2027, 3, 3))
    make_event(title="Soutenu dans le Gard", region_supported=True, departement_code="30", starts_at=at(2027, 4, 3))
    make_event(title="Sans soutien", region_supported=False, starts_at=at(2027, 4, 5))
    text = page(client, "/agenda/region?year=2027")
    assert text.index("11 – Aude") < text.index("Soutenu dans l") < text.index("30 – Gard")
    assert "Sans soutien" not in text
    assert page(client, "/agenda/region?year=abc")


def test_an_admin_uploads_a_partner_calendar_and_a_broken_one_changes_nothing(client, auth, session, make_user, clock):
    from io import BytesIO

    from app.models import AgendaSource

    clock(NOW)
    auth.login(make_user(roles={"admin"}))
    client.post("/admin/agenda/sources", data={"name": "Fermat Science", "departement": "82", "url": ""})
    source = session.scalar(select(AgendaSource))
    good = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//FR\r\nBEGIN:VEVENT\r\nUID:f1@fermat\r\n"
        "SUMMARY:Maths en fête\r\nDTSTART:20300310T140000Z\r\nDTEND:20300310T170000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    response = client.post(
        f"/admin/agenda/sources/{source.id}/import",
        data={"file": (BytesIO(good), "fermat.ics")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Import : 0 créé(s)" in response.get_data(as_text=True)  # 2030 is beyond the next 12 months

    soon = NOW + timedelta(days=10)
    good = good.replace(b"20300310", soon.strftime("%Y%m%d").encode())
    response = client.post(
        f"/admin/agenda/sources/{source.id}/import",
        data={"file": (BytesIO(good), "fermat.ics")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Import : 1 créé(s)" in response.get_data(as_text=True)
    response = client.post(
        f"/admin/agenda/sources/{source.id}/import",
        data={"file": (BytesIO(b"\x00\x01 not a calendar"), "casse.ics")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Import refusé" in response.get_data(as_text=True)
    session.expire_all()
    [event] = session.scalars(select(AgendaEvent)).all()
    assert event.title == "Maths en fête" and event.status == EventStatus.PROPOSED and event.departement_code == "82"


def test_import_agenda_from_the_command_line(runner, session, tmp_path, clock):
    from app.models import AgendaSource

    clock(NOW)
    source = AgendaSource(name="Kimiyo", url="ftp://example.invalid/agenda.ics", trusted=True)
    session.add(source)
    session.commit()
    soon = (NOW + timedelta(days=5)).strftime("%Y%m%dT100000Z")
    path = tmp_path / "kimiyo.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//FR\r\nBEGIN:VEVENT\r\nUID:k1\r\nSUMMARY:Chimie amusante\r\n"
        f"DTSTART:{soon}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import-agenda", "--file", str(path), "--source", str(source.id)])
    assert result.exit_code == 0 and '"created": 1' in result.output
    assert session.scalar(select(AgendaEvent.status)) == EventStatus.PUBLISHED
    fetched = runner.invoke(args=["import-agenda"])  # the source's address is not http(s): reported
    assert "http(s)" in fetched.output
