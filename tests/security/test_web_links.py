"""Only web addresses become links on pages, whether typed in a form or read from a partner's calendar."""

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import AgendaEvent, AgendaSource, EventStatus
from app.services import agenda_import
from app.services.errors import RuleViolation
from app.services.weblinks import checked
from tests.factories import NOW, ctx
from tests.services.test_agenda_import import ics, vevent


@pytest.mark.parametrize(
    "hostile",
    [
        "javascript:alert(document.cookie)",
        " JavaScript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "//evil",
        "http://",
    ],
)
def test_a_typed_link_that_is_not_a_web_address_is_refused(hostile):
    with pytest.raises(RuleViolation, match="http"):
        checked(hostile, field="link")


def test_a_javascript_url_in_an_imported_event_never_reaches_the_public_page(session, client):
    source = AgendaSource(name="Partenaire", trusted=True, departement_code="31")
    session.add(source)
    session.commit()
    data = ics(
        vevent("evil@x", "Nuit des étoiles", ":20270115T180000Z", ":20270115T200000Z", "URL:javascript:alert(1)"),
        vevent("good@x", "Fête de la science", ":20270116T180000Z", ":20270116T200000Z", "URL:https://example.org/f"),
    )
    with unit_of_work(session):
        agenda_import.import_bytes(session, ctx(now=NOW), source=source, data=data)
    stored = {e.source_uid: e for e in session.scalars(select(AgendaEvent))}
    assert stored["evil@x"].link is None and stored["evil@x"].status is EventStatus.PUBLISHED
    assert stored["good@x"].link == "https://example.org/f"
    page = client.get(f"/agenda/{stored['evil@x'].id}").get_data(as_text=True)
    assert "javascript:" not in page
