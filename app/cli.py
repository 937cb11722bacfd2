"""Flask commands: `flask --app wsgi <command>`. Each is listed in the README."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import URL, func, select

from app import entry
from app.db import unit_of_work
from app.extensions import db
from app.models import Role, User
from app.services import accounts
from app.services.errors import DomainError


@contextmanager
def _only_scheduler(app: Flask) -> Iterator[None]:
    """Hold the database's one-scheduler lock for the block, or stop the command saying who holds it."""
    from app import jobs

    try:
        lock = jobs.acquire_scheduler_lock(app)
    except jobs.SchedulerBusy as busy:
        raise click.ClickException(str(busy)) from busy
    with lock:
        yield


def _backup_path(target: Path, name: str) -> Path:
    """The file to create: `target`, or a file called `name` in it when it is a folder."""
    path = target / name if target.is_dir() else target
    if path.exists():
        raise click.ClickException(f"{path} already exists: a backup never overwrites a file.")
    if not path.parent.is_dir():
        raise click.ClickException(f"No folder {path.parent}.")
    return path


def _backup_sqlite(url: URL, path: Path) -> None:
    source = url.database
    if not source or source == ":memory:" or not Path(source).is_file():
        raise click.ClickException(f"No SQLite database file at {source or ':memory:'}.")
    # The online backup API, in one step: a consistent copy taken while the site goes on
    # reading and writing (WAL), which never restarts because of a write meanwhile.
    try:
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(path)) as copy:
            live.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as error:
        path.unlink(missing_ok=True)
        raise click.ClickException(f"Backup failed: {error}") from error
    if verdict != "ok":
        path.unlink(missing_ok=True)
        raise click.ClickException(f"The copy failed its integrity check: {verdict}")


