"""Public reads, for partners' pages: the catalogue, availability, kits, trainings and the agenda.

The same service calls as the pages, without a token; no name or purpose of anyone's booking
is given. Each answer carries an ETag, and a matching If-None-Match gets 304.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import entry
from app.extensions import db
from app.models import Category
from app.services import agenda, catalogue, kits, pickup, training
from app.services import calendar as cal
from app.services.availability import BusyPeriod, busy_periods
from app.web.api import present
from app.web.api.errors import ApiError
from app.web.api.routing import operation
from app.web.api.schemas import (
    AgendaQuery,
    AvailabilityOut,
    CategoryList,
    EventPage,
    KitList,
    OptionalPeriodQuery,
    PeriodQuery,
    ResourceOut,
    ResourcePage,
    ResourceQuery,
    TrainingPage,
    TrainingQuery,
)

# A window longer than this is asked in several calls: each read stays one cheap query.
MAX_WINDOW = timedelta(days=93)


def _per_page(query: dict[str, Any]) -> int:
    return int(query.get("per_page") or current_app.config["PER_PAGE"])


def _window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ApiError(
            422,
            _("La fin doit venir après le début."),
            code="invalid",
            fields={"end": [_("La fin doit venir après le début.")]},
        )
    if end - start > MAX_WINDOW:
        message = _("%(num)d jours au plus entre le début et la fin.", num=MAX_WINDOW.days)
        raise ApiError(422, message, code="invalid", fields={"end": [message]})


@operation(
    "/v1/resources",
    "GET",
    tag="catalogue",
    summary=_l("Le matériel et les comptes que l'on peut réserver"),
    description=_l(
        "Les filtres du catalogue ; free_from et free_until ne gardent que ce qui est libre sur la période."
    ),
    query=ResourceQuery,
    answers=(200, ResourcePage),
    cached=True,
)
def resources(query: dict[str, Any]) -> dict[str, Any]:
    criteria = catalogue.ResourceFilter(
        category_id=query.get("category"),
        departement_code=query.get("departement"),
        free_from=query.get("free_from"),
        free_until=query.get("free_until"),
        text=query.get("q") or None,
    )
    per_page = _per_page(query)
    items, total = catalogue.search_page(db.session, criteria, page=query["page"], per_page=per_page)
    return present.page([present.resource(r) for r in items], total=total, page=query["page"], per_page=per_page)


def _public_resource(resource_id: int):
    found = catalogue.get_resource(db.session, resource_id)
    if found.is_retired or found.category.retired_at is not None:
        raise ApiError(404, _("Cette ressource n'existe pas."))
    return found


@operation(
    "/v1/resources/<int:resource_id>",
    "GET",
    tag="catalogue",
    summary=_l("Une ressource"),
    answers=(200, ResourceOut),
    errors=(404,),
    cached=True,
)
def resource(resource_id: int) -> dict[str, Any]:
    return present.resource(_public_resource(resource_id))


def _free_slots(busy: list[BusyPeriod], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    free, cursor = [], start
    for period in busy:
        if period.starts_at > cursor:
            free.append((cursor, min(period.starts_at, end)))
        cursor = max(cursor, period.held_until)
    if cursor < end:
        free.append((cursor, end))
    return [(a, b) for a, b in free if b > a]


def _intersect(
    free: list[tuple[datetime, datetime]], spans: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    return [(max(a, c), min(b, d)) for a, b in free for c, d in spans if max(a, c) < min(b, d)]


@operation(
    "/v1/resources/<int:resource_id>/availability",
    "GET",
    tag="catalogue",
    summary=_l("Quand une ressource est occupée, et quand elle est libre"),
    description=_l(
        "Les périodes occupées (réservations, battement compris, fermetures, hors service), sans nom ; "
        "les créneaux libres, dans les heures d'ouverture du lieu de retrait quand il en a. 93 jours au plus."
    ),
    query=PeriodQuery,
    answers=(200, AvailabilityOut),
    errors=(404,),
    cached=True,
)
def availability(resource_id: int, query: dict[str, Any]) -> dict[str, Any]:
    found = _public_resource(resource_id)
    start, end = query["start"], query["end"]
    _window(start, end)
    busy = busy_periods(db.session, found, start, end)
    free = _free_slots(busy, start, end)
    point = found.pickup_point
    if found.category.needs_pickup and point is not None and pickup.has_hours(point):
        free = _intersect(free, pickup.open_spans(point, start, end, entry.for_api(None).zone))
    return {
        "resource_id": found.id,
        "start": start,
        "end": end,
        "busy": [{"start": p.starts_at, "end": p.ends_at, "held_until": p.held_until, "kind": p.kind} for p in busy],
        "free": [{"start": a, "end": b} for a, b in free],
    }


@operation(
    "/v1/categories",
    "GET",
    tag="catalogue",
    summary=_l("Les catégories et leurs règles de réservation"),
    answers=(200, CategoryList),
    cached=True,
)
def categories() -> dict[str, Any]:
    found = db.session.scalars(select(Category).where(Category.retired_at.is_(None)).order_by(Category.name))
    return {"items": [present.category(c) for c in found]}


@operation(
    "/v1/kits",
    "GET",
    tag="catalogue",
    summary=_l("Les kits, leurs lignes et combien de kits entiers sont libres"),
    description=_l("Avec start et end : le nombre de kits entiers libres sur la période (free_count)."),
    query=OptionalPeriodQuery,
    answers=(200, KitList),
    cached=True,
)
def kit_list(query: dict[str, Any]) -> dict[str, Any]:
    found = kits.listed(db.session)
    counts: dict[int, int] = {}
    if "start" in query:
        _window(query["start"], query["end"])
        counts = kits.free_counts(db.session, kits=found, starts_at=query["start"], ends_at=query["end"])
    return {"items": [present.kit(k, counts.get(k.id) if counts else None) for k in found]}


@operation(
    "/v1/trainings",
    "GET",
    tag="trainings",
    summary=_l("Les sessions de formation à venir"),
    query=TrainingQuery,
    answers=(200, TrainingPage),
    cached=True,
)
def trainings(query: dict[str, Any]) -> dict[str, Any]:
    ctx = entry.for_api(None)
    selected = training.upcoming(
        db.session,
        ctx,
        topic_id=query.get("topic"),
        mode=query.get("mode"),
        departement_code=query.get("departement"),
    )
    per_page = _per_page(query)
    found = db.paginate(selected, page=query["page"], per_page=per_page, error_out=False)
    sessions = list(found.items)
    counts = training.seat_counts(db.session, [s.id for s in sessions])
    items = [present.training(s, *counts[s.id]) for s in sessions]
    return present.page(items, total=found.total or 0, page=query["page"], per_page=per_page)


@operation(
    "/v1/agenda",
    "GET",
    tag="agenda",
    summary=_l("L'agenda régional des sciences, un mois à la fois"),
    description=_l("Chaque événement porte aussi ses champs schema.org Event (schema_org)."),
    query=AgendaQuery,
    answers=(200, EventPage),
    cached=True,
)
def agenda_events(query: dict[str, Any]) -> dict[str, Any]:
    ctx = entry.for_api(None)
    today = ctx.now.astimezone(ctx.zone).date()
    month = cal.parse_month(query.get("month"), today)
    if month is None:
        message = _("Mois non valide : indiquez-le sous la forme AAAA-MM.")
        raise ApiError(422, message, code="invalid", fields={"month": [message]})
    filters = agenda.AgendaFilter(
        year=month[0],
        month=month[1],
        departement_code=query.get("departement"),
        theme_slug=query.get("theme") or None,
        audience=query.get("audience"),
        campaign=query.get("campaign"),
    )
    per_page = _per_page(query)
    found = db.paginate(agenda.public_events(ctx, filters), page=query["page"], per_page=per_page, error_out=False)
    items = [present.event(e) for e in found.items]
    return present.page(items, total=found.total or 0, page=query["page"], per_page=per_page)
