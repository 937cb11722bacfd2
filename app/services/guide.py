"""The live-video guide: pages, their live blocks, edits with revisions, search.

A page's Markdown may hold two kinds of marker lines, replaced by what the services know
today rather than copied text:
- `[[reserver:<category slug>]]` — how many units of that category are free at least one day this week, in the
  reader's département and in the whole region, with a link to book one;
- `[[reserver:<kit slug>]]` — how many whole kits are free this week, with a link to book one
  (a category's slug wins when a kit has the same one);
- `[[formations:<topic slug>]]` — the next sessions of that training topic, with seats left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, or_, select

from app.db import DbSession, lock
from app.models import Category, GuidePage, GuideRevision, Kit, Resource, TrainingSession, TrainingTopic, User
from app.services import kits, markdown, training
from app.services.availability import free_between_clause
from app.services.context import ServiceContext
from app.services.errors import NotFound, RuleViolation

MARKER = re.compile(r"^\[\[(reserver|formations):([a-z0-9-]+)\]\]\s*$", re.M)
WEEK = timedelta(days=7)


@dataclass
class BookingBlock:
    category: Category
    free_here: int | None  # in the reader's département, when known
    free_total: int
    departement_name: str | None
    departement_code: str | None = None


@dataclass
class KitBlock:
    kit: Kit
    free_total: int  # whole kits free for the coming week


@dataclass
class TrainingBlock:
    topic: TrainingTopic
    sessions: list[tuple[TrainingSession, int]]  # (session, seats left)


def pages(session: DbSession) -> list[GuidePage]:
    return list(session.scalars(select(GuidePage).order_by(GuidePage.position)))


def get(session: DbSession, slug: str) -> GuidePage:
    page = session.scalar(select(GuidePage).where(GuidePage.slug == slug))
    if page is None:
        raise NotFound(_("Cette page du guide n'existe pas."))
    return page


def _days_ahead(now: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The rest of today and the six days after it, each from its (Paris) midnight to the next."""
    today = now.astimezone(zone).date()
    days = []
    for offset in range(WEEK.days):
        day = today + timedelta(days=offset)
        start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
        days.append((max(start, now), end))
    return days


def _free_units_by_departement(session: DbSession, category: Category, now: datetime, zone: ZoneInfo) -> dict[str, int]:
    """Units of the category free for at least one whole day of the coming week (what a member
    can book for an event), counted per département in one query. Free for the whole week would
    say « 0 » of a camera that is out only on Tuesday."""
    rows = session.execute(
        select(Resource.departement_code, func.count())
        .where(
            Resource.category_id == category.id,
            Resource.retired_at.is_(None),
            or_(*(free_between_clause(session, start, end) for start, end in _days_ahead(now, zone))),
        )
        .group_by(Resource.departement_code)
    )
    return dict(rows.all())


def _booking_block(
    session: DbSession, slug: str, now: datetime, reader: User | None, zone: ZoneInfo
) -> BookingBlock | None:
    category = session.scalar(select(Category).where(Category.slug == slug, Category.retired_at.is_(None)))
    if category is None:
        return None
    here = reader.departement if reader is not None and reader.is_authenticated else None
    free = _free_units_by_departement(session, category, now, zone)
    return BookingBlock(
        category=category,
        free_here=free.get(here.code, 0) if here is not None else None,
        free_total=sum(free.values()),
        departement_name=here.name if here is not None else None,
        departement_code=here.code if here is not None else None,
    )


def _kit_block(session: DbSession, slug: str, now: datetime) -> KitBlock | None:
    kit = session.scalar(select(Kit).where(Kit.slug == slug, Kit.retired_at.is_(None)))
    if kit is None:
        return None
    return KitBlock(kit=kit, free_total=kits.free_count(session, kit=kit, starts_at=now, ends_at=now + WEEK))


