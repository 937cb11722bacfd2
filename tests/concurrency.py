"""Jobs released at the same instant, each in its own thread, app context and unit of work."""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.db import unit_of_work
from app.extensions import db
from app.services.errors import Conflict, DomainError


def run_together(app, jobs: list[Callable[[], None]], *, session=None) -> list[str]:
    """Each job's outcome: "done", "conflict" (the refusal the guarantee promises), "refused" (another
    rule's refusal), or "error: …".

    Pass the test's `session` to give its connection back to the pool first."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []
    guard = threading.Lock()

    def run(job: Callable[[], None]) -> None:
        # Line up first, then touch the database: holding a pooled connection while waiting at
        # the barrier would starve the threads still asking for one.
        barrier.wait()
        with app.app_context():
            try:
                with unit_of_work(db.session):
                    job()
                result = "done"
            except Conflict:
                result = "conflict"
            except DomainError:  # another rule said no, as it should have
                result = "refused"
            except Exception as exc:  # anything else is a failure of the guarantee
                result = f"error: {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with guard:
                outcomes.append(result)

    if session is not None:
        session.commit()
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes
