"""Demo data: the network's structures, fictitious people, the shared equipment.

People are invented; structure names are the network's own. Loaded by `flask seed-demo`
(and by `make run` when the database is empty), never otherwise.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select

from app.db import DbSession, unit_of_work
from app.models import (
    AgendaTheme,
    BookingStatus,
    Category,
    Departement,
    Organisation,
    OutboxMessage,
    Resource,
    TrainingTopic,
    User,
)
from app.services import accounts, agenda, blackouts, booking, catalogue, loan, pickup, training
from app.services.calendar import local_midnight
from app.services.context import ServiceContext

PASSWORD = "lamalle-demo"

LOGINS = (
    ("admin@example.org", "administrateur (coordination du réseau)"),
    ("hote.aude@example.org", "hôte de l'Aude (11)"),
    ("hote.herault@example.org", "hôte de l'Hérault (34)"),
    ("membre@example.org", "membre (Délires d'encre, 31)"),
    ("membre2@example.org", "membre (Fermat Science, 82)"),
    ("formatrice@example.org", "formatrice"),
)

ORGANISATIONS = (
    ("Science Animation", "association", "31"),
    ("Délires d'encre", "association", "31"),
    ("Fermat Science", "association", "82"),
    ("Université de Montpellier", "university", "34"),
    ("Université fédérale Toulouse Midi-Pyrénées", "university", "31"),
    ("IRD", "research", "34"),
    ("CNRS Occitanie Ouest", "research", "31"),
    ("Kimiyo", "association", "34"),
    ("Fondation CGénial", "foundation", "31"),
    ("Cosciences", "association", "34"),
    ("Biodiversarium", "museum", "66"),
    ("TAKH", "association", "34"),
    ("Andromède Océanologie", "company", "34"),
    ("Région Occitanie", "public_body", "31"),
    ("Académie de Toulouse", "academy", "31"),
    ("Académie de Montpellier", "academy", "34"),
)

# (email, name, organisation, département, roles, hosted départements)
PEOPLE = (
    ("admin@example.org", "Camille Coordination", "Région Occitanie", "31", ("admin",), ()),
    ("hote.aude@example.org", "Martin Aubert", "Science Animation", "11", ("host",), ("11",)),
    ("hote.herault@example.org", "Inès Vidal", "Université de Montpellier", "34", ("host",), ("34",)),
    ("membre@example.org", "Léa Fabre", "Délires d'encre", "31", (), ()),
    ("membre2@example.org", "Hugo Marty", "Fermat Science", "82", (), ()),
    ("formatrice@example.org", "Sofia Roux", "Science Animation", "31", ("trainer",), ()),
    ("hote.ariege@example.org", "Paul Castex", "Science Animation", "09", ("host",), ("09",)),
    ("hote.aveyron@example.org", "Julie Bouscarel", "Kimiyo", "12", ("host",), ("12",)),
    ("hote.gard@example.org", "Nadia Ferrand", "Cosciences", "30", ("host",), ("30",)),
    ("hote.hautegaronne@example.org", "Thomas Lafont", "Science Animation", "31", ("host",), ("31", "32")),
    ("hote.lot@example.org", "Émile Delpech", "Fermat Science", "46", ("host",), ("46",)),
    ("hote.lozere@example.org", "Claire Pagès", "Kimiyo", "48", ("host",), ("48",)),
    ("hote.hautespyrenees@example.org", "Louis Abadie", "Délires d'encre", "65", ("host",), ("65",)),
    ("hote.po@example.org", "Marta Puig", "Biodiversarium", "66", ("host",), ("66",)),
    ("hote.tarn@example.org", "Chloé Assémat", "Fermat Science", "81", ("host", "trainer"), ("81", "82")),
)

# (slug, name, plural, description, pickup, approval, max hours, lead hours, advance days, buffer hours, limit)
CATEGORIES = (
    (
        "micro",
        "Micro",
        "Micros",
        "Micros-cravates et micros main, avec leurs récepteurs.",
        True,
        True,
        24 * 7,
        24,
        180,
        12,
        3,
    ),
    (
        "camera",
        "Caméra",
        "Caméras",
        "Caméras et appareils hybrides pour filmer vos actions.",
        True,
        True,
        24 * 7,
        24,
        180,
        12,
        2,
    ),
    ("eclairage", "Éclairage", "Éclairages", "Panneaux LED et trépieds.", True, True, 24 * 7, 24, 180, 12, None),
    (
        "kit-streaming",
        "Kit de streaming",
        "Kits de streaming",
        "Mallette complète pour un live : ordinateur avec OBS, carte d'acquisition, micros, caméra.",
        True,
        True,
        24 * 4,
        48,
        180,
        24,
        1,
    ),
    (
        "stand-plv",
        "Stand PLV",
        "Stands PLV",
        "Le stand ludique du réseau, un par département, gardé par l'hôte départemental.",
        True,
        True,
        24 * 14,
        72,
        365,
        24,
        1,
    ),
    (
        "kit-communication",
        "Kit de communication",
        "Kits de communication",
        "Kakémonos et supports aux couleurs du réseau et de la Région.",
        True,
        False,
        24 * 14,
        24,
        365,
        0,
        None,
    ),
    (
        "compte-visio",
        "Compte de visioconférence",
        "Comptes de visioconférence",
        "Comptes Zoom payants du réseau (réunions longues, webinaires).",
        False,
        False,
        12,
        2,
        90,
        0,
        2,
    ),
    (
        "compte-quiz",
        "Compte de quiz",
        "Comptes de quiz",
        "Compte Kahoot! payant pour les quiz interactifs.",
        False,
        False,
        12,
        2,
        90,
        0,
        1,
    ),
)

EQUIPMENT = (
    ("micro", "Micro-cravate sans fil Rode n°1", "31"),
    ("micro", "Micro-cravate sans fil Rode n°2", "31"),
    ("micro", "Micro main Shure SM58", "34"),
    ("micro", "Paire de micros-cravates Sennheiser", "34"),
    ("micro", "Micro USB Blue Yeti", "11"),
    ("micro", "Enregistreur Zoom H5", "12"),
    ("micro", "Micro-canon Rode VideoMic", "66"),
    ("camera", "Caméra Sony FX30", "31"),
    ("camera", "Caméscope Panasonic HC-X1500", "34"),
    ("camera", "Hybride Canon EOS R10", "34"),
    ("camera", "Caméra PTZ de conférence", "31"),
    ("camera", "GoPro Hero 12", "30"),
    ("camera", "Caméscope Sony PXW-Z90", "81"),
    ("eclairage", "Panneaux LED Godox (×2)", "31"),
    ("eclairage", "Panneau LED Aputure", "34"),
    ("eclairage", "Kit d'éclairage trois points", "65"),
    ("eclairage", "Anneau lumineux et trépied", "46"),
    ("kit-streaming", "Kit de streaming Toulouse", "31"),
    ("kit-streaming", "Kit de streaming Montpellier", "34"),
    ("kit-streaming", "Kit de streaming Nîmes", "30"),
    ("kit-streaming", "Kit de streaming Albi", "81"),
    ("kit-communication", "Kakémonos Région Occitanie (×2)", "31"),
    ("kit-communication", "Kakémonos Région Occitanie (×2)", "34"),
    ("kit-communication", "Kakémonos du réseau", "11"),
    ("kit-communication", "Kakémonos du réseau", "82"),
    ("kit-communication", "Kakémonos du réseau", "48"),
    ("kit-communication", "Kakémonos du réseau", "09"),
    ("kit-communication", "Kakémonos du réseau", "32"),
    ("micro", "Micro-cravate filaire", "09"),
    ("camera", "Webcam 4K Logitech", "48"),
)

ACCOUNTS = (
    ("compte-visio", "Compte Zoom n°1", "31", "zoom1@reseau-sciences-occitanie.example", "demo-zoom-1"),
    ("compte-visio", "Compte Zoom n°2", "34", "zoom2@reseau-sciences-occitanie.example", "demo-zoom-2"),
    ("compte-quiz", "Compte Kahoot! EDU", "31", "kahoot@reseau-sciences-occitanie.example", "demo-kahoot"),
)


# The demo's story begins this long before the moment it is loaded: people register and
# the catalogue is set up first, so that the past bookings can be made under the rules.
SET_UP = timedelta(days=120)


def load(session: DbSession, ctx: ServiceContext) -> None:
    """Everything through the services, as its people would have done it, at the moments they
    would have; ctx.actor (the console, an admin) sets up the first admin. One unit of work."""
    if session.scalar(select(User.id).where(User.email == "admin@example.org")) is not None:
        return
    with unit_of_work(session):
        last_email = session.scalar(select(func.max(OutboxMessage.id))) or 0
        people = _people(session, ctx.at(ctx.now - SET_UP))
        admin = ctx.acting_as(people["admin"])
        categories = _catalogue(session, admin.at(ctx.now - SET_UP))
        _names_in_english(session, admin.at(ctx.now - SET_UP), categories)
        _bookings(session, ctx, people)
        _trainings(session, ctx, people, categories)
        _agenda(session, ctx, people)
        _pickup_points(session, ctx, people)
        # Invented people at example.org are told nothing of an invented past.
        session.execute(delete(OutboxMessage).where(OutboxMessage.id > last_email))


def _people(session: DbSession, ctx: ServiceContext) -> dict[str, User]:
    """The structures (no service: plain rows), then each person registered, given roles and approved."""
    departements = {d.code: d for d in session.scalars(select(Departement))}
    organisations = {}
    for name, kind, code in ORGANISATIONS:
        organisations[name] = Organisation(name=name, kind=kind, departement_code=code)
        session.add(organisations[name])
    session.flush()

    people: dict[str, User] = {}
    approver = ctx  # the console for the first admin; that admin for everyone else
    for email, name, organisation, code, roles, hosted in PEOPLE:
        user = accounts.register(
            session,
            ctx,
            email=email,
            display_name=name,
            password=PASSWORD,
            organisation=organisations[organisation],
            departement=departements[code],
            locale="fr",
        )
        if roles:
            accounts.set_roles(
                session, approver, user=user, roles=roles, host_departements=[departements[c] for c in hosted]
            )
        accounts.approve(session, approver, user=user)
        people[email.split("@")[0]] = user
        if "admin" in people:
            approver = ctx.acting_as(people["admin"])
    return people


# The demo's admin-entered names in English, by slug: (singular, plural) for categories.
CATEGORY_NAMES_EN = {
    "micro": ("Microphone", "Microphones"),
    "camera": ("Camera", "Cameras"),
    "eclairage": ("Light", "Lights"),
    "kit-streaming": ("Streaming kit", "Streaming kits"),
    "stand-plv": ("Display stand", "Display stands"),
    "kit-communication": ("Communication kit", "Communication kits"),
    "compte-visio": ("Video-conference account", "Video-conference accounts"),
    "compte-quiz": ("Quiz account", "Quiz accounts"),
}
TOPIC_NAMES_EN = {
    "obs-studio": "OBS Studio",
    "droits": "Copyright and image rights",
    "live-video": "Making a live video",
    "zoom": "Hosting with Zoom",
    "kahoot": "Interactive quizzes with Kahoot!",
}
THEME_NAMES_EN = {
    "science-et-sport": "Science and sport",
    "tourisme": "Science tourism",
    "art-science": "Art and science",
    "scolaire": "Schools",
    "festival": "Festival",
    "fete-de-la-science": "Science festival (Fête de la science)",
}


def _names_in_english(session: DbSession, ctx: ServiceContext, categories: dict[str, Category]) -> None:
    """What an admin would type in the English fields: the topics and themes come with the
    site (migrations), the categories with the demo."""
    for slug, (name_en, plural_en) in CATEGORY_NAMES_EN.items():
        if slug in categories:
            categories[slug].name_en, categories[slug].name_plural_en = name_en, plural_en
    for topic in session.scalars(select(TrainingTopic)):
        if topic.slug in TOPIC_NAMES_EN:
            training.save_topic(
                session,
                ctx,
                topic=topic,
                name=topic.name,
                description=topic.description,
                name_en=TOPIC_NAMES_EN[topic.slug],
            )
    themes = {theme.slug: theme.id for theme in session.scalars(select(AgendaTheme))}
    agenda.name_themes_in_english(
        session, ctx, names={themes[slug]: name for slug, name in THEME_NAMES_EN.items() if slug in themes}
    )


def _catalogue(session: DbSession, ctx: ServiceContext) -> dict[str, Category]:
    categories = {}
    for slug, name, plural, description, physical, approval, hours, lead, advance, buffer, limit in CATEGORIES:
        category = catalogue.save_category(
            session,
            ctx,
            category=None,
            name=name,
            name_plural=plural,
            description=description,
            needs_pickup=physical,
            needs_approval=approval,
            max_duration_hours=hours,
            min_lead_hours=lead,
            max_advance_days=advance,
            buffer_hours=buffer,
            per_member_limit=limit,
        )
        # The guide links to categories by these short slugs ([[reserver:kit-streaming]]).
        category.slug = slug
        categories[slug] = category

    def add(
        slug: str,
        name: str,
        code: str,
        description: str = "",
        contents: str = "",
        account_login: str | None = None,
        account_password: str | None = None,
    ) -> None:
        catalogue.save_resource(
            session,
            ctx,
            resource=None,
            name=name,
            category=categories[slug],
            departement_code=code,
            description=description,
            contents=contents,
            account_login=account_login,
            account_password=account_password,
        )

    for code, departement in sorted((d.code, d) for d in session.scalars(select(Departement))):
        add(
            "stand-plv",
            f"Stand PLV {departement.name}",
            code,
            "Stand ludique à volets : des cases à ouvrir pour découvrir les actions, "
            "les acteurs et les thèmes du réseau, et un fond pour se prendre en photo.",
        )
    for slug, name, code in EQUIPMENT:
        add(slug, name, code, contents=CONTENTS.get(slug, ""))
    for slug, name, code, login, password in ACCOUNTS:
        add(
            slug,
            name,
            code,
            "Les identifiants s'affichent sur votre réservation, pendant sa durée.",
            account_login=login,
            account_password=password,
        )
    return categories


# What each kind of item comes with, ticked by the host at pickup and at return.
CONTENTS = {
    "micro": "Micro\nBonnette anti-vent\nCâble ou récepteur\nPiles de rechange\nSacoche",
    "camera": "Boîtier\n2 batteries\nChargeur\nCarte SD 64 Go\nSacoche",
    "eclairage": "Panneaux\nPieds\nAlimentations\nHousse",
    "kit-streaming": "Ordinateur portable\nCarte d'acquisition HDMI\nCâble HDMI 5 m\nMicro USB\nValise",
    "kit-communication": "Kakémonos\nHousses de transport",
}

# Where the hosts of the demo's busiest départements keep things, and when they open.
PICKUP_POINTS = (
    (
        "34",
        "Maison de la science de Montpellier",
        "2 place de la Comédie\n34000 Montpellier",
        "Accueil au rez-de-chaussée ; parking vélo dans la cour.",
        "04 67 00 00 34",
        [(d, "09:00", "12:30") for d in range(5)] + [(d, "14:00", "18:00") for d in range(4)],
    ),
    (
        "11",
        "Local du réseau à Carcassonne",
        "12 rue de Verdun\n11000 Carcassonne",
        "Sonner « La Malle » ; marches à l'entrée.",
        "04 68 00 00 11",
        [(d, "10:00", "18:00") for d in (1, 2, 3)],
    ),
    (
        "31",
        "Quai des Savoirs (régie)",
        "39 allées Jules Guesde\n31000 Toulouse",
        "Entrée du personnel, côté jardin.",
        "05 61 00 00 31",
        [(d, "09:00", "12:00") for d in range(5)] + [(d, "14:00", "17:30") for d in range(5)],
    ),
)


def _pickup_points(session: DbSession, ctx: ServiceContext, people: dict[str, User]) -> None:
    """The hosts fill in their stores' addresses and hours (after the bookings of the story, which
    were made before the hours were set)."""
    for code, name, address, access, phone, hours in PICKUP_POINTS:
        point = pickup.store_of(session, code)
        if point is None:
            continue
        host = ctx.acting_as(next((u for u in people.values() if u.hosts(code)), people["admin"]))
        pickup.save(session, host, point=point, name=name, address=address, access_notes=access, phone=phone, email="")
        spans = [
            pickup.Span(day, time.fromisoformat(opens), time.fromisoformat(closes)) for day, opens, closes in hours
        ]
        pickup.set_hours(session, host, point=point, spans=spans)


def _at(zone: ZoneInfo, today: date, days: int, hour: int) -> datetime:
    """`days` from today at `hour`, the site's time, as a UTC instant."""
    return datetime.combine(today + timedelta(days=days), time(hour), tzinfo=zone).astimezone(UTC)


