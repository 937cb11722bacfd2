"""The regional agenda: what the public sees, members' proposals, and their moderation.

Admins moderate everything; a host moderates the events of their own départements only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, extract, select
from sqlalchemy.orm import Session

from app.db import write_transaction
from app.models import AgendaEvent, AgendaTheme, EventStatus, User
from app.services import audit
from app.services.calendar import local_midnight, shift_month
from app.services.errors import Forbidden, NotFound, RuleViolation

AUDIENCES = {
    "scolaires": _l("Scolaires"),
    "grand_public": _l("Grand public"),
    "neophytes": _l("Néophytes"),
    "amateurs": _l("Amateurs de sciences"),
}
CAMPAIGNS = {"rentree": _l("La Rentrée"), "ete": _l("L'Été")}
# The press campaigns: "La Rentrée de…" announces September, "L'Été de…" June to August.
CAMPAIGN_MONTHS = {"rentree": (9,), "ete": (6, 7, 8)}
PUBLIC = (EventStatus.PUBLISHED.value, EventStatus.CANCELLED.value)


@dataclass(frozen=True)
class AgendaFilter:
    year: int | None = None
    month: int | None = None
    departement_code: str | None = None
    theme_slug: str | None = None
    audience: str | None = None
    campaign: str | None = None


def public_events(filters: AgendaFilter, zone: ZoneInfo) -> Select:
    """Published events (and cancelled ones, shown as such), soonest first."""
    query = select(AgendaEvent).where(AgendaEvent.status.in_(PUBLIC)).order_by(AgendaEvent.starts_at, AgendaEvent.id)
    if filters.year and filters.month:
        start = local_midnight(date(filters.year, filters.month, 1), zone)
        next_year, next_month = shift_month(filters.year, filters.month, 1)
        end = local_midnight(date(next_year, next_month, 1), zone)
        query = query.where(AgendaEvent.starts_at < end, AgendaEvent.ends_at >= start)
    if filters.departement_code:
        query = query.where(AgendaEvent.departement_code == filters.departement_code)
    if filters.theme_slug:
        query = query.where(AgendaEvent.themes.any(AgendaTheme.slug == filters.theme_slug))
    if filters.audience in AUDIENCES:
        query = query.where(AgendaEvent.audiences.contains(filters.audience))
    if filters.campaign in CAMPAIGNS:
        query = query.where(AgendaEvent.campaign == filters.campaign)
    return query


def get(session: Session, event_id: int) -> AgendaEvent:
    event = session.get(AgendaEvent, event_id)
    if event is None:
        raise NotFound(_("Cet événement n'existe pas."))
    return event


def can_moderate(actor: User, event: AgendaEvent) -> bool:
    return actor.is_admin or (event.departement_code is not None and actor.hosts(event.departement_code))


def _require_moderator(actor: User, event: AgendaEvent) -> None:
    if not can_moderate(actor, event):
        raise Forbidden(_("Seuls les administrateurs et les hôtes du département de l'événement le modèrent."))


@dataclass(frozen=True)
class EventFields:
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    departement_code: str
    town: str
    link: str | None
    audiences: list[str]
    theme_ids: list[int]
    region_supported: bool
    campaign: str | None
    organiser_name: str


def _apply(session: Session, event: AgendaEvent, fields: EventFields) -> None:
    if fields.ends_at < fields.starts_at:
        raise RuleViolation(_("La fin doit venir après le début."), field="ends_at")
    if any(a not in AUDIENCES for a in fields.audiences) or (fields.campaign and fields.campaign not in CAMPAIGNS):
        raise RuleViolation(_("Public ou campagne inconnus."))
    for name in ("title", "description", "starts_at", "ends_at", "all_day", "departement_code", "town", "link"):
        setattr(event, name, getattr(fields, name))
    event.organiser_name = fields.organiser_name
    event.audiences = " ".join(sorted(set(fields.audiences)))
    event.region_supported = fields.region_supported
    event.campaign = fields.campaign or None
    event.themes = list(session.scalars(select(AgendaTheme).where(AgendaTheme.id.in_(fields.theme_ids))))


def propose(session: Session, *, actor: User, fields: EventFields, now: datetime) -> AgendaEvent:
    """A member proposes an event; it waits for moderation unless a moderator proposes it."""
    if not actor.is_active:
        raise Forbidden(_("Ce compte est désactivé."))
    with write_transaction(session):
        event = AgendaEvent(
            status=EventStatus.PROPOSED.value,
            proposed_by_id=actor.id,
            organisation_id=actor.organisation_id,
            created_at=now,
            updated_at=now,
            sequence=0,
        )
        _apply(session, event, fields)
        if can_moderate(actor, event):
            event.status = EventStatus.PUBLISHED.value
        session.add(event)
        session.flush()
        audit.record(session, actor=actor, subject_type="agenda", subject_id=event.id, action="propose", now=now)
    return event


def update(session: Session, *, actor: User, event: AgendaEvent, fields: EventFields, now: datetime) -> None:
    _require_moderator(actor, event)
    with write_transaction(session):
        _apply(session, event, fields)
        _require_moderator(actor, event)  # moving it to another département needs rights there too
        event.sequence += 1
        event.updated_at = now
        audit.record(session, actor=actor, subject_type="agenda", subject_id=event.id, action="update", now=now)


def _decide(session: Session, actor: User, event: AgendaEvent, status: EventStatus, now: datetime, reason=None):
    _require_moderator(actor, event)
    with write_transaction(session):
        before = event.status
        event.status = status.value
        event.refusal_reason = reason
        event.sequence += 1
        event.updated_at = now
        audit.record(
            session,
            actor=actor,
            subject_type="agenda",
            subject_id=event.id,
            action=status.value,
            from_state=before,
            to_state=event.status,
            note=reason,
            now=now,
        )


def publish(session: Session, *, actor: User, event: AgendaEvent, now: datetime) -> None:
    _decide(session, actor, event, EventStatus.PUBLISHED, now)


def refuse(session: Session, *, actor: User, event: AgendaEvent, reason: str, now: datetime) -> None:
    if not reason.strip():
        raise RuleViolation(_("Dites pourquoi l'événement est refusé."), field="reason")
    _decide(session, actor, event, EventStatus.REFUSED, now, reason.strip())


def cancel(session: Session, *, actor: User, event: AgendaEvent, now: datetime) -> None:
    _decide(session, actor, event, EventStatus.CANCELLED, now)


def to_moderate(session: Session, actor: User) -> list[AgendaEvent]:
    query = select(AgendaEvent).where(AgendaEvent.status == EventStatus.PROPOSED.value)
    if not actor.is_admin:
        query = query.where(AgendaEvent.departement_code.in_(sorted(actor.host_codes)))
    return list(session.scalars(query.order_by(AgendaEvent.starts_at)))


def region_supported(session: Session, year: int) -> dict[str | None, list[AgendaEvent]]:
    """The year's Region-supported events, by département: the booklet for the Region's services."""
    rows = session.scalars(
        select(AgendaEvent)
        .where(
            AgendaEvent.status == EventStatus.PUBLISHED.value,
            AgendaEvent.region_supported.is_(True),
            extract("year", AgendaEvent.starts_at) == year,
        )
        .order_by(AgendaEvent.departement_code, AgendaEvent.starts_at)
    )
    grouped: dict[str | None, list[AgendaEvent]] = defaultdict(list)
    for event in rows:
        grouped[event.departement_code].append(event)
    return dict(grouped)


def themes(session: Session) -> list[AgendaTheme]:
    return list(session.scalars(select(AgendaTheme).order_by(AgendaTheme.name)))
