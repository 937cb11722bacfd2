"""iCalendar (RFC 5545) feeds and single events.

What calendar apps need to follow changes: a UID per item that never changes, SEQUENCE and
LAST-MODIFIED that grow with each edit, STATUS:CANCELLED kept for a while rather than the
item vanishing, times in UTC (no VTIMEZONE needed), METHOD:PUBLISH. DTSTAMP is the item's
last change, not the time of the request, so that an unchanged feed is byte-for-byte the
same and its ETag lets clients skip it.

The same text has two writers. `calendar()` builds it with the icalendar library: it is the
reference, and what a one-off download or an email attaches. Feeds are polled every hour by
every subscriber and hold thousands of events, so `write()` assembles them from pieces whose
text `vevent()` writes by hand once per change and `Fragments` keeps; a test holds the two
writers to the same events.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple

import icalendar

PRODID = "-//Science(s) en Occitanie//La Malle//FR"
# Bump when what a feed writes changes (calendar(), vevent(), or how feeds.py builds its
# events): every feed's ETag changes with it.
FORMAT_VERSION = 2
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


# The reference writer ---------------------------------------------------------------------------


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


# The fast writer: the reference's text, written directly ---------------------------------------


def _text(value: str) -> str:
    r"""A TEXT value escaped as the reference escapes it, in its order (a literal \N is a newline there)."""
    return (
        value.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _line(line: str) -> bytes:
    """One content line, folded as the reference folds it: at most 74 octets before each fold,
    never inside a UTF-8 character, and an escaping backslash kept with the character it escapes."""
    raw = line.encode()
    if len(raw) < 75:
        return raw
    parts = []
    start, size = 0, len(raw)
    while size - start > 74:
        cut = start + 74
        while raw[cut] & 0xC0 == 0x80:  # a continuation byte: the character starts earlier
            cut -= 1
        if cut - 1 > start and raw[cut - 1] in b"\\^":
            cut -= 1
        parts.append(raw[start:cut])
        start = cut
    parts.append(raw[start:])
    return b"\r\n ".join(parts)


def _utc(at: datetime) -> str:
    at = at.astimezone(UTC)
    return f"{at.year:04d}{at.month:02d}{at.day:02d}T{at.hour:02d}{at.minute:02d}{at.second:02d}Z"


def vevent(item: FeedEvent) -> bytes:
    """The VEVENT that calendar() writes for the item, properties in the reference's order."""
    stamp = _utc(item.updated_at)
    lines = [
        b"BEGIN:VEVENT",
        _line("SUMMARY:" + _text(item.summary)),
        b"DTSTART:" + _utc(item.starts_at).encode(),
        b"DTEND:" + _utc(item.ends_at).encode(),
        b"DTSTAMP:" + stamp.encode(),
        _line("UID:" + _text(item.uid)),
        b"SEQUENCE:%d" % item.sequence,
    ]
    if item.description:
        lines.append(_line("DESCRIPTION:" + _text(item.description)))
    lines.append(b"LAST-MODIFIED:" + stamp.encode())
    if item.location:
        lines.append(_line("LOCATION:" + _text(item.location)))
    lines.append(_line("STATUS:" + _text(item.status)))
    if item.url:
        if "\r" in item.url or "\n" in item.url:
            raise ValueError(f"A URI value may not contain CR or LF characters: {item.url!r}")
        lines.append(_line("URL:" + item.url))
    lines.append(b"END:VEVENT\r\n")
    return b"\r\n".join(lines)


_REFRESH = icalendar.vDuration(REFRESH).to_ical()