# (resource name, département, borrower, start (days from today, hour), end (days, hour), status, purpose)
BOOKINGS = (
    (
        "Caméscope Panasonic HC-X1500",
        "34",
        "membre2",
        (-40, 9),
        (-37, 18),
        "returned",
        "Tournage d'une capsule sur la biodiversité marine",
    ),
    ("Micro main Shure SM58", "34", "membre", (-20, 9), (-18, 18), "returned", "Table ronde « Sciences et fake news »"),
    ("Stand PLV Aude", "11", "membre2", (-12, 9), (-9, 18), "returned", "Forum des associations de Carcassonne"),
    ("Kit de streaming Montpellier", "34", "membre", (-5, 9), (-2, 18), "picked_up", "Live depuis la station marine"),
    ("Micro USB Blue Yeti", "11", "membre", (-1, 9), (2, 18), "picked_up", "Podcast de la Rentrée"),
    ("Hybride Canon EOS R10", "34", "membre2", (0, 14), (3, 18), "approved", "Reportage Fête de la science"),
    ("Paire de micros-cravates Sennheiser", "34", "membre", (2, 9), (4, 18), "requested", "Interviews de chercheuses"),
    ("Stand PLV Hérault", "34", "membre2", (6, 9), (9, 18), "requested", "Village des sciences de Montpellier"),
    ("Stand PLV Aude", "11", "membre", (10, 9), (12, 18), "requested", "Nuit des étoiles à Narbonne"),
    ("Kakémonos du réseau", "11", "membre2", (3, 9), (5, 18), "approved", "Conférence à Limoux"),
    ("Panneau LED Aputure", "34", "membre", (14, 9), (16, 18), "approved", "Tournage en laboratoire"),
    ("Caméra Sony FX30", "31", "membre", (5, 9), (7, 18), "approved", "Capsules vidéo « Je veux savoir »"),
    ("Compte Zoom n°1", "31", "membre", (0, 9), (0, 21), "approved", "Webinaire du groupe médiation en ligne"),
    ("Compte Zoom n°2", "34", "membre2", (1, 14), (1, 17), "approved", "Conférence en ligne grand public"),
    ("Compte Kahoot! EDU", "31", "membre2", (4, 10), (4, 12), "approved", "Quiz pour une classe de 4e"),
    ("Kit de streaming Toulouse", "31", "membre2", (-25, 9), (-24, 18), "cancelled", "Live annulé (intempéries)"),
)


