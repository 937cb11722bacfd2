"""Security headers on every page, and no inline code for the Content-Security-Policy to allow."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|<[a-z][^>]*\sstyle\s*=", re.I)


@pytest.mark.parametrize("path", ["/", "/resources", "/trainings", "/agenda", "/guide", "/login", "/register"])
def test_pages_carry_a_strict_content_security_policy_and_the_usual_headers(client, path):
    answer = client.get(path)
    assert answer.status_code == 200
    policy = answer.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in answer.headers  # plain http: HSTS would be ignored


def test_https_answers_ask_browsers_to_stay_on_https(client):
    answer = client.get("/", base_url="https://localhost")
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("template", sorted(p for p in TEMPLATES.rglob("*.html") if "email" not in p.parts))
def test_no_page_template_holds_inline_script_or_event_handlers(template):
    text = template.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), template
    assert not INLINE_HANDLER.search(text), template
    assert not INLINE_STYLE.search(text), template


def test_behind_a_trusted_proxy_its_forwarded_scheme_counts_and_otherwise_it_does_not(make_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    trusting = make_app(TRUSTED_PROXIES=1).test_client().get("/", headers=forwarded)
    assert "Strict-Transport-Security" in trusting.headers
    wary = make_app(TRUSTED_PROXIES=0).test_client().get("/", headers=forwarded)
    assert "Strict-Transport-Security" not in wary.headers


def test_an_error_on_an_address_holding_a_key_logs_the_address_without_the_key(make_app, caplog):
    broken = make_app()

    @broken.route("/feeds/broken/<token>.ics")
    def explode(token):
        raise RuntimeError("a bug")

    secret = "s3cr3t-feed-token-value"
    with caplog.at_level("ERROR"):
        answer = broken.test_client().get(f"/feeds/broken/{secret}.ics")
    assert answer.status_code == 500
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/feeds/broken/<token>.ics" in logged and secret not in logged
