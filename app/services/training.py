"""Training sessions: sign-up with capacity, a first-come waitlist that promotes itself, attendance.

Every change that touches seats locks the session row first (`lock`: SELECT … FOR UPDATE
on PostgreSQL; on SQLite the caller's unit of work already holds the write lock), so
concurrent sign-ups are counted one after the other, the registered count never exceeds
capacity, and a freed seat is handed to exactly one person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from app.db import DbSession, lock
from app.i18n import format_day
from app.models import (
    SEATED,
    Category,
    Enrolment,
    EnrolmentStatus,
    Recurrence,
    TrainingSession,
    TrainingTopic,
    User,
)
from app.services import audit, feeds, ical, notify, weblinks
from app.services.catalogue import slugify
from app.services.context import ServiceContext
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation

E = EnrolmentStatus


@dataclass(frozen=True)
class SessionFields:
    topic_id: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    mode: str
    video_link: str | None
    place: str | None
    departement_code: str | None
    capacity: int
    registration_deadline: datetime
    registration_opens_at: datetime | None = None
    level: str = "beginner"


def _missing() -> NotFound:
    return NotFound(_("Cette session de formation n'existe pas."))


def get(session: DbSession, training_id: int) -> TrainingSession:
    found = session.get(TrainingSession, training_id)
    if found is None:
        raise _missing()
    return found


def _locked(session: DbSession, training_id: int) -> TrainingSession:
    found = lock(session, TrainingSession, training_id)
    if found is None:
        raise _missing()
    return found


# Who may do what ------------------------------------------------------------------------


def can_manage(actor: User, training: TrainingSession) -> bool:
    """A trainer runs their own sessions; admins run all."""
    return actor.is_admin or (actor.is_trainer and training.is_trainer(actor))


def _require_manager(actor: User, training: TrainingSession) -> None:
    if not can_manage(actor, training):
        raise Forbidden(_("Seul·e le·la formateur·rice de cette session peut faire cela."))


def earns_certificate(enrolment: Enrolment) -> bool:
    """Only attending earns the certificate of attendance."""
    return enrolment.status == E.ATTENDED


def certificate_for(session: DbSession, ctx: ServiceContext, *, training: TrainingSession, user_id: int) -> Enrolment:
    """The enrolment a certificate of attendance is printed from.

    The person who attended prints their own; whoever runs the session prints anyone's.
    Refused before looking anything up, so that nobody learns who attended someone else's session.
    """
    actor = ctx.user
    if actor.id != user_id and not can_manage(actor, training):
        raise Forbidden(_("Cette attestation n'est pas la vôtre."))
    enrolment = enrolment_of(session, training.id, user_id)
    if enrolment is None or not earns_certificate(enrolment):
        raise NotFound(_("Aucune attestation : la présence n'a pas été notée."))
    return enrolment


# Reading seats and the waitlist --------------------------------------------------------


def seated_count(session: DbSession, training_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Enrolment).where(Enrolment.session_id == training_id, Enrolment.is_seated)
        )
        or 0
    )


def waitlist(session: DbSession, training_id: int) -> list[Enrolment]:
    return list(
        session.scalars(
            select(Enrolment)
            .where(Enrolment.session_id == training_id, Enrolment.status == E.WAITLISTED)
            .order_by(Enrolment.queued_at, Enrolment.id)
        ).unique()
    )


def waitlist_positions(session: DbSession, enrolments: Iterable[Enrolment]) -> dict[int, int]:
    """Place in its session's queue (1 = next) of each waitlisted enrolment given, by enrolment id, in one query."""
    waiting = [e for e in enrolments if e.status == E.WAITLISTED]
    if not waiting:
        return {}
    ranked = (
        select(
            Enrolment.id,
            func.row_number()
            .over(partition_by=Enrolment.session_id, order_by=(Enrolment.queued_at, Enrolment.id))
            .label("position"),
        )
        .where(Enrolment.status == E.WAITLISTED, Enrolment.session_id.in_({e.session_id for e in waiting}))
        .subquery()
    )
    rows = session.execute(select(ranked.c.id, ranked.c.position).where(ranked.c.id.in_([e.id for e in waiting])))
    return {row.id: row.position for row in rows}


def waitlist_position(session: DbSession, enrolment: Enrolment) -> int | None:
    return waitlist_positions(session, [enrolment]).get(enrolment.id)