def _bookings(session: DbSession, ctx: ServiceContext, people: dict[str, User]) -> None:
    """Each booking lived through: asked ten days ahead, approved five days ahead, picked up, returned."""
    today = ctx.now.astimezone(ctx.zone).date()
    resources = {(r.name, r.departement_code): r for r in session.scalars(select(Resource))}
    for name, code, who, start, end, status, purpose in BOOKINGS:
        resource = resources[(name, code)]
        holder = ctx.acting_as(people[who])
        host = ctx.acting_as(resource.hosts[0] if resource.hosts else people["admin"])
        starts_at, ends_at = _at(ctx.zone, today, *start), _at(ctx.zone, today, *end)
        made = booking.create(
            session,
            holder.at(starts_at - timedelta(days=10)),
            resource=resource,
            starts_at=starts_at,
            ends_at=ends_at,
            purpose=purpose,
        )
        if status == "cancelled":
            booking.cancel(session, holder.at(starts_at - timedelta(days=3)), booking=made)
            continue
        if status != "requested" and made.status == BookingStatus.REQUESTED:
            booking.approve(session, host.at(starts_at - timedelta(days=5)), booking=made)
        if status in {"picked_up", "returned"}:
            loan.record_pickup(session, host.at(starts_at), booking=made, checked=resource.contents_lines)
        if status == "returned":
            loan.record_return(session, host.at(ends_at), booking=made, checked=resource.contents_lines, condition="ok")
    lozere = ctx.acting_as(people["hote.lozere"])
    blackouts.create(
        session,
        lozere,
        departement_code="48",
        starts_at=_at(ctx.zone, today, 20, 0),
        ends_at=_at(ctx.zone, today, 34, 0),
        reason="Congés de l'hôte départemental",
    )


