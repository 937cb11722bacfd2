"""The benchmark's data set: ten years of a busy network, loaded in bulk.

`flask --app wsgi seed-bench --scale 1` writes, in one transaction: 2,000 people, 600 resources
(items and online accounts in the 13 départements, with the demo's categories, pickup points and
opening hours), 1,000,000 bookings over ten years, 3,000 training sessions with 40,000
enrolments and 20,000 agenda events. The people and the catalogue are the same at every scale:
`--scale` multiplies the years' activity (bookings, trainings, enrolments, events), so that the
bench compares one network with ten times the history.

The same seed, on the same day and the same database state, writes the same rows: the random
draws come from `--seed`, and every instant is counted from midnight UTC of `ctx.now`.

Rows go in as the database takes them fastest: COPY on PostgreSQL (psycopg's `cursor.copy`),
one `executemany` per batch on SQLite. The rules still hold: no two holding bookings of one
resource overlap, buffers included. On PostgreSQL the exclusion constraint checks each row; on
SQLite the triggers, which look up each new row's neighbours one by one, are dropped during
the load, the whole set is checked in one query, and the triggers are created again, all in
the same transaction.
"""

from __future__ import annotations

import random
import time as clock
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import Connection, Table, func, select, text
from werkzeug.security import generate_password_hash

from app import demo, entry
from app.db import DbSession, unit_of_work
from app.extensions import db
from app.models import (
    AgendaEvent,
    AgendaTheme,
    Booking,
    Category,
    Departement,
    Enrolment,
    OpeningHours,
    Organisation,
    PickupPoint,
    Resource,
    TrainingSession,
    TrainingTopic,
    User,
    UserRole,
    host_departements,
)
from app.models.agenda import event_themes
from app.models.trainings import session_trainers
from app.services.context import ServiceContext
from app.services.credentials import Credentials, encrypt

# The known secrets of the data set: the bench logs in as the feed's owner and reads the feed.
PASSWORD = "banc-d-essai-la-malle"
FEED_TOKEN = "bench-personal-feed"
FEED_USER_BOOKINGS = 200
HISTORY_DAYS = 3650
# Bookings in this window before today are listed by the feeds (services/feeds.py, PAST_WINDOW).
RECENT_DAYS = 90
# However far a category lets people book, the data set stops this far ahead.
HORIZON_DAYS = 180
BATCH = 5000
Progress = Callable[[int], None]


def _email(user_id: int) -> str:
    return f"personne{user_id}@banc.example.org"


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


class NotEmpty(Exception):
    """The database already holds people: the data set is added only when forced."""


@dataclass(frozen=True)
class Plan:
    """How many rows of each kind a scale makes."""

    users: int
    resources: int
    bookings: int
    trainings: int
    enrolments: int
    events: int

    @classmethod
    def at(cls, scale: float) -> Plan:
        if scale <= 0:
            raise ValueError("the scale must be positive")
        return cls(
            users=2_000,
            resources=600,
            bookings=max(1, round(1_000_000 * scale)),
            trainings=max(1, round(3_000 * scale)),
            enrolments=round(40_000 * scale),
            events=max(1, round(20_000 * scale)),
        )

    @property
    def rows(self) -> int:
        """The rows the progress bar counts: people, resources and the years' activity."""
        return self.users + self.resources + self.bookings + self.trainings + self.enrolments + self.events


@dataclass(frozen=True)
class Counts:
    users: int
    resources: int
    bookings: int
    trainings: int
    enrolments: int
    events: int
    feed_user_id: int
    feed_user_email: str


# The network's people ---------------------------------------------------------------------------

_FIRST = (
    "Léa Hugo Camille Inès Martin Sofia Paul Julie Nadia Thomas Émile Claire Louis Marta Chloé Jules "
    "Manon Arnaud Lucie Bastien Mathilde Yanis Elsa Romain Anaïs Théo Margot Pierre Zoé Raphaël Jeanne "
    "Malik"
)
FIRST_NAMES = _FIRST.split()
_LAST = (
    "Fabre Marty Aubert Vidal Roux Castex Bouscarel Ferrand Lafont Delpech Pagès Abadie Puig Assémat "
    "Bonnet Cazals Rouquette Fourcade Salvan Teisseire Bosc Carrère Escande Maury Pujol Azéma Baylac"
)
LAST_NAMES = _LAST.split()
TOWNS = {
    "09": ("Foix", "Pamiers", "Saint-Girons"),
    "11": ("Carcassonne", "Narbonne", "Limoux"),
    "12": ("Rodez", "Millau", "Villefranche-de-Rouergue"),
    "30": ("Nîmes", "Alès", "Uzès"),
    "31": ("Toulouse", "Muret", "Saint-Gaudens"),
    "32": ("Auch", "Condom", "Lectoure"),
    "34": ("Montpellier", "Béziers", "Sète"),
    "46": ("Cahors", "Figeac", "Gourdon"),
    "48": ("Mende", "Florac", "Marvejols"),
    "65": ("Tarbes", "Lourdes", "Bagnères-de-Bigorre"),
    "66": ("Perpignan", "Céret", "Prades"),
    "81": ("Albi", "Castres", "Gaillac"),
    "82": ("Montauban", "Moissac", "Castelsarrasin"),
}
STRUCTURES = (
    ("Association des sciences", "association"),
    ("Club d'astronomie", "association"),
    ("Fablab", "association"),
    ("Médiathèque", "public_body"),
    ("Muséum", "museum"),
    ("Laboratoire", "research"),
    ("Collège", "academy"),
    ("Lycée", "academy"),
    ("Planétarium", "museum"),
    ("Maison des sciences", "association"),
    ("Université populaire", "association"),
    ("Fondation", "foundation"),
)
HOSTS_PER_DEPARTEMENT = 2
TRAINERS = 20
ADMINS = 2

