"""Labels stuck on the items, and the "now" card their QR code opens.

A département's hosts print a sheet of labels (name, inventory code, QR code); a phone's
camera reading a label opens the item's "now" card: for its hosts, the loan under way or
the next one, with the desk's actions; for anyone else, the item's state, read-only.
The QR codes are drawn here, server-side, as inline SVG (segno), so the sheet prints as
it shows, with no script and no image request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import segno
from flask_babel import gettext as _
from sqlalchemy import select

from app.db import DbSession
from app.models import Booking, BookingStatus, Category, Departement, OutOfService, Resource
from app.services import booking as bookings
from app.services import maintenance
from app.services.context import ServiceContext
from app.services.errors import Forbidden, NotFound

S = BookingStatus
# Medium error correction: a label gets scratched and smudged in a kit bag.
QR_ERROR = "m"
# Sized by the stylesheet (no width or height written), crisp at any print resolution.
SVG_OPTIONS: dict[str, Any] = {"scale": 1, "border": 2, "omitsize": True, "svgclass": "qr", "lineclass": None}


def qr_svg(url: str) -> str:
    """The QR code of `url` as an inline <svg> element."""
    return str(segno.make(url, error=QR_ERROR).svg_inline(**SVG_OPTIONS))


@dataclass(frozen=True)
class Label:
    resource: Resource
    url: str
    svg: str


@dataclass(frozen=True)
class LabelSheet:
    departement: Departement
    labels: list[Label]


def sheet(
    session: DbSession, ctx: ServiceContext, *, departement_code: str, card_url: Callable[[Resource], str]
) -> LabelSheet:
    """One label per physical item kept in the département (retired ones left out), by inventory code.

    For the département's hosts and admins; `card_url` gives the address of an item's "now"
    card (the view knows the routes, the service does not).
    """
    actor = ctx.user
    departement = session.get(Departement, departement_code)
    if departement is None:
        raise NotFound(_("Ce département n'existe pas."))
    if not (actor.is_admin or actor.hosts(departement_code)):
        raise Forbidden(_("Seuls les hôtes de ce département et les administrateurs impriment ses étiquettes."))
    items = session.scalars(
        select(Resource)
        .join(Resource.category)
        .where(
            Resource.departement_code == departement_code,
            Resource.retired_at.is_(None),
            Category.retired_at.is_(None),
            Category.needs_pickup.is_(True),
        )
        .order_by(Resource.inventory_code, Resource.name, Resource.id)
    ).unique()
    labels = []
    for item in items:
        url = card_url(item)
        labels.append(Label(resource=item, url=url, svg=qr_svg(url)))
    return LabelSheet(departement=departement, labels=labels)


@dataclass(frozen=True)
class NowCard:
    resource: Resource
    # A host of the item's département (or an admin): sees who has it and acts.
    can_act: bool
    period: OutOfService | None
    # Someone holds the item at this moment (said to everyone, without saying who).
    busy_now: bool
    # For those who act only: the loan under way, else the next booking not yet handed over.
    out: Booking | None = None
    next: Booking | None = None


def now_card(session: DbSession, ctx: ServiceContext, *, resource: Resource) -> NowCard:
    """What a label's QR code opens, for anyone logged in; the bookings only for the item's hosts."""
    actor = ctx.user
    now = ctx.now
    out = session.scalars(
        select(Booking)
        .where(Booking.resource_id == resource.id, Booking.status == S.PICKED_UP)
        .order_by(Booking.starts_at.desc())
        .limit(1)
    ).first()
    upcoming = session.scalars(
        select(Booking)
        .where(
            Booking.resource_id == resource.id,
            Booking.status.in_((S.REQUESTED, S.APPROVED)),
            Booking.ends_at > now,
        )
        .order_by(Booking.starts_at, Booking.id)
        .limit(1)
    ).first()
    can_act = bookings.can_manage(actor, resource)
    return NowCard(
        resource=resource,
        can_act=can_act,
        period=maintenance.open_period(session, resource.id),
        busy_now=out is not None or (upcoming is not None and upcoming.starts_at <= now),
        out=out if can_act else None,
        next=upcoming if can_act else None,
    )
