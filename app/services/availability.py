"""When a resource is busy: holding bookings (with their turnaround buffer), blackouts and
out-of-service periods, read by window — never by the resource's whole history.

Holding bookings of one resource never overlap (the database guarantees it), which gives
each database an index that finds what meets a window [start, end) without reading older rows:

- PostgreSQL: `tstzrange(starts_at, held_until, '[)') && tstzrange(start, end, '[)')` with
  `resource_id = …` and the holding states, the very shape of the exclusion constraint
  ex_bookings_no_overlap, whose GiST index answers it.
- SQLite: a range on ix_bookings_resource_window (resource_id, starts_at, held_until), from
  the start of the last holding booking that began at or before `start` (only that one can
  still run at `start`: every earlier one ended before it began) up to `end`.

Each read is one statement: a resource's month, a département's week, the conflict check
of a booking, and "free between" as a clause of the catalogue's query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Interval,
    SQLColumnExpression,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import aliased

from app.db import DbSession, is_postgres
from app.models import HOLDING_STATUSES, Blackout, Booking, Category, OutOfService, Resource, User
from app.models.types import UTCDateTime


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


def _instant(value: datetime | ColumnElement[Any]) -> ColumnElement[Any]:
    return literal(value, UTCDateTime()) if isinstance(value, datetime) else value


def _holding(booking: Any) -> ColumnElement[bool]:
    """`booking.is_holding`, with the states written into the statement rather than bound:
    PostgreSQL uses the partial GiST index only when it can see that the query's states are
    those of the index, which a prepared statement's parameters would hide from it."""
    states: BindParameter[list[str]] = bindparam(
        None, [s.value for s in HOLDING_STATUSES], expanding=True, literal_execute=True
    )
    return booking.status.in_(states)


def _plus_hours(postgres: bool, instant: datetime, hours: SQLColumnExpression[int]) -> ColumnElement[Any]:
    """`instant` plus a number of hours read from a row (a category's buffer), in SQL."""
    if postgres:
        return _instant(instant) + hours * literal_column("INTERVAL '1 hour'", Interval())
    # SQLite keeps an instant as fixed-width text, "YYYY-MM-DD HH:MM:SS.ffffff": strftime's
    # milliseconds are padded back to that width so that text order stays time order (what
    # is below the millisecond is dropped: periods are entered to the minute).
    shifted = func.strftime("%Y-%m-%d %H:%M:%f", _instant(instant), func.printf("+%d hours", hours), type_=String)
    return shifted.concat("000")


# Built once: making an alias is among the dearest steps of building a statement.
_EARLIER = aliased(Booking, name="earlier_booking")
_BUFFER_CATEGORY = aliased(Category, name="buffer_category")
_STORE_CATEGORY = aliased(Category, name="store_category")


def _holding_in_window(
    postgres: bool,
    resource_id: SQLColumnExpression[int],
    start: datetime | ColumnElement[Any],
    end: datetime | ColumnElement[Any],
) -> ColumnElement[bool]:
    """Conditions on Booking: a holding booking of the resource that meets [start, end), its
    buffer included. `end` may be an SQL expression of the outer row (a category's buffer)."""
    if postgres:
        window = func.tstzrange(_instant(start), _instant(end), text("'[)'"))
        held = func.tstzrange(Booking.starts_at, Booking.held_until, text("'[)'"))
        return and_(Booking.resource_id == resource_id, _holding(Booking), held.bool_op("&&")(window))
    last_start_before = (
        select(_EARLIER.starts_at)
        .where(_EARLIER.resource_id == resource_id, _holding(_EARLIER), _EARLIER.starts_at <= _instant(start))
        .order_by(_EARLIER.starts_at.desc())
        .limit(1)
        .correlate_except(_EARLIER)
        .scalar_subquery()
    )
    return and_(
        Booking.resource_id == resource_id,
        _holding(Booking),
        Booking.starts_at >= func.coalesce(last_start_before, _instant(start)),
        Booking.starts_at < _instant(end),
        Booking.held_until > _instant(start),
    )


def _closing(
    resource: Any, category: Any, start: datetime | ColumnElement[Any], end: datetime | ColumnElement[Any]
) -> ColumnElement[bool]:
    """A blackout of the resource itself, or of its département's store — which closes what is
    kept there, never the online accounts that merely belong to the département."""
    return and_(
        or_(
            Blackout.resource_id == resource.id,
            and_(Blackout.departement_code == resource.departement_code, category.needs_pickup.is_(True)),
        ),
        Blackout.starts_at < _instant(end),
        Blackout.ends_at > _instant(start),
    )


def _out_of_service(
    resource_id: SQLColumnExpression[int], start: datetime | ColumnElement[Any], end: datetime | ColumnElement[Any]
) -> ColumnElement[bool]:
    return and_(
        OutOfService.resource_id == resource_id,
        OutOfService.starts_at < _instant(end),
        or_(OutOfService.ends_at.is_(None), OutOfService.ends_at > _instant(start)),
    )


