"""Log in and out, register, reset a forgotten password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from app import entry
from app.db import unit_of_work
from app.extensions import db, limiter
from app.models import Departement, Organisation
from app.services import accounts
from app.services.errors import DomainError
from app.web.acting import service_call
from app.web.auth.forms import ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from app.web.choices import departement_choices, organisation_choices
from app.web.errors import error_response
from app.web.redirects import safe_next

bp = Blueprint("auth", __name__)


def _login_failed(response) -> bool:
    # Only failed attempts count towards the limits; a success redirects.
    return response.status_code != 302


def _account_key() -> str:
    return "login-account:" + accounts.normalise_email(request.form.get("email", ""))[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_login_failed)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_login_failed,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.email.data or "", form.password.data or "")
        if user is not None:
            # Where they were going, else their own home (what is due today for their roles).
            wanted = request.args.get("next")
            target = safe_next(wanted) if wanted else url_for("main.mine")
            # Nothing set before the login (by anyone who had this browser) survives it, but
            # the language the visitor chose.
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            login_user(user, remember=form.remember.data)
            flash(_("Bienvenue, %(name)s.", name=user.display_name), "success")
            return redirect(target)
        form.password.errors = [*form.password.errors, _("Adresse ou mot de passe incorrect.")]
    return render_template("auth/login.html", form=form, why=_why_login(request.args.get("next")))


# What the page a visitor was sent from needs an account for, by its path: said above the form,
# so that « Réserver » does not land on a login page without a word.
_WHY = (
    ("/bookings", _l("Pour réserver, connectez-vous avec votre compte du réseau.")),
    ("/kits", _l("Pour réserver, connectez-vous avec votre compte du réseau.")),
    ("/series", _l("Pour réserver, connectez-vous avec votre compte du réseau.")),
    ("/trainings", _l("Pour vous inscrire à une formation, connectez-vous.")),
    ("/desk", _l("Le guichet est réservé aux hôtes départementaux : connectez-vous.")),
    ("/admin", _l("L'administration demande de vous connecter.")),
)


def _why_login(target: str | None) -> str | None:
    path = safe_next(target) if target else ""
    if not path or path == url_for("main.home"):
        return None
    for prefix, reason in _WHY:
        if path.startswith(prefix):
            return str(reason)
    return _("Cette page demande de vous connecter.")


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # A new login token ends this session and every "remember me" cookie issued to the account.
    with unit_of_work(db.session):
        accounts.log_out_everywhere(db.session, entry.for_request())
    logout_user()
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("main.home"))


def _unconfirmed() -> set[int]:
    return {organisation.id for organisation in accounts.unconfirmed_organisations(db.session)}


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_LIMIT"], methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    # A structure typed in by someone else is offered only once an admin has confirmed it.
    form.organisation.choices = [
        (value, label) for value, label in organisation_choices() if value == 0 or value not in _unconfirmed()
    ]
    form.departement.choices = departement_choices(blank=_("— Choisissez —"))
    if form.validate_on_submit():
        if not form.departement.data:
            form.departement.errors = [*form.departement.errors, _("Choisissez votre département.")]
        else:
            with service_call(form) as call:
                accounts.register_from_form(
                    db.session,
                    call.ctx,
                    email=form.email.data or "",
                    display_name=form.display_name.data or "",
                    password=form.password.data or "",
                    organisation=db.session.get(Organisation, form.organisation.data)
                    if form.organisation.data
                    else None,
                    departement=db.session.get(Departement, form.departement.data),
                    new_organisation="" if form.organisation.data else (form.new_organisation.data or ""),
                    # The language the page was shown in: chosen and checked by i18n.select_locale.
                    locale=str(get_locale()),
                )
            if call.ok:
                # The same answer whether the address was new or not: the email tells which.
                flash(
                    _(
                        "C'est enregistré : un email vient de partir à cette adresse. Si le compte est nouveau,"
                        " connectez-vous ; un administrateur le validera avant votre première réservation."
                    ),
                    "success",
                )
                return redirect(url_for("auth.login"))
    return render_template("auth/register.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_LIMIT"], methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        with service_call(form) as call:
            accounts.request_password_reset(db.session, call.ctx, email=form.email.data or "")
        if call.ok:
            # The same answer whether or not the address has an account.
            flash(_("Si un compte existe pour cette adresse, un lien vient de lui être envoyé."), "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if len(token) > 500:
        return error_response(404, _("Ce lien n'est pas valide."))
    try:
        # A dead link says so before the form is filled in.
        accounts.user_for_reset_token(db.session, entry.for_request(), token=token)
    except DomainError as error:
        return error_response(error.status_code, error.message)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with service_call(form) as call:
            accounts.reset_password(db.session, call.ctx, token=token, new=form.password.data or "")
        if call.ok:
            flash(_("Votre mot de passe est changé. Vous pouvez vous connecter."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)
