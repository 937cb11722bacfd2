"""The guide's services: only admins edit, every version is kept, live blocks read ctx's time and reader."""

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from app.db import unit_of_work
from app.models import GuidePage, GuideRevision, TrainingTopic
from app.services import guide
from app.services.errors import Forbidden, NotFound, RuleViolation
from tests.factories import NOW


@pytest.fixture
def outils(session):
    """The 'tools' page, put back as it was after the test (pages come from a migration)."""
    page = session.scalar(select(GuidePage).where(GuidePage.slug == "outils"))
    title, body, updated_at = page.title, page.body, page.updated_at
    last_revision = session.scalar(select(func.max(GuideRevision.id))) or 0
    yield page
    session.rollback()
    page = session.get(GuidePage, page.id)
    page.title, page.body, page.updated_at = title, body, updated_at
    session.execute(delete(GuideRevision).where(GuideRevision.id > last_revision))
    session.commit()


def revision_count(session, page: GuidePage) -> int:
    return session.scalar(select(func.count()).where(GuideRevision.page_id == page.id))


def test_only_an_admin_saves_a_guide_page(session, ctx, make_user, outils):
    before, revisions = outils.body, revision_count(session, outils)
    for someone in (None, make_user(), make_user(hosts=("31",))):
        with pytest.raises(Forbidden), unit_of_work(session):
            guide.save(session, ctx(someone), page=outils, title="Outils", body="Effacé.")
    session.expire_all()
    assert outils.body == before and revision_count(session, outils) == revisions
    admin = make_user(roles={"admin"})
    with unit_of_work(session):
        guide.save(session, ctx(admin, now=NOW), page=outils, title=" Outils ", body="Nouveau texte.  ")
    session.expire_all()
    assert (outils.title, outils.body, outils.updated_at) == ("Outils", "Nouveau texte.\n", NOW)
    latest = session.scalar(select(GuideRevision).order_by(GuideRevision.id.desc()))
    assert (latest.page_id, latest.author_id, latest.body, latest.created_at) == (
        outils.id,
        admin.id,
        "Nouveau texte.\n",
        NOW,
    )


def test_a_page_needs_a_title_and_a_text(session, ctx, make_user, outils):
    admin = make_user(roles={"admin"})
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        guide.save(session, ctx(admin), page=outils, title="Outils", body="   ")
    assert refused.value.field == "body"


def test_only_an_admin_restores_an_older_version_and_history_is_kept(session, ctx, make_user, outils):
    original = outils.body
    first = session.scalar(select(GuideRevision).where(GuideRevision.page_id == outils.id).order_by(GuideRevision.id))
    admin, host = make_user(roles={"admin"}), make_user(hosts=("31",))
    with unit_of_work(session):
        guide.save(session, ctx(admin), page=outils, title="Outils", body="Texte provisoire.")
    with pytest.raises(Forbidden), unit_of_work(session):
        guide.restore(session, ctx(host), page=outils, revision_id=first.id)
    session.expire_all()
    assert outils.body == "Texte provisoire.\n"
    with unit_of_work(session):
        guide.restore(session, ctx(admin, now=NOW + timedelta(days=1)), page=outils, revision_id=first.id)
    session.expire_all()
    assert outils.body == original
    latest = session.scalar(select(GuideRevision).order_by(GuideRevision.id.desc()))
    assert latest.note.startswith("Retour à la version du")


def test_a_revision_of_another_page_cannot_be_restored(session, ctx, make_user, outils):
    other = session.scalar(select(GuidePage).where(GuidePage.slug != "outils").order_by(GuidePage.id))
    foreign = session.scalar(select(GuideRevision).where(GuideRevision.page_id == other.id))
    admin = make_user(roles={"admin"})
    with pytest.raises(NotFound), unit_of_work(session):
        guide.restore(session, ctx(admin), page=outils, revision_id=foreign.id)


def test_the_booking_block_counts_units_free_at_least_one_day_in_the_week_after_ctx_now(
    session, ctx, make_user, make_category, make_resource, make_booking
):
    cameras = make_category(slug="camera", name_plural="Caméras")
    all_week = make_resource(category=cameras, departement_code="31")
    two_days = make_resource(category=cameras, departement_code="31")
    make_resource(category=cameras, departement_code="34")
    member = make_user()
    make_booking(resource=all_week, user=member, starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(days=8))
    make_booking(resource=two_days, user=member, starts_at=NOW + timedelta(days=2), ends_at=NOW + timedelta(days=3))
    reader = make_user(departement_code="31")
    page = GuidePage(slug="essai", title="Essai", body="Avant\n\n[[reserver:camera]]\n\nAprès\n")

    def block(now, actor):
        [_, found, _] = guide.render(session, ctx(actor, now=now), page=page)
        return found

    this_week = block(NOW, reader)
    # The unit out for two days is still free on the other five: it counts.
    assert (this_week.free_here, this_week.free_total) == (1, 2)
    assert (this_week.departement_code, this_week.departement_name) == ("31", "Haute-Garonne")
    after_the_bookings = block(NOW + timedelta(days=9), reader)
    assert (after_the_bookings.free_here, after_the_bookings.free_total) == (2, 3)
    anonymous = block(NOW, None)
    assert (anonymous.free_here, anonymous.free_total, anonymous.departement_name) == (None, 2, None)


def test_the_training_block_lists_the_sessions_still_open_for_registration(session, ctx, make_training):
    topic = session.scalar(select(TrainingTopic).order_by(TrainingTopic.id))
    open_one = make_training(title="Ouverte", capacity=8, starts_at=NOW + timedelta(days=9))
    make_training(title="Inscriptions closes", starts_at=NOW + timedelta(hours=12))
    make_training(title="Annulée", starts_at=NOW + timedelta(days=9), cancelled_at=NOW - timedelta(days=1))
    page = GuidePage(slug="essai", title="Essai", body=f"[[formations:{topic.slug}]]\n")
    parts = guide.render(session, ctx(None, now=NOW), page=page)
    [block] = [p for p in parts if not guide.is_html(p)]
    assert [(s.id, left) for s, left in block.sessions] == [(open_one.id, 8)]
    later = guide.render(session, ctx(None, now=NOW + timedelta(days=9)), page=page)
    assert [p for p in later if not guide.is_html(p)][0].sessions == []