def participants(session: DbSession, training_id: int) -> list[Enrolment]:
    """Everyone who signed up, seated first (by name), then the waitlist in its order."""
    rows = list(
        session.scalars(
            select(Enrolment).where(Enrolment.session_id == training_id).order_by(Enrolment.queued_at, Enrolment.id)
        ).unique()
    )
    order = {E.ATTENDED: 0, E.REGISTERED: 0, E.WAITLISTED: 1, E.CANCELLED: 2}
    return sorted(rows, key=lambda e: (order[e.status], e.user.display_name if e.status != E.WAITLISTED else ""))


def enrolment_of(session: DbSession, training_id: int, user: User | int | None) -> Enrolment | None:
    """Someone's enrolment in a session (a person or their id); None for nobody logged in."""
    if isinstance(user, int):
        user_id = user
    elif user is None or not user.is_authenticated:
        return None
    else:
        user_id = user.id
    return session.scalar(select(Enrolment).where(Enrolment.session_id == training_id, Enrolment.user_id == user_id))


def enrolments_of(session: DbSession, user: User) -> list[Enrolment]:
    """A person's enrolments, latest session first, with their sessions loaded in the same query."""
    return list(
        session.scalars(
            select(Enrolment)
            .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
            .where(Enrolment.user_id == user.id)
            .order_by(TrainingSession.starts_at.desc(), Enrolment.id)
        ).unique()
    )