# (topic slug, title, days from today, hour, hours long, mode, place, département, capacity, trainer, sign-ups)
TRAININGS = (
    ("obs-studio", "OBS Studio : premiers pas", -20, 14, 3, "online", None, None, 12, "formatrice", 9),
    ("droits", "Droits d'auteur et droit à l'image en ligne", -8, 10, 2, "online", None, None, 20, "formatrice", 11),
    (
        "live-video",
        "Réaliser un live vidéo de A à Z",
        6,
        9,
        7,
        "in_person",
        "Quai des Savoirs, Toulouse",
        "31",
        4,
        "formatrice",
        6,
    ),
    (
        "obs-studio",
        "OBS Studio : scènes, sources et incrustations",
        10,
        14,
        3,
        "online",
        None,
        None,
        12,
        "formatrice",
        5,
    ),
    ("zoom", "Animer un webinaire avec Zoom", 13, 10, 2, "online", None, None, 25, "hote.tarn", 7),
    ("kahoot", "Quiz interactifs avec Kahoot! en classe", 17, 14, 2, "online", None, None, 15, "hote.tarn", 3),
    (
        "droits",
        "Droit à l'image : filmer le public d'un événement",
        24,
        10,
        2,
        "in_person",
        "Maison de l'environnement, Montpellier",
        "34",
        10,
        "formatrice",
        4,
    ),
    (
        "live-video",
        "Live vidéo depuis le terrain",
        31,
        9,
        6,
        "in_person",
        "Médiathèque d'Albi",
        "81",
        8,
        "hote.tarn",
        2,
    ),
    ("obs-studio", "OBS Studio : perfectionnement", 45, 14, 3, "online", None, None, 5, "formatrice", 5),
    ("zoom", "Salles de sous-groupes et sondages Zoom", 52, 10, 2, "online", None, None, 20, "hote.tarn", 1),
    ("kahoot", "Kahoot! pour le grand public", 66, 15, 2, "online", None, None, 30, "hote.tarn", 0),
    (
        "live-video",
        "Préparer un live pour la Fête de la science",
        80,
        9,
        6,
        "in_person",
        "Université de Perpignan",
        "66",
        12,
        "formatrice",
        0,
    ),
)

