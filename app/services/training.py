"""Training sessions: sign-up with capacity, a first-come waitlist that promotes itself, attendance.

Every change that touches seats runs in one write transaction that holds the session row
(SELECT … FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite), so concurrent sign-ups
are counted one after the other and the registered count never exceeds capacity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import is_postgres, write_transaction
from app.models import SEATED, Category, Enrolment, EnrolmentStatus, TrainingSession, TrainingTopic, User
from app.services import audit, feeds, ical, notify
from app.services.catalogue import slugify
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


def get(session: Session, training_id: int) -> TrainingSession:
    found = session.get(TrainingSession, training_id)
    if found is None:
        raise NotFound(_("Cette session de formation n'existe pas."))
    return found


def can_manage(actor: User, training: TrainingSession) -> bool:
    """A trainer runs their own sessions; admins run all."""
    return actor.is_admin or (actor.is_trainer and training.is_trainer(actor))


def _require_manager(actor: User, training: TrainingSession) -> None:
    if not can_manage(actor, training):
        raise Forbidden(_("Seul·e le·la formateur·rice de cette session peut faire cela."))


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
    if fields.mode == "in_person" and not (fields.place and fields.departement_code):
        raise RuleViolation(_("Une session sur place a besoin d'un lieu et d'un département."), field="place")


def _lock(session: Session, training_id: int) -> TrainingSession:
    query = select(TrainingSession).where(TrainingSession.id == training_id)
    if is_postgres(session):
        query = query.with_for_update(of=TrainingSession)
    found = session.scalars(query).unique().one_or_none()
    if found is None:
        raise NotFound(_("Cette session de formation n'existe pas."))
    return found


def seated_count(session: Session, training_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.session_id == training_id, Enrolment.status.in_([s.value for s in SEATED]))
    )


def waitlist(session: Session, training_id: int) -> list[Enrolment]:
    return list(
        session.scalars(
            select(Enrolment)
            .where(Enrolment.session_id == training_id, Enrolment.status == E.WAITLISTED.value)
            .order_by(Enrolment.queued_at, Enrolment.id)
        ).unique()
    )


def waitlist_position(session: Session, enrolment: Enrolment) -> int | None:
    if enrolment.status != E.WAITLISTED:
        return None
    return 1 + session.scalar(
        select(func.count())
        .select_from(Enrolment)
        .where(
            Enrolment.session_id == enrolment.session_id,
            Enrolment.status == E.WAITLISTED.value,
            (Enrolment.queued_at < enrolment.queued_at)
            | ((Enrolment.queued_at == enrolment.queued_at) & (Enrolment.id < enrolment.id)),
        )
    )


def _touch(item, now: datetime) -> None:
    item.sequence = (item.sequence or 0) + 1
    item.updated_at = now


def _move(session: Session, actor: User | None, enrolment: Enrolment, to: EnrolmentStatus, action: str, now) -> None:
    """One change of an enrolment's status: made, counted (iCal SEQUENCE) and audited."""
    before = enrolment.status
    enrolment.status = to.value
    _touch(enrolment, now)
    audit.record(
        session,
        actor=actor,
        subject_type="enrolment",
        subject_id=enrolment.id,
        action=action,
        from_state=before,
        to_state=enrolment.status,
        now=now,
    )


def _promote(session: Session, training: TrainingSession, now: datetime) -> list[Enrolment]:
    """Fill free seats from the head of the waitlist, telling each person promoted.

    After the registration deadline nobody is promoted: the trainer sees the waitlist.
    """
    if now > training.registration_deadline or training.is_cancelled:
        return []
    free = training.capacity - seated_count(session, training.id)
    promoted = []
    for enrolment in waitlist(session, training.id)[: max(free, 0)]:
        _move(session, None, enrolment, E.REGISTERED, "promote", now)
        enrolment.promoted_at = now
        promoted.append(enrolment)
        notify.email_user(
            session,
            key=f"enrolment:{enrolment.id}:promoted:{enrolment.sequence}",
            user=enrolment.user,
            subject=_l("Une place s'est libérée : vous êtes inscrit·e"),
            template="training_promoted",
            training=training,
            ics=ical.calendar(training.title, [feeds.enrolment_item(enrolment, notify.site_domain())]).decode(),
            now=now,
        )
    return promoted


