"""People: registration, approval, roles, passwords."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.db import DbSession, lock
from app.models import (
    ApiToken,
    Booking,
    Departement,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Role,
    TrainingSession,
    User,
    UserRole,
)
from app.services import audit, notify
from app.services.context import ServiceContext
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation

MIN_PASSWORD_LENGTH = 10
RESET_MAX_AGE_SECONDS = 3600
_RESET_SALT = "password-reset"
# Checked against when the email is unknown, so that a wrong address costs as much time
# as a wrong password and does not reveal who has an account.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(session: DbSession, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def french_sort_key(name: str) -> tuple[str, str]:
    """Where a French reader files a name: « Émile » among the E, not after the Z where a
    byte-wise sort (SQLite's, PostgreSQL's under the C collation) puts him; « œ » as « oe ».
    Accents and case break ties only."""
    folded = unicodedata.normalize("NFKD", name.casefold().replace("œ", "oe").replace("æ", "ae"))
    return "".join(c for c in folded if not unicodedata.combining(c)), name


def sorted_user_ids(session: DbSession, *, pending_only: bool = False, text: str = "") -> list[int]:
    """Ids of the people the admin list shows, accounts to approve first, then by name in French
    order. Sorted here rather than in SQL, where neither database knows French on its own."""
    query = select(User.id, User.display_name, User.approved_at.is_not(None))
    if pending_only:
        query = query.where(User.approved_at.is_(None))
    if text:
        pattern = f"%{text.lower()}%"
        query = query.where(func.lower(User.display_name).like(pattern) | User.email.like(pattern))
    rows = sorted(session.execute(query).all(), key=lambda row: (row[2], french_sort_key(row[1]), row[0]))
    return [row[0] for row in rows]


def get_user(session: DbSession, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("Compte introuvable."))
    return user


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RuleViolation(
            _("Le mot de passe doit compter au moins %(n)d caractères.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )


def authenticate(session: DbSession, email: str, password: str) -> User | None:
    user = find_by_email(session, email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if not user.active:
        return None
    return user


def _require_self_or_admin(ctx: ServiceContext, user: User) -> User:
    actor = ctx.user
    if actor.id != user.id and not actor.is_admin:
        raise Forbidden(_("Ce n'est pas votre compte."))
    return actor


def _locked(session: DbSession, user: User) -> User:
    found = lock(session, User, user.id)
    if found is None:
        raise NotFound(_("Compte introuvable."))
    return found


# Registration and administration -------------------------------------------------------------


def register(
    session: DbSession,
    ctx: ServiceContext,
    *,
    email: str,
    display_name: str,
    password: str,
    organisation: Organisation | None = None,
    departement: Departement | None = None,
    locale: str = "fr",
) -> User:
    """A new member, who books only once an admin has approved them."""
    check_password_strength(password)
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
        created_at=ctx.now,
    )
    user.role_rows.append(UserRole(role=Role.MEMBER))
    session.add(user)
    session.flush()
    # Whoever fills the form, the history says the person registered themselves.
    audit.record(session, ctx.acting_as(user), subject_type="user", subject_id=user.id, action="register")
    for admin in notify.admins(session):
        notify.email_user(
            session,
            ctx,
            key=f"user:{user.id}:registered:to:{admin.id}",
            user=admin,
            subject=_l("Nouveau compte à valider"),
            template="account_to_approve",
            member=user,
        )
    return user


def structure_named(session: DbSession, name: str, departement: Departement | None) -> Organisation:
    """The structure of this name (letter case aside), or a new one that waits for an admin to
    confirm it: typed in at registration, it is not offered to others until then."""
    name = " ".join(name.split())
    if not name:
        raise RuleViolation(_("Donnez le nom de votre structure."), field="new_organisation")
    found = session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))
    if found is not None:
        return found
    organisation = Organisation(
        name=name[:160], confirmed=False, departement_code=departement.code if departement else None
    )
    session.add(organisation)
    session.flush()
    return organisation


def confirm_organisation(session: DbSession, ctx: ServiceContext, *, organisation: Organisation) -> None:
    ctx.require_admin()
    organisation.confirmed = True
    audit.record(session, ctx, subject_type="organisation", subject_id=organisation.id, action="confirm")


def unconfirmed_organisations(session: DbSession) -> list[Organisation]:
    return list(
        session.scalars(select(Organisation).where(Organisation.confirmed.is_(False)).order_by(Organisation.name))
    )


def register_from_form(
    session: DbSession,
    ctx: ServiceContext,
    *,
    email: str,
    password: str,
    new_organisation: str = "",
    **fields: Any,
) -> None:
    """The public registration form: a new member as `register` makes one, or, when the address
    already has an account, nothing but an email to it.

    Both look the same to whoever filled the form (the page must not tell which addresses have
    an account, not even by the time it takes); the email to the address says what happened.
    """
    check_password_strength(password)
    existing = find_by_email(session, email)
    if existing is None:
        if new_organisation.strip():
            fields["organisation"] = structure_named(session, new_organisation, fields.get("departement"))
        user = register(session, ctx, email=email, password=password, **fields)
        notify.email_user(
            session,
            ctx,
            key=f"user:{user.id}:registered",
            user=user,
            subject=_l("Votre compte La Malle est créé"),
            template="registration_received",
        )
        return
    generate_password_hash(password)  # the cost a new account pays, so that timing says nothing
    notify.email_user(
        session,
        ctx,
        key=f"user:{existing.id}:registration-attempt:{ctx.now.date().isoformat()}",
        user=existing,
        subject=_l("Vous avez déjà un compte La Malle"),
        template="registration_existing",
    )


def approve(session: DbSession, ctx: ServiceContext, *, user: User) -> None:
    actor = ctx.require_admin()
    user = _locked(session, user)
    if user.approved_at is None:
        user.approved_at = ctx.now
        user.approved_by_id = actor.id
        audit.record(session, ctx, subject_type="user", subject_id=user.id, action="approve")


def set_active(session: DbSession, ctx: ServiceContext, *, user: User, active: bool) -> None:
    actor = ctx.require_admin()
    # An admin locked out by their own hand may leave the site with nobody to let anyone in.
    if user.id == actor.id and not active:
        raise RuleViolation(_("Vous ne pouvez pas désactiver votre propre compte."))
    user = _locked(session, user)
    user.active = active
    audit.record(session, ctx, subject_type="user", subject_id=user.id, action="activate" if active else "deactivate")


def set_roles(
    session: DbSession,
    ctx: ServiceContext,
    *,
    user: User,
    roles: Iterable[str],
    host_departements: Iterable[Departement],
) -> None:
    """Give exactly these roles; a host is tied to at least one département."""
    actor = ctx.require_admin()
    wanted = {Role(r) for r in roles} | {Role.MEMBER}
    host_departements = list(host_departements)
    if Role.HOST in wanted and not host_departements:
        raise RuleViolation(_("Un hôte doit être rattaché à au moins un département."), field="host_departements")
    if user.id == actor.id and Role.ADMIN not in wanted:
        raise RuleViolation(_("Vous ne pouvez pas retirer votre propre rôle d'administrateur."))
    user = _locked(session, user)
    before = sorted(user.roles)
    user.role_rows = [row for row in user.role_rows if row.role in wanted]
    for role in sorted(wanted - user.roles):
        user.role_rows.append(UserRole(role=role))
    user.hosted_departements = host_departements if Role.HOST in wanted else []
    audit.record(
        session,
        ctx,
        subject_type="user",
        subject_id=user.id,
        action="roles",
        from_state=",".join(before),
        to_state=",".join(sorted(wanted)),
        note=" ".join(d.code for d in user.hosted_departements) or None,
    )


# The person's own account ----------------------------------------------------------------------


def update_profile(
    session: DbSession,
    ctx: ServiceContext,
    *,
    user: User,
    display_name: str,
    phone: str | None,
    organisation: Organisation | None,
    departement: Departement | None,
    locale: str,
    reminder_opt_outs: set[str] | None = None,
) -> None:
    _require_self_or_admin(ctx, user)
    if reminder_opt_outs is not None:
        user.reminder_opt_outs = " ".join(sorted(reminder_opt_outs))
    user.display_name = display_name.strip()
    user.phone = (phone or "").strip() or None
    user.organisation_id = organisation.id if organisation else None
    user.departement_code = departement.code if departement else None
    user.locale = locale


def set_locale(session: DbSession, ctx: ServiceContext, *, user: User, locale: str, languages: Iterable[str]) -> None:
    _require_self_or_admin(ctx, user)
    if locale not in languages:
        raise RuleViolation(_("Langue inconnue."), field="locale")
    user.locale = locale


def log_out_everywhere(session: DbSession, ctx: ServiceContext) -> None:
    """End every session and "remember me" cookie of the acting person."""
    user = session.get(User, ctx.user.id)
    if user is not None:
        user.renew_login_token()


def change_password(session: DbSession, ctx: ServiceContext, *, user: User, current: str, new: str) -> None:
    """Only the person themself, who proves it with the current password."""
    if ctx.user.id != user.id:
        raise Forbidden(_("Ce n'est pas votre compte."))
    if not check_password_hash(user.password_hash, current):
        raise RuleViolation(_("Le mot de passe actuel est incorrect."), field="current_password")
    check_password_strength(new)
    user.password_hash = generate_password_hash(new)
    user.renew_login_token()
    audit.record(session, ctx, subject_type="user", subject_id=user.id, action="password")


# Leaving ---------------------------------------------------------------------------------------

DELETED_NAME = _l("Compte supprimé")


def deletion_blockers(session: DbSession, ctx: ServiceContext, *, user: User) -> list[str]:
    """What must end before the account can go: a booking that still holds an item or an
    account (the host must know whom to ask for it back), a seat in a session still to come."""
    blockers = []
    bookings = session.scalar(
        select(func.count(Booking.id)).where(Booking.user_id == user.id, ~Booking.is_past_at(ctx.now))
    )
    if bookings:
        blockers.append(
            ngettext(
                "%(num)d réservation en cours ou à venir : annulez-la ou rendez le matériel d'abord.",
                "%(num)d réservations en cours ou à venir : annulez-les ou rendez le matériel d'abord.",
                bookings,
            )
        )
    seats = session.scalar(
        select(func.count(Enrolment.id))
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .where(
            Enrolment.user_id == user.id,
            Enrolment.status.in_((EnrolmentStatus.REGISTERED, EnrolmentStatus.WAITLISTED)),
            TrainingSession.ends_at > ctx.now,
        )
    )
    if seats:
        blockers.append(
            ngettext(
                "%(num)d inscription à une formation à venir : désinscrivez-vous d'abord.",
                "%(num)d inscriptions à des formations à venir : désinscrivez-vous d'abord.",
                seats,
            )
        )
    if user.is_admin and session.scalar(select(func.count(UserRole.user_id)).where(UserRole.role == Role.ADMIN)) == 1:
        blockers.append(_("Vous êtes le seul administrateur : nommez-en un autre d'abord."))
    return blockers


def delete_account(session: DbSession, ctx: ServiceContext, *, user: User) -> None:
    """Remove a person's data but keep what the network counts: the user row stays, anonymised
    (its bookings and sign-ups still add up in the reports), with every personal field cleared,
    the texts they wrote on bookings removed, and no way to log in again."""
    _require_self_or_admin(ctx, user)
    user = _locked(session, user)
    blockers = deletion_blockers(session, ctx, user=user)
    if blockers:
        raise RuleViolation(" ".join(blockers))
    user.email = f"supprime-{user.id}@lamalle.invalid"
    user.display_name = str(DELETED_NAME)
    # Not a hash any password can match: the account cannot be logged into, nor reset.
    user.password_hash = "!"
    user.phone = None
    user.feed_token = None
    user.reminder_opt_outs = ""
    user.active = False
    user.renew_login_token()
    user.role_rows = [row for row in user.role_rows if row.role == Role.MEMBER]
    user.hosted_departements = []
    for booking in session.scalars(select(Booking).where(Booking.user_id == user.id)):
        booking.purpose = ""
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = ctx.now
    audit.record(session, ctx, subject_type="user", subject_id=user.id, action="delete")


# Forgotten passwords -----------------------------------------------------------------------------


def _reset_serializer(ctx: ServiceContext) -> URLSafeTimedSerializer:
    """Signed with ctx.signing_key, and dated by ctx.now rather than the system clock."""
    now = int(ctx.now.timestamp())

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return now

    return URLSafeTimedSerializer(ctx.signing_key, salt=_RESET_SALT, signer=Signer)


def make_reset_token(ctx: ServiceContext, user: User) -> str:
    # The token carries a piece of the current hash: once the password changes, every
    # earlier link is dead, which makes each link single-use.
    return _reset_serializer(ctx).dumps({"id": user.id, "h": user.password_hash[-16:]})


def request_password_reset(session: DbSession, ctx: ServiceContext, *, email: str) -> None:
    """Email a reset link to an active account; nothing, and no sign of it, for an unknown address."""
    user = find_by_email(session, email)
    if user is None or not user.active:
        return
    token = make_reset_token(ctx, user)
    notify.email_user(
        session,
        ctx,
        # One email per link: the token differs each time, and so does the key.
        key=f"user:{user.id}:password-reset:{token[-24:]}",
        user=user,
        subject=_l("Choisir un nouveau mot de passe"),
        template="password_reset",
        token=token,
    )


def user_for_reset_token(session: DbSession, ctx: ServiceContext, *, token: str) -> User:
    """The account a reset link is for; refused once used, expired (after an hour) or forged."""
    try:
        data = _reset_serializer(ctx).loads(token, max_age=RESET_MAX_AGE_SECONDS)
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


def reset_password(session: DbSession, ctx: ServiceContext, *, token: str, new: str) -> User:
    user = user_for_reset_token(session, ctx, token=token)
    check_password_strength(new)
    # Checked again on the row read under its lock: of two uses of one link at once, the
    # second sees the password the first one set, and is refused.
    _locked(session, user)
    user = user_for_reset_token(session, ctx, token=token)
    user.password_hash = generate_password_hash(new)
    user.renew_login_token()
    audit.record(session, ctx.acting_as(user), subject_type="user", subject_id=user.id, action="password-reset")
    return user