DESCRIPTION = """Une session courte et pratique, pensée pour les structures du réseau.

**Au programme**

- ce qu'il faut savoir avant de se lancer ;
- une démonstration pas à pas ;
- vos questions, à partir de vos projets.

Apportez vos exemples : on part de ce que vous voulez faire."""


def _trainings(
    session: DbSession, ctx: ServiceContext, people: dict[str, User], categories: dict[str, Category]
) -> None:
    """Sessions planned two months ahead, signed up for a month ahead, attendance ticked after."""
    today = ctx.now.astimezone(ctx.zone).date()
    topics = {t.slug: t for t in session.scalars(select(TrainingTopic))}
    learners = [u for key, u in people.items() if key not in {"admin", "formatrice"}]
    for slug, title, days, hour, hours, mode, place, code, capacity, trainer, signups in TRAININGS:
        starts_at = _at(ctx.zone, today, days, hour)
        ends_at = starts_at + timedelta(hours=hours)
        runner = ctx.acting_as(people[trainer])
        course = training.create_session(
            session,
            runner.at(ctx.now - timedelta(days=60)),
            fields=training.SessionFields(
                topic_id=topics[slug].id,
                title=title,
                description=DESCRIPTION,
                starts_at=starts_at,
                ends_at=ends_at,
                mode=mode,
                video_link="https://visio.example.org/la-malle-" + slug if mode == "online" else None,
                place=place,
                departement_code=code,
                capacity=capacity,
                registration_deadline=starts_at - timedelta(days=1),
                level="advanced" if "perfectionnement" in title else "beginner",
            ),
            advised=[categories["kit-streaming"]] if slug == "live-video" else [],
        )
        for index, learner in enumerate(learners[:signups]):
            signed_up = ctx.now - timedelta(days=30, hours=-index)
            training.sign_up(session, ctx.acting_as(learner).at(signed_up), training=course)
        if days < 0:  # past: three in four of those seated came
            came = {learner.id for index, learner in enumerate(learners[: min(signups, capacity)]) if index % 4}
            training.mark_attendance(
                session, runner.at(ends_at + timedelta(hours=1)), training=course, attended_user_ids=came
            )


