"""The live-video guide: pages, their live blocks, edits with revisions, search.

A page's Markdown may hold two kinds of marker lines, replaced by what the services know
today rather than copied text:
- `[[reserver:<category slug>]]` — how many units of that category are free this week, in the
  reader's département and in the whole region, with a link to book one;
- `[[formations:<topic slug>]]` — the next sessions of that training topic, with seats left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.db import write_transaction
from app.models import Category, GuidePage, GuideRevision, Resource, TrainingSession, TrainingTopic, User
from app.services import markdown, training
from app.services.availability import free_between_clause
from app.services.errors import Forbidden, NotFound, RuleViolation

MARKER = re.compile(r"^\[\[(reserver|formations):([a-z0-9-]+)\]\]\s*$", re.M)
WEEK = timedelta(days=7)


@dataclass
class BookingBlock:
    category: Category
    free_here: int | None  # in the reader's département, when known
    free_total: int
    departement_name: str | None


@dataclass
class TrainingBlock:
    topic: TrainingTopic
    sessions: list[tuple[TrainingSession, int]]  # (session, seats left)


def pages(session: Session) -> list[GuidePage]:
    return list(session.scalars(select(GuidePage).order_by(GuidePage.position)))


def get(session: Session, slug: str) -> GuidePage:
    page = session.scalar(select(GuidePage).where(GuidePage.slug == slug))
    if page is None:
        raise NotFound(_("Cette page du guide n'existe pas."))
    return page


def _free_units_by_departement(session: Session, category: Category, now: datetime) -> dict[str, int]:
    """Units of the category free for the whole coming week, counted per département in one query."""
    rows = session.execute(
        select(Resource.departement_code, func.count())
        .where(
            Resource.category_id == category.id,
            Resource.retired_at.is_(None),
            free_between_clause(session, now, now + WEEK),
        )
        .group_by(Resource.departement_code)
    )
    return dict(rows.all())


def _booking_block(session: Session, slug: str, now: datetime, reader: User | None) -> BookingBlock | None:
    category = session.scalar(select(Category).where(Category.slug == slug, Category.retired_at.is_(None)))
    if category is None:
        return None
    code = reader.departement_code if reader is not None and reader.is_authenticated else None
    free = _free_units_by_departement(session, category, now)
    return BookingBlock(
        category=category,
        free_here=free.get(code, 0) if code else None,
        free_total=sum(free.values()),
        departement_name=reader.departement.name if code and reader.departement else None,
    )


def _training_block(session: Session, slug: str, now: datetime) -> TrainingBlock | None:
    topic = session.scalar(select(TrainingTopic).where(TrainingTopic.slug == slug))
    if topic is None:
        return None
    upcoming = list(
        session.scalars(
            training.upcoming(session, now=now, topic_id=topic.id).where(
                TrainingSession.cancelled_at.is_(None), TrainingSession.registration_deadline > now
            )
        ).unique()
    )[:3]
    counts = training.seat_counts(session, [s.id for s in upcoming])
    return TrainingBlock(topic=topic, sessions=[(s, max(s.capacity - counts[s.id][0], 0)) for s in upcoming])


def render(session: Session, page: GuidePage, *, now: datetime, reader: User | None) -> list:
    """The page as parts: safe HTML between live blocks (a marker for a retired category or
    an unknown topic simply disappears)."""
    parts: list = []
    position = 0
    for match in MARKER.finditer(page.body):
        parts.append(markdown.render(page.body[position : match.start()], anchors=True))
        kind, slug = match.groups()
        block = (
            _booking_block(session, slug, now, reader) if kind == "reserver" else _training_block(session, slug, now)
        )
        if block is not None:
            parts.append(block)
        position = match.end()
    parts.append(markdown.render(page.body[position:], anchors=True))
    return parts


def is_html(part) -> bool:
    return isinstance(part, Markup)


def save(session: Session, *, actor: User, page: GuidePage, title: str, body: str, now: datetime, note=None) -> None:
    """A new version of a page; every version is kept as a revision."""
    if not actor.is_admin:
        raise Forbidden(_("Réservé aux administrateurs."))
    if not title.strip() or not body.strip():
        raise RuleViolation(_("Une page a besoin d'un titre et d'un texte."), field="body")
    page_id = page.id
    with write_transaction(session):
        page = session.get(GuidePage, page_id)
        page.title, page.body, page.updated_at = title.strip(), body.strip() + "\n", now
        session.add(
            GuideRevision(
                page_id=page.id, title=page.title, body=page.body, created_at=now, author_id=actor.id, note=note
            )
        )


def revisions(session: Session, page: GuidePage) -> list[GuideRevision]:
    return list(
        session.scalars(
            select(GuideRevision)
            .where(GuideRevision.page_id == page.id)
            .order_by(GuideRevision.created_at.desc(), GuideRevision.id.desc())
        )
    )


def restore(session: Session, *, actor: User, page: GuidePage, revision_id: int, now: datetime) -> None:
    """Bring back an older version, as a new revision (history is never rewritten)."""
    revision = session.get(GuideRevision, revision_id)
    if revision is None or revision.page_id != page.id:
        raise NotFound(_("Cette version n'existe pas."))
    save(
        session,
        actor=actor,
        page=page,
        title=revision.title,
        body=revision.body,
        now=now,
        note=_("Retour à la version du %(day)s", day=revision.created_at.date().isoformat()),
    )


def search(session: Session, text: str) -> list[tuple[GuidePage, str]]:
    """Pages whose title or text holds every word, with a snippet around the first one."""
    words = [w for w in re.split(r"\s+", text.strip().lower()) if len(w) >= 2][:6]
    if not words:
        return []
    query = select(GuidePage).order_by(GuidePage.position)
    for word in words:
        pattern = f"%{word}%"
        query = query.where(or_(func.lower(GuidePage.title).like(pattern), func.lower(GuidePage.body).like(pattern)))
    results = []
    for page in session.scalars(query):
        plain = re.sub(r"\[\[[^\]]+\]\]|[#*_>\[\]()`]", "", page.body)
        at = plain.lower().find(words[0])
        start = max(at - 80, 0)
        results.append((page, ("…" if start else "") + plain[start : start + 200].strip() + "…"))
    return results
