"""HTTP: one blueprint per area, each a routes.py (thin views) and a forms.py."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import BaseConverter, IntegerConverter


class DepartementCode(BaseConverter):
    """Two digits (or 2A/2B): anything else is a 404 before any query runs."""

    regex = r"[0-9]{2}|2[AB]"


class RowId(IntegerConverter):
    """`<int:…>` in every route: an id beyond what the id columns hold (2³¹ − 1) is a 404 like any
    unknown id, never a database overflow."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["dept"] = DepartementCode
    app.url_map.converters["int"] = RowId
    from app.web import errors
    from app.web.account.routes import bp as account_bp
    from app.web.act.routes import bp as act_bp
    from app.web.admin.routes import bp as admin_bp
    from app.web.agenda.routes import bp as agenda_bp
    from app.web.api import bp as api_bp
    from app.web.auth.routes import bp as auth_bp
    from app.web.bookings.routes import bp as bookings_bp
    from app.web.catalogue.routes import bp as catalogue_bp
    from app.web.desk.routes import bp as desk_bp
    from app.web.feeds.routes import bp as feeds_bp
    from app.web.guide.routes import bp as guide_bp
    from app.web.items.routes import bp as items_bp
    from app.web.kits.routes import bp as kits_bp
    from app.web.legal.routes import bp as legal_bp
    from app.web.loans.routes import bp as loans_bp
    from app.web.main.routes import bp as main_bp
    from app.web.points.routes import bp as points_bp
    from app.web.series.routes import bp as series_bp
    from app.web.trainings.routes import bp as trainings_bp
    from app.web.waitlist.routes import bp as waitlist_bp

    errors.register(app)
    for blueprint in (
        main_bp,
        auth_bp,
        account_bp,
        catalogue_bp,
        bookings_bp,
        desk_bp,
        items_bp,
        kits_bp,
        loans_bp,
        points_bp,
        series_bp,
        act_bp,
        trainings_bp,
        waitlist_bp,
        agenda_bp,
        guide_bp,
        feeds_bp,
        admin_bp,
        api_bp,
        legal_bp,
    ):
        app.register_blueprint(blueprint)

    from app.web import context, names

    context.register(app)
    names.register(app)
