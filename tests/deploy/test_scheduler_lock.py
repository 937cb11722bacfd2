"""One scheduler per database: a second one, in this process or another, refuses to start.

Runs in both passes: a lock file beside the database on SQLite, an advisory lock held by a
session of its own on PostgreSQL.
"""

from __future__ import annotations

import os

import pytest

from app import jobs
from tests.conftest import ON_POSTGRES
from tests.deploy.processes import app_env, run_flask

ALREADY = "Another scheduler is already running on this database"


def test_a_second_lock_on_the_same_database_is_refused_until_the_first_is_released(app):
    first = jobs.acquire_scheduler_lock(app)
    with pytest.raises(jobs.SchedulerBusy, match=ALREADY):
        jobs.acquire_scheduler_lock(app)
    first.release()
    with jobs.acquire_scheduler_lock(app) as second:
        assert isinstance(second, jobs.SchedulerLock)


def test_the_refusal_says_who_holds_the_lock(app):
    with jobs.acquire_scheduler_lock(app), pytest.raises(jobs.SchedulerBusy) as refused:
        jobs.acquire_scheduler_lock(app)
    if ON_POSTGRES:
        assert f"advisory lock {jobs.SCHEDULER_LOCK_KEY}" in str(refused.value)
        assert "held by the session of server process" in str(refused.value)
    else:
        assert ".scheduler.lock" in str(refused.value)
        assert f"held by process {os.getpid()}" in str(refused.value)


@pytest.mark.skipif(ON_POSTGRES, reason="the lock file is SQLite's")
def test_on_sqlite_the_lock_file_lies_beside_the_database(app, database_url):
    with jobs.acquire_scheduler_lock(app):
        database = database_url.removeprefix("sqlite:///")
        assert os.path.exists(database + ".scheduler.lock")


def test_the_scheduler_command_refuses_to_start_while_another_holds_the_lock(app, runner, monkeypatch):
    monkeypatch.setattr(jobs, "build_scheduler", lambda *a, **k: pytest.fail("a second scheduler was built"))
    with jobs.acquire_scheduler_lock(app):
        result = runner.invoke(args=["scheduler"])
    assert result.exit_code == 1
    assert ALREADY in result.output and "Scheduler running" not in result.output


def test_serve_takes_the_same_lock_and_refuses_to_start_a_second_scheduler(app, runner, monkeypatch):
    monkeypatch.setattr(jobs, "build_scheduler", lambda *a, **k: pytest.fail("a second scheduler was built"))
    with jobs.acquire_scheduler_lock(app):
        result = runner.invoke(args=["serve", "--port", "1"])
    assert result.exit_code == 1
    assert ALREADY in result.output


class _Probe:
    """Stands for the scheduler: when started, looks whether the lock is held meanwhile."""

    def __init__(self, app):
        self.app = app
        self.lock_held_while_running: bool | None = None

    def start(self):
        try:
            jobs.acquire_scheduler_lock(self.app).release()
        except jobs.SchedulerBusy:
            self.lock_held_while_running = True
        else:
            self.lock_held_while_running = False

    def shutdown(self, wait=True):
        pass


def test_the_scheduler_holds_the_lock_while_it_runs_and_gives_it_back_when_it_stops(app, runner, monkeypatch):
    probe = _Probe(app)
    monkeypatch.setattr(jobs, "build_scheduler", lambda *a, **k: probe)
    result = runner.invoke(args=["scheduler"])
    assert result.exit_code == 0, result.output
    assert probe.lock_held_while_running is True
    jobs.acquire_scheduler_lock(app).release()  # free again once the command has ended


def test_serve_holds_the_lock_while_it_serves(app, runner, monkeypatch):
    probe = _Probe(app)
    monkeypatch.setattr(jobs, "build_scheduler", lambda *a, **k: _Probe(app))
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *a, **k: probe.start())
    result = runner.invoke(args=["serve", "--port", "1"])
    assert result.exit_code == 0, result.output
    assert probe.lock_held_while_running is True


def test_a_scheduler_started_by_mistake_in_another_process_exits_with_a_clear_message(app):
    env = app_env(app.config["SQLALCHEMY_DATABASE_URI"], app.config["CREDENTIALS_KEY"])
    with jobs.acquire_scheduler_lock(app):
        second = run_flask(env, "scheduler", timeout=60)
    assert second.returncode == 1, second.stdout + second.stderr
    assert ALREADY in second.stderr
    assert "Scheduler running" not in second.stdout