def sign_up(session: Session, *, actor: User, training: TrainingSession, now: datetime) -> Enrolment:
    """A seat if one is free, else the end of the waitlist."""
    if not actor.is_active:
        raise Forbidden(_("Ce compte est désactivé."))
    training_id = training.id
    with write_transaction(session):
        training = _lock(session, training_id)
        if training.is_cancelled:
            raise RuleViolation(_("Cette session est annulée."))
        if now >= training.starts_at:
            raise RuleViolation(_("Cette session a déjà commencé."))
        if now > training.registration_deadline:
            raise RuleViolation(_("Les inscriptions sont closes."))
        if training.registration_opens_at and now < training.registration_opens_at:
            raise RuleViolation(_("Les inscriptions ne sont pas encore ouvertes."))
        enrolment = session.scalar(
            select(Enrolment).where(Enrolment.session_id == training.id, Enrolment.user_id == actor.id)
        )
        if enrolment is not None and enrolment.status != E.CANCELLED:
            raise Conflict(_("Vous êtes déjà inscrit·e à cette session."))
        status = E.REGISTERED if seated_count(session, training.id) < training.capacity else E.WAITLISTED
        if enrolment is None:
            enrolment = Enrolment(session_id=training.id, user_id=actor.id, created_at=now, updated_at=now, sequence=0)
            session.add(enrolment)
        else:
            _touch(enrolment, now)
        enrolment.status = status.value
        enrolment.queued_at = now  # coming back puts you at the end of the queue
        try:
            session.flush()
        except IntegrityError as exc:  # the unique (session, person) constraint
            raise Conflict(_("Vous êtes déjà inscrit·e à cette session.")) from exc
        audit.record(
            session,
            actor=actor,
            subject_type="enrolment",
            subject_id=enrolment.id,
            action="sign-up",
            to_state=enrolment.status,
            now=now,
        )
    return enrolment


def cancel_enrolment(session: Session, *, actor: User, enrolment: Enrolment, now: datetime) -> list[Enrolment]:
    """Leave a session; a seat freed goes at once to the first on the waitlist. Returns who was promoted."""
    if actor.id != enrolment.user_id and not actor.is_admin:
        raise Forbidden(_("Ce n'est pas votre inscription."))
    enrolment_id = enrolment.id
    with write_transaction(session):
        training = _lock(session, enrolment.session_id)
        enrolment = session.get(Enrolment, enrolment_id)
        if enrolment.status not in (E.REGISTERED, E.WAITLISTED):
            raise Conflict(_("Cette inscription n'est pas en cours."))
        if now >= training.starts_at:
            raise RuleViolation(_("La session a commencé : l'inscription ne peut plus être annulée."))
        before = enrolment.status
        _move(session, actor, enrolment, E.CANCELLED, "cancel", now)
        session.flush()
        promoted = _promote(session, training, now) if before == E.REGISTERED else []
    return promoted


def create_session(
    session: Session, *, actor: User, fields: SessionFields, advised: Iterable[Category], now: datetime
) -> TrainingSession:
    if not (actor.is_trainer or actor.is_admin):
        raise Forbidden(_("Réservé aux formateur·rices."))
    _check_fields(fields)
    if session.get(TrainingTopic, fields.topic_id) is None:
        raise RuleViolation(_("Ce thème n'existe pas."), field="topic")
    with write_transaction(session):
        training = TrainingSession(**fields.__dict__, created_at=now, updated_at=now, sequence=0)
        training.trainers = [actor] if actor.is_trainer else []
        training.advised_categories = list(advised)
        session.add(training)
        session.flush()
        audit.record(session, actor=actor, subject_type="training", subject_id=training.id, action="create", now=now)
    return training


def update_session(
    session: Session,
    *,
    actor: User,
    training: TrainingSession,
    fields: SessionFields,
    advised: Iterable[Category],
    now: datetime,
) -> list[Enrolment]:
    """Edit a session; more seats promote from the waitlist at once. Returns who was promoted."""
    _require_manager(actor, training)
    _check_fields(fields)
    advised = list(advised)
    training_id = training.id
    with write_transaction(session):
        training = _lock(session, training_id)
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
        _touch(training, now)
        audit.record(session, actor=actor, subject_type="training", subject_id=training.id, action="update", now=now)
        session.flush()
        promoted = _promote(session, training, now)
    return promoted


def cancel_session(session: Session, *, actor: User, training: TrainingSession, reason: str, now: datetime) -> int:
    """Cancel the whole session; everyone registered or waiting is told. Returns how many were told."""
    _require_manager(actor, training)
    if not reason.strip():
        raise RuleViolation(_("Dites pourquoi la session est annulée."), field="reason")
    training_id = training.id
    with write_transaction(session):
        training = _lock(session, training_id)
        if training.is_cancelled:
            raise Conflict(_("Cette session est déjà annulée."))
        training.cancelled_at, training.cancel_reason = now, reason.strip()
        _touch(training, now)
        told = 0
        for enrolment in session.scalars(
            select(Enrolment).where(
                Enrolment.session_id == training.id,
                Enrolment.status.in_([E.REGISTERED.value, E.WAITLISTED.value]),
            )
        ).unique():
            told += notify.email_user(
                session,
                key=f"training:{training.id}:cancelled:to:{enrolment.user_id}",
                user=enrolment.user,
                subject=_l("Session de formation annulée"),
                template="training_cancelled",
                training=training,
                now=now,
            )
        audit.record(
            session, actor=actor, subject_type="training", subject_id=training.id, action="cancel", note=reason, now=now
        )
    return told


