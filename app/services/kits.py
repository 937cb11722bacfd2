"""Kits: what a live needs (a camera, a microphone, a light, a tripod), booked as one.

An admin defines a kit as lines, each a given item or "N units of category X", optionally
kept to one département. Booking a kit books every line in the caller's unit of work, all
or nothing: each item goes through `booking.create` (rules, hours, the no-overlap check and
the database's guarantee), units of a category are picked nearest first, each in a
savepoint so that a unit taken meanwhile is skipped for the next one. When a line cannot be
filled, every booking made for the kit is undone and the refusal names the line.

Concurrency: every unit a kit booking may touch is locked up front, in id order, so that
two kit bookings never wait for each other in a cycle (PostgreSQL); a single-item booking
locks one row and cannot close a cycle either. On SQLite the unit of work already holds
the write lock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from app.db import DbSession, is_postgres, lock_all, savepoint
from app.i18n import format_datetime
from app.models import Booking, Category, Departement, Kit, KitBooking, KitLine, Resource, User
from app.services import audit, booking, geography
from app.services.availability import free_between_clause
from app.services.catalogue import ResourceFilter, search, slugify
from app.services.context import ServiceContext
from app.services.errors import Conflict, DomainError, Forbidden, NotFound, RuleViolation

MAX_LINES = 8
RESERVED_SLUGS = frozenset({"admin", "bookings"})
MAX_QUANTITY = 20
# How many candidate starts are tried when looking for the next time the whole kit is free.
SUGGESTION_ROUNDS = 30


@dataclass(frozen=True)
class LineSpec:
    """A line as an admin writes it: a given item, or `quantity` units of a category."""

    resource_id: int | None = None
    category_id: int | None = None
    quantity: int = 1
    # The line's number as the admin sees it on the form (blank lines skipped keep theirs).
    number: int | None = None


# Reading ---------------------------------------------------------------------------------------


def get(session: DbSession, kit_id: int) -> Kit:
    kit = session.get(Kit, kit_id)
    if kit is None:
        raise NotFound(_("Ce kit n'existe pas."))
    return kit


def by_slug(session: DbSession, slug: str) -> Kit:
    kit = session.scalar(select(Kit).where(Kit.slug == slug))
    if kit is None or kit.retired_at is not None:
        raise NotFound(_("Ce kit n'existe pas."))
    return kit


def listed(session: DbSession, *, include_retired: bool = False) -> list[Kit]:
    query = select(Kit).order_by(Kit.name, Kit.id)
    if not include_retired:
        query = query.where(Kit.retired_at.is_(None))
    return list(session.scalars(query).unique())


def get_booking(session: DbSession, kit_booking_id: int) -> KitBooking:
    found = session.get(KitBooking, kit_booking_id)
    if found is None:
        raise NotFound(_("Cette réservation de kit n'existe pas."))
    return found


def bookings_of(session: DbSession, kit_booking: KitBooking) -> list[Booking]:
    """The items' bookings of one kit booking, in the order of the kit's lines (then by id)."""
    return list(
        session.scalars(select(Booking).where(Booking.kit_booking_id == kit_booking.id).order_by(Booking.id)).unique()
    )


def visible(session: DbSession, ctx: ServiceContext, kit_booking_id: int) -> KitBooking:
    """A kit booking's page: its holder, the hosts of one of its items, admins."""
    found = get_booking(session, kit_booking_id)
    actor = ctx.user
    if actor.id != found.user_id and not any(
        booking.can_manage(actor, b.resource) for b in bookings_of(session, found)
    ):
        raise Forbidden(_("Ce n'est pas votre réservation."))
    return found


def item_counts(session: DbSession, kit_booking_ids: Iterable[int]) -> dict[int, int]:
    """How many item bookings each kit booking holds (for the desk's "Kit « … » — n objets")."""
    ids = set(kit_booking_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Booking.kit_booking_id, func.count())
        .where(Booking.kit_booking_id.in_(ids))
        .group_by(Booking.kit_booking_id)
    )
    return {kit_booking_id: count for kit_booking_id, count in rows.all() if kit_booking_id is not None}


def describe_line(line: KitLine | LineSpec, session: DbSession | None = None) -> str:
    """« Caméra Sony » for an item, « 2 × Micro » for units of a category."""
    resource = getattr(line, "resource", None)
    category = getattr(line, "category", None)
    if session is not None and isinstance(line, LineSpec):
        resource = session.get(Resource, line.resource_id) if line.resource_id else None
        category = session.get(Category, line.category_id) if line.category_id else None
    if resource is not None:
        return resource.name
    name = category.name if category is not None else "?"
    return _("%(num)d × %(category)s", num=line.quantity, category=name) if line.quantity > 1 else name


