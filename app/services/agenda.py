"""The regional agenda: what the public sees, members' proposals, and their moderation.

Admins moderate everything; a host moderates the events of their own départements only.
An event waiting for moderation (or refused) is seen only by its moderators and by the
member who proposed it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, extract, select

from app.db import DbSession, lock
from app.models import AgendaEvent, AgendaTheme, EventStatus, User
from app.services import audit, weblinks
from app.services.calendar import local_midnight, shift_month
from app.services.context import ServiceContext
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation

AUDIENCES = {
    "scolaires": _l("Scolaires"),
    "grand_public": _l("Grand public"),
    "neophytes": _l("Néophytes"),
    "amateurs": _l("Amateurs de sciences"),
}
CAMPAIGNS = {"rentree": _l("La Rentrée"), "ete": _l("L'Été")}
# The press campaigns: "La Rentrée de…" announces September, "L'Été de…" June to August.
CAMPAIGN_MONTHS = {"rentree": (9,), "ete": (6, 7, 8)}


@dataclass(frozen=True)
class AgendaFilter:
    year: int | None = None
    month: int | None = None
    departement_code: str | None = None
    theme_slug: str | None = None
    audience: str | None = None
    campaign: str | None = None


def public_events(ctx: ServiceContext, filters: AgendaFilter) -> Select[AgendaEvent]:
    """Published events (and cancelled ones, shown as such), soonest first; months are the site's."""
    query = select(AgendaEvent).where(AgendaEvent.is_public).order_by(AgendaEvent.starts_at, AgendaEvent.id)
    if filters.year and filters.month:
        start = local_midnight(date(filters.year, filters.month, 1), ctx.zone)
        next_year, next_month = shift_month(filters.year, filters.month, 1)
        end = local_midnight(date(next_year, next_month, 1), ctx.zone)
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


def get(session: DbSession, event_id: int) -> AgendaEvent:
    event = session.get(AgendaEvent, event_id)
    if event is None:
        raise NotFound(_("Cet événement n'existe pas."))
    return event


def _moderates_in(actor: User | None, departement_code: str | None) -> bool:
    if actor is None or not actor.is_authenticated:
        return False
    return actor.is_admin or (departement_code is not None and actor.hosts(departement_code))


def can_moderate(actor: User | None, event: AgendaEvent) -> bool:
    return _moderates_in(actor, event.departement_code)


def can_see(actor: User | None, event: AgendaEvent) -> bool:
    """Everyone sees a public event; one not yet published (or refused) only its moderators and its proposer."""
    if event.is_public:
        return True
    if actor is None or not actor.is_authenticated:
        return False
    return can_moderate(actor, event) or event.proposed_by_id == actor.id


def visible(session: DbSession, ctx: ServiceContext, *, event_id: int) -> AgendaEvent:
    """The event, if ctx.actor may see it. Someone who may not is told it does not exist,
    so that the address of a refused proposal reveals nothing."""
    event = get(session, event_id)
    if not can_see(ctx.actor, event):
        raise NotFound(_("Cet événement n'existe pas."))
    return event


def _require_moderator(actor: User, departement_code: str | None) -> None:
    if not _moderates_in(actor, departement_code):
        raise Forbidden(_("Seuls les administrateurs et les hôtes du département de l'événement le modèrent."))


def _locked(session: DbSession, event: AgendaEvent) -> AgendaEvent:
    found = lock(session, AgendaEvent, event.id)
    if found is None:
        raise NotFound(_("Cet événement n'existe pas."))
    return found


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


def _check(fields: EventFields) -> None:
    if fields.ends_at < fields.starts_at:
        raise RuleViolation(_("La fin doit venir après le début."), field="ends_at")
    if any(a not in AUDIENCES for a in fields.audiences) or (fields.campaign and fields.campaign not in CAMPAIGNS):
        raise RuleViolation(_("Public ou campagne inconnus."))
    weblinks.checked(fields.link, field="link")


def _apply(session: DbSession, event: AgendaEvent, fields: EventFields) -> None:
    for name in ("title", "description", "starts_at", "ends_at", "all_day", "departement_code", "town", "link"):
        setattr(event, name, getattr(fields, name))
    event.organiser_name = fields.organiser_name
    event.audiences = " ".join(sorted(set(fields.audiences)))
    event.region_supported = fields.region_supported
    event.campaign = fields.campaign or None
    event.themes = list(session.scalars(select(AgendaTheme).where(AgendaTheme.id.in_(fields.theme_ids))))


