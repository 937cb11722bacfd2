"""iCal feeds: personal and host feeds behind a secret token, public ones for resources,
départements and trainings. Calendar apps cannot log in, hence the token in the address."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from flask_babel import gettext as _

from app import entry
from app.extensions import db, limiter
from app.models import Departement
from app.services import catalogue, feeds
from app.web.feeds.ics import ics_response, link
from app.web.names import in_departement

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
limiter.limit(lambda: current_app.config["FEED_RATE_LIMIT"])(bp)


def _person(token: str):
    user = feeds.user_for_token(db.session, token)
    if user is None:
        abort(404)  # a wrong, old or revoked token looks like nothing at all
    return user


@bp.route("/me/<token>.ics")
def personal(token: str):
    user = _person(token)
    items = feeds.personal(db.session, entry.for_request(), user=user, link=link)
    return ics_response(_("La Malle — %(name)s", name=user.display_name), items, private=True)


@bp.route("/host/<token>.ics")
def host(token: str):
    user = _person(token)
    if not user.is_host:
        abort(404)
    items = feeds.host(db.session, entry.for_request(), user=user, link=link)
    codes = ", ".join(sorted(user.host_codes))
    return ics_response(_("La Malle — retraits et retours (%(codes)s)", codes=codes), items, private=True)


@bp.route("/resources/<int:resource_id>.ics")
def resource(resource_id: int):
    found = catalogue.get_resource(db.session, resource_id)
    items = feeds.resource_busy(db.session, entry.for_request(), resource=found)
    return ics_response(_("La Malle — %(name)s", name=found.name), items, private=False)


@bp.route("/departements/<dept:code>.ics")
def departement(code: str):
    found = db.session.get(Departement, code)
    if found is None:
        abort(404)
    items = feeds.departement_busy(db.session, entry.for_request(), code=code)
    return ics_response(
        _("La Malle — matériel %(where)s", where=in_departement(found.code, found.name)), items, private=False
    )


@bp.route("/trainings.ics")
def trainings():
    raw = request.args.get("topic", "")
    topic_id = int(raw) if raw.isdigit() else None
    items = feeds.trainings(db.session, entry.for_request(), link=link, topic_id=topic_id)
    return ics_response(_("La Malle — formations"), items, private=False)


@bp.route("/agenda.ics")
def agenda():
    from app.web.agenda.routes import feed_response

    return feed_response()