AGENDA_KINDS = (
    ("Nuit des étoiles", "amateurs grand_public", ("festival",), "ete"),
    ("Café des sciences : l'eau en Occitanie", "grand_public neophytes", (), None),
    ("Village des sciences", "grand_public scolaires", ("fete-de-la-science",), "rentree"),
    ("Course d'orientation et sciences du sport", "grand_public", ("science-et-sport",), "ete"),
    ("Visite du laboratoire souterrain", "amateurs", ("tourisme",), None),
    ("Spectacle art et science : la lumière", "grand_public neophytes", ("art-science",), None),
    ("Atelier robotique pour les collèges", "scolaires", ("scolaire",), "rentree"),
    ("Balade géologique", "grand_public amateurs", ("tourisme",), "ete"),
    ("Conférence : climat et vignes", "amateurs", (), None),
    ("Festival du film scientifique", "grand_public", ("festival", "art-science"), None),
)
TOWNS = {
    "09": "Foix",
    "11": "Carcassonne",
    "12": "Rodez",
    "30": "Nîmes",
    "31": "Toulouse",
    "32": "Auch",
    "34": "Montpellier",
    "46": "Cahors",
    "48": "Mende",
    "65": "Tarbes",
    "66": "Perpignan",
    "81": "Albi",
    "82": "Montauban",
}