def propose(session: DbSession, ctx: ServiceContext, *, fields: EventFields) -> AgendaEvent:
    """A member proposes an event; it waits for moderation unless a moderator of its département proposes it."""
    actor = ctx.user
    if not actor.is_active:
        raise Forbidden(_("Ce compte est désactivé."))
    _check(fields)
    status = EventStatus.PUBLISHED if _moderates_in(actor, fields.departement_code) else EventStatus.PROPOSED
    event = AgendaEvent(
        status=status,
        proposed_by_id=actor.id,
        organisation_id=actor.organisation_id,
        created_at=ctx.now,
        updated_at=ctx.now,
        sequence=0,
    )
    _apply(session, event, fields)
    session.add(event)
    session.flush()
    audit.record(session, ctx, subject_type="agenda", subject_id=event.id, action="propose", to_state=status)
    return event


def update(session: DbSession, ctx: ServiceContext, *, event: AgendaEvent, fields: EventFields) -> None:
    """A moderator edits an event; moving it to another département needs the rights there too."""
    actor = ctx.user
    event = _locked(session, event)
    _require_moderator(actor, event.departement_code)
    _require_moderator(actor, fields.departement_code)
    _check(fields)
    _apply(session, event, fields)
    event.touch(ctx.now)
    audit.record(session, ctx, subject_type="agenda", subject_id=event.id, action="update")


def _decide(
    session: DbSession,
    ctx: ServiceContext,
    event: AgendaEvent,
    action: str,
    status: EventStatus,
    reason: str | None = None,
) -> None:
    actor = ctx.user
    event = _locked(session, event)
    _require_moderator(actor, event.departement_code)
    if not event.can(action):
        raise Conflict(_("Impossible : cet événement est « %(state)s ».", state=event.status.label))
    before = event.status
    event.status = status
    event.refusal_reason = reason
    event.touch(ctx.now)
    # The history has always named these decisions by the state they lead to.
    audit.record(
        session,
        ctx,
        subject_type="agenda",
        subject_id=event.id,
        action=str(status),
        from_state=before,
        to_state=status,
        note=reason,
    )


def publish(session: DbSession, ctx: ServiceContext, *, event: AgendaEvent) -> None:
    _decide(session, ctx, event, "publish", EventStatus.PUBLISHED)


def refuse(session: DbSession, ctx: ServiceContext, *, event: AgendaEvent, reason: str) -> None:
    if not reason.strip():
        raise RuleViolation(_("Dites pourquoi l'événement est refusé."), field="reason")
    _decide(session, ctx, event, "refuse", EventStatus.REFUSED, reason.strip())


def to_moderate(session: DbSession, ctx: ServiceContext) -> list[AgendaEvent]:
    """The proposals ctx.actor may decide on: all for an admin, their départements' for a host."""
    actor = ctx.user
    if not (actor.is_admin or actor.is_host):
        raise Forbidden(_("Seuls les administrateurs et les hôtes modèrent l'agenda."))
    query = select(AgendaEvent).where(AgendaEvent.status == EventStatus.PROPOSED)
    if not actor.is_admin:
        query = query.where(AgendaEvent.departement_code.in_(sorted(actor.host_codes)))
    return list(session.scalars(query.order_by(AgendaEvent.starts_at)))


def region_supported(session: DbSession, year: int) -> dict[str | None, list[AgendaEvent]]:
    """The year's Region-supported events, by département: the booklet for the Region's services."""
    rows = session.scalars(
        select(AgendaEvent)
        .where(
            AgendaEvent.status == EventStatus.PUBLISHED,
            AgendaEvent.region_supported.is_(True),
            extract("year", AgendaEvent.starts_at) == year,
        )
        .order_by(AgendaEvent.departement_code, AgendaEvent.starts_at)
    )
    grouped: dict[str | None, list[AgendaEvent]] = defaultdict(list)
    for event in rows:
        grouped[event.departement_code].append(event)
    return dict(grouped)


def themes(session: DbSession) -> list[AgendaTheme]:
    return list(session.scalars(select(AgendaTheme).order_by(AgendaTheme.name)))


def name_themes_in_english(session: DbSession, ctx: ServiceContext, *, names: dict[int, str]) -> None:
    """The English names of the themes, by theme id; empty shows the French name in English."""
    ctx.require_admin()
    for theme in themes(session):
        if theme.id in names and theme.name_en != names[theme.id]:
            theme.name_en = names[theme.id]
            audit.record(session, ctx, subject_type="theme", subject_id=theme.id, action="save")
