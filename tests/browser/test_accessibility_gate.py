"""The gate itself: axe-core does see a serious fault, and a request to another host is noted."""

from types import SimpleNamespace

import pytest

from tests.browser.conftest import PageAudit

pytestmark = pytest.mark.browser


def test_axe_reports_text_too_pale_to_read(live_server, browser):
    audit = browser.audit  # the one this test's browser reports to when the test ends
    page = browser.new_page()
    page.goto(f"{live_server}/")
    assert page.title() == "La Malle"  # acting on the page has it checked first
    assert audit.pages_checked == 1 and audit.violations == []

    page.evaluate(
        """() => {
            const pale = document.createElement('p');
            pale.textContent = 'Texte trop pâle';
            pale.style.color = '#c8c8c8';
            pale.style.background = '#ffffff';
            document.querySelector('main').append(pale);
        }"""
    )
    audit.check(page)
    assert any("color-contrast" in line and "serious" in line for line in audit.violations)
    page.close()
    audit.violations.clear()  # found on purpose: not a fault of the site


def test_a_request_to_another_host_is_noted_and_local_ones_are_not():
    audit = PageAudit()
    for url in (
        "http://127.0.0.1:5000/static/css/lamalle.css",
        "data:image/png;base64,AA==",
        "https://cdn.example.org/x.js",
    ):
        audit.note_request(SimpleNamespace(url=url))
    assert audit.outside_requests == ["https://cdn.example.org/x.js"]
    assert "cdn.example.org" in audit.report()


def test_a_fields_error_is_read_with_the_field(live_server, browser):
    page = browser.new_page()
    page.goto(f"{live_server}/login")
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Se connecter").click()
    email = page.locator("input[name=email]")
    assert email.get_attribute("aria-invalid") == "true"
    message = page.locator(f"#{email.get_attribute('aria-describedby').split()[-1]}")
    assert message.inner_text().strip() != ""
    page.close()
