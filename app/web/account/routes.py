"""The person's own page: profile, language, password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from app.extensions import db
from app.models import Departement, Organisation
from app.services import accounts, feeds, reminders, tokens
from app.web.account.forms import ApiTokenForm, PasswordChangeForm, ProfileForm
from app.web.acting import service_call
from app.web.choices import departement_choices, organisation_choices
from app.web.forms import ConfirmForm
from app.web.redirects import safe_next

bp = Blueprint("account", __name__)


def _profile_form(filled: bool = True) -> ProfileForm:
    """The profile form, filled from the account when it is not being submitted."""
    form = ProfileForm(obj=current_user, formdata=None) if filled else ProfileForm()
    form.reminders.description = _("Les rappels de retour en retard sont toujours envoyés.")
    form.organisation.choices = organisation_choices()
    form.departement.choices = departement_choices(blank=_("— Choisissez —"))
    kinds = reminders.optional_kinds_for(current_user)
    form.reminders.choices = [(kind, label) for kind, label in kinds.items()]
    if filled:
        form.organisation.data = current_user.organisation_id or 0
        form.departement.data = current_user.departement_code or ""
        form.reminders.data = [kind for kind in kinds if current_user.wants(kind)]
    return form


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    form = _profile_form(filled=request.method == "GET")
    if form.validate_on_submit():
        with service_call(form) as call:
            accounts.update_profile(
                db.session,
                call.ctx,
                user=call.ctx.user,
                display_name=form.display_name.data or "",
                phone=form.phone.data,
                organisation=db.session.get(Organisation, form.organisation.data) if form.organisation.data else None,
                departement=db.session.get(Departement, form.departement.data) if form.departement.data else None,
                locale=form.locale.data,
                reminder_opt_outs=set(reminders.optional_kinds_for(current_user)) - set(form.reminders.data or []),
            )
        if call.ok:
            session["lang"] = form.locale.data
            flash(_("Votre profil est enregistré."), "success")
            return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form, **_api_tokens())


def _api_tokens(token_form: ApiTokenForm | None = None, new_secret: str | None = None) -> dict:
    """The profile's "API" section: the person's tokens, the form for another, and a token just
    made (shown in this answer only: never put in the session cookie, never shown again)."""
    return {
        "api_tokens": tokens.listed(db.session, current_user),
        "token_form": token_form or ApiTokenForm(formdata=None),
        "new_secret": new_secret,
    }


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create_token():
    token_form = ApiTokenForm()
    new_secret = None
    if token_form.validate_on_submit():
        with service_call(token_form) as call:
            made = tokens.create(db.session, call.ctx, name=token_form.name.data or "")
        if call.ok:
            new_secret, token_form = made.secret, ApiTokenForm(formdata=None)
    form = _profile_form()
    status = 200 if new_secret else 422
    return render_template("account/profile.html", form=form, **_api_tokens(token_form, new_secret)), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            tokens.revoke(db.session, call.ctx, token_id=token_id)
        if call.ok:
            flash(_("Jeton révoqué : il ne fonctionne plus."), "success")
    return redirect(url_for("account.profile") + "#api")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        with service_call(form) as call:
            accounts.change_password(
                db.session,
                call.ctx,
                user=call.ctx.user,
                current=form.current_password.data or "",
                new=form.password.data or "",
            )
        if call.ok:
            # The new password ended every session of the account, this one too: it goes on
            # under the new login token.
            login_user(call.ctx.user)
            flash(_("Votre mot de passe est changé."), "success")
            return redirect(url_for("account.profile"))
    return render_template("account/password.html", form=form)


@bp.route("/language", methods=["POST"])
def set_language():
    lang = request.form.get("lang", "")
    languages = current_app.config["LANGUAGES"]
    if lang in languages:
        session["lang"] = lang
        if current_user.is_authenticated:
            with service_call() as call:
                accounts.set_locale(db.session, call.ctx, user=call.ctx.user, locale=lang, languages=languages)
    return redirect(safe_next(request.form.get("next")))


@bp.route("/account/feeds/token", methods=["POST"])
@login_required
def new_feed_token():
    if ConfirmForm().validate_on_submit():
        had_one = current_user.feed_token is not None
        with service_call() as call:
            feeds.new_token(db.session, call.ctx)
        if call.ok and had_one:
            flash(_("Nouvelle adresse d'abonnement créée : l'ancienne ne fonctionne plus."), "success")
        elif call.ok:
            flash(_("Votre adresse d'abonnement est créée : copiez-la dans votre agenda."), "success")
    return redirect(url_for("account.profile") + "#agenda")


@bp.route("/account/feeds/revoke", methods=["POST"])
@login_required
def revoke_feed_token():
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            feeds.revoke_token(db.session, call.ctx)
        if call.ok:
            flash(_("Adresse d'abonnement supprimée."), "success")
    return redirect(url_for("account.profile") + "#agenda")