# Defining --------------------------------------------------------------------------------------


def _units_of(session: DbSession, category_id: int, departement_code: str | None) -> list[Resource]:
    return list(
        session.scalars(
            search(session, ResourceFilter(category_id=category_id, departement_code=departement_code))
        ).unique()
    )


def _check_lines(session: DbSession, lines: list[LineSpec], departement: Departement | None) -> None:
    """Every line can be filled some day: the item exists (and is kept in the kit's
    département when it has one), the category has enough units."""
    if not lines:
        raise RuleViolation(_("Un kit a besoin d'au moins une ligne."), field="lines")
    if len(lines) > MAX_LINES:
        raise RuleViolation(_("Un kit a %(num)d lignes au plus.", num=MAX_LINES), field="lines")
    code = departement.code if departement is not None else None
    where = _(" dans le département %(place)s", place=departement.label) if departement is not None else ""
    given: set[int] = set()
    wanted: dict[int, int] = defaultdict(int)
    for index, line in enumerate(lines, start=1):
        number = line.number or index
        if (line.resource_id is None) == (line.category_id is None):
            raise RuleViolation(
                _("Ligne %(n)d : choisissez un objet, ou une catégorie et un nombre.", n=number), field="lines"
            )
        if line.resource_id is not None:
            resource = session.get(Resource, line.resource_id)
            if resource is None or resource.is_retired or resource.category.retired_at is not None:
                raise RuleViolation(_("Ligne %(n)d : cet objet n'est plus réservable.", n=number), field="lines")
            if code is not None and resource.departement_code != code:
                raise RuleViolation(
                    _(
                        "Ligne %(n)d : %(name)s est gardé hors du département du kit (%(place)s).",
                        n=number,
                        name=resource.name,
                        place=resource.departement.label,
                    ),
                    field="lines",
                )
            if resource.id in given:
                raise RuleViolation(
                    _("Ligne %(n)d : %(name)s figure déjà dans le kit.", n=number, name=resource.name), field="lines"
                )
            given.add(resource.id)
            continue
        assert line.category_id is not None
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise RuleViolation(
                _("Ligne %(n)d : un nombre entre 1 et %(max)d.", n=number, max=MAX_QUANTITY), field="lines"
            )
        category = session.get(Category, line.category_id)
        if category is None or category.retired_at is not None:
            raise RuleViolation(_("Ligne %(n)d : cette catégorie n'existe plus.", n=number), field="lines")
        wanted[category.id] += line.quantity
    for category_id, quantity in wanted.items():
        category = session.get(Category, category_id)
        assert category is not None
        # A unit named on an item line is not also one of the category's N units.
        units = [u for u in _units_of(session, category_id, code) if u.id not in given]
        if not units:
            raise RuleViolation(
                _(
                    "« %(category)s » n'a aucun exemplaire%(where)s : ce kit ne pourrait jamais être réservé.",
                    category=category.name,
                    where=where,
                ),
                field="lines",
            )
        if len(units) < quantity:
            raise RuleViolation(
                ngettext(
                    "« %(category)s » : %(asked)d demandés, mais seulement %(num)d exemplaire%(where)s.",
                    "« %(category)s » : %(asked)d demandés, mais seulement %(num)d exemplaires%(where)s.",
                    len(units),
                    category=category.name,
                    asked=quantity,
                    where=where,
                ),
                field="lines",
            )


