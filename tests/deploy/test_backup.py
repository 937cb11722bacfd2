"""`flask backup`: SQLite copied through the online backup API while the site runs; PostgreSQL
through pg_dump. Each database's tests run in its own pass of `make test`."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import UTC, datetime

import pytest

from tests.conftest import ON_POSTGRES

on_sqlite = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's backup: tested in the SQLite pass")
on_postgres = pytest.mark.postgres


def rows(path, query: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as copy:
        return copy.execute(query).fetchall()


@on_sqlite
def test_a_sqlite_backup_is_a_consistent_copy_taken_while_a_write_is_under_way(
    runner, database_url, make_user, tmp_path
):
    make_user(display_name="Avant la copie")
    make_user(display_name="Avant la copie aussi")
    # Another process in the middle of a unit of work: it holds the write lock, uncommitted.
    writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE users SET display_name = 'Pendant la copie'")
    try:
        result = runner.invoke(args=["backup", "--to", str(tmp_path / "copie.sqlite3")])
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 0, result.output
    assert "Backup written to" in result.output
    copy = tmp_path / "copie.sqlite3"
    assert sorted(rows(copy, "SELECT display_name FROM users")) == [("Avant la copie",), ("Avant la copie aussi",)]
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert rows(copy, "PRAGMA journal_mode") == [("delete",)]  # one file, nothing beside it
    assert rows(copy, "SELECT version_num FROM alembic_version") == rows(
        database_url.removeprefix("sqlite:///"), "SELECT version_num FROM alembic_version"
    )


@on_sqlite
def test_a_backup_into_a_folder_is_named_after_its_instant(runner, clock, tmp_path):
    clock(datetime(2027, 1, 11, 9, 30, 5, tzinfo=UTC))
    result = runner.invoke(args=["backup", "--to", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["lamalle-20270111T093005Z.sqlite3"]


@on_sqlite
def test_a_backup_never_overwrites_a_file(runner, tmp_path):
    kept = tmp_path / "hier.sqlite3"
    kept.write_bytes(b"la sauvegarde d'hier")
    result = runner.invoke(args=["backup", "--to", str(kept)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert kept.read_bytes() == b"la sauvegarde d'hier"


def test_a_backup_into_a_missing_folder_says_so(runner, tmp_path):
    result = runner.invoke(args=["backup", "--to", str(tmp_path / "absent" / "copie")])
    assert result.exit_code == 1
    assert "No folder" in result.output


@on_postgres
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_a_postgresql_backup_is_a_pg_dump_archive_that_pg_restore_reads(runner, make_user, tmp_path):
    make_user(email="sauvegardee@example.org")
    result = runner.invoke(args=["backup", "--to", str(tmp_path / "lamalle.dump")])
    assert result.exit_code == 0, result.output
    archive = tmp_path / "lamalle.dump"
    assert archive.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    listing = subprocess.run(["pg_restore", "--list", str(archive)], capture_output=True, text=True, check=True)
    assert "TABLE DATA public users" in listing.stdout
    assert "TABLE DATA public bookings" in listing.stdout


@on_postgres
def test_a_postgresql_backup_without_pg_dump_says_what_to_install(runner, monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = runner.invoke(args=["backup", "--to", str(tmp_path / "lamalle.dump")])
    assert result.exit_code == 1
    assert "pg_dump is not installed" in result.output and "postgresql-client" in result.output
    assert not (tmp_path / "lamalle.dump").exists()