# Catalogue: how many of the 600 resources each category has (the rest are communication kits);
# the PLV stands are one per département. Accounts have no pickup point.
SHARE = {
    "micro": 0.25,
    "camera": 0.21,
    "eclairage": 0.15,
    "kit-streaming": 0.1,
    "compte-visio": 0.04,
    "compte-quiz": 0.013,
}
# Départements with more structures keep more equipment.
WEIGHTS = {"31": 3, "34": 3}
EXTRA_POINTS = {
    "31": "Antenne de Saint-Gaudens",
    "34": "Antenne de Béziers",
    "30": "Antenne d'Alès",
    "81": "Antenne de Castres",
}

PURPOSES = (
    "Tournage d'une capsule sur la biodiversité",
    "Table ronde « Sciences et société »",
    "Forum des associations",
    "Live depuis le laboratoire",
    "Podcast de la Rentrée",
    "Reportage Fête de la science",
    "Interviews de chercheuses",
    "Village des sciences",
    "Nuit des étoiles",
    "Conférence grand public",
    "Webinaire du groupe médiation en ligne",
    "Quiz pour une classe de 4e",
    "Atelier au collège",
    "",
)


class _Loader:
    """Bulk writes of plain tuples, in the form each database reads fastest."""

    def __init__(self, connection: Connection, progress: Progress) -> None:
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self.raw: Any = connection.connection.driver_connection
        self.progress = progress
        self.quote = connection.dialect.identifier_preparer.quote

    def instant(self, value: datetime) -> Any:
        # SQLAlchemy's SQLite storage of UTCDateTime: naive UTC text of one fixed width.
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def clock(self, value: time) -> Any:
        return value.strftime("%H:%M:%S.%f") if self.sqlite else value

    def next_id(self, table: Table) -> int:
        return int(self.connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1

    def write(
        self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, counted: bool = True
    ) -> int:
        names = ", ".join(self.quote(c) for c in columns)
        written = 0
        if self.sqlite:
            statement = f"INSERT INTO {self.quote(table.name)} ({names}) VALUES ({', '.join('?' * len(columns))})"
            cursor = self.raw.cursor()
            batch: list[Sequence[Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) == BATCH:
                    cursor.executemany(statement, batch)
                    written += len(batch)
                    if counted:
                        self.progress(len(batch))
                    batch = []
            cursor.executemany(statement, batch)
            written += len(batch)
            if counted:
                self.progress(len(batch))
            cursor.close()
            return written
        with self.raw.cursor() as cursor, cursor.copy(f"COPY {self.quote(table.name)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
                if counted and written % BATCH == 0:
                    self.progress(BATCH)
        if counted:
            self.progress(written % BATCH)
        if "id" in columns:
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
            )
        return written


class _Instants(dict[int, Any]):
    """Hour number (since the data set's day zero) → the value the database stores; built once each."""

    def __init__(self, loader: _Loader, day_zero: datetime) -> None:
        super().__init__()
        self.loader = loader
        self.day_zero = day_zero

    def __missing__(self, hour: int) -> Any:
        value = self[hour] = self.loader.instant(self.day_zero + timedelta(hours=hour))
        return value


@dataclass(frozen=True)
class _Kind:
    """What the generator needs to know of a resource's category."""

    category_id: int
    physical: bool
    approval: bool
    buffer: int  # hours
    longest: int  # hours
    horizon: int  # hours from today


class _Seeder:
    def __init__(self, session: DbSession, ctx: ServiceContext, loader: _Loader, plan: Plan, rng: random.Random):
        self.session, self.ctx, self.loader, self.plan, self.rng = session, ctx, loader, plan, rng
        now = ctx.now.astimezone(UTC)
        # Hour 0 is midnight UTC of today: "now" for every phase and status.
        self.today = datetime(now.year, now.month, now.day, tzinfo=UTC)
        self.first_hour = -(HISTORY_DAYS - HORIZON_DAYS) * 24
        self.at = _Instants(loader, self.today)
        self.codes = sorted(session.scalars(select(Departement.code)))
        self.names = {d.code: d.name for d in session.scalars(select(Departement))}

    def run(self) -> Counts:
        organisations = self._organisations()
        people = self._people(organisations)
        categories = self._categories()
        points = self._pickup_points()
        resources = self._resources(categories, points)
        bookings = self._bookings(resources, people)
        trainings = self._trainings(people)
        enrolments = self._enrolments(trainings, people)
        events = self._agenda(people)
        self._finish()
        return Counts(
            users=len(people.everyone),
            resources=len(resources),
            bookings=bookings,
            trainings=len(trainings),
            enrolments=enrolments,
            events=events,
            feed_user_id=people.feed_user,
            feed_user_email=_email(people.feed_user),
        )

    # Structures and people ----------------------------------------------------------------------

    def _organisations(self) -> dict[str, list[int]]:
        """Organisation ids by département: the demo's structures, then one per kind and town."""
        table = _table(Organisation)
        existing = {
            name: (oid, code)
            for oid, name, code in self.session.execute(select(table.c.id, table.c.name, table.c.departement_code))
        }
        wanted = [(name, kind, code) for name, kind, code in demo.ORGANISATIONS]
        for code in self.codes:
            for town in TOWNS.get(code, (self.names[code],)):
                wanted += [(f"{prefix} de {town}", kind, code) for prefix, kind in STRUCTURES]
        next_id = self.loader.next_id(table)
        rows: list[tuple[Any, ...]] = []
        by_code: dict[str, list[int]] = {code: [] for code in self.codes}
        for name, kind, code in wanted:
            if name in existing:
                by_code[code].append(existing[name][0])
                continue
            rows.append((next_id, name, kind, code))
            by_code[code].append(next_id)
            next_id += 1
        self.loader.write(table, ("id", "name", "kind", "departement_code"), rows, counted=False)
        return by_code

    def _people(self, organisations: dict[str, list[int]]) -> _People:
        rng, plan = self.rng, self.plan
        first = self.loader.next_id(_table(User))
        ids = list(range(first, first + plan.users))
        # Hashing is slow on purpose: every account shares one hash of the one password.
        password_hash = generate_password_hash(PASSWORD)
        admins = ids[:ADMINS]
        hosts = {
            code: ids[ADMINS + i * HOSTS_PER_DEPARTEMENT : ADMINS + (i + 1) * HOSTS_PER_DEPARTEMENT]
            for i, code in enumerate(self.codes)
        }
        start = ADMINS + HOSTS_PER_DEPARTEMENT * len(self.codes)
        trainers = ids[start : start + TRAINERS]
        members = ids[start + TRAINERS :]
        feed_user = members[0]
        host_of = {uid: code for code, group in hosts.items() for uid in group}
        # Most people joined in the first year of the history.
        joined = self.first_hour - 24 * 30

        def users() -> Iterator[tuple[Any, ...]]:
            for n, uid in enumerate(ids):
                code = host_of.get(uid) or rng.choice(self.codes)
                name = (
                    f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n // len(FIRST_NAMES) + n) % len(LAST_NAMES)]}"
                )
                since = joined + rng.randrange(0, 24 * 365)
                yield (
                    uid,
                    _email(uid),
                    name,
                    password_hash,
                    rng.choice(organisations[code]) if organisations[code] else None,
                    code,
                    "fr" if n % 10 else "en",
                    True,
                    self.at[since],
                    self.at[since + 24],
                    admins[0] if uid != admins[0] else None,
                    FEED_TOKEN if uid == feed_user else None,
                    "",
                )

        # The token is unique: a forced second load takes it from the first one's person.
        self.session.execute(_table(User).update().where(User.feed_token == FEED_TOKEN).values(feed_token=None))
        self.loader.write(
            _table(User),
            (
                "id",
                "email",
                "display_name",
                "password_hash",
                "organisation_id",
                "departement_code",
                "locale",
                "active",
                "created_at",
                "approved_at",
                "approved_by_id",
                "feed_token",
                "reminder_opt_outs",
            ),
            users(),
        )
        roles = [(uid, "member") for uid in ids]
        roles += [(uid, "admin") for uid in admins]
        roles += [(uid, "host") for group in hosts.values() for uid in group]
        roles += [(uid, "trainer") for uid in trainers]
        roles += [(hosts[code][0], "trainer") for code in self.codes[:3]]
        self.loader.write(_table(UserRole), ("user_id", "role"), sorted(roles), counted=False)
        self.loader.write(
            host_departements,
            ("user_id", "departement_code"),
            [(uid, code) for code, group in hosts.items() for uid in group],
            counted=False,
        )
        return _People(
            everyone=ids, admins=admins, hosts=hosts, trainers=trainers, members=members, feed_user=feed_user
        )

    # Catalogue ----------------------------------------------------------------------------------

    def _categories(self) -> dict[str, _Kind]:
        table = _table(Category)
        existing = {row.slug: row for row in self.session.execute(select(table))}
        next_id = self.loader.next_id(table)
        rows = []
        for slug, name, plural, description, physical, approval, hours, lead, advance, buffer, limit in demo.CATEGORIES:
            if slug in existing:
                continue
            rows.append(
                (
                    next_id,
                    slug,
                    name,
                    plural,
                    description,
                    physical,
                    approval,
                    hours,
                    lead,
                    advance,
                    buffer,
                    limit,
                    None if physical else 30,
                    180,
                )
            )
            next_id += 1
        self.loader.write(
            table,
            (
                "id",
                "slug",
                "name",
                "name_plural",
                "description",
                "needs_pickup",
                "needs_approval",
                "max_duration_hours",
                "min_lead_hours",
                "max_advance_days",
                "buffer_hours",
                "per_member_limit",
                "release_after_minutes",
                "no_show_window_days",
            ),
            rows,
            counted=False,
        )
        slugs = [c[0] for c in demo.CATEGORIES]
        return {
            row.slug: _Kind(
                category_id=row.id,
                physical=bool(row.needs_pickup),
                approval=bool(row.needs_approval),
                buffer=row.buffer_hours,
                longest=min(row.max_duration_hours, 72 if row.needs_pickup else 12),
                horizon=24 * min(row.max_advance_days, HORIZON_DAYS),
            )
            for row in self.session.execute(select(table).where(table.c.slug.in_(slugs)))
        }

    def _pickup_points(self) -> dict[str, list[int]]:
        """Each département's store (made by migration 0008, or here), a second place in four of
        them, and opening hours like the demo's for every place that has none."""
        table = _table(PickupPoint)
        points: dict[str, list[int]] = {code: [] for code in self.codes}
        for pid, code in self.session.execute(select(table.c.id, table.c.departement_code).order_by(table.c.id)):
            if code in points and not points[code]:
                points[code].append(pid)
        next_id = self.loader.next_id(table)
        rows = []
        for code in self.codes:
            wanted = [] if points[code] else [f"Stock – {self.names[code]}"]
            if code in EXTRA_POINTS:
                wanted.append(EXTRA_POINTS[code])
            for name in wanted:
                town = TOWNS.get(code, (self.names[code],))[0]
                rows.append((next_id, code, name, f"1 place de la Mairie\n{town}", "", f"05 00 00 00 {code}", ""))
                points[code].append(next_id)
                next_id += 1
        self.loader.write(
            table, ("id", "departement_code", "name", "address", "access_notes", "phone", "email"), rows, counted=False
        )
        hours_table = _table(OpeningHours)
        with_hours = set(self.session.scalars(select(hours_table.c.pickup_point_id).distinct()))
        patterns = [spans for *_rest, spans in demo.PICKUP_POINTS]
        spans = [
            (pid, weekday, self.loader.clock(time.fromisoformat(opens)), self.loader.clock(time.fromisoformat(closes)))
            for n, pid in enumerate(pid for code in self.codes for pid in points[code])
            if pid not in with_hours
            for weekday, opens, closes in patterns[n % len(patterns)]
        ]
        first = self.loader.next_id(hours_table)
        hours = [(first + n, *span) for n, span in enumerate(spans)]
        self.loader.write(
            hours_table, ("id", "pickup_point_id", "weekday", "opens_at", "closes_at"), hours, counted=False
        )
        return points

    def _resources(self, categories: dict[str, _Kind], points: dict[str, list[int]]) -> list[tuple[int, str, _Kind]]:
        """(id, département, category) of each resource made."""
        rng, plan = self.rng, self.plan
        first = self.loader.next_id(_table(Resource))
        slugs = ["stand-plv"] * len(self.codes)
        for slug, share in SHARE.items():
            slugs += [slug] * round(plan.resources * share)
        slugs += ["kit-communication"] * (plan.resources - len(slugs))
        slugs = slugs[: plan.resources]
        names = {slug: [n for s, n, _c in demo.EQUIPMENT if s == slug] for slug in categories}
        names["stand-plv"] = ["Stand PLV"]
        names["compte-visio"] = ["Compte Zoom"]
        names["compte-quiz"] = ["Compte Kahoot! EDU"]
        weighted = [code for code in self.codes for _ in range(WEIGHTS.get(code, 1))]
        made: list[tuple[int, str, _Kind]] = []
        rows = []
        created = self.at[self.first_hour - 24 * 60]
        for n, slug in enumerate(slugs):
            rid, kind = first + n, categories[slug]
            code = self.codes[n] if slug == "stand-plv" and n < len(self.codes) else rng.choice(weighted)
            base = names[slug][n % len(names[slug])] if names[slug] else slug
            name = f"Stand PLV {self.names[code]}" if slug == "stand-plv" else f"{base} n°{n + 1}"
            login = None
            if not kind.physical:
                login = encrypt(
                    self.ctx.credentials_key,
                    Credentials(f"compte{rid}@reseau-sciences-occitanie.example", f"banc-{rid}"),
                )
            point = None
            if kind.physical:
                point = points[code][0] if len(points[code]) == 1 or rng.random() < 0.8 else points[code][1]
            rows.append(
                (
                    rid,
                    name,
                    kind.category_id,
                    code,
                    "",
                    login,
                    created,
                    f"{code}-{rid:04d}",
                    demo.CONTENTS.get(slug, ""),
                    point,
                )
            )
            made.append((rid, code, kind))
        self.loader.write(
            _table(Resource),
            (
                "id",
                "name",
                "category_id",
                "departement_code",
                "description",
                "credentials_encrypted",
                "created_at",
                "inventory_code",
                "contents",
                "pickup_point_id",
            ),
            rows,
        )
        return made

    # Bookings -----------------------------------------------------------------------------------

    def _bookings(self, resources: list[tuple[int, str, _Kind]], people: _People) -> int:
        """Each resource's bookings one after the other, never overlapping (buffers included):
        its timeline is cut into as many slots as it has bookings, one booking inside each."""
        rng, plan = self.rng, self.plan
        # A day inside the feeds' window, whatever the hour today: every booking of the near
        # segment is listed.
        recent = -(RECENT_DAYS - 1) * 24
        shares = []
        for n, (_rid, _code, kind) in enumerate(resources):
            count = plan.bookings // len(resources) + (1 if n < plan.bookings % len(resources) else 0)
            span = kind.horizon - self.first_hour
            # The listed window (the feeds, the week, the month) has its share, and a few at least.
            near = min(count, max(3, round(count * (kind.horizon - recent) / span)))
            shares.append((count - near, near))
        total_near = sum(near for _old, near in shares)
        feed_picks = set(rng.sample(range(total_near), min(FEED_USER_BOOKINGS, total_near)))
        first = self.loader.next_id(_table(Booking))
        at = self.at
        # The feed's owner has exactly the bookings picked for them, none cancelled: their feed
        # lists them all.
        others = [uid for uid in people.everyone if uid != people.feed_user]
        hosts = people.hosts

        def rows() -> Iterator[tuple[Any, ...]]:
            booking_id, near_index = first, 0
            for (rid, code, kind), (old, near) in zip(resources, shares, strict=True):
                host = hosts[code][0] if hosts.get(code) else people.admins[0]
                for lo, hi, count, listed in (
                    (self.first_hour, recent, old, False),
                    (recent, kind.horizon, near, True),
                ):
                    for start, end, held in _slots(rng, lo, hi, count, kind):
                        mine = listed and near_index in feed_picks
                        if listed:
                            near_index += 1
                        user = people.feed_user if mine else rng.choice(others)
                        yield _booking_row(rng, at, booking_id, rid, user, host, kind, start, end, held, kept=mine)
                        booking_id += 1

        return self.loader.write(_table(Booking), BOOKING_COLUMNS, rows())

    # Trainings ----------------------------------------------------------------------------------

    def _trainings(self, people: _People) -> list[_Training]:
        rng, plan = self.rng, self.plan
        topics = list(self.session.execute(select(TrainingTopic.id, TrainingTopic.slug).order_by(TrainingTopic.id)))
        if not topics:
            return []
        titles = {slug: [t for s, t, *_rest in demo.TRAININGS if s == slug] for _tid, slug in topics}
        first = self.loader.next_id(_table(TrainingSession))
        span = HORIZON_DAYS * 24 - self.first_hour
        made: list[_Training] = []
        rows = []
        for n in range(plan.trainings):
            sid = first + n
            topic_id, slug = topics[n % len(topics)]
            day = (self.first_hour + span * n // plan.trainings) // 24
            start = day * 24 + rng.choice((8, 9, 13))
            length = rng.choice((2, 3, 3, 6))
            online = rng.random() < 0.6
            code = None if online else rng.choice(self.codes)
            capacity = rng.choice((8, 10, 12, 15, 20, 25, 30))
            created = min(start - 24 * 60, -24 * rng.randrange(1, 30))
            cancelled = min(start - 24 * rng.randrange(2, 10), -1) if rng.random() < 0.04 else None
            if cancelled is not None and cancelled <= created:
                cancelled = None
            title = rng.choice(titles[slug]) if titles[slug] else f"Formation n°{n + 1}"
            rows.append(
                (
                    sid,
                    topic_id,
                    title,
                    demo.DESCRIPTION,
                    self.at[start],
                    self.at[start + length],
                    "online" if online else "in_person",
                    f"https://visio.example.org/banc-{sid}" if online else None,
                    None if online else f"Salle du réseau, {TOWNS.get(code or '', ('Toulouse',))[0]}",
                    code,
                    capacity,
                    self.at[start - 24],
                    "advanced" if n % 7 == 0 else "beginner",
                    None if cancelled is None else self.at[cancelled],
                    None if cancelled is None else "Formatrice indisponible",
                    self.at[created],
                    self.at[created if cancelled is None else cancelled],
                    0 if cancelled is None else 1,
                )
            )
            made.append(_Training(sid, start, capacity, created, cancelled is not None, rng.choice(people.trainers)))
        self.loader.write(
            _table(TrainingSession),
            (
                "id",
                "topic_id",
                "title",
                "description",
                "starts_at",
                "ends_at",
                "mode",
                "video_link",
                "place",
                "departement_code",
                "capacity",
                "registration_deadline",
                "level",
                "cancelled_at",
                "cancel_reason",
                "created_at",
                "updated_at",
                "sequence",
            ),
            rows,
        )
        self.loader.write(session_trainers, ("session_id", "user_id"), [(t.id, t.trainer) for t in made], counted=False)
        return made

    def _enrolments(self, trainings: list[_Training], people: _People) -> int:
        """About thirteen people a session: seated up to capacity, then on the waitlist; those
        seated at a past session came, mostly. The feed's owner is signed up for a few upcoming ones."""
        if not trainings:
            return 0
        rng, plan = self.rng, self.plan
        first = self.loader.next_id(_table(Enrolment))
        learners = people.members
        upcoming = {t.id for t in trainings if t.start > 0}
        upcoming = set(sorted(upcoming)[:5])
        at = self.at

        def rows() -> Iterator[tuple[Any, ...]]:
            eid = first
            for n, training in enumerate(trainings):
                count = plan.enrolments // len(trainings) + (1 if n < plan.enrolments % len(trainings) else 0)
                chosen = rng.sample(learners[1:], min(count, len(learners) - 1))
                if training.id in upcoming:
                    chosen = [people.feed_user, *chosen[:-1]] if chosen else [people.feed_user]
                past = training.start < 0
                for place, user in enumerate(chosen):
                    queued = min(training.created + 24 + place * 3, training.start - 25, -1)
                    changed = queued
                    sequence = 0
                    if place >= training.capacity:
                        status = "waitlisted"
                    elif rng.random() < 0.08:
                        status, changed, sequence = "cancelled", min(queued + 48, -1), 1
                    elif past and not training.cancelled:
                        status = "attended" if rng.random() < 0.8 else "registered"
                        changed, sequence = training.start + 6, 1 if status == "attended" else 0
                    else:
                        status = "registered"
                    yield (eid, training.id, user, status, at[queued], at[queued], at[max(changed, queued)], sequence)
                    eid += 1

        return self.loader.write(
            _table(Enrolment),
            ("id", "session_id", "user_id", "status", "queued_at", "created_at", "updated_at", "sequence"),
            rows(),
        )

    # Agenda -------------------------------------------------------------------------------------

    def _agenda(self, people: _People) -> int:
        rng, plan = self.rng, self.plan
        themes: dict[str, int] = dict(self.session.execute(select(AgendaTheme.slug, AgendaTheme.id)).all())
        first = self.loader.next_id(_table(AgendaEvent))
        span = HORIZON_DAYS * 24 - self.first_hour
        proposers = [people.admins[0], *people.members[:50]]
        links: list[tuple[int, int]] = []
        at = self.at

        def rows() -> Iterator[tuple[Any, ...]]:
            for n in range(plan.events):
                eid = first + n
                title, audiences, theme_slugs, campaign = demo.AGENDA_KINDS[n % len(demo.AGENDA_KINDS)]
                code = self.codes[n % len(self.codes)]
                town = rng.choice(TOWNS.get(code, (self.names[code],)))
                day = (self.first_hour + span * n // plan.events) // 24
                all_day = n % 5 == 0
                start = day * 24 - 1 if all_day else day * 24 + rng.choice((8, 9, 12, 15, 17))
                end = start + (24 if all_day else rng.choice((2, 3, 4)))
                month = (self.today + timedelta(hours=start)).month
                in_season = (campaign == "rentree" and month == 9) or (campaign == "ete" and 6 <= month <= 8)
                draw = rng.random()
                status = "published"
                if draw < 0.03:
                    status = "cancelled"
                elif draw < 0.05:
                    status = "refused"
                elif draw < 0.08 and start > 0:
                    status = "proposed"
                created = min(start - 24 * rng.randrange(30, 90), -1)
                links.extend((eid, themes[slug]) for slug in theme_slugs if slug in themes)
                yield (
                    eid,
                    f"{title} à {town}",
                    "Entrée libre. Un événement du réseau Science(s) en Occitanie.",
                    demo.ORGANISATIONS[n % len(demo.ORGANISATIONS)][0],
                    at[start],
                    at[end],
                    all_day,
                    code,
                    town,
                    audiences,
                    n % 3 == 0,
                    campaign if in_season else None,
                    status,
                    "Hors du champ de l'agenda" if status == "refused" else None,
                    rng.choice(proposers),
                    at[created],
                    at[created],
                    0,
                )

        written = self.loader.write(
            _table(AgendaEvent),
            (
                "id",
                "title",
                "description",
                "organiser_name",
                "starts_at",
                "ends_at",
                "all_day",
                "departement_code",
                "town",
                "audiences",
                "region_supported",
                "campaign",
                "status",
                "refusal_reason",
                "proposed_by_id",
                "created_at",
                "updated_at",
                "sequence",
            ),
            rows(),
        )
        self.loader.write(event_themes, ("event_id", "theme_id"), links, counted=False)
        return written

    def _finish(self) -> None:
        # PostgreSQL: the planner's statistics, as autovacuum would soon gather them. SQLite: the
        # app never runs ANALYZE, so neither does the bench.
        if not self.loader.sqlite:
            self.loader.connection.exec_driver_sql("ANALYZE")


@dataclass(frozen=True)
class _People:
    everyone: list[int]
    admins: list[int]
    hosts: dict[str, list[int]]
    trainers: list[int]
    members: list[int]
    feed_user: int


@dataclass(frozen=True)
class _Training:
    id: int
    start: int  # hour
    capacity: int
    created: int  # hour
    cancelled: bool
    trainer: int


BOOKING_COLUMNS = (
    "id",
    "resource_id",
    "user_id",
    "starts_at",
    "ends_at",
    "held_until",
    "status",
    "purpose",
    "created_at",
    "updated_at",
    "sequence",
    "decided_by_id",
    "decided_at",
    "picked_up_at",
    "handed_over_by_id",
    "returned_at",
    "received_by_id",
    "condition",
    "condition_note",
    "hours_override",
)


def _slots(rng: random.Random, lo: int, hi: int, count: int, kind: _Kind) -> Iterator[tuple[int, int, int]]:
    """`count` bookings (start, end, held until; in hours) inside [lo, hi), one per equal slot:
    picked up and brought back in the day where the slot leaves room."""
    if count <= 0 or hi <= lo:
        return
    width = (hi - lo) / count
    shortest = 4 if kind.physical else 1
    for i in range(count):
        s0, s1 = lo + int(i * width), lo + int((i + 1) * width)
        room = s1 - s0
        if room < 1:
            continue
        buffer = min(kind.buffer, room - 1)
        longest = min(kind.longest, room - buffer)
        length = rng.randint(min(shortest, longest), longest)
        start = s0 + rng.randint(0, room - buffer - length)
        # Daytime, UTC: 7 h to 16 h is 8 h to 18 h in Paris, whatever the season.
        hour = start % 24
        moved = start + (7 - hour if hour < 7 else 31 - hour if hour > 15 else 0)
        if moved + length + buffer <= s1:
            start = moved
        end = start + length
        hour = end % 24
        earlier = end - (hour - 16 if hour > 16 else hour + 8 if hour < 7 else 0)
        if earlier > start:
            end = earlier
        yield start, end, end + buffer


def _booking_row(
    rng: random.Random,
    at: _Instants,
    booking_id: int,
    resource_id: int,
    user_id: int,
    host: int,
    kind: _Kind,
    start: int,
    end: int,
    held: int,
    *,
    kept: bool = False,
) -> tuple[Any, ...]:
    """One booking as its life left it by today (hour 0): asked for, decided, picked up, brought
    back; a `kept` one is never cancelled, rejected or missed."""
    created = start - rng.randint(24, 24 * 40)
    if created >= 0:
        created = -rng.randint(1, 24 * 20)
    decided = min(created + rng.randint(1, 48), start - 1, -1) if kind.approval else created
    draw = rng.random()
    if kept:
        draw = 0.12 + 0.88 * draw
    status, sequence, updated = "approved", (1 if kind.approval else 0), decided
    decided_by = host if kind.approval else None
    picked = returned = received = condition = note = None
    if start > 0:  # ahead
        if draw < 0.08:
            status, sequence, updated = "cancelled", sequence + 1, min(decided + 24, -1)
        elif kind.approval and draw < 0.3:
            status, sequence, updated, decided_by = "requested", 0, created, None
    elif draw < 0.07:
        status, sequence, updated = "cancelled", sequence + 1, min(decided + 24, start - 1)
    elif kind.approval and draw < 0.1:
        status, updated = "rejected", decided
    elif kind.physical and draw < 0.12:
        status, sequence, updated = "no_show", sequence + 1, start + 2
    elif kind.physical:
        picked, status, sequence, updated = start, "picked_up", sequence + 1, start
        # Out now, or late: a few recent loans are not back yet.
        if end <= 0 and not (end > -24 * 14 and draw < 0.2):
            returned, received, status, sequence, updated = end, host, "returned", sequence + 1, end
            condition = "ok" if draw < 0.97 else "incomplete"
            note = None if condition == "ok" else "Une batterie manquait."
    return (
        booking_id,
        resource_id,
        user_id,
        at[start],
        at[end],
        at[held],
        status,
        PURPOSES[booking_id % len(PURPOSES)],
        at[created],
        at[updated],
        sequence,
        decided_by,
        None if status == "requested" else at[decided],
        None if picked is None else at[picked],
        None if picked is None else host,
        None if returned is None else at[returned],
        received,
        condition,
        note,
        False,
    )


def check_no_overlap(connection: Connection) -> int:
    """Holding bookings of one resource that start before the previous one is free again.

    Sorted by start, two bookings overlap only if some booking starts before its predecessor's
    held_until: one pass over each resource's bookings, not a pair-wise join."""
    return int(
        connection.execute(
            text(
                """
                SELECT count(*) FROM (
                    SELECT starts_at, lag(held_until) OVER (PARTITION BY resource_id ORDER BY starts_at) AS before
                    FROM bookings WHERE status IN ('requested', 'approved', 'picked_up')
                ) AS ordered
                WHERE before > starts_at
                """
            )
        ).scalar_one()
    )


def _sqlite_triggers_off(connection: Connection) -> list[str]:
    """Drop the per-row checks of `bookings` (no overlap, not out of service) and give back
    their exact definitions, to create them again after the load."""
    found = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'bookings' ORDER BY name"
    ).all()
    for name, _sql in found:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in found]


def load(
    session: DbSession,
    ctx: ServiceContext,
    *,
    plan: Plan,
    seed: int = 17,
    force: bool = False,
    progress: Progress | None = None,
) -> Counts:
    """Write the data set inside the caller's unit of work (one transaction, so that a failure
    leaves nothing, triggers included); refuse a database that holds people unless forced
    (then the set is added beside them).

    On SQLite the booking triggers are off during the load, the whole set is checked at once,
    then the triggers are created again."""
    if not force and session.scalar(select(func.count()).select_from(User)):
        raise NotEmpty("the database already holds people")
    connection = session.connection()
    triggers = _sqlite_triggers_off(connection) if connection.dialect.name == "sqlite" else []
    loader = _Loader(connection, progress or (lambda _n: None))
    counts = _Seeder(session, ctx, loader, plan, random.Random(seed)).run()
    if triggers:
        overlaps = check_no_overlap(connection)
        if overlaps:
            raise RuntimeError(f"{overlaps} holding bookings overlap the one before them")
        for sql in triggers:
            connection.exec_driver_sql(sql)
    return counts


@click.command("seed-bench")
@click.option("--scale", type=float, default=1.0, show_default=True, help="1 = 1,000,000 bookings over ten years.")
@click.option(
    "--seed", "seed_value", type=int, default=17, show_default=True, help="Random seed (same seed, same data)."
)
@click.option("--force", is_flag=True, help="Add the data set even though the database already holds people.")
@with_appcontext
def seed_bench(scale: float, seed_value: int, force: bool) -> None:
    """Load the benchmark's data set in bulk (refuses a database that holds people)."""
    try:
        plan = Plan.at(scale)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--scale") from error
    started = clock.monotonic()
    try:
        with click.progressbar(length=plan.rows, label="Seeding the bench data set") as bar, unit_of_work(db.session):
            counts = load(db.session, entry.for_cli(), plan=plan, seed=seed_value, force=force, progress=bar.update)
    except NotEmpty as error:
        raise click.ClickException(
            "The database already holds people: use --force to add the bench data set anyway."
        ) from error
    click.echo(
        f"{counts.users:,} people, {counts.resources:,} resources, {counts.bookings:,} bookings, "
        f"{counts.trainings:,} training sessions, {counts.enrolments:,} enrolments, {counts.events:,} agenda events "
        f"in {clock.monotonic() - started:.0f} s."
    )
    click.echo(f"Personal feed: /feeds/me/{FEED_TOKEN}.ics ({counts.feed_user_email}, password {PASSWORD}).")