def save(
    session: DbSession,
    ctx: ServiceContext,
    *,
    kit: Kit | None,
    name: str,
    description: str,
    departement_code: str | None,
    lines: list[LineSpec],
) -> Kit:
    """Create or redefine a kit (admins only). The slug is made from the name at creation and
    kept afterwards, so that links and guide markers keep working after a rename."""
    ctx.require_admin()
    name = name.strip()
    if not name:
        raise RuleViolation(_("Donnez un nom au kit."), field="name")
    departement = None
    if departement_code:
        departement = session.get(Departement, departement_code)
        if departement is None:
            raise RuleViolation(_("Département inconnu."), field="departement_code")
    _check_lines(session, lines, departement)
    if kit is None:
        slug = slugify(name)
        if slug in RESERVED_SLUGS:
            slug = f"{slug}-kit"  # /kits/admin and /kits/bookings are pages, not kits
        if session.scalar(select(Kit.id).where(Kit.slug == slug)) is not None:
            raise Conflict(_("Un kit porte déjà ce nom."), field="name")
        kit = Kit(slug=slug, name=name, description=description.strip(), created_at=ctx.now)
        session.add(kit)
        action = "create"
    else:
        kit.name, kit.description = name, description.strip()
        kit.lines.clear()
        session.flush()  # the old lines go before the new ones take their positions
        action = "update"
    kit.departement_code = departement.code if departement is not None else None
    kit.lines.extend(
        KitLine(
            position=position,
            resource_id=line.resource_id,
            category_id=None if line.resource_id is not None else line.category_id,
            quantity=1 if line.resource_id is not None else line.quantity,
        )
        for position, line in enumerate(lines)
    )
    try:
        with savepoint(session):
            session.flush()
    except IntegrityError as exc:  # another admin created a kit of that name meanwhile
        raise Conflict(_("Un kit porte déjà ce nom."), field="name") from exc
    audit.record(
        session,
        ctx,
        subject_type="kit",
        subject_id=kit.id,
        action=action,
        note="; ".join(describe_line(line, session) for line in lines),
    )
    return kit


def set_retired(session: DbSession, ctx: ServiceContext, *, kit: Kit, retired: bool) -> None:
    """A retired kit is no longer offered; its past bookings stay."""
    ctx.require_admin()
    kit.retired_at = ctx.now if retired else None
    session.flush()
    audit.record(session, ctx, subject_type="kit", subject_id=kit.id, action="retire" if retired else "reinstate")


# Booking ---------------------------------------------------------------------------------------


class _LineMissing(Exception):
    def __init__(self, line: KitLine, reason: DomainError | None):
        super().__init__(describe_line(line))
        self.line = line
        self.reason = reason


def _home(ctx: ServiceContext, kit: Kit) -> str:
    return kit.departement_code or ctx.user.departement_code or ""


def _lock_units(session: DbSession, kit: Kit) -> None:
    """Lock every unit the kit may take, in id order, before booking any (see the module's note)."""
    if not is_postgres(session):
        return  # the unit of work already holds SQLite's write lock: no need to find the units
    ids: set[int] = set()
    for line in kit.lines:
        if line.resource_id is not None:
            ids.add(line.resource_id)
        elif line.category_id is not None:
            ids.update(u.id for u in _units_of(session, line.category_id, kit.departement_code))
    lock_all(session, Resource, ids)


def _nearest_free(
    session: DbSession, ctx: ServiceContext, kit: Kit, line: KitLine, starts_at: datetime, ends_at: datetime
) -> list[Resource]:
    assert line.category_id is not None
    named = {other.resource_id for other in kit.lines if other.resource_id is not None}
    free = [
        unit
        for unit in session.scalars(
            search(
                session,
                ResourceFilter(
                    category_id=line.category_id,
                    departement_code=kit.departement_code,
                    free_from=starts_at,
                    free_until=ends_at,
                ),
            )
        ).unique()
        if unit.id not in named
    ]
    nearest = geography.nearest_first(_home(ctx, kit), {u.departement_code for u in free})
    order = {code: rank for rank, code in enumerate(nearest)}
    return sorted(free, key=lambda unit: (order[unit.departement_code], unit.id))


def _book_lines(
    session: DbSession,
    ctx: ServiceContext,
    *,
    kit: Kit,
    kit_booking: KitBooking,
    starts_at: datetime,
    ends_at: datetime,
    purpose: str,
) -> list[Booking]:
    made: list[Booking] = []

    def take(resource: Resource) -> Booking:
        one = booking.create(session, ctx, resource=resource, starts_at=starts_at, ends_at=ends_at, purpose=purpose)
        # Not `touch`: the hosts' emailed answer links are bound to the booking's sequence.
        one.kit_booking_id = kit_booking.id
        made.append(one)
        return one

    for line in kit.lines:
        if line.resource is not None:
            try:
                with savepoint(session):
                    take(line.resource)
            except (Conflict, RuleViolation) as refused:
                raise _LineMissing(line, refused) from refused
            continue
        taken = 0
        last: DomainError | None = None
        for unit in _nearest_free(session, ctx, kit, line, starts_at, ends_at):
            if taken == line.quantity:
                break
            try:
                with savepoint(session):
                    take(unit)
                taken += 1
            except (Conflict, RuleViolation) as refused:
                last = refused  # taken meanwhile, or outside its point's hours: the next unit
        if taken < line.quantity:
            raise _LineMissing(line, last)
    session.flush()
    return made