def _backup_postgres(url: URL, path: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise click.ClickException(
            "pg_dump is not installed: install PostgreSQL's client tools (Debian: apt install "
            "postgresql-client), of the server's major version or newer."
        )
    # libpq's own URL, without the password: that goes through the environment, never onto a
    # command line that any local user can read.
    dsn = URL.create(
        "postgresql", username=url.username, host=url.host, port=url.port, database=url.database, query=url.query
    ).render_as_string(hide_password=False)
    env = {**os.environ, **({"PGPASSWORD": str(url.password)} if url.password else {})}
    done = subprocess.run(
        [pg_dump, "--format=custom", f"--file={path}", f"--dbname={dsn}"], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        path.unlink(missing_ok=True)
        raise click.ClickException(f"pg_dump failed: {done.stderr.strip()}")


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only when the database holds no person yet.")
    def seed_demo(if_empty: bool) -> None:
        """Load the demo data set (structures, people, resources, bookings…)."""
        from app import demo

        if if_empty and db.session.scalar(select(func.count()).select_from(User)):
            click.echo("Database already holds data: demo data not loaded.")
            return
        demo.load(db.session, entry.for_cli())
        click.echo("Demo data loaded.")

    @app.cli.command("demo-logins")
    def demo_logins() -> None:
        """Print the demo accounts."""
        from app import demo

        click.echo(f"Demo logins (password: {demo.PASSWORD}):")
        for email, description in demo.LOGINS:
            click.echo(f"  {email:<28} {description}")

    @app.cli.command("create-admin")
    @click.option("--email", prompt=True)
    @click.option("--name", prompt="Display name")
    @click.password_option()
    def create_admin(email: str, name: str, password: str) -> None:
        """Create an approved administrator (or make an existing account one)."""
        ctx = entry.for_cli()
        try:
            with unit_of_work(db.session):
                user = accounts.find_by_email(db.session, email)
                if user is None:
                    user = accounts.register(db.session, ctx, email=email, display_name=name, password=password)
                accounts.set_roles(
                    db.session,
                    ctx,
                    user=user,
                    roles=user.roles | {Role.ADMIN},
                    host_departements=user.hosted_departements,
                )
                accounts.approve(db.session, ctx, user=user)
                address = user.email
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(f"{address} is an administrator.")

    @app.cli.command("create-token")
    @click.argument("email")
    @click.option("--name", required=True, help="What the token is for (a script, a partner's site).")
    def create_token(email: str, name: str) -> None:
        """Create a personal API token acting as EMAIL; the token alone goes to standard output."""
        from app.services import tokens

        try:
            with unit_of_work(db.session):
                user = accounts.find_by_email(db.session, email)
                if user is None:
                    raise click.ClickException(f"No account for {email}.")
                made = tokens.create(db.session, entry.for_cli(), name=name, user=user)
                secret, prefix = made.secret, made.token.prefix
        except DomainError as error:
            raise click.ClickException(error.message) from error
        # Only the token on stdout, so that `TOKEN=$(flask create-token …)` works; the rest on stderr.
        click.echo(f"API token {prefix}… created for {email}; it is shown only this once.", err=True)
        click.echo(secret)

    @app.cli.command("send-due")
    def send_due() -> None:
        """Write the reminders due now, then send what the outbox holds (for cron, every minute)."""
        from app import jobs

        written = jobs.tick(app)
        sent = retried = failed = 0
        for _ in range(100):  # batches of 10; bounded so that a cron run always ends
            report = jobs.send(app)
            sent, retried, failed = sent + report.sent, retried + report.retried, failed + report.failed
            if not (report.sent or report.retried or report.failed):
                break
        click.echo(f"written={written} sent={sent} retried={retried} failed={failed}")

    @app.cli.command("import-agenda")
    @click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), help="An .ics file to import.")
    @click.option("--source", "source_id", type=int, help="The source the file belongs to (with --file).")
    def import_agenda(path: str | None, source_id: int | None) -> None:
        """Import partners' calendars: every source with an address, or one file into one source."""
        from app import jobs
        from app.models import AgendaSource

        if path:
            source = db.session.get(AgendaSource, source_id) if source_id else None
            if source is None:
                raise click.ClickException("--file needs --source with the id of an existing source.")
            with open(path, "rb") as handle:
                data = handle.read()
            name = source.name
            report = jobs.import_file(db.session, entry.for_cli(), source=source, data=data)
            reports = {name: report}
        else:
            reports = jobs.import_agenda(app)
        with click.progressbar(reports.items(), label="Reports") as items:
            lines = [f"{name}: {report.to_json()}" for name, report in items]
        click.echo("\n".join(lines) or "No source has an address.")

    @app.cli.command("scheduler")
    def scheduler() -> None:
        """Run the scheduled jobs in this process, in the foreground (multi-worker deployments).

        One per database: a second one refuses to start and exits with status 1."""
        from app import jobs

        with _only_scheduler(app):
            running = jobs.build_scheduler(app, blocking=True)

            def stop(_signal: int, _frame: object) -> None:
                if not running.running:
                    raise SystemExit(0)  # asked to stop before it started: nothing under way
                running.shutdown(wait=True)  # the jobs under way end first; start() then returns

            # systemd stops a service with SIGTERM: exit 0 once the jobs under way are done, and
            # only then give the lock back.
            previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)}
            try:
                click.echo("Scheduler running; Ctrl+C to stop.")
                running.start()
            finally:
                for number, handler in previous.items():
                    signal.signal(number, handler)
            click.echo("Scheduler stopped.")

    @app.cli.command("backup")
    @click.option(
        "--to",
        "target",
        type=click.Path(path_type=Path),
        help="A file to create, or a folder (default: instance/backups/) for a dated file.",
    )
    def backup(target: Path | None) -> None:
        """Copy the database while the site runs: SQLite's online backup, or pg_dump on PostgreSQL."""
        url = db.engine.url
        if target is None:
            target = Path(app.instance_path) / "backups"
            target.mkdir(exist_ok=True)
        stamp = entry.clock(app).strftime("%Y%m%dT%H%M%SZ")
        suffix = ".dump" if url.get_backend_name() == "postgresql" else ".sqlite3"
        path = _backup_path(target, f"lamalle-{stamp}{suffix}")
        if url.get_backend_name() == "postgresql":
            _backup_postgres(url, path)
        elif url.get_backend_name() == "sqlite":
            _backup_sqlite(url, path)
        else:
            raise click.ClickException(f"No backup for a {url.get_backend_name()} database.")
        click.echo(f"Backup written to {path} ({path.stat().st_size / 1e6:.1f} MB).")

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", envvar="HOST", show_default=True)
    @click.option("--port", default=5000, envvar="PORT", show_default=True, type=int)
    def serve(host: str, port: int) -> None:
        """Serve the app with the scheduler in the same process (development, small installs)."""
        from werkzeug.serving import run_simple

        from app import jobs

        with _only_scheduler(app):
            background = jobs.build_scheduler(app, blocking=False)
            background.start()
            try:
                # Flask's own app.run() refuses to run inside a CLI command; the reloader would
                # start a second scheduler, so it stays off.
                run_simple(host, port, app, use_reloader=False, threaded=True)
            finally:
                background.shutdown(wait=False)

    from app.seedbench import seed_bench

    app.cli.add_command(seed_bench)