def _agenda(session: DbSession, ctx: ServiceContext, people: dict[str, User]) -> None:
    """About sixty events from two months ago to four months ahead, in every département:
    published by the coordination, a few proposed by a member and waiting for moderation."""
    zone = ctx.zone
    today = ctx.now.astimezone(zone).date()
    themes = {t.slug: t.id for t in session.scalars(select(AgendaTheme))}
    organisers = [name for name, _kind, _code in ORGANISATIONS]
    codes = sorted(TOWNS)
    coordination = ctx.acting_as(people["admin"]).at(ctx.now - timedelta(days=90))
    member = ctx.acting_as(people["membre"]).at(ctx.now - timedelta(days=90))
    for n in range(60):
        title, audiences, theme_slugs, campaign = AGENDA_KINDS[n % len(AGENDA_KINDS)]
        code = codes[n % len(codes)]
        day = today + timedelta(days=-60 + n * 3)
        all_day = n % 5 == 0
        if all_day:
            starts_at = local_midnight(day, zone)
            ends_at = starts_at + timedelta(days=1 + n % 2)
        else:
            starts_at = datetime.combine(day, time(10 + n % 9), tzinfo=zone)
            ends_at = starts_at + timedelta(hours=2)
        in_season = (campaign == "rentree" and day.month == 9) or (campaign == "ete" and 6 <= day.month <= 8)
        agenda.propose(
            session,
            member if n % 17 == 5 else coordination,
            fields=agenda.EventFields(
                title=f"{title} à {TOWNS[code]}",
                description="Entrée libre. Un événement du réseau Science(s) en Occitanie.",
                starts_at=starts_at.astimezone(UTC),
                ends_at=ends_at.astimezone(UTC),
                all_day=all_day,
                departement_code=code,
                town=TOWNS[code],
                link=None,
                audiences=audiences.split(),
                theme_ids=[themes[slug] for slug in theme_slugs],
                region_supported=n % 3 == 0,
                campaign=campaign if in_season else None,
                organiser_name=organisers[n % len(organisers)],
            ),
        )
