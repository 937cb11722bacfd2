"""Processes of the app as a deployment runs them (`flask --app wsgi …`, gunicorn), started from tests.

Each is told its settings through the environment only, as systemd's EnvironmentFile does,
and never reads this checkout's instance/ secrets: SECRET_KEY and CREDENTIALS_KEY are given.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Config

ROOT = Path(__file__).resolve().parents[2]
# Settings that instance/config.py would win over the environment with, sending the
# processes somewhere else than the test's own database, Redis and SMTP server.
_REDIRECTING = ("SQLALCHEMY_DATABASE_URI", "RATELIMIT_STORAGE_URI", "MAIL_SERVER", "MAIL_PORT")


def app_env(database_url: str, credentials_key: str, **settings: str) -> dict[str, str]:
    """The environment of an app process on `database_url`; `settings` are more variables."""
    overrides = ROOT / "instance" / "config.py"
    if overrides.exists():
        config = Config(str(ROOT))
        config.from_pyfile(str(overrides))
        redirected = [name for name in _REDIRECTING if name in config]
        if redirected:
            pytest.fail(
                f"instance/config.py sets {', '.join(redirected)}: the app's processes would not use the test's"
            )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMALLE_", "FLASK_"))}
    env.update(DATABASE_URL=database_url, SECRET_KEY="deploy-test-secret-key", CREDENTIALS_KEY=credentials_key)
    env.update({"SITE_URL": "http://localhost", **settings})
    return env


def flask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def run_flask(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(flask_command(*args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a long-running process in a session of its own, its output in `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, what: str, limit: float = 60):
    """Poll `ready` until it holds; fail with the process's output if it dies or never gets there."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if ready():
            return
        if process.poll() is not None:
            pytest.fail(f"{what} exited with status {process.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.2)
    pytest.fail(f"{what} not ready after {limit:.0f} s:\n{log.read_text(errors='replace')[-4000:]}")


def stop(process: subprocess.Popen[bytes], grace: float = 20) -> int:
    """SIGTERM (gunicorn's graceful stop; the scheduler simply ends, its lock with it), then,
    if it hangs, SIGKILL to its whole process group while the leader is not yet reaped."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=grace)
    return process.returncode


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
