"""People: registration, approval, roles, passwords."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.db import write_transaction
from app.models import Departement, Organisation, Role, User, UserRole
from app.services import audit, notify
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation

MIN_PASSWORD_LENGTH = 10
RESET_MAX_AGE_SECONDS = 3600
_RESET_SALT = "password-reset"
# Checked against when the email is unknown, so that a wrong address costs as much time
# as a wrong password and does not reveal who has an account.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RuleViolation(
            _("Le mot de passe doit compter au moins %(n)d caractères.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )


def register(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    now: datetime,
    organisation: Organisation | None = None,
    departement: Departement | None = None,
    locale: str = "fr",
) -> User:
    """A new member, who may log in at once but books only once an admin has approved them."""
    check_password_strength(password)
    with write_transaction(session):
        if find_by_email(session, email) is not None:
            raise Conflict(_("Un compte existe déjà avec cette adresse."), field="email")
        user = User(
            email=normalise_email(email),
            display_name=display_name.strip(),
            password_hash=generate_password_hash(password),
            organisation_id=organisation.id if organisation else None,
            departement_code=departement.code if departement else None,
            locale=locale,
            active=True,
            created_at=now,
        )
        user.role_rows.append(UserRole(role=Role.MEMBER.value))
        session.add(user)
        session.flush()
        audit.record(session, actor=user, subject_type="user", subject_id=user.id, action="register", now=now)
        for admin in notify.admins(session):
            notify.email_user(
                session,
                key=f"user:{user.id}:registered:to:{admin.id}",
                user=admin,
                subject=_l("Nouveau compte à valider"),
                template="account_to_approve",
                member=user,
                now=now,
            )
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = find_by_email(session, email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if not user.active:
        return None
    return user


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden(_("Réservé aux administrateurs."))


def approve(session: Session, *, actor: User, user: User, now: datetime) -> None:
    _require_admin(actor)
    with write_transaction(session):
        if user.approved_at is None:
            user.approved_at = now
            user.approved_by_id = actor.id
            audit.record(session, actor=actor, subject_type="user", subject_id=user.id, action="approve", now=now)


def set_active(session: Session, *, actor: User, user: User, active: bool, now: datetime) -> None:
    _require_admin(actor)
    if user.id == actor.id and not active:
        raise RuleViolation(_("Vous ne pouvez pas désactiver votre propre compte."))
    with write_transaction(session):
        user.active = active
        audit.record(
            session,
            actor=actor,
            subject_type="user",
            subject_id=user.id,
            action="activate" if active else "deactivate",
            now=now,
        )


def set_roles(
    session: Session,
    *,
    actor: User,
    user: User,
    roles: Iterable[str],
    host_departements: Iterable[Departement],
    now: datetime,
) -> None:
    """Give exactly these roles; a host is tied to at least one département."""
    _require_admin(actor)
    wanted = {Role(r).value for r in roles} | {Role.MEMBER.value}
    host_departements = list(host_departements)
    if Role.HOST.value in wanted and not host_departements:
        raise RuleViolation(_("Un hôte doit être rattaché à au moins un département."), field="host_departements")
    if user.id == actor.id and Role.ADMIN.value not in wanted:
        raise RuleViolation(_("Vous ne pouvez pas retirer votre propre rôle d'administrateur."))
    with write_transaction(session):
        before = sorted(user.roles)
        user.role_rows = [row for row in user.role_rows if row.role in wanted]
        for role in wanted - user.roles:
            user.role_rows.append(UserRole(role=role))
        user.hosted_departements = host_departements if Role.HOST.value in wanted else []
        audit.record(
            session,
            actor=actor,
            subject_type="user",
            subject_id=user.id,
            action="roles",
            from_state=",".join(before),
            to_state=",".join(sorted(wanted)),
            note=" ".join(d.code for d in user.hosted_departements) or None,
            now=now,
        )


def update_profile(
    session: Session,
    *,
    user: User,
    display_name: str,
    phone: str | None,
    organisation: Organisation | None,
    departement: Departement | None,
    locale: str,
    reminder_opt_outs: set[str] | None = None,
) -> None:
    with write_transaction(session):
        if reminder_opt_outs is not None:
            user.reminder_opt_outs = " ".join(sorted(reminder_opt_outs))
        user.display_name = display_name.strip()
        user.phone = (phone or "").strip() or None
        user.organisation_id = organisation.id if organisation else None
        user.departement_code = departement.code if departement else None
        user.locale = locale


def set_locale(session: Session, *, user: User, locale: str, languages: Iterable[str]) -> None:
    if locale not in languages:
        raise RuleViolation(_("Langue inconnue."), field="locale")
    with write_transaction(session):
        user.locale = locale


def change_password(session: Session, *, user: User, current: str, new: str, now: datetime) -> None:
    if not check_password_hash(user.password_hash, current):
        raise RuleViolation(_("Le mot de passe actuel est incorrect."), field="current_password")
    check_password_strength(new)
    with write_transaction(session):
        user.password_hash = generate_password_hash(new)
        audit.record(session, actor=user, subject_type="user", subject_id=user.id, action="password", now=now)


def _reset_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_RESET_SALT)


def make_reset_token(secret_key: str, user: User) -> str:
    # The token carries a piece of the current hash: once the password changes, every
    # earlier link is dead, which makes each link single-use.
    return _reset_serializer(secret_key).dumps({"id": user.id, "h": user.password_hash[-16:]})


def request_password_reset(session: Session, *, email: str, secret_key: str, now: datetime) -> None:
    """Email a reset link to an active account; nothing, and no sign of it, for an unknown address."""
    user = find_by_email(session, email)
    if user is None or not user.active:
        return
    token = make_reset_token(secret_key, user)
    with write_transaction(session):
        notify.email_user(
            session,
            # One email per link: the token differs each time, and so does the key.
            key=f"user:{user.id}:password-reset:{token[-24:]}",
            user=user,
            subject=_l("Choisir un nouveau mot de passe"),
            template="password_reset",
            token=token,
            now=now,
        )


def user_for_reset_token(session: Session, secret_key: str, token: str) -> User:
    try:
        data = _reset_serializer(secret_key).loads(token, max_age=RESET_MAX_AGE_SECONDS)
    except SignatureExpired as exc:
        raise RuleViolation(_("Ce lien a expiré. Demandez-en un nouveau.")) from exc
    except BadSignature as exc:
        raise NotFound(_("Ce lien n'est pas valide.")) from exc
    if not isinstance(data, dict):
        raise NotFound(_("Ce lien n'est pas valide."))
    user = session.get(User, data.get("id")) if isinstance(data.get("id"), int) else None
    if user is None or not user.active or user.password_hash[-16:] != data.get("h"):
        raise NotFound(_("Ce lien n'est pas valide ou a déjà servi."))
    return user


def reset_password(session: Session, *, secret_key: str, token: str, new: str, now: datetime) -> User:
    user = user_for_reset_token(session, secret_key, token)
    check_password_strength(new)
    with write_transaction(session):
        user.password_hash = generate_password_hash(new)
        audit.record(session, actor=user, subject_type="user", subject_id=user.id, action="password-reset", now=now)
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("Compte introuvable."))
    return user
