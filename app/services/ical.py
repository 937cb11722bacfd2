"""iCalendar (RFC 5545) feeds and single events, built with the icalendar library.

What calendar apps need to follow changes: a UID per item that never changes, SEQUENCE and
LAST-MODIFIED that grow with each edit, STATUS:CANCELLED kept for a while rather than the
item vanishing, times in UTC (no VTIMEZONE needed), METHOD:PUBLISH. DTSTAMP is the item's
last change, not the time of the request, so that an unchanged feed is byte-for-byte the
same and its ETag lets clients skip it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import icalendar

PRODID = "-//Science(s) en Occitanie//La Malle//FR"
# Bump when calendar() changes what it writes: every feed's ETag changes with it.
FORMAT_VERSION = 1
REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    summary: str
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime
    sequence: int
    status: str = "CONFIRMED"  # CONFIRMED, TENTATIVE or CANCELLED
    description: str = ""
    location: str = ""
    url: str | None = None


def _event(item: FeedEvent) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", item.uid)
    event.add("dtstamp", item.updated_at)
    event.add("last-modified", item.updated_at)
    event.add("sequence", item.sequence)
    event.add("dtstart", item.starts_at)
    event.add("dtend", item.ends_at)
    event.add("summary", item.summary)
    event.add("status", item.status)
    if item.description:
        event.add("description", item.description)
    if item.location:
        event.add("location", item.location)
    if item.url:
        event.add("url", item.url)
    return event


def calendar(name: str, items: Iterable[FeedEvent]) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(REFRESH))  # an X- property: typed by hand
    for item in sorted(items, key=lambda i: (i.starts_at, i.uid)):
        cal.add_component(_event(item))
    return cal.to_ical()


def fingerprint(name: str, items: Iterable[FeedEvent]) -> str:
    """A digest of exactly what calendar() would write, without the cost of writing it.

    The body is a pure function of the name and the items, so equal fingerprints mean equal
    bodies: a feed's ETag can be checked before the (slow) serialisation.
    """
    ordered = sorted(items, key=lambda i: (i.starts_at, i.uid))
    payload = repr((FORMAT_VERSION, PRODID, name, [tuple(i.__dict__.values()) for i in ordered]))
    return hashlib.sha256(payload.encode()).hexdigest()


def last_modified(items: Iterable[FeedEvent]) -> datetime | None:
    return max((i.updated_at for i in items), default=None)
