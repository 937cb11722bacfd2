"""La Malle: shared equipment, accounts and trainings of the Science(s) en Occitanie network."""

from __future__ import annotations

import hmac
import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config as app_config
from app.db import install_engine_events
from app.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)

    app.config.update(app_config.load(instance_path, test_config))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.update(test_config)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if hops := app.config.get("TRUSTED_PROXIES"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from app import i18n

    db.init_app(app)
    with app.app_context():
        install_engine_events(db.engine)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says it itself
    login_manager.session_protection = "strong"

    from app import models

    @login_manager.user_loader
    def load_user(user_id: str):
        # "<id>.<login token>": a session or cookie issued before the last logout or password
        # change names an old token and loads nobody.
        raw_id, _dot, token = user_id.partition(".")
        if not raw_id.isdigit() or len(raw_id) > 10:
            return None
        user = db.session.get(models.User, int(raw_id))
        if user is None or not hmac.compare_digest(user.login_token.encode(), token.encode()):
            return None
        return user

    i18n.register_filters(app)

    from app.web import register_blueprints

    register_blueprints(app)

    from app.cli import register_cli

    register_cli(app)
    return app
