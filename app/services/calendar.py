"""Month grids for calendars: Monday-first weeks of local days, with busy periods cut per day.

Days are cut at local midnight in the given zone, so a day of 23 or 25 hours (the last
Sundays of March and October) is one day like any other, and a period is shown at the
wall-clock times people expect.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.services.availability import BusyPeriod


@dataclass(frozen=True)
class Segment:
    starts_at: datetime  # local
    ends_at: datetime  # local
    kind: str  # "booking", "buffer", "blackout"
    period: BusyPeriod
    mine: bool = False
    from_day_start: bool = False  # began on an earlier day
    to_day_end: bool = False  # goes on to a later day

    @property
    def whole_day(self) -> bool:
        return self.from_day_start and self.to_day_end


@dataclass
class Day:
    date: date
    in_month: bool
    is_today: bool
    segments: list[Segment] = field(default_factory=list)


def parse_month(value: str | None, today: date) -> tuple[int, int] | None:
    """`YYYY-MM` → (year, month); None when absent or not a real month (the caller says so)."""
    if not value:
        return today.year, today.month
    parts = value.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4 or len(parts[1]) != 2:
        return None
    year, month = int(parts[0]), int(parts[1])
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        return None
    return year, month


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def grid_days(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    last = date(year, month, _calendar.monthrange(year, month)[1])
    start = first - timedelta(days=first.weekday())
    end = last + timedelta(days=6 - last.weekday())
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def grid_bounds(year: int, month: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants (UTC) the grid covers, to query what falls in it."""
    days = grid_days(year, month)
    start = local_midnight(days[0], zone)
    end = local_midnight(days[-1] + timedelta(days=1), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _cut(
    period: BusyPeriod, kind: str, start: datetime, end: datetime, day_start, day_end, zone, mine
) -> Segment | None:
    lo, hi = max(start, day_start), min(end, day_end)
    if lo >= hi:
        return None
    return Segment(
        starts_at=lo.astimezone(zone),
        ends_at=hi.astimezone(zone),
        kind=kind,
        period=period,
        mine=mine,
        from_day_start=lo == day_start,
        to_day_end=hi == day_end,
    )


def day_segments(day: date, zone: ZoneInfo, periods: list[BusyPeriod], viewer_id: int | None = None) -> list[Segment]:
    """The parts of the periods that fall on one local day: booking, then its buffer; blackouts."""
    day_start = local_midnight(day, zone)
    day_end = local_midnight(day + timedelta(days=1), zone)
    segments = []
    for period in periods:
        mine = viewer_id is not None and period.owner_id == viewer_id
        parts = [("blackout" if period.kind == "blackout" else "booking", period.starts_at, period.ends_at)]
        if period.held_until > period.ends_at:
            parts.append(("buffer", period.ends_at, period.held_until))
        for kind, start, end in parts:
            segment = _cut(period, kind, start, end, day_start, day_end, zone, mine)
            if segment:
                segments.append(segment)
    return segments


def month_grid(
    year: int,
    month: int,
    zone: ZoneInfo,
    periods: list[BusyPeriod],
    *,
    today: date,
    viewer_id: int | None = None,
) -> list[list[Day]]:
    weeks: list[list[Day]] = []
    for index, day in enumerate(grid_days(year, month)):
        if index % 7 == 0:
            weeks.append([])
        weeks[-1].append(
            Day(
                date=day,
                in_month=day.month == month,
                is_today=day == today,
                segments=day_segments(day, zone, periods, viewer_id),
            )
        )
    return weeks


def week_start(value: str | None, today: date) -> date | None:
    """The Monday of the week holding `YYYY-MM-DD` (today when absent); None when not a date."""
    if not value:
        return today - timedelta(days=today.weekday())
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    if not 2000 <= day.year <= 2100:
        return None
    return day - timedelta(days=day.weekday())


def week_bounds(monday: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        local_midnight(monday, zone).astimezone(UTC),
        local_midnight(monday + timedelta(days=7), zone).astimezone(UTC),
    )
