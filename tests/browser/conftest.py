"""A real server and a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.conftest import free_port
from tests.factories import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags a root sandbox on a closed network needs; see README "Browser tests".
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app):
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


# axe-core's impacts that fail a test; "moderate" and "minor" ones are left to review.
BLOCKING_IMPACTS = {"serious", "critical"}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


class PageAudit:
    """Every page a test's browser loads: axe-core runs on it, and it must not ask anything of another host.

    A page is checked when the test next acts on it after it loaded (or when the test ends), so the
    check sees the settled page and never races the test's own navigation. Findings are gathered and
    reported together when the test ends, so that one run shows every page at fault.
    """

    def __init__(self) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.violations: list[str] = []
        self.outside_requests: list[str] = []
        self.pages: list[AuditedPage] = []
        self.pages_checked = 0

    def watch(self, page) -> AuditedPage:
        audited = AuditedPage.wrapping(page, self)
        page.on("load", lambda _loaded: audited._loaded())
        page.on("request", self.note_request)
        self.pages.append(audited)
        return audited

    def note_request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname not in LOCAL_HOSTS:
            self.outside_requests.append(request.url)

    def check(self, page) -> None:
        from playwright.sync_api import Error

        if page.is_closed() or urlsplit(page.url).hostname not in LOCAL_HOSTS:
            return
        try:
            results = self.axe.run(page)
        except Error:
            # A navigation started by the page itself replaced the document: check the new one.
            page.wait_for_load_state()
            results = self.axe.run(page)
        self.pages_checked += 1
        viewport = page.viewport_size or {}
        for violation in results.response["violations"]:
            if violation.get("impact") not in BLOCKING_IMPACTS:
                continue
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            self.violations.append(
                f"{urlsplit(page.url).path} ({viewport.get('width')} px): {violation['impact']} "
                f"{violation['id']} – {violation['help']} – {len(violation['nodes'])} × {targets}"
            )

    def finish(self) -> None:
        for page in self.pages:
            page._check_if_loaded()

    def report(self) -> str:
        lines = []
        if self.violations:
            lines.append("axe-core, serious or critical:")
            lines.extend(f"  {line}" for line in dict.fromkeys(self.violations))
        if self.outside_requests:
            lines.append("Requests that left this machine:")
            lines.extend(f"  {url}" for url in dict.fromkeys(self.outside_requests))
        return "\n".join(lines)


def _audited_page_class():
    from playwright.sync_api import Page

    class AuditedPage(Page):
        """A Playwright page (it passes for one in `expect`) that has its latest document checked
        before the test acts on it again."""

        _audit: PageAudit
        _unchecked: bool

        @classmethod
        def wrapping(cls, page, audit: PageAudit):
            audited = object.__new__(cls)
            audited.__dict__.update(page.__dict__)
            audited._audit = audit
            audited._unchecked = False
            return audited

        def _loaded(self) -> None:
            self._unchecked = True

        def _check_if_loaded(self) -> None:
            if self._unchecked:
                self._unchecked = False
                self._audit.check(self)

        def __getattribute__(self, name):
            value = object.__getattribute__(self, name)
            if not name.startswith("_") and name not in PASSIVE and callable(value):
                object.__getattribute__(self, "_check_if_loaded")()
            return value

    return AuditedPage


# Page methods that do not act on the document (the audit itself calls some of them).
PASSIVE = {"on", "once", "remove_listener", "is_closed", "evaluate", "wait_for_load_state", "viewport_size"}
AuditedPage = _audited_page_class()


class AuditedBrowser:
    """The Playwright browser, whose every new page is watched by a PageAudit."""

    def __init__(self, instance, audit: PageAudit) -> None:
        self._instance = instance
        self.audit = audit

    def new_page(self, **kwargs):
        return self.audit.watch(self._instance.new_page(**kwargs))

    def __getattr__(self, name):
        return getattr(self._instance, name)


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: make test installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (make test installs it as root)")
    from playwright.sync_api import sync_playwright

    audit = PageAudit()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield AuditedBrowser(instance, audit)
        audit.finish()
        instance.close()
    findings = audit.report()
    if findings:
        pytest.fail(findings, pytrace=False)


def assert_no_sideways_scroll(page) -> None:
    """The page fits its viewport's width: nothing to scroll sideways (a table may scroll inside its box)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow} px wider than its {page.viewport_size} viewport"


@pytest.fixture
def screenshot():
    """Saves a page to $SCREENSHOT_DIR when set (README pictures), else does nothing."""
    target = os.environ.get("SCREENSHOT_DIR")

    def take(page, name: str, **kwargs) -> None:
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(target) / f"{name}.png"), **kwargs)

    return take


def log_in(page, base: str, email: str) -> None:
    """Log in through the real login page, as a person would."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit] >> nth=-1")
    page.wait_for_url(f"{base}/home")  # each person lands on their own home