def seat_counts(session: DbSession, training_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(seated, waitlisted) per session, in one query."""
    counts = dict.fromkeys(training_ids, (0, 0))
    if not training_ids:
        return counts
    rows = session.execute(
        select(Enrolment.session_id, Enrolment.status, func.count())
        .where(Enrolment.session_id.in_(training_ids))
        .group_by(Enrolment.session_id, Enrolment.status)
    )
    for training_id, status, n in rows:
        seated, waiting = counts[training_id]
        if status in SEATED:
            seated += n
        elif status == E.WAITLISTED:
            waiting += n
        counts[training_id] = (seated, waiting)
    return counts


def upcoming(
    session: DbSession,
    ctx: ServiceContext,
    *,
    topic_id: int | None = None,
    mode: str | None = None,
    departement_code: str | None = None,
) -> Select[TrainingSession]:
    """Sessions not yet over, soonest first, as a query to paginate."""
    query = select(TrainingSession).where(TrainingSession.ends_at > ctx.now).order_by(TrainingSession.starts_at)
    if topic_id:
        query = query.where(TrainingSession.topic_id == topic_id)
    if mode:
        query = query.where(TrainingSession.mode == mode)
    if departement_code:
        query = query.where(TrainingSession.departement_code == departement_code)
    return query


def topics(session: DbSession, *, active_only: bool = True) -> list[TrainingTopic]:
    query = select(TrainingTopic).order_by(TrainingTopic.name)
    if active_only:
        query = query.where(TrainingTopic.active.is_(True))
    return list(session.scalars(query))


# Enrolments ----------------------------------------------------------------------------


def _move(session: DbSession, ctx: ServiceContext, enrolment: Enrolment, to: EnrolmentStatus, action: str) -> None:
    """One change of an enrolment's status: allowed from where it stands, counted (iCal SEQUENCE), audited."""
    if not enrolment.can(action):
        raise Conflict(_("Cette inscription n'est pas en cours."))
    before = enrolment.status
    enrolment.status = to
    enrolment.touch(ctx.now)
    audit.record(
        session,
        ctx,
        subject_type="enrolment",
        subject_id=enrolment.id,
        action=action,
        from_state=before,
        to_state=to,
    )


def _ics_of(enrolment: Enrolment, domain: str) -> Callable[[], str]:
    """The .ics attached to an email, built only if that email is written (its key is new)."""
    return lambda: ical.calendar(enrolment.session.title, [feeds.enrolment_item(enrolment, domain)]).decode()


def _promote(session: DbSession, ctx: ServiceContext, training: TrainingSession) -> list[Enrolment]:
    """Fill free seats from the head of the waitlist, telling each person promoted.

    The caller holds the session's lock. After the registration deadline nobody is
    promoted: the trainer sees the waitlist.
    """
    if ctx.now > training.registration_deadline or training.is_cancelled:
        return []
    free = training.capacity - seated_count(session, training.id)
    if free <= 0:
        return []
    # The seat is handed over by the rule, not by whoever freed it: the history shows the system.
    system = ctx.acting_as(None)
    promoted = []
    for enrolment in waitlist(session, training.id)[:free]:
        _move(session, system, enrolment, E.REGISTERED, "promote")
        enrolment.promoted_at = ctx.now
        promoted.append(enrolment)
        notify.email_user(
            session,
            system,
            key=f"enrolment:{enrolment.id}:promoted:{enrolment.sequence}",
            user=enrolment.user,
            subject=_l("Une place s'est libérée : vous êtes inscrit·e"),
            template="training_promoted",
            training=training,
            ics=_ics_of(enrolment, ctx.site_domain),
        )
    return promoted


def sign_up(session: DbSession, ctx: ServiceContext, *, training: TrainingSession) -> Enrolment:
    """A seat for the acting person if one is free, else the end of the waitlist."""
    actor = ctx.user
    if not actor.is_active:
        raise Forbidden(_("Ce compte est désactivé."))
    # As for bookings: a seat is the network's to give, to accounts an admin has let in.
    if not actor.is_approved:
        raise Forbidden(_("Votre compte doit être validé par un administrateur avant de vous inscrire."))
    now = ctx.now
    training = _locked(session, training.id)
    if training.is_cancelled:
        raise RuleViolation(_("Cette session est annulée."))
    if any(trainer.id == actor.id for trainer in training.trainers):
        raise RuleViolation(_("Vous animez cette session : vous n'y prenez pas de place."))
    if now >= training.starts_at:
        raise RuleViolation(_("Cette session a déjà commencé."))
    if now > training.registration_deadline:
        raise RuleViolation(_("Les inscriptions sont closes."))
    if training.registration_opens_at and now < training.registration_opens_at:
        raise RuleViolation(_("Les inscriptions ne sont pas encore ouvertes."))
    enrolment = enrolment_of(session, training.id, actor.id)
    if enrolment is not None and not enrolment.can("sign-up"):
        raise Conflict(_("Vous êtes déjà inscrit·e à cette session."))
    before = enrolment.status if enrolment is not None else None
    status = E.REGISTERED if seated_count(session, training.id) < training.capacity else E.WAITLISTED
    if enrolment is None:
        enrolment = Enrolment(session_id=training.id, user_id=actor.id, created_at=now, updated_at=now, sequence=0)
        session.add(enrolment)
    else:
        enrolment.touch(now)
    enrolment.status = status
    enrolment.queued_at = now  # coming back puts you at the end of the queue
    try:
        session.flush()
    except IntegrityError as exc:  # the unique (session, person) constraint
        raise Conflict(_("Vous êtes déjà inscrit·e à cette session.")) from exc
    audit.record(
        session,
        ctx,
        subject_type="enrolment",
        subject_id=enrolment.id,
        action="sign-up",
        from_state=before,
        to_state=status,
    )
    return enrolment


def cancel_enrolment(session: DbSession, ctx: ServiceContext, *, enrolment: Enrolment) -> list[Enrolment]:
    """Leave a session; a seat freed goes at once to the first on the waitlist. Returns who was promoted."""
    actor = ctx.user
    if actor.id != enrolment.user_id and not actor.is_admin:
        raise Forbidden(_("Ce n'est pas votre inscription."))
    training = _locked(session, enrolment.session_id)
    # Read again under the session's lock: a concurrent cancel of the same enrolment must
    # see it cancelled, or the one seat would be handed out twice.
    current = lock(session, Enrolment, enrolment.id)
    if current is None or not current.can("cancel"):
        raise Conflict(_("Cette inscription n'est pas en cours."))
    if ctx.now >= training.starts_at:
        raise RuleViolation(_("La session a commencé : l'inscription ne peut plus être annulée."))
    freed_a_seat = current.is_seated
    _move(session, ctx, current, E.CANCELLED, "cancel")
    session.flush()
    return _promote(session, ctx, training) if freed_a_seat else []


# Sessions ------------------------------------------------------------------------------


def _check_fields(fields: SessionFields) -> None:
    if fields.capacity < 1:
        raise RuleViolation(_("Il faut au moins une place."), field="capacity")
    if fields.ends_at <= fields.starts_at:
        raise RuleViolation(_("La fin doit venir après le début."), field="ends_at")
    if fields.registration_deadline > fields.starts_at:
        raise RuleViolation(_("La clôture des inscriptions doit précéder le début."), field="registration_deadline")
    if fields.registration_opens_at and fields.registration_opens_at >= fields.registration_deadline:
        raise RuleViolation(
            _("L'ouverture des inscriptions doit précéder leur clôture."), field="registration_opens_at"
        )
    if fields.mode == "online" and not fields.video_link:
        raise RuleViolation(_("Une session en ligne a besoin de son lien de visio."), field="video_link")
    weblinks.checked(fields.video_link, field="video_link")
    if fields.mode == "in_person" and not (fields.place and fields.departement_code):
        raise RuleViolation(_("Une session sur place a besoin d'un lieu et d'un département."), field="place")


def _check_not_past(ctx: ServiceContext, fields: SessionFields) -> None:
    """A session is announced before it happens: one dated in the past could take no sign-up."""
    if fields.starts_at <= ctx.now:
        raise RuleViolation(_("Cette date est déjà passée : choisissez un début à venir."), field="starts_at")


def create_session(
    session: DbSession, ctx: ServiceContext, *, fields: SessionFields, advised: Iterable[Category]
) -> TrainingSession:
    actor = ctx.user
    if not (actor.is_trainer or actor.is_admin):
        raise Forbidden(_("Réservé aux formateur·rices."))
    _check_fields(fields)
    _check_not_past(ctx, fields)
    if session.get(TrainingTopic, fields.topic_id) is None:
        raise RuleViolation(_("Ce thème n'existe pas."), field="topic")
    training = TrainingSession(**fields.__dict__, created_at=ctx.now, updated_at=ctx.now, sequence=0)
    training.trainers = [actor] if actor.is_trainer else []
    training.advised_categories = list(advised)
    session.add(training)
    session.flush()
    audit.record(session, ctx, subject_type="training", subject_id=training.id, action="create")
    return training


def update_session(
    session: DbSession,
    ctx: ServiceContext,
    *,
    training: TrainingSession,
    fields: SessionFields,
    advised: Iterable[Category],
) -> list[Enrolment]:
    """Edit a session; more seats promote from the waitlist at once. Returns who was promoted."""
    advised = list(advised)
    training = _locked(session, training.id)
    _require_manager(ctx.user, training)
    _check_fields(fields)
    if fields.starts_at != training.starts_at:
        _check_not_past(ctx, fields)
    if training.is_cancelled:
        raise RuleViolation(_("Cette session est annulée."))
    seated = seated_count(session, training.id)
    if fields.capacity < seated:
        raise RuleViolation(
            _("%(n)d personnes sont déjà inscrites : la capacité ne peut pas descendre en dessous.", n=seated),
            field="capacity",
        )
    for name, value in fields.__dict__.items():
        setattr(training, name, value)
    training.advised_categories = advised
    training.touch(ctx.now)
    audit.record(session, ctx, subject_type="training", subject_id=training.id, action="update")
    session.flush()
    return _promote(session, ctx, training)


def cancel_session(session: DbSession, ctx: ServiceContext, *, training: TrainingSession, reason: str) -> int:
    """Cancel the whole session; everyone registered or waiting is told. Returns how many were told."""
    training = _locked(session, training.id)
    _require_manager(ctx.user, training)
    if not reason.strip():
        raise RuleViolation(_("Dites pourquoi la session est annulée."), field="reason")
    if training.is_cancelled:
        raise Conflict(_("Cette session est déjà annulée."))
    training.cancelled_at, training.cancel_reason = ctx.now, reason.strip()
    training.touch(ctx.now)
    told = 0
    for enrolment in session.scalars(
        select(Enrolment).where(Enrolment.session_id == training.id, Enrolment.status.in_((E.REGISTERED, E.WAITLISTED)))
    ).unique():
        told += notify.email_user(
            session,
            ctx,
            key=f"training:{training.id}:cancelled:to:{enrolment.user_id}",
            user=enrolment.user,
            subject=_l("Session de formation annulée"),
            template="training_cancelled",
            training=training,
        )
    audit.record(session, ctx, subject_type="training", subject_id=training.id, action="cancel", note=reason)
    return told


def mark_attendance(
    session: DbSession, ctx: ServiceContext, *, training: TrainingSession, attended_user_ids: set[int]
) -> None:
    """Tick who came: exactly the given people are marked attended among those registered."""
    training = _locked(session, training.id)
    _require_manager(ctx.user, training)
    if ctx.now < training.starts_at:
        raise RuleViolation(_("La présence se note à partir du début de la session."))
    seated = {
        e.user_id: e
        for e in session.scalars(
            select(Enrolment).where(Enrolment.session_id == training.id, Enrolment.is_seated)
        ).unique()
    }
    if attended_user_ids - set(seated):
        raise RuleViolation(_("Seules les personnes inscrites peuvent être notées présentes."))
    for user_id, enrolment in seated.items():
        wanted = E.ATTENDED if user_id in attended_user_ids else E.REGISTERED
        if enrolment.status != wanted:
            _move(session, ctx, enrolment, wanted, "attendance")


def message_participants(
    session: DbSession, ctx: ServiceContext, *, training: TrainingSession, subject: str, body: str
) -> int:
    """An email from the trainer to everyone registered; returns how many were written."""
    actor = ctx.user
    _require_manager(actor, training)
    if not subject.strip() or not body.strip():
        raise RuleViolation(_("Le message a besoin d'un objet et d'un texte."))
    count = 0
    for enrolment in session.scalars(
        select(Enrolment).where(Enrolment.session_id == training.id, Enrolment.is_seated).order_by(Enrolment.id)
    ).unique():
        count += notify.email_user(
            session,
            ctx,
            key=f"training:{training.id}:message:{ctx.now.isoformat()}:to:{enrolment.user_id}",
            user=enrolment.user,
            subject=subject.strip(),
            template="training_message",
            training=training,
            sender=actor,
            body=body.strip(),
        )
    return count


# Topics --------------------------------------------------------------------------------


def save_topic(
    session: DbSession,
    ctx: ServiceContext,
    *,
    topic: TrainingTopic | None,
    name: str,
    description: str,
    name_en: str | None = None,
) -> TrainingTopic:
    """`name_en` (empty: the French name is shown in English too); None keeps what the topic has."""
    ctx.require_admin()
    if topic is None:
        slug = slugify(name)
        if session.scalar(select(TrainingTopic.id).where(TrainingTopic.slug == slug)) is not None:
            raise Conflict(_("Un thème porte déjà ce nom."), field="name")
        topic = TrainingTopic(slug=slug, name=name, description=description, active=True, name_en=name_en or "")
        session.add(topic)
    else:
        topic.name, topic.description = name, description
        if name_en is not None:
            topic.name_en = name_en
    session.flush()
    audit.record(session, ctx, subject_type="topic", subject_id=topic.id, action="save")
    return topic


# Series --------------------------------------------------------------------------------


def create_series(
    session: DbSession,
    ctx: ServiceContext,
    *,
    fields: SessionFields,
    advised: Iterable[Category],
    recurrence: Recurrence,
    interval: int = 1,
    until: date | None = None,
    count: int | None = None,
) -> list[TrainingSession]:
    """The same session repeated weekly or monthly, by the rules of booking series (until a
    date or for a count, at most 52, months without the date skipped). Each session keeps
    the first one's wall-clock times; its registration opening and deadline move with it.
    They share `series_key`, the first session's id. All or nothing, in the caller's unit of work."""
    from app.services import series

    actor = ctx.user
    if not (actor.is_trainer or actor.is_admin):
        raise Forbidden(_("Réservé aux formateur·rices."))
    _check_fields(fields)
    found = series.dates(
        ctx,
        starts_at=fields.starts_at,
        ends_at=fields.ends_at,
        recurrence=recurrence,
        interval=interval,
        until=until,
        count=count,
    )
    if not found.slots:
        raise RuleViolation(_("Aucune date dans cette période."), field="until")
    advised = list(advised)
    first_day = found.slots[0].day
    made: list[TrainingSession] = []
    for slot in found.slots:
        if not slot.exists:
            raise RuleViolation(
                _("Cette heure n'existe pas le %(day)s (changement d'heure).", day=format_day(slot.day)),
                field="starts_at",
            )
        days = (slot.day - first_day).days
        opens = fields.registration_opens_at
        one = replace(
            fields,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            registration_deadline=series.shift_wall_clock(fields.registration_deadline, days, ctx.zone),
            registration_opens_at=series.shift_wall_clock(opens, days, ctx.zone) if opens else None,
        )
        made.append(create_session(session, ctx, fields=one, advised=advised))
    for training in made:
        training.series_key = made[0].id
    session.flush()
    return made


def series_of(session: DbSession, training: TrainingSession) -> list[TrainingSession]:
    """The sessions created together with this one, in order; just this one when it is alone."""
    if training.series_key is None:
        return [training]
    return list(
        session.scalars(
            select(TrainingSession)
            .where(TrainingSession.series_key == training.series_key)
            .order_by(TrainingSession.starts_at)
        ).unique()
    )