def book(
    session: DbSession, ctx: ServiceContext, *, kit: Kit, starts_at: datetime, ends_at: datetime, purpose: str
) -> KitBooking:
    """Book every line of the kit for the acting member, all or nothing, in the caller's unit of work."""
    actor = ctx.user
    if kit.retired_at is not None:
        raise RuleViolation(_("Ce kit n'est plus proposé."))
    if ends_at <= starts_at:
        raise RuleViolation(_("La fin doit venir après le début."), field="ends_at")
    if not kit.lines:
        raise RuleViolation(_("Ce kit est vide."))
    _lock_units(session, kit)
    try:
        with savepoint(session):
            kit_booking = KitBooking(kit_id=kit.id, user_id=actor.id, created_at=ctx.now)
            session.add(kit_booking)
            session.flush()
            made = _book_lines(
                session, ctx, kit=kit, kit_booking=kit_booking, starts_at=starts_at, ends_at=ends_at, purpose=purpose
            )
    except _LineMissing as missing:
        # The savepoint is undone: the kit's own partial bookings no longer hide the next slot.
        raise _refusal(session, ctx, kit, missing, starts_at, ends_at) from None
    audit.record(
        session,
        ctx,
        subject_type="kit_booking",
        subject_id=kit_booking.id,
        action="create",
        note=", ".join(f"#{b.id}" for b in made),
    )
    return kit_booking


def _refusal(
    session: DbSession, ctx: ServiceContext, kit: Kit, missing: _LineMissing, starts_at: datetime, ends_at: datetime
) -> DomainError:
    line = describe_line(missing.line)
    reason = missing.reason
    if isinstance(reason, RuleViolation) and reason.suggestion is None:
        # A rule (too long, too late, the member's limit…): another date would not change it.
        return RuleViolation(
            _("Kit « %(kit)s », « %(line)s » : %(reason)s", kit=kit.name, line=line, reason=reason.message),
            field=reason.field,
        )
    message = _(
        "Le kit « %(kit)s » ne peut pas être réservé sur cette période : « %(line)s » n'est pas disponible. "
        "Rien n'a été réservé.",
        kit=kit.name,
        line=line,
    )
    duration = ends_at - starts_at
    free = next_whole_kit(session, ctx, kit=kit, duration=duration, after=max(starts_at, ctx.now))
    if free is None:
        return Conflict(message, field="starts_at")
    message += " " + _("Le kit entier est libre à partir du %(when)s.", when=format_datetime(free, ctx.zone))
    return Conflict(message, field="starts_at", suggestion=(free, free + duration))


def _line_units(session: DbSession, kit: Kit, line: KitLine) -> list[Resource]:
    if line.resource is not None:
        return [line.resource]
    assert line.category_id is not None
    named = {other.resource_id for other in kit.lines if other.resource_id is not None}
    return [u for u in _units_of(session, line.category_id, kit.departement_code) if u.id not in named]


def next_whole_kit(
    session: DbSession, ctx: ServiceContext, *, kit: Kit, duration: timedelta, after: datetime
) -> datetime | None:
    """The first start at or after `after` when every line has its units free (each by
    `booking.next_slot`: hours, buffers, closures); None beyond the horizon or after a few rounds.

    Each round asks every line for its earliest start from the current candidate; the latest of
    those is the next candidate (no start before it can satisfy every line), until they agree."""
    lines = [(line, _line_units(session, kit, line)) for line in kit.lines]
    candidate = after
    for _round in range(SUGGESTION_ROUNDS):
        latest = candidate
        for line, units in lines:
            starts = sorted(
                s
                for s in (booking.next_slot(session, ctx, u, duration=duration, after=candidate) for u in units)
                if s is not None
            )
            if len(starts) < line.quantity:
                return None
            latest = max(latest, starts[line.quantity - 1])
        if latest == candidate:
            return candidate
        candidate = latest
    return None


def _require_holder_or_manager(ctx: ServiceContext, kit_booking: KitBooking, items: list[Booking]) -> User:
    actor = ctx.user
    if actor.id != kit_booking.user_id and not all(booking.can_manage(actor, b.resource) for b in items):
        raise Forbidden(_("Ce n'est pas votre réservation."))
    return actor


def _lock_items(session: DbSession, items: list[Booking]) -> None:
    lock_all(session, Resource, {b.resource_id for b in items})


def _live(items: list[Booking], now: datetime) -> list[Booking]:
    """The items still held and not over: what cancelling or moving the kit acts on."""
    return [b for b in items if b.is_holding and not booking.is_over(b, now)]


