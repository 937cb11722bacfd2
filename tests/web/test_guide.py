"""The live-video guide: live links, sanitising, revisions, search, table of contents."""

import html
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from app.models import Category, GuidePage, GuideRevision
from tests.factories import NOW


@pytest.fixture
def outils(session):
    """The 'tools' page, put back as it was after the test (pages come from a migration)."""
    page = session.scalar(select(GuidePage).where(GuidePage.slug == "outils"))
    title, body = page.title, page.body
    last_revision = session.scalar(select(func.max(GuideRevision.id))) or 0
    yield page
    session.rollback()
    page = session.get(GuidePage, page.id)
    page.title, page.body = title, body
    session.execute(delete(GuideRevision).where(GuideRevision.id > last_revision))
    session.commit()


def text_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return " ".join(response.get_data(as_text=True).split())  # the template's line breaks do not matter


def test_the_guide_has_its_five_parts_in_order(client):
    page = text_of(client, "/guide")
    titles = ["Introduction", "Exemples de lives", "Outils et ressources", "Conseils pour réaliser un live", "Contacts"]
    positions = [page.index(t) for t in titles]
    assert positions == sorted(positions)


def test_the_tools_part_counts_free_units_and_changes_when_the_last_one_is_booked(
    client, auth, session, make_user, make_category, make_resource, make_booking, clock
):
    clock(NOW)
    cameras = make_category(slug="camera", name="Caméra", name_plural="Caméras")
    first = make_resource(category=cameras, departement_code="31")
    make_resource(category=cameras, departement_code="31")
    make_resource(category=cameras, departement_code="34")
    reader = make_user(departement_code="31")
    auth.login(reader)
    here = "libres au moins un jour cette semaine en Haute-Garonne"
    assert f"2 {here}, 3 dans toute la région" in text_of(client, "/guide/outils")
    # Out for the whole week: no longer counted; out for two days only, it still would be.
    make_booking(resource=first, user=make_user(), starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(days=8))
    assert "1 libre au moins un jour cette semaine en Haute-Garonne, 2 dans toute la région" in text_of(
        client, "/guide/outils"
    )
    auth.logout()
    page = text_of(client, "/guide/outils")
    assert "2 libres au moins un jour cette semaine en Occitanie" in page
    assert f"/bookings/kit?category={cameras.id}" in page


def test_the_tools_part_names_the_readers_departement_with_its_article(
    client, auth, make_user, make_category, make_resource, clock
):
    clock(NOW)
    cameras = make_category(slug="camera", name="Caméra", name_plural="Caméras")
    make_resource(category=cameras, departement_code="34")
    auth.login(make_user(departement_code="34"))
    page = html.unescape(text_of(client, "/guide/outils"))
    assert "1 libre au moins un jour cette semaine dans l'Hérault" in page and "en Hérault" not in page


def test_the_contacts_part_lists_the_next_sessions_with_seats_left(client, make_training, make_user, clock):
    clock(NOW)
    make_training(title="OBS Studio : premiers pas", topic_id=1, capacity=8, starts_at=NOW + timedelta(days=9))
    page = text_of(client, "/guide/contacts")
    assert "OBS Studio : premiers pas" in page and "8 places restantes" in page


def test_a_script_in_markdown_never_reaches_the_page(client, auth, make_user, outils):
    auth.login(make_user(roles={"admin"}))
    body = "## Titre\n\n<script>alert('x')</script>\n\n[lien](javascript:alert(1)) <img src=x onerror=alert(1)>"
    preview = client.post("/guide/outils/edit", data={"title": "Outils", "body": body, "preview": "y"})
    assert "<script>alert" not in preview.get_data(as_text=True)
    client.post("/guide/outils/edit", data={"title": "Outils", "body": body, "submit": "y"})
    page = text_of(client, "/guide/outils")
    assert "<script>alert" not in page  # shown as escaped text
    assert 'href="javascript' not in page and "<img" not in page
    assert '<h2 id="g-titre">Titre</h2>' in page


def test_an_older_revision_can_be_restored(client, auth, session, make_user, outils):
    auth.login(make_user(roles={"admin"}))
    original = outils.body
    client.post("/guide/outils/edit", data={"title": "Outils", "body": "Texte provisoire.", "submit": "y"})
    assert "Texte provisoire." in text_of(client, "/guide/outils")
    edit_page = text_of(client, "/guide/outils/edit")
    assert "Version initiale" in edit_page
    first = session.scalar(select(GuideRevision).where(GuideRevision.page_id == outils.id).order_by(GuideRevision.id))
    client.post(f"/guide/outils/restore/{first.id}")
    session.expire_all()
    assert session.get(GuidePage, outils.id).body == original
    revisions = session.scalars(select(GuideRevision).where(GuideRevision.page_id == outils.id)).all()
    assert len(revisions) == 3  # history is kept, never rewritten


def test_only_admins_edit_the_guide(client, auth, make_user, outils):
    auth.login(make_user(hosts=("31",)))
    assert client.get("/guide/outils/edit").status_code == 403
    assert client.post("/guide/outils/edit", data={"title": "x", "body": "y", "submit": "y"}).status_code == 403
    assert client.post("/guide/outils/restore/1").status_code == 403


def test_search_finds_pages_with_every_word_and_a_table_of_contents_links_to_headings(client):
    results = text_of(client, "/guide/search?q=droit image")
    assert "Conseils pour réaliser un live" in results and "Exemples de lives" not in results
    assert "Aucune page" in text_of(client, "/guide/search?q=zzzzzz")
    assert text_of(client, "/guide/search?q=%25_%25")
    page = text_of(client, "/guide/conseils")
    assert 'href="#g-aspects-juridiques"' in page and 'id="g-aspects-juridiques"' in page


def test_the_whole_guide_prints_on_one_page(client):
    page = text_of(client, "/guide/print")
    for title in ("Introduction", "Exemples de lives", "Outils et ressources", "Conseils", "Contacts"):
        assert title in page
    assert page.count("guide-print-section") == 5


def test_a_marker_for_a_retired_category_disappears(client, session, make_category):
    assert session.scalar(select(Category).where(Category.slug == "micro")) is None
    page = text_of(client, "/guide/outils")
    assert "[[reserver" not in page