def _head(name: str) -> bytes:
    return b"\r\n".join(
        [
            b"BEGIN:VCALENDAR",
            b"VERSION:2.0",
            _line("PRODID:" + _text(PRODID)),
            b"CALSCALE:GREGORIAN",
            b"METHOD:PUBLISH",
            # As the reference writes it (an X- property, unescaped); a line break, which it
            # refuses, would end the line early.
            _line("X-WR-CALNAME:" + name.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")),
            b"REFRESH-INTERVAL;VALUE=DURATION:" + _REFRESH,
            b"X-PUBLISHED-TTL:" + _REFRESH,
            b"",
        ]
    )


_TAIL = b"END:VCALENDAR\r\n"


# Feeds: pieces written once per change -----------------------------------------------------------


class Piece(NamedTuple):
    """Events of a feed that change together (a booking's loan, pickup and return), known by the
    plain values they are written from."""

    at: Any  # the feed is ordered by it (then by kind and ident): an instant, raw or not
    kind: str  # which builder writes it: "booking", "busy", …
    ident: int | str  # the row's id, unique within its kind
    facts: Hashable  # every value the events are written from: a feed's row, or a FeedEvent
    build: Callable[[Any], list[FeedEvent]]  # the facts' events, asked for only when not kept


def _as_is(item: FeedEvent) -> list[FeedEvent]:
    return [item]


@dataclass(frozen=True)
class Feed:
    pieces: list[Piece]
    # A digest of what the events depend on besides their facts, the same for every piece of
    # the feed (the UIDs' domain, the address of the pages they link to, the reader's language).
    dialect: str = ""
    last_modified: datetime | None = None  # the latest change of any of its events

    @classmethod
    def of(cls, items: Iterable[FeedEvent]) -> Feed:
        """Events already built: each is its own piece, its fields its facts."""
        items = list(items)
        pieces = [Piece(i.starts_at, "event", i.uid, i, _as_is) for i in items]
        return cls(pieces, "", max((i.updated_at for i in items), default=None))

    def events(self) -> list[FeedEvent]:
        return [event for piece in self.pieces for event in piece.build(piece.facts)]


class _Kept:
    """A piece's text (written when first asked for) and a digest of what it is written from."""

    __slots__ = ("digest", "key", "text")

    def __init__(self, key: tuple[Any, ...], digest: bytes) -> None:
        self.key = key
        self.digest = digest
        self.text: bytes | None = None


_ENTRY_COST = 350  # what an entry weighs besides its text (key, digest, LRU links), as measured


class Fragments:
    """The text of feed pieces, kept in this process; the least recently used goes first.

    A piece is kept under its feed's dialect, its kind, its id and a hash of its facts: any change
    to what its events show makes a new key, so nothing is ever invalidated by hand and the text of
    an old version simply ages out. (A hash rather than the facts themselves keeps the key small;
    two versions of one item colliding on it is a 1 in 2**64 chance that cannot be provoked, as
    Python's string hash is keyed per process.) Bounded by the bytes it holds, not by entries.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.written = 0  # pieces written since the start, for tests and profiles
        self._entries: OrderedDict[tuple[Any, ...], _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, keys: Sequence[tuple[Any, ...]]) -> list[_Kept | None]:
        with self._lock:
            entries = self._entries
            found: list[_Kept | None] = []
            for key in keys:
                kept = entries.get(key)
                if kept is not None:
                    entries.move_to_end(key)
                found.append(kept)
            return found

    def keep(self, new: Iterable[_Kept]) -> None:
        with self._lock:
            for kept in new:
                if kept.key not in self._entries:
                    self._entries[kept.key] = kept
                    self.size += _ENTRY_COST + len(kept.text or b"")
            self._trim()

    def fill(self, kept: _Kept, text: bytes) -> None:
        with self._lock:
            if kept.text is not None:
                return  # written meanwhile by another thread
            kept.text = text
            self.written += 1
            # An entry dropped since it was found is still written for the feed that found it.
            if self._entries.get(kept.key) is kept:
                self.size += len(text)
                self._trim()

    def _trim(self) -> None:
        while self.size > self.max_bytes and self._entries:
            _key, old = self._entries.popitem(last=False)
            self.size -= _ENTRY_COST + len(old.text or b"")


# A piece's place in its feed: its instant, then kind and ident (Piece's first three fields).
_order = itemgetter(0, 1, 2)


def _digest(dialect: str, piece: Piece) -> bytes:
    """What the piece is written from, stable across processes (the ETag must be the same from
    every worker): a repr, never Python's hash."""
    facts: Any = piece.facts
    if not isinstance(facts, FeedEvent):
        facts = tuple(facts)  # a database row: its values
    return hashlib.blake2b(repr((dialect, piece.kind, facts)).encode(), digest_size=16).digest()


class Written:
    """A feed's validators, known without writing it; its body written only when asked for."""

    def __init__(
        self,
        name: str,
        pieces: list[Piece],
        kept: list[_Kept],
        fragments: Fragments,
        *,
        etag: str,
        last_modified: datetime | None,
    ) -> None:
        self._name, self._pieces, self._kept, self._fragments = name, pieces, kept, fragments
        self.etag = etag
        self.last_modified = last_modified

    def body(self) -> bytes:
        texts = [_head(self._name)]
        for piece, kept in zip(self._pieces, self._kept, strict=True):
            text = kept.text
            if text is None:
                text = b"".join(vevent(e) for e in piece.build(piece.facts))
                self._fragments.fill(kept, text)
            texts.append(text)
        texts.append(_TAIL)
        return b"".join(texts)


def write(name: str, feed: Feed, fragments: Fragments) -> Written:
    """The feed named `name`: its ETag and Last-Modified at once, its body on demand.

    The body is a pure function of the name, the feed's dialect and its pieces' facts, which
    the ETag digests in the body's order: equal ETags, equal bodies.
    """
    pieces = sorted(feed.pieces, key=_order)
    dialect = feed.dialect
    keys = [(dialect, p.kind, p.ident, hash(p.facts)) for p in pieces]
    found = fragments.find(keys)
    new: list[_Kept] = []
    kept: list[_Kept] = []
    for key, piece, entry in zip(keys, pieces, found, strict=True):
        if entry is None:
            entry = _Kept(key, _digest(dialect, piece))
            new.append(entry)
        kept.append(entry)
    if new:
        fragments.keep(new)
    etag = hashlib.sha256(repr((FORMAT_VERSION, PRODID, name)).encode())
    etag.update(b"".join(k.digest for k in kept))
    return Written(name, pieces, kept, fragments, etag=etag.hexdigest(), last_modified=feed.last_modified)
