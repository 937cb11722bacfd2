"""The floor: the smallest Flask app, served by the same gunicorn configuration as La Malle.

What one request costs before the app does anything: each endpoint's req/s is compared with it."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def ok() -> str:
    return "ok"
