"""Importing partners' calendars into the agenda.

A file is read whole before anything is stored: a broken, huge, non-UTF-8 or hostile file
gives a report and changes nothing. Events are keyed by the source's UID (and, for a
recurring event, the start of each occurrence), so that a second import updates instead
of duplicating, and an event gone from the source is marked cancelled, never deleted.

Reading is as forgiving as the calendar clients people use, and each odd case is reported:
- every VCALENDAR of a stream is read; floating times are read in the calendar's
  X-WR-TIMEZONE when it names a known zone, else in the agenda's zone;
- STATUS:CANCELLED, on an event or on one occurrence (RECURRENCE-ID), is stored as cancelled;
- an event without UID gets one derived from its content (the same file imported twice
  creates nothing new), one without SUMMARY a title in words;
- one unreadable RDATE or EXDATE value, DTEND or DURATION is dropped with a warning, not the event;
- an all-day event stays all-day, even when its end is given as a date-time.

Expansion is bounded before it starts: the cost of every rule is estimated from its frequency,
its BYxxx parts and the window, without generating anything (dateutil always starts at DTSTART).
A rule that would compute too many occurrences before the window is moved forward (when its
pattern allows it exactly) or refused; one that would give more than MAX_OCCURRENCES in the
window is clipped, and given an UNTIL; one whose day filters never match (the 30th of February,
which dateutil would search for until the year 9999) is found out cheaply and dropped. One
runaway series stops alone, with a warning naming it; MAX_TOTAL_OCCURRENCES and MAX_FILE_STEPS
cap the whole file.

Only admins add sources and import into them; the scheduled import acts as the system.
An address is fetched over http(s) only, to public addresses only (checked after DNS and after
each redirect, and connected to as checked), within a total deadline and MAX_BYTES. The reading
of a fetched file can run in a process of its own (`parse_isolated`) whose memory and time are
capped by the operating system: whatever a file does, the calling process (the scheduler, which
also sends the emails) is not at risk.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import ipaddress
import json
import logging
import math
import os
import resource
import signal
import socket
import ssl

# Only to run this module's own reader (parse_isolated): our interpreter, a fixed command, no shell.
import subprocess  # nosec B404
import sys
import threading
import time as clock
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from flask_babel import gettext as _
from flask_babel import ngettext
from icalendar.prop import vBroken, vDDDLists, vDDDTypes, vDuration, vRecur
from icalendar.timezone import tzp
from sqlalchemy import select

from app.db import DbSession, lock
from app.models import AgendaEvent, AgendaSource, EventStatus
from app.services import audit, weblinks
from app.services.context import ServiceContext
from app.services.errors import NotFound, RuleViolation

log = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024 * 1024
HORIZON = timedelta(days=365)
# Occurrences kept per series (one UID) and per file.
MAX_OCCURRENCES = 2000
MAX_TOTAL_OCCURRENCES = 10_000
# Occurrences a rule may have to compute before the window (the expansion always starts at
# DTSTART), per series and per file; a rule moved forward costs at most a few periods.
MAX_RULE_STEPS = 50_000
MAX_FILE_STEPS = 500_000
MOVE_FORWARD_FROM = 1_000
# Whether a rule's day filters ever match is tried near the year 9999 (see _probe), at this cost at most.
_PROBE_FROM, _PROBE_TO = datetime(9960, 1, 1), datetime(9999, 12, 31)
_PROBE_COST = 15_000
_DAY_FILTERS = frozenset({"BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS"})
# Fetching: one deadline for everything (DNS, connect, headers, body, every redirect).
FETCH_SECONDS = 30.0
MAX_REDIRECTS = 5
# Reading in a process of its own: its wall-clock time, CPU time and whole address space.
PARSE_SECONDS = 60.0
PARSE_MEMORY = 512 * 1024 * 1024

DAY = 86_400
# Seconds of each frequency's shortest period (a month of February, a year of 365 days).
_PERIOD = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": DAY,
    "WEEKLY": 7 * DAY,
    "MONTHLY": 28 * DAY,
    "YEARLY": 365 * DAY,
}
_FREQUENCIES = tuple(_PERIOD)
# Rules repeat in wall-clock time: a span of real time holds up to this much more of it (DST).
_WALL_SLACK = 2 * 3600
_VOLATILE = frozenset({"DTSTAMP", "LAST-MODIFIED", "CREATED", "SEQUENCE"})


@dataclass(frozen=True)
class Occurrence:
    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    town: str
    link: str | None
    description: str
    cancelled: bool = False


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


# (occurrences, per-event problems, fatal error) for one file.
Parsed = tuple[list[Occurrence], list[str], str | None]


@dataclass(frozen=True)
class ImportLimits:
    """What importing one source may cost: the download, then the reading in a process of its own."""

    fetch_seconds: float = FETCH_SECONDS
    parse_seconds: float = PARSE_SECONDS
    parse_memory: int = PARSE_MEMORY
    # Tests only: the servers they start listen on 127.0.0.1.
    allow_loopback: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ImportLimits:
        return cls(
            fetch_seconds=float(config.get("AGENDA_IMPORT_TIMEOUT", FETCH_SECONDS)),
            allow_loopback=bool(config.get("AGENDA_IMPORT_ALLOW_LOOPBACK", False)),
        )


# Reading a file ----------------------------------------------------------------------------------


def _instant(value: Any, zone: tzinfo, days: tzinfo | None = None) -> tuple[datetime, bool]:
    """(UTC instant, all day?) from a DTSTART/DTEND value: floating times are read in `zone`,
    dates start at midnight in `days` (the agenda's zone: a day is shown as that day here,
    whatever the partner's zone)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC), False
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=days or zone).astimezone(UTC), True
    raise ValueError(f"not a date: {value!r}")


