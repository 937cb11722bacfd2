"""Flask commands: `flask --app wsgi <command>`. Each is listed in the README."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from app import entry
from app.db import unit_of_work
from app.extensions import db
from app.models import Role, User
from app.services import accounts
from app.services.errors import DomainError


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

    @app.cli.command("send-due")
    def send_due() -> None:
        """Write the reminders due now, then send what the outbox holds (for cron, every minute)."""
        from app import jobs

        written = jobs.tick(app)
        sent = retried = failed = 0
        for _ in range(100):  # batches of 50; bounded so that a cron run always ends
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
        from app.services import agenda_import

        if path:
            source = db.session.get(AgendaSource, source_id) if source_id else None
            if source is None:
                raise click.ClickException("--file needs --source with the id of an existing source.")
            with open(path, "rb") as handle:
                data = handle.read()
            name = source.name
            with unit_of_work(db.session):
                report = agenda_import.import_bytes(db.session, entry.for_cli(), source=source, data=data)
            reports = {name: report}
        else:
            reports = jobs.import_agenda(app)
        with click.progressbar(reports.items(), label="Reports") as items:
            lines = [f"{name}: {report.to_json()}" for name, report in items]
        click.echo("\n".join(lines) or "No source has an address.")

    @app.cli.command("scheduler")
    def scheduler() -> None:
        """Run the scheduled jobs in this process, in the foreground (multi-worker deployments)."""
        from app import jobs

        click.echo("Scheduler running; Ctrl+C to stop.")
        jobs.build_scheduler(app, blocking=True).start()

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", envvar="HOST", show_default=True)
    @click.option("--port", default=5000, envvar="PORT", show_default=True, type=int)
    def serve(host: str, port: int) -> None:
        """Serve the app with the scheduler in the same process (development, small installs)."""
        from werkzeug.serving import run_simple

        from app import jobs

        background = jobs.build_scheduler(app, blocking=False)
        background.start()
        try:
            # Flask's own app.run() refuses to run inside a CLI command; the reloader would
            # start a second scheduler, so it stays off.
            run_simple(host, port, app, use_reloader=False, threaded=True)
        finally:
            background.shutdown(wait=False)