def _training_block(session: DbSession, slug: str, now: datetime) -> TrainingBlock | None:
    topic = session.scalar(select(TrainingTopic).where(TrainingTopic.slug == slug))
    if topic is None:
        return None
    # The next sessions one can still sign up for.
    upcoming = list(
        session.scalars(
            select(TrainingSession)
            .where(
                TrainingSession.topic_id == topic.id,
                TrainingSession.cancelled_at.is_(None),
                TrainingSession.registration_deadline > now,
                TrainingSession.ends_at > now,
            )
            .order_by(TrainingSession.starts_at)
            .limit(3)
        ).unique()
    )
    counts = training.seat_counts(session, [s.id for s in upcoming])
    return TrainingBlock(topic=topic, sessions=[(s, max(s.capacity - counts[s.id][0], 0)) for s in upcoming])


Part = Markup | BookingBlock | KitBlock | TrainingBlock


def render(session: DbSession, ctx: ServiceContext, *, page: GuidePage) -> list[Part]:
    """The page as parts, for ctx.actor at ctx.now: safe HTML between live blocks (a marker
    for a retired category or kit, or an unknown topic, simply disappears)."""
    parts: list[Part] = []
    position = 0
    for match in MARKER.finditer(page.body):
        parts.append(markdown.render(page.body[position : match.start()], anchors=True))
        kind, slug = match.groups()
        block: BookingBlock | KitBlock | TrainingBlock | None = (
            _booking_block(session, slug, ctx.now, ctx.actor, ctx.zone) or _kit_block(session, slug, ctx.now)
            if kind == "reserver"
            else _training_block(session, slug, ctx.now)
        )
        if block is not None:
            parts.append(block)
        position = match.end()
    parts.append(markdown.render(page.body[position:], anchors=True))
    return parts


def is_html(part: Part) -> bool:
    return isinstance(part, Markup)


def _require_editor(ctx: ServiceContext) -> User:
    return ctx.require_admin()


def save(
    session: DbSession,
    ctx: ServiceContext,
    *,
    page: GuidePage,
    title: str,
    body: str,
    note: str | None = None,
) -> None:
    """A new version of a page, by an admin; every version is kept as a revision."""
    actor = _require_editor(ctx)
    if not title.strip() or not body.strip():
        raise RuleViolation(_("Une page a besoin d'un titre et d'un texte."), field="body")
    # Locked: two admins saving at once each get their own revision, in order.
    found = lock(session, GuidePage, page.id)
    if found is None:
        raise NotFound(_("Cette page du guide n'existe pas."))
    found.title, found.body, found.updated_at = title.strip(), body.strip() + "\n", ctx.now
    session.add(
        GuideRevision(
            page_id=found.id, title=found.title, body=found.body, created_at=ctx.now, author_id=actor.id, note=note
        )
    )
    session.flush()


def revisions(session: DbSession, page: GuidePage) -> list[GuideRevision]:
    return list(
        session.scalars(
            select(GuideRevision)
            .where(GuideRevision.page_id == page.id)
            .order_by(GuideRevision.created_at.desc(), GuideRevision.id.desc())
        )
    )


def restore(session: DbSession, ctx: ServiceContext, *, page: GuidePage, revision_id: int) -> None:
    """Bring back an older version, as a new revision (history is never rewritten)."""
    _require_editor(ctx)
    revision = session.get(GuideRevision, revision_id)
    if revision is None or revision.page_id != page.id:
        raise NotFound(_("Cette version n'existe pas."))
    save(
        session,
        ctx,
        page=page,
        title=revision.title,
        body=revision.body,
        note=_("Retour à la version du %(day)s", day=revision.created_at.astimezone(ctx.zone).date().isoformat()),
    )


def search(session: DbSession, text: str) -> list[tuple[GuidePage, str]]:
    """Pages whose title or text holds every word, with a snippet around the first one."""
    words = [w for w in re.split(r"\s+", text.strip().lower()) if len(w) >= 2][:6]
    if not words:
        return []
    query = select(GuidePage).order_by(GuidePage.position)
    for word in words:
        pattern = f"%{word}%"
        query = query.where(or_(func.lower(GuidePage.title).like(pattern), func.lower(GuidePage.body).like(pattern)))
    results: list[tuple[GuidePage, str]] = []
    for page in session.scalars(query):
        plain = re.sub(r"\[\[[^\]]+\]\]|[#*_>\[\]()`]", "", page.body)
        at = plain.lower().find(words[0])
        start = max(at - 80, 0)
        results.append((page, ("…" if start else "") + plain[start : start + 200].strip() + "…"))
    return results
