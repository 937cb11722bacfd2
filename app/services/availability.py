"""When a resource is busy: holding bookings (with their turnaround buffer) and blackouts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select

from app.db import DbSession
from app.models import Blackout, Booking, Category, OutOfService, Resource, User


@dataclass(frozen=True)
class BusyPeriod:
    starts_at: datetime
    ends_at: datetime
    # End of the turnaround buffer; equals ends_at for blackouts and buffer-less bookings.
    held_until: datetime
    kind: str  # "booking", "blackout" or "out_of_service"
    booking_id: int | None = None
    owner_id: int | None = None
    status: str | None = None
    reason: str | None = None
    # Who holds it: filled only for viewers allowed to know (hosts, admins).
    holder_name: str | None = None

    def overlaps(self, starts_at: datetime, held_until: datetime) -> bool:
        return self.starts_at < held_until and starts_at < self.held_until


def _holding_bookings(resource_ids: Iterable[int], start: datetime, end: datetime):
    return select(Booking).where(
        Booking.resource_id.in_(list(resource_ids)),
        Booking.is_holding,
        Booking.starts_at < end,
        Booking.held_until > start,
    )


def _closes(blackout: Blackout, resource: Resource) -> bool:
    """A closure of the resource itself, or of its département's store — which closes what is
    kept there, never the online accounts that merely belong to the département."""
    if blackout.resource_id is not None:
        return blackout.resource_id == resource.id
    return blackout.departement_code == resource.departement_code and resource.category.needs_pickup


def _blackouts(resource: Resource, start: datetime, end: datetime) -> Select[Blackout]:
    query = select(Blackout).where(Blackout.starts_at < end, Blackout.ends_at > start)
    if resource.category.needs_pickup:
        return query.where(
            or_(Blackout.resource_id == resource.id, Blackout.departement_code == resource.departement_code)
        )
    return query.where(Blackout.resource_id == resource.id)


def _out_of_service(resource_ids: Iterable[int], start: datetime, end: datetime) -> Select[OutOfService]:
    return select(OutOfService).where(
        OutOfService.resource_id.in_(list(resource_ids)),
        OutOfService.starts_at < end,
        or_(OutOfService.ends_at.is_(None), OutOfService.ends_at > start),
    )


def _out_of_service_period(period: OutOfService, window_end: datetime) -> BusyPeriod:
    # An open period runs to the end of whatever window is looked at.
    ends_at = period.ends_at or window_end
    return BusyPeriod(period.starts_at, ends_at, ends_at, "out_of_service", reason=period.reason)


def busy_periods(
    session: DbSession, resource: Resource, start: datetime, end: datetime, *, exclude_booking_id: int | None = None
) -> list[BusyPeriod]:
    periods = [
        BusyPeriod(
            starts_at=b.starts_at,
            ends_at=b.ends_at,
            held_until=b.held_until,
            kind="booking",
            booking_id=b.id,
            owner_id=b.user_id,
            status=b.status,
        )
        for b in session.scalars(_holding_bookings([resource.id], start, end))
        if b.id != exclude_booking_id
    ]
    periods += [
        BusyPeriod(starts_at=x.starts_at, ends_at=x.ends_at, held_until=x.ends_at, kind="blackout", reason=x.reason)
        for x in session.scalars(_blackouts(resource, start, end))
    ]
    periods += [_out_of_service_period(x, end) for x in session.scalars(_out_of_service([resource.id], start, end))]
    return sorted(periods, key=lambda p: (p.starts_at, p.held_until))


def busy_periods_by_resource(
    session: DbSession, resources: list[Resource], start: datetime, end: datetime, *, with_names: bool = False
) -> dict[int, list[BusyPeriod]]:
    """Busy periods of many resources in two queries (a département's week view)."""
    result: dict[int, list[BusyPeriod]] = {r.id: [] for r in resources}
    if not resources:
        return result
    for b in session.scalars(_holding_bookings(result, start, end)).unique():
        result[b.resource_id].append(
            BusyPeriod(
                starts_at=b.starts_at,
                ends_at=b.ends_at,
                held_until=b.held_until,
                kind="booking",
                booking_id=b.id,
                owner_id=b.user_id,
                status=b.status,
                holder_name=b.user.display_name if with_names else None,
            )
        )
    codes = {r.departement_code for r in resources}
    closed = session.scalars(
        select(Blackout).where(
            or_(Blackout.resource_id.in_(list(result)), Blackout.departement_code.in_(codes)),
            Blackout.starts_at < end,
            Blackout.ends_at > start,
        )
    )
    for x in closed:
        period = BusyPeriod(x.starts_at, x.ends_at, x.ends_at, "blackout", reason=x.reason)
        for r in resources:
            if _closes(x, r):
                result[r.id].append(period)
    for o in session.scalars(_out_of_service(result, start, end)):
        result[o.resource_id].append(_out_of_service_period(o, end))
    for periods in result.values():
        periods.sort(key=lambda p: (p.starts_at, p.held_until))
    return result


def holders_visible_to(actor: User | None, departement_code: str) -> bool:
    """Who may see who holds what in a département's calendars: its hosts and admins; others see "busy"."""
    return actor is not None and actor.is_authenticated and (actor.is_admin or actor.hosts(departement_code))


def conflicts(
    session: DbSession,
    resource: Resource,
    starts_at: datetime,
    held_until: datetime,
    *,
    exclude_booking_id: int | None = None,
) -> list[BusyPeriod]:
    return [
        p
        for p in busy_periods(session, resource, starts_at, held_until, exclude_booking_id=exclude_booking_id)
        if p.overlaps(starts_at, held_until)
    ]


def next_free_slot(
    session: DbSession,
    resource: Resource,
    *,
    duration: timedelta,
    after: datetime,
    horizon: datetime,
    exclude_booking_id: int | None = None,
) -> datetime | None:
    """The earliest start at or after `after` where `duration` plus the buffer fits, before `horizon`."""
    need = duration + resource.category.buffer
    candidate = after
    for period in busy_periods(session, resource, after, horizon + need, exclude_booking_id=exclude_booking_id):
        if candidate + need <= period.starts_at:
            break
        candidate = max(candidate, period.held_until)
    return candidate if candidate <= horizon else None


def free_between_clause(session: DbSession, start: datetime, end: datetime) -> ColumnElement[bool]:
    """A WHERE clause on Resource: nothing holds it in [start, end + its category's buffer).

    Buffers differ by category, so the window is widened per category; there are few.
    """
    per_category = []
    for category_id, buffer_hours in session.execute(select(Category.id, Category.buffer_hours)):
        window_end = end + timedelta(hours=buffer_hours)
        per_category.append(
            and_(
                Resource.category_id == category_id,
                ~exists().where(
                    Booking.resource_id == Resource.id,
                    Booking.is_holding,
                    Booking.starts_at < window_end,
                    Booking.held_until > start,
                ),
            )
        )
    not_closed = ~exists().where(
        or_(
            Blackout.resource_id == Resource.id,
            and_(
                Blackout.departement_code == Resource.departement_code,
                Resource.category_id.in_(select(Category.id).where(Category.needs_pickup.is_(True))),
            ),
        ),
        Blackout.starts_at < end,
        Blackout.ends_at > start,
    )
    in_service = ~exists().where(
        OutOfService.resource_id == Resource.id,
        OutOfService.starts_at < end,
        or_(OutOfService.ends_at.is_(None), OutOfService.ends_at > start),
    )
    if not per_category:
        return false()
    return and_(or_(*per_category), not_closed, in_service)