@cache
def _periods_statement(postgres: bool, with_names: bool) -> Any:
    """Every busy period of some resources that meets a window, in one statement: each row
    names its resource and kind; an open out-of-service period runs to the end of the window.

    Built once per shape and run with its parameters (resource_ids, start, end, exclude), so
    that a conflict check costs one cached statement."""
    start = bindparam("start", type_=UTCDateTime())
    end = bindparam("end", type_=UTCDateTime())
    resource_ids: BindParameter[list[int]] = bindparam("resource_ids", expanding=True)
    bookings = (
        select(
            Resource.id.label("resource_id"),
            literal("booking", String).label("kind"),
            Booking.starts_at,
            Booking.ends_at,
            Booking.held_until,
            Booking.id.label("booking_id"),
            Booking.user_id.label("owner_id"),
            Booking.status,
            null().label("reason"),
            (User.display_name if with_names else null()).label("holder_name"),
        )
        .select_from(Resource)
        .join(Booking, _holding_in_window(postgres, Resource.id, start, end))
        # 0 when nothing is left out: ids start at 1.
        .where(Resource.id.in_(resource_ids), Booking.id != bindparam("exclude"))
    )
    if with_names:
        bookings = bookings.join(User, User.id == Booking.user_id)
    closures = (
        select(
            Resource.id,
            literal("blackout", String),
            Blackout.starts_at,
            Blackout.ends_at,
            Blackout.ends_at,
            null(),
            null(),
            null(),
            Blackout.reason,
            null(),
        )
        .select_from(Resource)
        .join(_STORE_CATEGORY, _STORE_CATEGORY.id == Resource.category_id)
        .join(Blackout, _closing(Resource, _STORE_CATEGORY, start, end))
        .where(Resource.id.in_(resource_ids))
    )
    open_until = func.coalesce(OutOfService.ends_at, end)
    broken = select(
        OutOfService.resource_id,
        literal("out_of_service", String),
        OutOfService.starts_at,
        open_until,
        open_until,
        null(),
        null(),
        null(),
        OutOfService.reason,
        null(),
    ).where(OutOfService.resource_id.in_(resource_ids), _out_of_service(OutOfService.resource_id, start, end))
    return union_all(bookings, closures, broken)


def _read_periods(
    session: DbSession,
    resource_ids: list[int],
    start: datetime,
    end: datetime,
    *,
    exclude_booking_id: int | None = None,
    with_names: bool = False,
) -> dict[int, list[BusyPeriod]]:
    result: dict[int, list[BusyPeriod]] = {resource_id: [] for resource_id in resource_ids}
    if not resource_ids:
        return result
    rows = session.execute(
        _periods_statement(is_postgres(session), with_names),
        {"resource_ids": resource_ids, "start": start, "end": end, "exclude": exclude_booking_id or 0},
    )
    for row in rows:
        result[row.resource_id].append(
            BusyPeriod(
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                held_until=row.held_until,
                kind=row.kind,
                booking_id=row.booking_id,
                owner_id=row.owner_id,
                status=row.status,
                reason=row.reason,
                holder_name=row.holder_name,
            )
        )
    for periods in result.values():
        periods.sort(key=lambda p: (p.starts_at, p.held_until))
    return result


def busy_periods(
    session: DbSession, resource: Resource, start: datetime, end: datetime, *, exclude_booking_id: int | None = None
) -> list[BusyPeriod]:
    """What keeps one resource busy over [start, end), in time order (one query)."""
    return _read_periods(session, [resource.id], start, end, exclude_booking_id=exclude_booking_id)[resource.id]


def busy_periods_by_resource(
    session: DbSession, resources: list[Resource], start: datetime, end: datetime, *, with_names: bool = False
) -> dict[int, list[BusyPeriod]]:
    """Busy periods of many resources in one query (a département's week view)."""
    return _read_periods(session, [r.id for r in resources], start, end, with_names=with_names)


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
    """What stands in the way of holding the resource over [starts_at, held_until) (one query)."""
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
    """A WHERE clause on Resource: nothing holds it over [start, end + its category's buffer),
    no blackout closes it and it is in service over [start, end).

    The buffer is read per row in SQL, so the clause adds no query of its own; each part is
    an index look-up per resource (see the module's note)."""
    postgres = is_postgres(session)
    window_end = _plus_hours(postgres, end, _BUFFER_CATEGORY.buffer_hours)
    # The first holder found, per resource: a scalar subquery, which PostgreSQL runs for each
    # resource as a probe of the GiST index on (resource, range). As a NOT EXISTS it would be
    # turned into an anti-join, fed by a scan of the range alone, which reads most of the index.
    holder = (
        select(Booking.id)
        .where(
            _BUFFER_CATEGORY.id == Resource.category_id,
            _holding_in_window(postgres, Resource.id, start, window_end),
        )
        .limit(1)
        .scalar_subquery()
    )
    closed = exists().where(_STORE_CATEGORY.id == Resource.category_id, _closing(Resource, _STORE_CATEGORY, start, end))
    broken = exists().where(_out_of_service(Resource.id, start, end))
    return and_(holder.is_(None), ~closed, ~broken)
