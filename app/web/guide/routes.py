"""The live-video guide: five parts, a table of contents, search, print, and admin editing."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SubmitField

from app.extensions import db
from app.i18n import utcnow
from app.services import guide, markdown
from app.services.errors import DomainError
from app.web.admin.forms import ConfirmForm
from app.web.forms import apply_domain_error, line_field, text_field

bp = Blueprint("guide", __name__, url_prefix="/guide")


class PageForm(FlaskForm):
    title = line_field(_l("Titre"), max_length=200)
    body = text_field(_l("Texte (Markdown)"), max_length=100_000, required=True)
    preview = SubmitField(_l("Aperçu"))
    submit = SubmitField(_l("Enregistrer"))


def _reader():
    return current_user if current_user.is_authenticated else None


@bp.route("")
def index():
    return render_template("guide/index.html", pages=guide.pages(db.session))


@bp.route("/search")
def search():
    text = request.args.get("q", "")[:100]
    return render_template("guide/search.html", q=text, results=guide.search(db.session, text))


@bp.route("/print")
def print_all():
    now, reader = utcnow(), _reader()
    sections = [(page, guide.render(db.session, page, now=now, reader=reader)) for page in guide.pages(db.session)]
    return render_template("guide/print.html", sections=sections)


@bp.route("/<slug>")
def page(slug: str):
    found = guide.get(db.session, slug)
    pages = guide.pages(db.session)
    index = [p.id for p in pages].index(found.id)
    return render_template(
        "guide/page.html",
        page=found,
        parts=guide.render(db.session, found, now=utcnow(), reader=_reader()),
        toc=markdown.headings(found.body),
        pages=pages,
        previous=pages[index - 1] if index > 0 else None,
        following=pages[index + 1] if index + 1 < len(pages) else None,
    )


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    if not current_user.is_admin:
        abort(403)
    found = guide.get(db.session, slug)
    form = PageForm(obj=found)
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = markdown.render(form.body.data, anchors=True)
        else:
            try:
                guide.save(
                    db.session, actor=current_user, page=found, title=form.title.data, body=form.body.data, now=utcnow()
                )
            except DomainError as error:
                if not apply_domain_error(form, error):
                    flash(error.message, "danger")
            else:
                flash(_("Page enregistrée ; la version précédente reste dans l'historique."), "success")
                return redirect(url_for("guide.page", slug=found.slug))
    return render_template(
        "guide/edit.html",
        page=found,
        form=form,
        preview=preview,
        revisions=guide.revisions(db.session, found),
        confirm=ConfirmForm(),
    )


@bp.route("/<slug>/restore/<int:revision_id>", methods=["POST"])
@login_required
def restore(slug: str, revision_id: int):
    if not current_user.is_admin:
        abort(403)
    found = guide.get(db.session, slug)
    if ConfirmForm().validate_on_submit():
        guide.restore(db.session, actor=current_user, page=found, revision_id=revision_id, now=utcnow())
        flash(_("Version restaurée."), "success")
    return redirect(url_for("guide.edit", slug=found.slug))
