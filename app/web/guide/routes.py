"""The live-video guide: five parts, a table of contents, search, print, and admin editing."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import SubmitField

from app import entry
from app.extensions import db
from app.models import GuidePage
from app.services import guide, markdown
from app.services.errors import NotFound
from app.web.acting import service_call
from app.web.forms import ConfirmForm, line_field, text_field

bp = Blueprint("guide", __name__, url_prefix="/guide")


class PageForm(FlaskForm):
    title = line_field(_l("Titre"), max_length=200)
    body = text_field(_l("Texte (Markdown)"), max_length=100_000, required=True)
    preview = SubmitField(_l("Aperçu"))
    submit = SubmitField(_l("Enregistrer"))


def _page_or_404(slug: str) -> GuidePage:
    try:
        return guide.get(db.session, slug)
    except NotFound:
        abort(404)


@bp.route("")
def index() -> ResponseReturnValue:
    return render_template("guide/index.html", pages=guide.pages(db.session))


@bp.route("/search")
def search() -> ResponseReturnValue:
    text = request.args.get("q", "")[:100]
    return render_template("guide/search.html", q=text, results=guide.search(db.session, text))


@bp.route("/print")
def print_all() -> ResponseReturnValue:
    ctx = entry.for_request()
    sections = [(page, guide.render(db.session, ctx, page=page)) for page in guide.pages(db.session)]
    return render_template("guide/print.html", sections=sections)


@bp.route("/<slug>")
def page(slug: str) -> ResponseReturnValue:
    found = _page_or_404(slug)
    pages = guide.pages(db.session)
    index = [p.id for p in pages].index(found.id)
    return render_template(
        "guide/page.html",
        page=found,
        parts=guide.render(db.session, entry.for_request(), page=found),
        toc=markdown.headings(found.body),
        pages=pages,
        previous=pages[index - 1] if index > 0 else None,
        following=pages[index + 1] if index + 1 < len(pages) else None,
    )


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str) -> ResponseReturnValue:
    if not current_user.is_admin:
        abort(403)  # a courtesy: the service decides
    found = _page_or_404(slug)
    form = PageForm(obj=found)
    preview: Markup | None = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = markdown.render(form.body.data or "", anchors=True)
        else:
            with service_call(form) as call:
                guide.save(db.session, call.ctx, page=found, title=form.title.data or "", body=form.body.data or "")
            if call.ok:
                flash(_("Page enregistrée ; la version précédente reste dans l'historique."), "success")
                return redirect(url_for("guide.page", slug=slug))
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
def restore(slug: str, revision_id: int) -> ResponseReturnValue:
    if not current_user.is_admin:
        abort(403)  # a courtesy: the service decides
    found = _page_or_404(slug)
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            guide.restore(db.session, call.ctx, page=found, revision_id=revision_id)
        if call.ok:
            flash(_("Version restaurée."), "success")
    return redirect(url_for("guide.edit", slug=slug))
