"""The agenda's rules: who sees an event before it is published, who moderates it, and where."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import AgendaEvent, AuditEntry, EventStatus
from app.services import agenda
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation
from tests.factories import NOW


def fields_of(event: AgendaEvent, **changes) -> agenda.EventFields:
    values = {
        "title": event.title,
        "description": event.description,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "all_day": event.all_day,
        "departement_code": event.departement_code,
        "town": event.town,
        "link": event.link,
        "audiences": event.audiences.split(),
        "theme_ids": [t.id for t in event.themes],
        "region_supported": event.region_supported,
        "campaign": event.campaign,
        "organiser_name": event.organiser_name,
    }
    values.update(changes)
    return agenda.EventFields(**values)


def reloaded(session, event: AgendaEvent) -> AgendaEvent:
    session.expire_all()
    return session.get(AgendaEvent, event.id)


@pytest.mark.parametrize("status", [EventStatus.PROPOSED, EventStatus.REFUSED])
def test_an_unpublished_event_is_seen_only_by_its_moderators_and_its_proposer(
    session, ctx, make_user, make_event, status
):
    proposer = make_user()
    event = make_event(status=status, departement_code="31", proposed_by_id=proposer.id)
    for stranger in (None, make_user(), make_user(hosts=("34",))):
        with pytest.raises(NotFound):
            agenda.visible(session, ctx(stranger), event_id=event.id)
        assert not agenda.can_see(stranger, event)
    for allowed in (proposer, make_user(hosts=("31",)), make_user(roles={"admin"})):
        assert agenda.visible(session, ctx(allowed), event_id=event.id).id == event.id


@pytest.mark.parametrize("status", [EventStatus.PUBLISHED, EventStatus.CANCELLED])
def test_a_published_or_cancelled_event_is_seen_by_everyone(session, ctx, make_event, status):
    event = make_event(status=status)
    assert agenda.visible(session, ctx(None), event_id=event.id).id == event.id


def test_an_event_that_does_not_exist_is_not_found(session, ctx):
    with pytest.raises(NotFound):
        agenda.visible(session, ctx(None), event_id=999_999)


def test_a_host_cannot_move_an_event_to_a_departement_they_do_not_host(session, ctx, make_user, make_event):
    event = make_event(status=EventStatus.PUBLISHED, departement_code="34")
    host_of_34 = make_user(hosts=("34",))
    with pytest.raises(Forbidden), unit_of_work(session):
        agenda.update(session, ctx(host_of_34), event=event, fields=fields_of(event, departement_code="31"))
    assert reloaded(session, event).departement_code == "34"
    with unit_of_work(session):
        agenda.update(session, ctx(host_of_34), event=event, fields=fields_of(event, title="Café des sciences (bis)"))
    assert reloaded(session, event).title == "Café des sciences (bis)"
    host_of_both = make_user(hosts=("34", "31"))
    with unit_of_work(session):
        agenda.update(session, ctx(host_of_both), event=event, fields=fields_of(event, departement_code="31"))
    assert reloaded(session, event).departement_code == "31"


def test_a_host_cannot_edit_an_event_of_another_departement_nor_take_it_into_theirs(
    session, ctx, make_user, make_event
):
    event = make_event(departement_code="31")
    host_of_34 = make_user(hosts=("34",))
    for fields in (fields_of(event, title="Autre"), fields_of(event, title="Autre", departement_code="34")):
        with pytest.raises(Forbidden), unit_of_work(session):
            agenda.update(session, ctx(host_of_34), event=event, fields=fields)
    edited = reloaded(session, event)
    assert (edited.title, edited.departement_code) == ("Café des sciences", "31")


def test_an_edit_is_touched_for_calendars_and_audited(session, ctx, make_user, make_event):
    event = make_event(departement_code="31")
    editor = make_user(hosts=("31",))
    later = NOW + timedelta(hours=3)
    with unit_of_work(session):
        agenda.update(session, ctx(editor, now=later), event=event, fields=fields_of(event, town="Muret"))
    edited = reloaded(session, event)
    assert (edited.town, edited.sequence, edited.updated_at) == ("Muret", 1, later)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.subject_id == event.id))
    assert (entry.action, entry.actor_id, entry.at) == ("update", editor.id, later)


def test_an_end_before_the_start_is_refused(session, ctx, make_user, make_event):
    event, admin = make_event(departement_code="31"), make_user(roles={"admin"})
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        agenda.update(
            session,
            ctx(admin),
            event=event,
            fields=fields_of(event, ends_at=event.starts_at - timedelta(hours=1)),
        )
    assert refused.value.field == "ends_at"


def test_a_members_proposal_waits_and_a_hosts_proposal_in_their_departement_is_published(
    session, ctx, make_user, make_event
):
    model = make_event()
    member, host = make_user(), make_user(hosts=("31",))
    with unit_of_work(session):
        waiting = agenda.propose(session, ctx(member), fields=fields_of(model, departement_code="31"))
        published = agenda.propose(session, ctx(host), fields=fields_of(model))
        elsewhere = agenda.propose(session, ctx(host), fields=fields_of(model, departement_code="34"))
    assert waiting.status == EventStatus.PROPOSED and waiting.created_at == NOW
    assert published.status == EventStatus.PUBLISHED
    assert elsewhere.status == EventStatus.PROPOSED


def test_nobody_logged_in_cannot_propose(session, ctx, make_event):
    fields = fields_of(make_event())
    with pytest.raises(Forbidden), unit_of_work(session):
        agenda.propose(session, ctx(None), fields=fields)


def test_a_host_publishes_and_refuses_only_in_their_departement(session, ctx, make_user, make_event):
    event = make_event(status=EventStatus.PROPOSED, departement_code="31")
    host_of_34, host_of_31 = make_user(hosts=("34",)), make_user(hosts=("31",))
    with pytest.raises(Forbidden), unit_of_work(session):
        agenda.publish(session, ctx(host_of_34), event=event)
    with pytest.raises(Forbidden), unit_of_work(session):
        agenda.refuse(session, ctx(host_of_34), event=event, reason="Non")
    assert reloaded(session, event).status == EventStatus.PROPOSED
    with unit_of_work(session):
        agenda.publish(session, ctx(host_of_31), event=event)
    assert reloaded(session, event).status == EventStatus.PUBLISHED


def test_decisions_follow_the_transitions_and_are_audited(session, ctx, make_user, make_event):
    event = make_event(status=EventStatus.PROPOSED)
    admin = make_user(roles={"admin"})
    with pytest.raises(RuleViolation), unit_of_work(session):
        agenda.refuse(session, ctx(admin), event=event, reason="  ")
    with unit_of_work(session):
        agenda.refuse(session, ctx(admin), event=event, reason=" Hors thématique ")
    refused = reloaded(session, event)
    assert (refused.status, refused.refusal_reason, refused.sequence) == (EventStatus.REFUSED, "Hors thématique", 1)
    with pytest.raises(Conflict), unit_of_work(session):
        agenda.refuse(session, ctx(admin), event=event, reason="Encore")
    with unit_of_work(session):
        agenda.publish(session, ctx(admin), event=event)  # a refusal can be reconsidered
    with pytest.raises(Conflict), unit_of_work(session):
        agenda.publish(session, ctx(admin), event=event)
    published = reloaded(session, event)
    assert (published.status, published.refusal_reason, published.sequence) == (EventStatus.PUBLISHED, None, 2)
    trail = session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "agenda").order_by(AuditEntry.id)).all()
    assert [(e.action, e.from_state, e.to_state) for e in trail] == [
        ("refused", "proposed", "refused"),
        ("published", "refused", "published"),
    ]


def test_the_moderation_list_holds_the_proposals_a_moderator_may_decide(session, ctx, make_user, make_event):
    in_31 = make_event(title="À Toulouse", status=EventStatus.PROPOSED, departement_code="31")
    in_34 = make_event(title="À Montpellier", status=EventStatus.PROPOSED, departement_code="34")
    make_event(title="Déjà publié", status=EventStatus.PUBLISHED, departement_code="31")
    assert [e.id for e in agenda.to_moderate(session, ctx(make_user(hosts=("31",))))] == [in_31.id]
    assert {e.id for e in agenda.to_moderate(session, ctx(make_user(roles={"admin"})))} == {in_31.id, in_34.id}
    for outsider in (None, make_user()):
        with pytest.raises(Forbidden):
            agenda.to_moderate(session, ctx(outsider))


def test_the_public_agenda_reads_months_in_the_sites_time_zone(session, ctx, make_event):
    # 22:30 UTC on 31 May is already 1 June in Paris.
    june_in_paris = make_event(starts_at=datetime(2027, 5, 31, 22, 30, tzinfo=UTC))
    make_event(status=EventStatus.PROPOSED, starts_at=datetime(2027, 6, 10, 10, tzinfo=UTC))
    query = agenda.public_events(ctx(None), agenda.AgendaFilter(year=2027, month=6))
    assert [e.id for e in session.scalars(query).unique()] == [june_in_paris.id]
