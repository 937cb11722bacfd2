"""A trainer runs a session end to end in Chromium: create, see sign-ups, tick attendance, export CSV."""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import Enrolment, EnrolmentStatus, TrainingSession
from app.services import training
from tests.browser.conftest import log_in
from tests.factories import NOW

pytestmark = pytest.mark.browser
PARIS = ZoneInfo("Europe/Paris")


def test_a_trainer_runs_a_session_end_to_end(live_server, browser, screenshot, session, ctx, clock, make_user):
    clock(NOW)
    make_user(email="sofia@example.org", display_name="Sofia Roux", roles={"trainer"})
    learner = make_user(email="lea@example.org", display_name="Léa Fabre")
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)

    log_in(page, live_server, "sofia@example.org")
    page.goto(f"{live_server}/trainings")
    page.click("text=Nouvelle session")
    start = (NOW + timedelta(days=4)).astimezone(PARIS).replace(hour=14, minute=0, second=0, microsecond=0)
    page.select_option("select[name=topic]", label="OBS Studio")
    page.fill("input[name=title]", "OBS Studio : premiers pas")
    page.fill("textarea[name=description]", "Apportez **votre ordinateur**.")
    page.fill("input[name=starts_at]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=ends_at]", (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.check("input[name=mode][value=online]")
    page.fill("input[name=video_link]", "https://visio.example.org/obs")
    page.fill("input[name=capacity]", "8")
    page.fill("input[name=registration_deadline]", (start - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.click("input[type=submit][value='Enregistrer la session']")
    page.wait_for_selector("text=Session créée.")

    course = session.scalar(select(TrainingSession))
    with unit_of_work(session):
        training.sign_up(session, ctx(learner), training=course)
    page.reload()
    assert "Léa Fabre" in page.content()

    # The session begins: attendance can be ticked.
    clock(start + timedelta(minutes=10))
    page.reload()
    page.check(f"input[name=attended][value='{learner.id}']")
    screenshot(page, "trainer-participants", full_page=True)
    page.click("text=Enregistrer les présences")
    page.wait_for_selector("text=Présences enregistrées.")

    with page.expect_download() as download_info:
        page.click("text=Exporter (CSV)")
    content = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert content.startswith("\ufeff") and "Léa Fabre" in content and "Présent·e" in content
    page.close()

    session.rollback()
    assert session.scalar(select(Enrolment.status).where(Enrolment.user_id == learner.id)) == EnrolmentStatus.ATTENDED