def _text(component: Any, name: str, limit: int) -> str:
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value).strip()[:limit] if value is not None else ""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is_day(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _readable(component: Any, name: str) -> bool:
    return name in component and not isinstance(component[name], vBroken)


def _floating_zone(calendar: Any, zone: ZoneInfo, problems: list[str]) -> tuple[tzinfo, bool]:
    """The zone of the calendar's floating times, and whether X-WR-TIMEZONE named it."""
    name = _text(calendar, "X-WR-TIMEZONE", 100)
    if not name:
        return zone, False
    found = tzp.timezone(name)  # IANA names, and the Windows names Outlook writes
    if found is None:
        problems.append(
            _(
                "Fuseau horaire « %(name)s » inconnu (X-WR-TIMEZONE) : les heures sans fuseau sont lues à l'heure "
                "de %(zone)s.",
                name=name[:60],
                zone=zone.key,
            )
        )
        return zone, False
    return found, True


def _content_uid(event: Any) -> str:
    """A UID for an event that has none, from what it says (not when it was exported):
    the same file gives the same UIDs, so a second import updates instead of duplicating."""
    digest = hashlib.sha256()
    for name in sorted(event.keys()):
        if name in _VOLATILE:
            continue
        for value in _as_list(event[name]):
            params = getattr(value, "params", None)
            digest.update(f"{name};{params.to_ical().decode() if params else ''}:".encode())
            digest.update(value.to_ical() if hasattr(value, "to_ical") else str(value).encode())
            digest.update(b"\n")
    return f"sans-uid-{digest.hexdigest()[:32]}"


def _label(event: Any) -> str:
    return _text(event, "SUMMARY", 80) or _text(event, "UID", 80) or _("(sans titre)")


def _one_date(text: str, tzid: str | None) -> Any | None:
    """One RDATE/EXDATE value, or None when it cannot be read. A date written with a
    trailing Z (Google's birthdays) is read as the date it means."""
    for candidate in (text, text[:-1] if len(text) == 9 and text.upper().endswith("Z") else None):
        if not candidate:
            continue
        # The library raises ValueError and others; the next form is tried.
        with contextlib.suppress(Exception):
            return vDDDTypes.from_ical(candidate, timezone=tzid) if tzid else vDDDTypes.from_ical(candidate)
    return None


def _repair_dates(event: Any, name: str, problems: list[str]) -> None:
    """Keep the readable values of every RDATE/EXDATE; one bad value is dropped with a warning."""
    if name not in event:
        return
    kept: list[Any] = []
    for prop in _as_list(event[name]):
        if not isinstance(prop, vBroken):
            kept.append(prop)
            continue
        tzid = prop.params.get("TZID")
        good = []
        for piece in str(prop).split(","):
            value = _one_date(piece.strip(), tzid)
            if value is None:
                problems.append(
                    _(
                        "« %(title)s » : valeur %(name)s « %(value)s » illisible, ignorée.",
                        title=_label(event),
                        name=name,
                        value=piece.strip()[:40],
                    )
                )
            else:
                good.append(value)
        if good:
            kept.append(vDDDLists(good))
    del event[name]
    if kept:
        event[name] = kept if len(kept) > 1 else kept[0]


def _day_after(end: datetime, start: date) -> date:
    """The exclusive end date of an all-day event whose end was given as a date-time, read as
    written (DTEND:20230817T000000Z means the 17th, not 02:00 on the 17th in Paris)."""
    day = end.date() if end.time() == time(0) else end.date() + timedelta(days=1)
    return max(day, start + timedelta(days=1))


def _keep_all_day(event: Any) -> None:
    """A date start makes an all-day event: its end, duration and extra dates become days too,
    so that expansion does not turn it into a timed event."""
    if not _readable(event, "DTSTART") or not _is_day(event["DTSTART"].dt):
        return
    start = event["DTSTART"].dt
    if _readable(event, "DTEND") and isinstance(event["DTEND"].dt, datetime):
        event["DTEND"] = vDDDTypes(_day_after(event["DTEND"].dt, start))
    if _readable(event, "DURATION"):
        duration = event["DURATION"].dt
        if isinstance(duration, timedelta) and duration % timedelta(days=1):
            event["DURATION"] = vDuration(timedelta(days=max(1, math.ceil(duration / timedelta(days=1)))))
    for name in ("RDATE", "EXDATE"):
        if name in event:
            days = []
            for prop in _as_list(event[name]):
                for value in prop.dts:
                    moment = value.dt
                    if isinstance(moment, datetime):
                        moment = moment.date()
                    days.append(moment)
            event[name] = vDDDLists(days)


def _repair_rules(event: Any) -> None:
    """An empty RRULE repeats nothing; one with spaces in its lists (Exchange) is read without them."""
    kept = []
    for prop in _as_list(event.get("RRULE")):
        if isinstance(prop, vBroken):
            try:
                prop = vRecur.from_ical("".join(str(prop).split()))
            except Exception:  # still unreadable: the series is skipped with the reason
                kept.append(prop)
                continue
        if prop:
            kept.append(prop)
    if "RRULE" in event:
        del event["RRULE"]
    if kept:
        event["RRULE"] = kept if len(kept) > 1 else kept[0]


def _repair(event: Any, problems: list[str]) -> None:
    """What a forgiving client does with one event before expanding it."""
    if not _text(event, "UID", 400):
        event["UID"] = icalendar.vText(_content_uid(event))
    _repair_rules(event)
    for name in ("RDATE", "EXDATE"):
        _repair_dates(event, name, problems)
    for name in ("DTEND", "DURATION"):
        if name in event and isinstance(event[name], vBroken):
            problems.append(_("« %(title)s » : %(name)s illisible, ignorée.", title=_label(event), name=name))
            del event[name]
    _keep_all_day(event)


@dataclass(frozen=True)
class _Rule:
    """What the cost of one RRULE depends on, read without expanding it."""

    frequency: str
    interval: int
    per_period: int  # occurrences one period can hold at most
    count: int | None
    until: datetime | None
    # Seconds after which the rule's BYxxx parts repeat, or None when they do not in fixed time
    # (months, years, positions) or when a COUNT would be thrown off by moving the start.
    pattern: int | None

    @property
    def period(self) -> int:
        return _PERIOD[self.frequency] * self.interval

    def at_most(self, seconds: float) -> int:
        """Occurrences the rule can compute in `seconds` of real time (its filters ignored)."""
        if seconds < 0:
            return 0
        found = (int((seconds + _WALL_SLACK) // self.period) + 2) * self.per_period
        return found if self.count is None else min(found, self.count)

    def stop(self, end: datetime) -> datetime:
        return end if self.until is None else min(end, self.until)


def _first(recur: Any, name: str) -> Any:
    values = recur.get(name)
    return values[0] if values else None


def _read_rule(recur: Any, zone: tzinfo) -> _Rule:
    if isinstance(recur, vBroken) or not hasattr(recur, "get"):
        raise ValueError(_("règle de répétition illisible"))
    frequency = str(_first(recur, "FREQ") or "").upper()
    if frequency not in _PERIOD:
        raise ValueError(_("fréquence de répétition inconnue"))
    interval = int(_first(recur, "INTERVAL") or 1)
    if interval < 1:
        raise ValueError(_("intervalle de répétition invalide"))
    count_value = _first(recur, "COUNT")
    count = int(count_value) if count_value is not None and int(count_value) > 0 else None
    until_value = _first(recur, "UNTIL")
    until = _instant(until_value, zone)[0] if until_value is not None else None

    def size(part: str) -> int:
        return len(recur.get(part) or [])

    level = _FREQUENCIES.index(frequency)
    per_period = 1
    for finer, part in ((0, "BYSECOND"), (1, "BYMINUTE"), (2, "BYHOUR")):
        if level > finer:  # a part finer than the frequency adds instances to each period
            per_period *= size(part) or 1
    if frequency == "WEEKLY":
        per_period *= min(7, size("BYDAY") or 1)
    elif frequency == "MONTHLY":
        days = size("BYMONTHDAY") + 5 * size("BYDAY")
        per_period *= min(31, days) if days else 1
    elif frequency == "YEARLY":
        days = size("BYYEARDAY") + 7 * size("BYWEEKNO") + 12 * size("BYMONTHDAY") + 53 * size("BYDAY")
        per_period *= min(366, days) if days else (size("BYMONTH") or 1)
    if size("BYSETPOS"):
        per_period = min(per_period, size("BYSETPOS"))

    parts = {str(name).upper() for name in recur if str(name).upper().startswith("BY")}
    pattern: int | None = 1
    if frequency in ("MONTHLY", "YEARLY") or parts - {"BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY"}:
        pattern = None
    elif any(len(str(day)) != 2 for day in recur.get("BYDAY") or []):
        pattern = None  # an ordinal weekday (1MO) only means something in months and years
    elif "BYDAY" in parts:
        pattern = 7 * DAY
    elif parts:
        pattern = DAY
    if count is not None and parts:
        pattern = None
    return _Rule(frequency, interval, per_period, count, until, pattern)


class _Ended(Exception):
    """The rule's COUNT runs out before the window: nothing to import, nothing to report."""


def _move_forward(master: Any, rule: _Rule, start: datetime, window_start: datetime, duration: float) -> _Rule | None:
    """Move DTSTART forward by whole repetitions of the rule's pattern, to just before the window:
    the occurrences from there on are exactly the same, and none before is computed."""
    if rule.pattern is None:
        return None
    unit = math.lcm(rule.period, rule.pattern)
    value = master["DTSTART"].dt
    if _is_day(value) and unit % DAY:
        return None
    # Far enough back that the moved start, which a client counts as an occurrence whatever the
    # rule, ends before the window even after a change of clocks.
    room = (window_start - start).total_seconds() - duration - unit - _WALL_SLACK
    steps = int(room // unit)
    if steps <= 0:
        return None
    shift = timedelta(seconds=steps * unit)
    count = rule.count
    if count is not None:  # no BYxxx part (see _read_rule): one occurrence per period
        count -= steps * (unit // rule.period)
        if count <= 0:
            raise _Ended
        _as_list(master["RRULE"])[0]["COUNT"] = [count]
    master["DTSTART"].dt = value + shift
    if _readable(master, "DTEND"):
        master["DTEND"].dt = master["DTEND"].dt + shift
    return replace(rule, count=count)


@dataclass
class _Budget:
    """What is left of one file's allowance."""

    occurrences: int
    steps: int


def _duration(component: Any, zone: tzinfo) -> float:
    start = _instant(component["DTSTART"].dt, zone)[0]
    end = _end_value(component)
    return max((_instant(end, zone)[0] - start).total_seconds(), 0) if end is not None else 0.0


def _end_value(component: Any) -> Any | None:
    if _readable(component, "DTEND"):
        return component["DTEND"].dt
    if _readable(component, "DURATION") and isinstance(component["DURATION"].dt, timedelta):
        start = component["DTSTART"].dt
        return start + component["DURATION"].dt
    return None


def _span_end(
    master: Any,
    title: str,
    zone: tzinfo,
    window_start: datetime,
    window_end: datetime,
    budget: _Budget,
    problems: list[str],
) -> datetime | None:
    """Where to stop expanding the master's rules so that doing it is cheap, decided before
    anything is generated; None when the series is refused (a problem says why) or over."""
    rules = [_read_rule(recur, zone) for recur in _as_list(master.get("RRULE"))]
    if not rules:
        return window_end
    start = first = _instant(master["DTSTART"].dt, zone)[0]
    if all(rule.until is not None and rule.until < window_start - timedelta(days=2) for rule in rules):
        # Over before the window (UNTIL): its occurrences need not be computed at all.
        del master["RRULE"]
        return window_end

    matching = _matching(master, rules, title, budget, problems)
    if matching is None:
        return None
    if not matching:
        return window_end
    rules = matching

    def before(rules: list[_Rule], start: datetime) -> int:
        return sum(rule.at_most((rule.stop(window_start) - start).total_seconds()) for rule in rules)

    steps = before(rules, start)
    if steps > MOVE_FORWARD_FROM and len(rules) == 1:
        try:
            moved = _move_forward(master, rules[0], start, window_start, _duration(master, zone))
        except _Ended:
            return None
        if moved is not None:
            rules, start = [moved], _instant(master["DTSTART"].dt, zone)[0]
            steps = before(rules, start)
    if MAX_RULE_STEPS >= steps > budget.steps:
        problems.append(_too_costly(title))
        return None
    if steps > MAX_RULE_STEPS:
        problems.append(
            _(
                "« %(title)s » : répétition trop serrée (%(rule)s depuis le %(since)s) pour être calculée ; "
                "événement ignoré.",
                title=title[:80],
                rule=f"FREQ={rules[0].frequency}",
                since=first.date().isoformat(),
            )
        )
        return None
    begin = max(start, window_start)
    within = sum(rule.at_most((rule.stop(window_end) - begin).total_seconds()) for rule in rules)
    end = window_end
    if within > MAX_OCCURRENCES:
        density = sum(rule.per_period / rule.period for rule in rules)  # occurrences per second, at most
        end = min(window_end, begin + timedelta(seconds=MAX_OCCURRENCES / density))
        within = sum(rule.at_most((rule.stop(end) - begin).total_seconds()) for rule in rules)
    budget.steps -= steps + within
    _stop_at(master, rules, end, zone)
    return end


def _too_costly(title: str) -> str:
    return _("« %(title)s » ignoré : ce fichier demande déjà trop de calculs de répétitions.", title=title[:80])


def _probe(recur: Any, rule: _Rule, start: Any) -> tuple[bool, int]:
    """Whether the rule's day filters ever match (the 30th of February does not), and how many
    periods finding out took. Tried with dateutil itself from a start moved, by whole repetitions
    that keep leap years in phase, to the last forty years before 9999, where a search for a match
    ends by itself: from the real start it would go on until the year 9999."""
    naive = datetime.combine(start, time(0)) if _is_day(start) else start.replace(tzinfo=None)
    probe = naive
    try:
        if naive < _PROBE_FROM and rule.frequency in ("MONTHLY", "YEARLY"):
            step = math.lcm(rule.interval * (12 if rule.frequency == "YEARLY" else 1), 48)  # months
            months = (_PROBE_FROM.year - naive.year) * 12 // step * step
            probe = naive.replace(year=naive.year + months // 12)
        elif naive < _PROBE_FROM:
            probe = naive + timedelta(seconds=(_PROBE_FROM - naive).total_seconds() // rule.period * rule.period)
        text = vRecur({k: v for k, v in recur.items() if k not in ("COUNT", "UNTIL")}).to_ical().decode()
        found = next(iter(rrulestr(text, dtstart=probe)), None)
    except (ValueError, OverflowError):
        return True, _PROBE_COST  # not probed: the expansion will say what is wrong, if anything
    per = min(rule.period, DAY)
    if found is None:
        return False, min(_PROBE_COST, int((_PROBE_TO - probe).total_seconds() // per))
    return True, max(1, int((found - probe).total_seconds() // per))


def _matching(master: Any, rules: list[_Rule], title: str, budget: _Budget, problems: list[str]) -> list[_Rule] | None:
    """The rules that ever give an occurrence (those that do not are dropped with a warning);
    None when the file's budget cannot pay for finding out."""
    kept = []
    recurs = _as_list(master["RRULE"])
    for recur, rule in zip(recurs, rules, strict=True):
        parts = {str(name).upper() for name in recur if str(name).upper().startswith("BY")}
        # Every week has every weekday and every day every hour: only day filters can miss for ever.
        always_falls = not parts & _DAY_FILTERS and rule.interval == 1 and rule.frequency not in ("MONTHLY", "YEARLY")
        if not parts or always_falls:
            kept.append((recur, rule))
            continue
        if budget.steps < _PROBE_COST:
            problems.append(_too_costly(title))
            return None
        matches, cost = _probe(recur, rule, master["DTSTART"].dt)
        budget.steps -= 2 * cost  # the expansion searches as far again past the end of its span
        if matches:
            kept.append((recur, rule))
        else:
            problems.append(
                _(
                    "« %(title)s » : sa règle de répétition ne tombe jamais (%(rule)s) ; seule sa première date est "
                    "importée.",
                    title=title[:80],
                    rule=recur.to_ical().decode()[:80],
                )
            )
    if len(kept) == len(recurs):
        return rules
    del master["RRULE"]
    if kept:
        master["RRULE"] = [recur for recur, _rule in kept] if len(kept) > 1 else kept[0][0]
    return [rule for _recur, rule in kept]


def _stop_at(master: Any, rules: list[_Rule], end: datetime, zone: tzinfo) -> None:
    """Give every rule an UNTIL just after the span: a rule whose filters never match (the 30th
    of February) would otherwise be searched until the year 9999."""
    limit = end + timedelta(days=2)
    value = master["DTSTART"].dt
    if _is_day(value):
        until: Any = limit.astimezone(zone).date()
    elif value.tzinfo is None:
        until = limit.astimezone(zone).replace(tzinfo=None)
    else:
        until = limit
    for recur, rule in zip(_as_list(master["RRULE"]), rules, strict=True):
        if rule.until is None or rule.until > limit:
            recur["UNTIL"] = [until]


def _few_enough(components: list[Any], master: Any | None, zone: tzinfo, window: tuple[datetime, datetime]) -> bool:
    """More RDATE values or moved occurrences than a series may keep: only those near the
    window are expanded, at most MAX_OCCURRENCES of each; True when some in the window were left."""
    clipped = False
    low, high = window[0] - timedelta(days=2), window[1] + timedelta(days=2)

    def near(value: Any) -> bool:
        moment = value[0] if isinstance(value, tuple) else value
        return low <= _instant(moment, zone)[0] <= high

    if master is not None and "RDATE" in master:
        values = [value.dt for prop in _as_list(master["RDATE"]) for value in prop.dts]
        if len(values) > MAX_OCCURRENCES:
            kept = sorted(
                (v for v in values if near(v)), key=lambda v: _instant(v[0] if isinstance(v, tuple) else v, zone)[0]
            )
            clipped = len(kept) > MAX_OCCURRENCES
            master["RDATE"] = vDDDLists(kept[:MAX_OCCURRENCES])
    moved = [c for c in components if "RECURRENCE-ID" in c]
    if len(moved) > MAX_OCCURRENCES:
        kept_moved = [c for c in moved if _readable(c, "DTSTART") and near(c["DTSTART"].dt)]
        clipped = clipped or len(kept_moved) > MAX_OCCURRENCES
        components[:] = [c for c in components if "RECURRENCE-ID" not in c] + kept_moved[:MAX_OCCURRENCES]
    return clipped


@dataclass
class _Series:
    """The components of one UID, from whichever VCALENDAR of the stream."""

    uid: str
    zone: tzinfo  # of floating times
    days: tzinfo  # of all-day dates: the agenda's
    cancelling: bool  # METHOD:CANCEL: every event of that calendar is a cancellation
    components: list[Any] = field(default_factory=list)

    def title(self) -> str:
        ordered = sorted(self.components, key=lambda c: "RECURRENCE-ID" in c)  # the master first
        found = next((_text(c, "SUMMARY", 300) for c in ordered if _text(c, "SUMMARY", 300)), "")
        if found:
            return found
        place = next((_text(c, "LOCATION", 120) for c in ordered if _text(c, "LOCATION", 120)), "")
        return _("Événement sans titre, %(place)s", place=place) if place else _("Événement sans titre")


def _occurrence(event: Any, *, uid: str, title: str, series: _Series) -> Occurrence:
    start = event["DTSTART"].dt
    starts_at, all_day = _instant(start, series.zone, series.days)
    end = _end_value(event)
    ends_at = _instant(end, series.zone, series.days)[0] if end is not None else starts_at
    if all_day and ends_at <= starts_at:
        ends_at = _instant(start + timedelta(days=1), series.zone, series.days)[0]
    return Occurrence(
        uid=uid,
        title=_text(event, "SUMMARY", 300) or title,
        starts_at=starts_at,
        ends_at=max(ends_at, starts_at),
        all_day=all_day,
        town=_text(event, "LOCATION", 200),
        # A `javascript:` URL would become a link on a public page: web addresses only.
        link=weblinks.kept_or_dropped(_text(event, "URL", 1000)),
        description=_text(event, "DESCRIPTION", 5000),
        cancelled=series.cancelling or _text(event, "STATUS", 20).upper() == "CANCELLED",
    )


def _expand(
    series: _Series,
    title: str,
    window_start: datetime,
    window_end: datetime,
    budget: _Budget,
    problems: list[str],
) -> list[Occurrence]:
    components = list(series.components)
    for component in components:
        if not _readable(component, "DTSTART"):
            raise ValueError(_("date de début absente ou illisible"))
    masters = [c for c in components if "RECURRENCE-ID" not in c]
    recurring = len(components) > 1 or any(
        name in c for c in components for name in ("RRULE", "RDATE", "RECURRENCE-ID")
    )
    zone = series.zone
    clipped = False
    if not recurring:
        found = [components[0]]
        end = window_end
    else:
        master = max(masters, key=lambda c: int(c.get("SEQUENCE", 0) or 0)) if masters else None
        clipped = _few_enough(components, master, zone, (window_start, window_end))
        if master is not None:
            stop = _span_end(master, title, zone, window_start, window_end, budget, problems)
            if stop is None:
                return []
            end = stop
        else:
            end = window_end
        # Time zones were resolved when the file was read: the series needs its events only.
        single = icalendar.Calendar()
        for component in components:
            single.add_component(component)
        # Floating times compare with the window in the series' own zone.
        with warnings.catch_warnings():
            # dateutil frowns on COUNT with UNTIL (_stop_at), and honours both.
            warnings.simplefilter("ignore", DeprecationWarning)
            found = recurring_ical_events.of(single).between(window_start.astimezone(zone), end.astimezone(zone))
    occurrences = []
    for event in found:
        item = _occurrence(event, uid=series.uid, title=title, series=series)
        if item.starts_at < window_end and (item.ends_at > window_start or item.starts_at >= window_start):
            occurrences.append(item)
    occurrences.sort(key=lambda item: item.starts_at)
    if recurring or len(occurrences) > 1:
        occurrences = [replace(item, uid=f"{series.uid}#{item.starts_at.isoformat()}") for item in occurrences]
    if clipped or end < window_end or len(occurrences) > MAX_OCCURRENCES:
        occurrences = occurrences[:MAX_OCCURRENCES]
        last = occurrences[-1].starts_at.date().isoformat() if occurrences else end.date().isoformat()
        problems.append(
            _(
                "« %(title)s » se répète trop souvent : importé jusqu'au %(last)s seulement "
                "(%(n)d occurrences au plus par événement).",
                title=title[:80],
                last=last,
                n=MAX_OCCURRENCES,
            )
        )
    return occurrences


def _calendars(data: bytes) -> tuple[list[Any], str | None]:
    if len(data) > MAX_BYTES:
        return [], _("Fichier trop volumineux (%(n)d Mo au plus).", n=MAX_BYTES // (1024 * 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], _("Le fichier n'est pas en UTF-8 : enregistrez-le en UTF-8 et recommencez.")
    try:
        found = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # the library raises ValueError and others on malformed input
        return [], _("Fichier iCalendar illisible : %(why)s", why=str(exc)[:200])
    calendars = [c for c in found if isinstance(c, icalendar.Calendar)]
    if not calendars and "BEGIN:VCALENDAR" in text.upper():
        return [], _(
            "Fichier iCalendar incomplet : un calendrier commence (BEGIN:VCALENDAR) sans finir (END:VCALENDAR)."
        )
    if not calendars and (found or text.strip()):
        return [], _("Ce fichier n'est pas un calendrier (il lui manque BEGIN:VCALENDAR).")
    return calendars, None


def parse(data: bytes, *, window_start: datetime, zone: ZoneInfo, window_end: datetime | None = None) -> Parsed:
    """(occurrences, per-event problems, fatal error) for one .ics file or stream; events from
    `window_start` to `window_end` (a year later by default), recurring ones expanded."""
    calendars, error = _calendars(data)
    if error:
        return [], [], error
    window_end = window_end or window_start + HORIZON
    problems: list[str] = []
    by_uid: dict[str, _Series] = {}
    for calendar in calendars:
        floating, named = _floating_zone(calendar, zone, problems)
        cancelling = _text(calendar, "METHOD", 20).upper() == "CANCEL"
        for event in calendar.walk("VEVENT"):
            _repair(event, problems)
        if named:
            # Google writes UTC times meaning the calendar's zone: repetitions follow its clocks.
            calendar = x_wr_timezone.to_standard(calendar, timezone=floating)
        for event in calendar.walk("VEVENT"):
            uid = _text(event, "UID", 400)
            by_uid.setdefault(uid, _Series(uid, floating, zone, cancelling)).components.append(event)

    occurrences: list[Occurrence] = []
    budget = _Budget(occurrences=MAX_TOTAL_OCCURRENCES, steps=MAX_FILE_STEPS)
    left_out: list[str] = []
    for series in by_uid.values():
        title = series.title()
        if budget.occurrences <= 0:
            left_out.append(title)
            continue
        try:
            found = _expand(series, title, window_start, window_end, budget, problems)
        except MemoryError:
            raise  # the reading's own budget: the whole file is refused
        except Exception as exc:  # one unreadable event (bad RRULE, broken DTSTART…) is skipped alone
            problems.append(_("« %(title)s » ignoré : %(why)s", title=title[:80], why=str(exc)[:160]))
            continue
        if len(found) > budget.occurrences:
            left_out.append(title)
            found = found[: budget.occurrences]
        budget.occurrences -= len(found)
        occurrences.extend(found)
    if left_out:
        names = ", ".join(f"« {name[:60]} »" for name in left_out[:5]) + (" …" if len(left_out) > 5 else "")
        problems.append(
            ngettext(
                "Plus de %(n)d occurrences dans ce fichier : %(num)d événement coupé ou ignoré : %(names)s.",
                "Plus de %(n)d occurrences dans ce fichier : %(num)d événements coupés ou ignorés : %(names)s.",
                len(left_out),
                n=MAX_TOTAL_OCCURRENCES,
                names=names,
            )
        )
    return occurrences, problems, None


# Reading in a process of its own -----------------------------------------------------------------

_PROJECT = Path(__file__).resolve().parents[2]
_TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
_OUT_OF_MEMORY = 3


class ImportFailed(Exception):
    """A source could not be imported (unreachable, refused, over budget): reported, nothing changed."""


class FetchError(ImportFailed):
    pass


def _encode(parsed: Parsed) -> str:
    occurrences, problems, error = parsed
    items = [
        asdict(item) | {"starts_at": item.starts_at.isoformat(), "ends_at": item.ends_at.isoformat()}
        for item in occurrences
    ]
    return json.dumps({"occurrences": items, "problems": problems, "error": error}, ensure_ascii=False)


def _decode(text: str) -> Parsed:
    found = json.loads(text)
    occurrences = [
        Occurrence(
            **item
            | {
                "starts_at": datetime.fromisoformat(item["starts_at"]),
                "ends_at": datetime.fromisoformat(item["ends_at"]),
            }
        )
        for item in found["occurrences"]
    ]
    return occurrences, [str(p) for p in found["problems"]], found["error"]


def _isolated_main() -> None:
    """The reader's process: its limits first, then the file from stdin, the result on stdout."""
    request = json.loads(sys.argv[1])
    memory, seconds = int(request["memory"]), max(1, math.ceil(request["seconds"]))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    from babel.support import Translations

    translations = Translations.load(str(_TRANSLATIONS), [request["locale"]])

    def translated(text: str, **values: Any) -> str:
        found = translations.gettext(text)
        return found % values if values else found

    def translated_plural(singular: str, plural: str, num: int, **values: Any) -> str:
        return translations.ngettext(singular, plural, num) % {"num": num, **values}

    # No Flask app here: the messages come from the catalogue itself.
    globals().update(_=translated, ngettext=translated_plural)
    try:
        result = _encode(
            parse(
                sys.stdin.buffer.read(),
                window_start=datetime.fromisoformat(request["window_start"]),
                window_end=datetime.fromisoformat(request["window_end"]),
                zone=ZoneInfo(request["zone"]),
            )
        )
    except MemoryError:
        os._exit(_OUT_OF_MEMORY)
    sys.stdout.write(result)


def parse_isolated(
    data: bytes,
    *,
    window_start: datetime,
    zone: ZoneInfo,
    locale: str,
    limits: ImportLimits,
    window_end: datetime | None = None,
) -> Parsed:
    """`parse` in a process of its own, its address space and CPU time capped by the operating
    system and killed at the wall-clock budget: ImportFailed when it goes over."""
    request = {
        "window_start": window_start.isoformat(),
        "window_end": (window_end or window_start + HORIZON).isoformat(),
        "zone": zone.key,
        "locale": locale,
        "memory": limits.parse_memory,
        "seconds": limits.parse_seconds,
    }
    command = [
        sys.executable,
        "-c",
        "from app.services.agenda_import import _isolated_main; _isolated_main()",
        json.dumps(request),
    ]
    over_time = ImportFailed(
        _("La lecture du fichier a dépassé %(n)d s : import abandonné, rien n'a été modifié.", n=limits.parse_seconds)
    )
    try:
        # Our own interpreter and module, no shell; the file goes through stdin, never argv.
        done = subprocess.run(  # nosec B603
            command, input=data, capture_output=True, timeout=limits.parse_seconds, cwd=_PROJECT, check=False
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed it
        raise over_time from exc
    if done.returncode == 0:
        return _decode(done.stdout.decode("utf-8"))
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise over_time
    if done.returncode == _OUT_OF_MEMORY or b"MemoryError" in done.stderr:
        raise ImportFailed(
            _(
                "La lecture du fichier a dépassé %(n)d Mo de mémoire : import abandonné, rien n'a été modifié.",
                n=limits.parse_memory // (1024 * 1024),
            )
        )
    log.warning("Agenda reader exited with %s: %s", done.returncode, done.stderr[-2000:].decode("utf-8", "replace"))
    raise ImportFailed(_("La lecture du fichier a échoué : import abandonné, rien n'a été modifié."))


# Storing -----------------------------------------------------------------------------------------

_COPIED = ("title", "starts_at", "ends_at", "all_day", "town", "link", "description")


def require_importer(ctx: ServiceContext) -> None:
    # The scheduled import and the command line act as nobody in particular (ctx.actor is None).
    if ctx.actor is not None:
        ctx.require_admin()


def _locked(session: DbSession, source: AgendaSource) -> AgendaSource:
    # Locked so that the daily import and an admin's upload of one source never interleave.
    found = lock(session, AgendaSource, source.id)
    if found is None:
        raise NotFound(_("Cette source n'existe pas."))
    return found


def _set_state(ctx: ServiceContext, session: DbSession, event: AgendaEvent, status: EventStatus, action: str) -> None:
    before = event.status
    event.status = status
    audit.record(
        session, ctx, subject_type="agenda", subject_id=event.id, action=action, from_state=before, to_state=status
    )


def _cancel(ctx: ServiceContext, session: DbSession, event: AgendaEvent) -> None:
    _set_state(ctx, session, event, EventStatus.CANCELLED, str(EventStatus.CANCELLED))
    event.touch(ctx.now)


def store(
    session: DbSession, ctx: ServiceContext, *, source: AgendaSource, occurrences: list[Occurrence]
) -> ImportReport:
    """Create, update and cancel the source's events to match the occurrences."""
    require_importer(ctx)
    source = _locked(session, source)
    now = ctx.now
    arriving = EventStatus.PUBLISHED if source.trusted else EventStatus.PROPOSED
    report = ImportReport()
    existing = {e.source_uid: e for e in session.scalars(select(AgendaEvent).where(AgendaEvent.source_id == source.id))}
    seen: set[str] = set()
    never_shown: dict[str, int] = {}
    for item in occurrences:
        if item.uid in seen:
            continue
        seen.add(item.uid)
        event = existing.get(item.uid)
        values = {name: getattr(item, name) for name in _COPIED}
        if event is None:
            if item.cancelled and not source.trusted:
                # Cancelled before anyone here saw it: a cancelled event is public, so creating it
                # would show an unmoderated event.
                never_shown[item.title] = never_shown.get(item.title, 0) + 1
                continue
            session.add(
                AgendaEvent(
                    **values,
                    source_id=source.id,
                    source_uid=item.uid,
                    organisation_id=source.organisation_id,
                    organiser_name=source.name,
                    departement_code=source.departement_code,
                    status=EventStatus.CANCELLED if item.cancelled else arriving,
                    created_at=now,
                    updated_at=now,
                    sequence=0,
                )
            )
            report.created += 1
            continue
        changed = any(getattr(event, name) != value for name, value in values.items())
        for name, value in values.items():
            setattr(event, name, value)
        if item.cancelled:
            # As for an event gone from the source; a refused event stays refused.
            if event.can("cancel"):
                _cancel(ctx, session, event)
                report.cancelled += 1
            elif changed:
                event.touch(now)
                report.updated += 1
            else:
                report.unchanged += 1
            continue
        back = event.can("reopen")
        if not back and not changed:
            report.unchanged += 1
            continue
        if back:
            # Back in the partner's calendar after we marked it cancelled: it comes back as
            # a new arrival would.
            _set_state(ctx, session, event, arriving, "reopen")
        event.touch(now)
        report.updated += 1
    for uid, event in existing.items():
        # A refused event stays refused: cancelling it would show it to the public.
        if uid not in seen and event.ends_at > now and event.can("cancel"):
            _cancel(ctx, session, event)
            report.cancelled += 1
    for title, n in never_shown.items():
        report.skipped.append(
            ngettext(
                "« %(title)s » : %(num)d date annulée par le partenaire avant toute publication ici, non importée.",
                "« %(title)s » : %(num)d dates annulées par le partenaire avant toute publication ici, non importées.",
                n,
                title=title[:80],
            )
        )
    session.flush()
    return report


def _record(source: AgendaSource, report: ImportReport, now: datetime) -> None:
    source.last_run_at = now
    source.last_report = report.to_json()


def import_parsed(session: DbSession, ctx: ServiceContext, *, source: AgendaSource, parsed: Parsed) -> ImportReport:
    """Store what a file gave, only if it could be read; the report is kept on the source."""
    require_importer(ctx)
    occurrences, problems, error = parsed
    source = _locked(session, source)
    if error:
        report = ImportReport(error=error)
    else:
        report = store(session, ctx, source=source, occurrences=occurrences)
    report.skipped = [*problems, *report.skipped]
    _record(source, report, ctx.now)
    return report


def import_bytes(session: DbSession, ctx: ServiceContext, *, source: AgendaSource, data: bytes) -> ImportReport:
    """Parse here, then store only if the file could be read; the report is kept on the source."""
    require_importer(ctx)
    parsed = parse(data, window_start=ctx.now, zone=ctx.zone)
    return import_parsed(session, ctx, source=source, parsed=parsed)


def _check_address(url: str | None) -> str | None:
    if url is None:
        return None
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise RuleViolation(_("Seules les adresses http(s) sont acceptées."), field="url")
    return url


def add_source(
    session: DbSession,
    ctx: ServiceContext,
    *,
    name: str,
    url: str | None,
    departement_code: str | None,
    trusted: bool,
) -> AgendaSource:
    """A partner's calendar; only an admin adds one, since a trusted source publishes without moderation."""
    ctx.require_admin()
    if not name.strip():
        raise RuleViolation(_("Donnez un nom à la source."), field="name")
    source = AgendaSource(
        name=name.strip(), url=_check_address(url), departement_code=departement_code, trusted=trusted
    )
    session.add(source)
    session.flush()
    return source


# Fetching an address -----------------------------------------------------------------------------
# Plain sockets rather than urllib: the address checked is the address connected to (urllib would
# resolve the name again), and one deadline covers the whole download, however slowly it trickles.

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_REDIRECTS = (301, 302, 303, 307, 308)
_AGENT = "La Malle (Science(s) en Occitanie)"


def _public(address: str, allow_loopback: bool) -> bool:
    """Whether an address may be fetched: a public one (not loopback, private, link-local
    (cloud metadata), multicast, reserved or unspecified), including the IPv4 inside an IPv6 one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if allow_loopback and ip.is_loopback:
        return True
    refused = ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
    if not ip.is_global or refused or ip.is_unspecified:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inside = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inside is None and ip in _NAT64:
            inside = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inside is not None:
            return _public(str(inside), allow_loopback=False)
    return True


class _Deadline:
    """One deadline for a whole download; services never read the clock for dates, only for this."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = clock.monotonic() + seconds
        self.passed = False

    def left(self) -> float:
        left = self._at - clock.monotonic()
        if left <= 0 or self.passed:
            self.passed = True
            raise self.error()
        return left

    def error(self) -> FetchError:
        return FetchError(
            _(
                "Le serveur n'a pas tout envoyé en %(n)d s : téléchargement abandonné.",
                n=max(1, math.ceil(self.seconds)),
            )
        )


def _addresses(host: str, port: int, deadline: _Deadline, allow_loopback: bool) -> list[tuple[Any, Any]]:
    """(family, socket address) of every address the name resolves to; FetchError if any is not public."""
    found: list[Any] = []
    failed: list[OSError] = []

    def look_up() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            failed.append(exc)

    # The resolver has no timeout of its own: it waits in a thread the deadline can leave behind.
    worker = threading.Thread(target=look_up, name="agenda-import-dns", daemon=True)
    worker.start()
    worker.join(deadline.left())
    if worker.is_alive():
        deadline.passed = True
        raise deadline.error()
    if failed or not found:
        why = str(failed[0]) if failed else "?"
        raise FetchError(_("Adresse injoignable : %(why)s", why=why[:200]))
    targets = []
    for family, _type, _proto, _name, sockaddr in found:
        if not _public(str(sockaddr[0]), allow_loopback):
            raise FetchError(
                _(
                    "Adresse refusée : %(host)s mène à une adresse interne (%(address)s), pas à un serveur public.",
                    host=host[:100],
                    address=str(sockaddr[0]),
                )
            )
        if (family, sockaddr) not in targets:
            targets.append((family, sockaddr))
    return targets


def _connect(targets: list[tuple[Any, Any]], deadline: _Deadline) -> socket.socket:
    error: OSError | None = None
    for family, sockaddr in targets:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(deadline.left())
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise error or OSError("no address")


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the addresses checked, never to a new resolution of the name."""

    def __init__(self, host: str, port: int, *, targets: list[tuple[Any, Any]], deadline: _Deadline) -> None:
        super().__init__(host, port, timeout=deadline.left())
        self._targets, self._deadline = targets, deadline
        self.live: socket.socket | None = None  # kept when the response takes the socket over

    def connect(self) -> None:
        self.sock = self.live = _connect(self._targets, self._deadline)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, targets: list[tuple[Any, Any]], deadline: _Deadline) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=deadline.left(), context=self._tls)
        self._targets, self._deadline = targets, deadline
        self.live: socket.socket | None = None

    def connect(self) -> None:
        sock = _connect(self._targets, self._deadline)
        try:
            # The certificate is checked against the name, as a browser would.
            self.sock = self.live = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _cut(connection: _PinnedHTTP | _PinnedHTTPS, deadline: _Deadline) -> None:
    """At the deadline: whatever the download waits for (headers trickling in, a body that never
    ends) returns at once."""
    deadline.passed = True
    sock = connection.live  # a response read until the end holds it when connection.sock no longer does
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing left to wait for
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _too_big(limit: int) -> FetchError:
    return FetchError(_("Fichier trop volumineux (%(n)d Mo au plus).", n=max(limit // (1024 * 1024), 1)))


def _get(url: str, deadline: _Deadline, limit: int, allow_loopback: bool) -> tuple[str | None, bytes]:
    """One request: (the address it redirects to, b"") or (None, the body)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(_("Seules les adresses http(s) sont acceptées."))
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise FetchError(_("Adresse injoignable : %(why)s", why=str(exc)[:200])) from exc
    targets = _addresses(parts.hostname, port, deadline, allow_loopback)
    kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    connection = kind(parts.hostname, port, targets=targets, deadline=deadline)
    watchdog = threading.Timer(deadline.left(), _cut, args=(connection, deadline))
    watchdog.daemon = True
    watchdog.start()
    response: http.client.HTTPResponse | None = None
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", target, headers={"User-Agent": _AGENT, "Accept": "text/calendar, */*"})
        response = connection.getresponse()
        if response.status in _REDIRECTS:
            location = response.getheader("Location")
            if not location:
                raise FetchError(_("Le serveur a répondu %(status)d sans dire où aller.", status=response.status))
            return urljoin(url, location), b""
        if response.status != 200:
            raise FetchError(
                _("Le serveur a répondu %(status)d %(reason)s.", status=response.status, reason=response.reason[:80])
            )
        declared = response.getheader("Content-Length", "") or ""
        if declared.isdigit() and int(declared) > limit:
            raise _too_big(limit)
        chunks, size = [], 0
        while chunk := response.read1(64 * 1024):  # one read of the socket at a time
            size += len(chunk)
            if size > limit:
                raise _too_big(limit)
            chunks.append(chunk)
            deadline.left()
        if deadline.passed:
            raise deadline.error()
        return None, b"".join(chunks)
    except (OSError, http.client.HTTPException) as exc:
        if deadline.passed or isinstance(exc, TimeoutError):  # every socket timeout is what is left of it
            raise deadline.error() from exc
        raise FetchError(_("Adresse injoignable : %(why)s", why=str(exc)[:200])) from exc
    finally:
        watchdog.cancel()
        if response is not None:
            response.close()  # it may hold the socket: closed now, not when the traceback is collected
        connection.close()


def fetch(url: str, *, limits: ImportLimits | None = None, limit: int | None = None) -> bytes:
    """GET a partner's public calendar: http(s) to public addresses only (each redirect checked
    again), at most `limit` bytes (MAX_BYTES by default) read whatever the server says or sends,
    and everything within `limits.fetch_seconds`."""
    limits = limits or ImportLimits()
    limit = MAX_BYTES if limit is None else limit
    deadline = _Deadline(limits.fetch_seconds)
    for _hop in range(MAX_REDIRECTS + 1):
        elsewhere, data = _get(url, deadline, limit, limits.allow_loopback)
        if elsewhere is None:
            return data
        url = elsewhere
    raise FetchError(_("Trop de redirections (%(n)d au plus).", n=MAX_REDIRECTS))


def record_fetch_error(
    session: DbSession, ctx: ServiceContext, *, source: AgendaSource, error: ImportFailed
) -> ImportReport:
    """An unreachable or refused address, or a file over its reading budget, is reported on the
    source like a broken file.

    Fetching and reading are the caller's steps, outside any unit of work (they may take their
    whole budgets): `fetch` and `parse_isolated`, then `import_parsed` or this, each in a short
    unit of work.
    """
    require_importer(ctx)
    report = ImportReport(error=str(error))
    _record(_locked(session, source), report, ctx.now)
    return report


def load_report(source: AgendaSource) -> ImportReport | None:
    if not source.last_report:
        return None
    return ImportReport(**json.loads(source.last_report))