def mark_attendance(
    session: Session, *, actor: User, training: TrainingSession, attended_user_ids: set[int], now: datetime
) -> None:
    """Tick who came: exactly the given people are marked attended among those registered."""
    _require_manager(actor, training)
    if now < training.starts_at:
        raise RuleViolation(_("La présence se note à partir du début de la session."))
    training_id = training.id
    with write_transaction(session):
        training = _lock(session, training_id)
        seated = {
            e.user_id: e
            for e in session.scalars(
                select(Enrolment).where(
                    Enrolment.session_id == training.id, Enrolment.status.in_([s.value for s in SEATED])
                )
            ).unique()
        }
        strangers = attended_user_ids - set(seated)
        if strangers:
            raise RuleViolation(_("Seules les personnes inscrites peuvent être notées présentes."))
        for user_id, enrolment in seated.items():
            wanted = E.ATTENDED if user_id in attended_user_ids else E.REGISTERED
            if enrolment.status != wanted:
                _move(session, actor, enrolment, wanted, "attendance", now)


def message_participants(
    session: Session, *, actor: User, training: TrainingSession, subject: str, body: str, now: datetime
) -> int:
    """An email from the trainer to everyone registered; returns how many were written."""
    _require_manager(actor, training)
    if not subject.strip() or not body.strip():
        raise RuleViolation(_("Le message a besoin d'un objet et d'un texte."))
    with write_transaction(session):
        count = 0
        for enrolment in participants(session, training.id):
            if enrolment.status in (E.REGISTERED, E.ATTENDED):
                count += notify.email_user(
                    session,
                    key=f"training:{training.id}:message:{now.isoformat()}:to:{enrolment.user_id}",
                    user=enrolment.user,
                    subject=subject.strip(),
                    template="training_message",
                    training=training,
                    sender=actor,
                    body=body.strip(),
                    now=now,
                )
    return count


def participants(session: Session, training_id: int) -> list[Enrolment]:
    """Everyone who signed up, seated first (by name), then the waitlist in its order."""
    rows = list(
        session.scalars(
            select(Enrolment).where(Enrolment.session_id == training_id).order_by(Enrolment.queued_at, Enrolment.id)
        ).unique()
    )
    order = {E.ATTENDED: 0, E.REGISTERED: 0, E.WAITLISTED: 1, E.CANCELLED: 2}
    return sorted(rows, key=lambda e: (order[E(e.status)], e.user.display_name if e.status != E.WAITLISTED else ""))


def enrolment_of(session: Session, training_id: int, user: User | None) -> Enrolment | None:
    if user is None or not user.is_authenticated:
        return None
    return session.scalar(select(Enrolment).where(Enrolment.session_id == training_id, Enrolment.user_id == user.id))


def seat_counts(session: Session, training_ids: list[int]) -> dict[int, tuple[int, int]]:
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
        if status in (E.REGISTERED, E.ATTENDED):
            seated += n
        elif status == E.WAITLISTED:
            waiting += n
        counts[training_id] = (seated, waiting)
    return counts


def upcoming(
    session: Session,
    *,
    now: datetime,
    topic_id: int | None = None,
    mode: str | None = None,
    departement_code: str | None = None,
):
    """Sessions not yet over, soonest first, as a query to paginate."""
    query = select(TrainingSession).where(TrainingSession.ends_at > now).order_by(TrainingSession.starts_at)
    if topic_id:
        query = query.where(TrainingSession.topic_id == topic_id)
    if mode:
        query = query.where(TrainingSession.mode == mode)
    if departement_code:
        query = query.where(TrainingSession.departement_code == departement_code)
    return query


def topics(session: Session, *, active_only: bool = True) -> list[TrainingTopic]:
    query = select(TrainingTopic).order_by(TrainingTopic.name)
    if active_only:
        query = query.where(TrainingTopic.active.is_(True))
    return list(session.scalars(query))


def save_topic(
    session: Session, *, actor: User, topic: TrainingTopic | None, name: str, description: str, now: datetime
) -> TrainingTopic:
    if not actor.is_admin:
        raise Forbidden(_("Réservé aux administrateurs."))
    with write_transaction(session):
        if topic is None:
            slug = slugify(name)
            if session.scalar(select(TrainingTopic.id).where(TrainingTopic.slug == slug)) is not None:
                raise Conflict(_("Un thème porte déjà ce nom."), field="name")
            topic = TrainingTopic(slug=slug, name=name, description=description, active=True)
            session.add(topic)
        else:
            topic.name, topic.description = name, description
        session.flush()
        audit.record(session, actor=actor, subject_type="topic", subject_id=topic.id, action="save", now=now)
    return topic
