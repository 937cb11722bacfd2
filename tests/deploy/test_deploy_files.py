"""The files in deploy/ name only what the app has: its settings, its commands, its static folder."""

from __future__ import annotations

import re
from pathlib import Path

from tests.deploy.processes import ROOT

DEPLOY = ROOT / "deploy"


def environment_read_by_the_app() -> set[str]:
    source = (ROOT / "app" / "config.py").read_text()
    return set(re.findall(r'(?:os\.environ\.get|_flag)\(\s*"([A-Z_]+)"', source))


def test_the_example_environment_file_lists_every_setting_the_app_reads_and_no_other():
    example = (DEPLOY / "lamalle.env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z_]+)=", example, flags=re.MULTILINE))
    assert listed == environment_read_by_the_app()


def test_the_services_run_commands_the_app_registers(app):
    units = {path.name: path.read_text() for path in DEPLOY.glob("*.service")}
    commands = {name: re.findall(r"^Exec\w+=\S*flask --app wsgi ([a-z-]+)", text, re.M) for name, text in units.items()}
    assert commands["lamalle-scheduler.service"] == ["scheduler"]
    assert commands["lamalle-backup.service"] == ["backup"]
    assert {c for found in commands.values() for c in found} <= set(app.cli.commands)
    assert "wsgi:app" in units["lamalle-web.service"] and "--workers" in units["lamalle-web.service"]
    assert all("EnvironmentFile=/etc/lamalle/lamalle.env" in text for text in units.values())


def test_nginx_serves_the_folder_flask_serves_static_files_from(app):
    site = (DEPLOY / "nginx-lamalle.conf").read_text()
    location, alias = re.search(r"location (\S+) \{\s*alias /srv/lamalle/(\S+);", site).groups()
    assert location == app.static_url_path + "/"
    assert ROOT / alias == Path(app.static_folder) / ""


def test_no_deploy_file_names_this_machine():
    for path in DEPLOY.iterdir():
        assert str(ROOT) not in path.read_text(), path.name
