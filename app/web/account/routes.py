"""The person's own page: profile, language, password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from app.extensions import db
from app.models import Departement, Organisation
from app.services import accounts, feeds, reminders
from app.web.account.forms import PasswordChangeForm, ProfileForm
from app.web.acting import service_call
from app.web.choices import departement_choices, organisation_choices
from app.web.forms import ConfirmForm
from app.web.redirects import safe_next

bp = Blueprint("account", __name__)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user if request.method == "GET" else None)
    form.reminders.description = _("Les rappels de retour en retard sont toujours envoyés.")
    form.organisation.choices = organisation_choices()
    form.departement.choices = departement_choices(blank=_("— Choisissez —"))
    form.reminders.choices = [(kind, label) for kind, label in reminders.OPTIONAL_KINDS.items()]
    if request.method == "GET":
        form.organisation.data = current_user.organisation_id or 0
        form.departement.data = current_user.departement_code or ""
        form.reminders.data = [kind for kind in reminders.OPTIONAL_KINDS if current_user.wants(kind)]
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
                reminder_opt_outs=set(reminders.OPTIONAL_KINDS) - set(form.reminders.data or []),
            )
        if call.ok:
            session["lang"] = form.locale.data
            flash(_("Votre profil est enregistré."), "success")
            return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form)


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
        with service_call() as call:
            feeds.new_token(db.session, call.ctx)
        if call.ok:
            flash(_("Nouvelle adresse d'abonnement créée : l'ancienne ne fonctionne plus."), "success")
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
