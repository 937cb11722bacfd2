"""The rows the services return, as the data the answer schemas dump (app/web/api/schemas.py).

Links point to the site's own pages, so that a partner's page can send its readers there.
Nobody's name is given away: a booking shows its holder only to the hosts' desk.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import request, url_for

from app.models import AgendaEvent, Booking, Category, EventStatus, Kit, KitBooking, Resource, TrainingSession
from app.services import pickup


def link(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def page(items: list[Any], *, total: int, page: int, per_page: int) -> dict[str, Any]:
    """A page of a list, with the addresses of the pages before and after it (same filters)."""
    kept = [(key, value) for key, value in request.args.items(multi=True) if key != "page"]

    def at(number: int) -> str:
        return f"{request.base_url}?{urlencode([*kept, ('page', str(number))])}"

    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "next": at(page + 1) if page * per_page < total else None,
        "previous": at(page - 1) if page > 1 else None,
    }


def category(found: Category) -> dict[str, Any]:
    return {
        "id": found.id,
        "slug": found.slug,
        "name": found.name,
        "name_plural": found.name_plural,
        "description": found.description or "",
        "needs_pickup": found.needs_pickup,
        "needs_approval": found.needs_approval,
        "max_duration_hours": found.max_duration_hours,
        "min_lead_hours": found.min_lead_hours,
        "max_advance_days": found.max_advance_days,
        "buffer_hours": found.buffer_hours,
        "per_member_limit": found.per_member_limit,
    }


def resource(found: Resource) -> dict[str, Any]:
    point = found.pickup_point if found.category.needs_pickup else None
    return {
        "id": found.id,
        "name": found.name,
        "description": found.description or "",
        "inventory_code": found.inventory_code,
        "category": {"id": found.category.id, "name": found.category.name},
        "departement": {"code": found.departement.code, "name": found.departement.name},
        "needs_pickup": found.category.needs_pickup,
        "contents": found.contents_lines,
        "pickup_point": (
            {
                "id": point.id,
                "name": point.name,
                "address": point.address or "",
                "access_notes": point.access_notes or "",
                "opening_hours": [str(line) for line in pickup.describe(point)],
            }
            if point is not None
            else None
        ),
        "url": link("catalogue.detail", resource_id=found.id),
        "availability": link("api.availability", resource_id=found.id),
        "calendar": link("feeds.resource", resource_id=found.id),
    }


def kit(found: Kit, free_count: int | None) -> dict[str, Any]:
    return {
        "id": found.id,
        "slug": found.slug,
        "name": found.name,
        "description": found.description or "",
        "departement_code": found.departement_code,
        "lines": [
            {
                "resource": {"id": line.resource.id, "name": line.resource.name} if line.resource else None,
                "category": {"id": line.category.id, "name": line.category.name} if line.category else None,
                "quantity": line.quantity,
            }
            for line in found.lines
        ],
        "free_count": free_count,
        "url": link("kits.detail", slug=found.slug),
    }


def training(found: TrainingSession, seated: int, waiting: int) -> dict[str, Any]:
    return {
        "id": found.id,
        "title": found.title,
        "topic": {"id": found.topic.id, "slug": found.topic.slug, "name": found.topic.name},
        "description": found.description or "",
        "level": found.level,
        "mode": found.mode,
        "place": found.place,
        "departement_code": found.departement_code,
        "starts_at": found.starts_at,
        "ends_at": found.ends_at,
        "registration_opens_at": found.registration_opens_at,
        "registration_deadline": found.registration_deadline,
        "capacity": found.capacity,
        "seats_taken": seated,
        "seats_left": max(0, found.capacity - seated),
        "waitlisted": waiting,
        "cancelled": found.is_cancelled,
        "url": link("trainings.detail", training_id=found.id),
    }


def _web_link(value: str | None) -> str | None:
    """Only an http(s) address is handed on: a partner's page may well make it a link."""
    if not value:
        return None
    return value if urlsplit(value.strip()).scheme.lower() in ("http", "https") else None


def event(found: AgendaEvent) -> dict[str, Any]:
    page_url = link("agenda.detail", event_id=found.id)
    audiences = (found.audiences or "").split()
    themes = [{"slug": theme.slug, "name": theme.name} for theme in found.themes]
    departement = found.departement
    cancelled = found.status is EventStatus.CANCELLED
    return {
        "id": found.id,
        "title": found.title,
        "description": found.description or "",
        "organiser": found.organiser_name or "",
        "starts_at": found.starts_at,
        "ends_at": found.ends_at,
        "all_day": found.all_day,
        "departement_code": found.departement_code,
        "town": found.town or "",
        "link": _web_link(found.link),
        "audiences": audiences,
        "themes": themes,
        "region_supported": found.region_supported,
        "campaign": found.campaign,
        "status": "cancelled" if cancelled else "published",
        "url": page_url,
        "schema_org": {
            "context": "https://schema.org",
            "type_": "Event",
            "name": found.title,
            "description": found.description or "",
            "startDate": found.starts_at,
            "endDate": found.ends_at,
            "eventStatus": f"https://schema.org/{'EventCancelled' if cancelled else 'EventScheduled'}",
            "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
            "location": {
                "type_": "Place",
                "name": found.town or (departement.name if departement else ""),
                "address": {
                    "type_": "PostalAddress",
                    "addressLocality": found.town or "",
                    "addressRegion": departement.name if departement else None,
                    "addressCountry": "FR",
                },
            },
            "organizer": {"type_": "Organization", "name": found.organiser_name} if found.organiser_name else None,
            "url": _web_link(found.link) or page_url,
            "keywords": [theme["name"] for theme in themes],
        },
    }


def booking(found: Booking, *, phase: str | None = None, member: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": found.id,
        "resource": {
            "id": found.resource.id,
            "name": found.resource.name,
            "category": found.resource.category.name,
            "departement_code": found.resource.departement_code,
        },
        "start": found.starts_at,
        "end": found.ends_at,
        "status": found.status.value,
        "status_label": str(found.status.label),
        "purpose": found.purpose or "",
        "kit_booking_id": found.kit_booking_id,
        "created_at": found.created_at,
        "url": link("bookings.detail", booking_id=found.id),
    }
    if phase is not None:
        data["phase"] = phase
    if member:
        data["member"] = {
            "id": found.user.id,
            "display_name": found.user.display_name,
            "email": found.user.email,
            "phone": found.user.phone,
        }
    return data


def kit_booking(found: KitBooking, items: list[Booking]) -> dict[str, Any]:
    return {
        "id": found.id,
        "kit": {"id": found.kit.id, "name": found.kit.name},
        "created_at": found.created_at,
        "bookings": [booking(item) for item in items],
        "url": link("kits.booking_detail", kit_booking_id=found.id),
    }