def cancel(
    session: DbSession, ctx: ServiceContext, *, kit_booking: KitBooking, reason: str | None = None
) -> list[Booking]:
    """Cancel every item of the kit still held, all or nothing; returns the bookings cancelled."""
    items = bookings_of(session, kit_booking)
    _require_holder_or_manager(ctx, kit_booking, items)
    live = _live(items, ctx.now)
    if not live:
        raise Conflict(_("Plus rien à annuler : ce kit est terminé ou déjà annulé."))
    stuck = [b for b in live if not b.can("cancel")]
    if stuck:
        raise Conflict(
            _(
                "Impossible d'annuler le kit : %(name)s est « %(status)s ».",
                name=stuck[0].resource.name,
                status=stuck[0].status.label,
            )
        )
    _lock_items(session, live)
    done = [booking.cancel(session, ctx, booking=b, reason=reason) for b in live]
    audit.record(session, ctx, subject_type="kit_booking", subject_id=kit_booking.id, action="cancel", note=reason)
    return done


def change_dates(
    session: DbSession, ctx: ServiceContext, *, kit_booking: KitBooking, starts_at: datetime, ends_at: datetime
) -> list[Booking]:
    """Move every item of the kit still held to new dates, keeping the same units, all or nothing."""
    items = bookings_of(session, kit_booking)
    _require_holder_or_manager(ctx, kit_booking, items)
    live = _live(items, ctx.now)
    if not live:
        raise Conflict(_("Plus rien à déplacer : ce kit est terminé ou annulé."))
    _lock_items(session, live)
    moved = []
    for item in live:
        try:
            moved.append(booking.change_dates(session, ctx, booking=item, starts_at=starts_at, ends_at=ends_at))
        except (Conflict, RuleViolation) as refused:
            raise type(refused)(
                _(
                    "%(name)s : %(reason)s Rien n'a été changé.",
                    name=item.resource.name,
                    reason=refused.message,
                ),
                field=refused.field,
                suggestion=None,
            ) from refused
    audit.record(
        session,
        ctx,
        subject_type="kit_booking",
        subject_id=kit_booking.id,
        action="change",
        note=f"{starts_at.isoformat()} → {ends_at.isoformat()}",
    )
    return moved


# Counting --------------------------------------------------------------------------------------


def free_count(session: DbSession, *, kit: Kit, starts_at: datetime, ends_at: datetime) -> int:
    """How many whole kits could be booked for the period: per category, the free units shared
    by its lines; per item line, 0 or 1. Opening hours are not weighed (a count, not a promise)."""
    return free_counts(session, kits=[kit], starts_at=starts_at, ends_at=ends_at)[kit.id]


def free_counts(session: DbSession, *, kits: Iterable[Kit], starts_at: datetime, ends_at: datetime) -> dict[int, int]:
    """`free_count` of each kit, from one query: every free unit any of the kits could take."""
    kits = list(kits)
    counts = {kit.id: 0 for kit in kits}
    if ends_at <= starts_at:
        return counts
    named = {line.resource_id for kit in kits for line in kit.lines if line.resource_id is not None}
    categories = {line.category_id for kit in kits for line in kit.lines if line.category_id is not None}
    if not named and not categories:
        return counts
    free = session.execute(
        select(Resource.id, Resource.category_id, Resource.departement_code, Category.retired_at)
        .join(Category, Category.id == Resource.category_id)
        .where(
            Resource.retired_at.is_(None),
            or_(Resource.id.in_(named), Resource.category_id.in_(categories)),
            free_between_clause(session, starts_at, ends_at),
        )
    ).all()
    free_ids = {row.id for row in free}
    for kit in kits:
        counts[kit.id] = _whole_kits(kit, free_ids, free)
    return counts


def _whole_kits(kit: Kit, free_ids: set[int], free: Sequence[Any]) -> int:
    """How many times the kit's lines can all be filled from the free units (as `search` finds
    them: units of a retired category do not count, nor units outside the kit's département)."""
    if not kit.lines:
        return 0
    named = {line.resource_id for line in kit.lines if line.resource_id is not None}
    if any(resource_id not in free_ids for resource_id in named):
        return 0
    wanted: dict[int, int] = defaultdict(int)
    for line in kit.lines:
        if line.category_id is not None:
            wanted[line.category_id] += line.quantity
    whole: int | None = 1 if named else None
    for category_id, quantity in wanted.items():
        pool = sum(
            1
            for unit in free
            if unit.category_id == category_id
            and unit.retired_at is None
            and unit.id not in named
            and (kit.departement_code is None or unit.departement_code == kit.departement_code)
        )
        here = pool // quantity
        whole = here if whole is None else min(whole, here)
    return whole or 0
