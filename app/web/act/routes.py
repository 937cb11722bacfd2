"""One-tap answers from an email: signed, single-use, expiring links for one person and one booking.

Opening a link (GET) only shows what it would do, with one button: mail scanners and link
previews open every address in a message, and must not answer a request by doing so. The
button (POST, with its CSRF token) acts as the person the link was sent to, who need not be
logged in; someone else logged in is refused.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, url_for
from flask.blueprints import BlueprintSetupState
from flask_login import current_user

from app import entry
from app.extensions import db
from app.models import Booking, User
from app.services import booking, links
from app.services.errors import DomainError
from app.web.act.forms import ApproveForm, RejectForm
from app.web.acting import service_call

bp = Blueprint("act", __name__, url_prefix="/a")


@bp.record_once
def _link_globals(state: BlueprintSetupState) -> None:
    state.app.jinja_env.globals["answer_link_days"] = links.VALID_FOR.days


@bp.app_template_global("host_answer_url")
def host_answer_url(booking: Booking, user: User, action: str) -> str:
    """The address of a link by which `user` answers `booking` (emails: absolute, on SITE_URL)."""
    ctx = entry.build(_app(), None)
    return url_for("act.answer", token=links.sign(ctx, booking=booking, user=user, action=action), _external=True)


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]  # the app behind the proxy


def _page(template: str, status: int = 200, **values) -> tuple[str, int, dict[str, str]]:
    # The address is a key to the request: kept out of caches; the pages say nothing to crawlers.
    return render_template(template, **values), status, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _refused(error: DomainError) -> tuple[str, int, dict[str, str]]:
    return _page("act/refused.html", error.status_code, message=error.message)


@bp.route("/<token>", methods=["GET", "POST"])
def answer(token: str) -> tuple[str, int, dict[str, str]]:
    try:
        found = links.read(db.session, entry.for_request(), token=token)
    except DomainError as error:
        return _refused(error)
    form = ApproveForm() if found.action == "approve" else RejectForm()
    if form.validate_on_submit():
        # Nobody logged in: act as the person the link was sent to (read() refused anyone else).
        ctx = entry.for_request() if current_user.is_authenticated else entry.build(_app(), found.user)
        try:
            with service_call(form, ctx=ctx) as call:
                # Read again inside the unit of work, on the locked row: of two uses at once,
                # the second sees the first one's change.
                again = links.read(db.session, call.ctx, token=token)
                if isinstance(form, RejectForm):
                    booking.reject(db.session, call.ctx, booking=again.booking, reason=form.reason.data or "")
                else:
                    booking.approve(db.session, call.ctx, booking=again.booking)
        except DomainError as error:  # link refusals (Forbidden, NotFound) are not form errors
            return _refused(error)
        if call.ok:
            return _page("act/done.html", booking=again.booking, action=again.action)
    return _page("act/answer.html", booking=found.booking, action=found.action, form=form, expires_at=found.expires_at)
