"""The printable monthly programme and the bookmark, rendered to PDF by Chromium."""

import re
from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.browser


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", data))


def test_the_programme_prints_on_a4_and_the_bookmark_as_a_strip(live_server, browser, screenshot, make_event):
    towns = ["Carcassonne", "Narbonne", "Limoux", "Castelnaudary"]
    for n in range(40):
        make_event(
            title=f"Café des sciences n° {n + 1} : la Méditerranée",
            starts_at=datetime(2027, 5, 1 + n % 28, 18, tzinfo=UTC),
            departement_code="11",
            town=towns[n % 4],
        )
    page = browser.new_page()
    page.goto(f"{live_server}/agenda/print?month=2027-05")
    page.emulate_media(media="print")
    screenshot(page, "agenda-programme-print")
    programme = page.pdf(format="A4", print_background=True)
    assert programme.startswith(b"%PDF")
    assert pdf_pages(programme) >= 2  # forty events do not fit on one A4 page

    page.goto(f"{live_server}/agenda/print?month=2027-05&format=bookmark")
    strip_width = page.evaluate("document.querySelector('body').getBoundingClientRect().width")
    assert 180 <= strip_width <= 200  # 50 mm at 96 dpi
    screenshot(page, "agenda-bookmark-print", clip={"x": 0, "y": 0, "width": 220, "height": 820})
    bookmark = page.pdf(width="50mm", height="210mm", print_background=True)
    assert bookmark.startswith(b"%PDF") and pdf_pages(bookmark) == 1
    page.close()
