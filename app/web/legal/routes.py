"""The legal pages (« Mentions légales », « Confidentialité », « Déclaration d'accessibilité »)
and the deletion of one's own account that the privacy page promises."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from app import entry
from app.extensions import db
from app.services import accounts
from app.web.acting import service_call

bp = Blueprint("legal", __name__)


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Votre mot de passe, pour confirmer"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Supprimer mon compte"))


@bp.route("/mentions-legales")
def notice():
    return render_template("legal/notice.html")


@bp.route("/confidentialite")
def privacy():
    return render_template("legal/privacy.html")


@bp.route("/accessibilite")
def accessibility():
    return render_template("legal/accessibility.html")


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    user = accounts.get_user(db.session, current_user.id)
    form = DeleteAccountForm()
    blockers = accounts.deletion_blockers(db.session, entry.for_request(), user=user)
    if form.validate_on_submit() and not blockers:
        if not check_password_hash(user.password_hash, form.password.data or ""):
            form.password.errors = [*form.password.errors, _("Le mot de passe est incorrect.")]
        else:
            with service_call(form) as call:
                accounts.delete_account(db.session, call.ctx, user=user)
            if call.ok:
                logout_user()
                flash(_("Votre compte est supprimé : vos données personnelles sont effacées."), "success")
                return redirect(url_for("main.home"))
    return render_template("legal/delete_account.html", form=form, blockers=blockers)
