"""The unit of work, and database behaviour that SQLAlchemy does not give by default.

The caller owns the unit of work: a view, a CLI command or a scheduled job opens it with
`unit_of_work(session)`, calls one or several services, and it commits once at the end —
or rolls everything back when anything raises. Services add, flush, lock and raise; they
never commit. That is what lets a kit, a series or an API call that books and enrols
succeed or fail as a whole.

SQLite: WAL so readers never wait for the writer, a busy timeout so writers queue instead
of failing, foreign keys on, and transactions begun by us so that a unit of work takes the
write lock at its first statement (BEGIN IMMEDIATE). Without that, two processes may both
read "the slot is free" and both insert. See pysqlite's "Serializable isolation" notes in
the SQLAlchemy documentation. PostgreSQL: services lock the rows they check
(`lock`, SELECT … FOR UPDATE), and constraints do the rest.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

# What services are given: Flask-SQLAlchemy's scoped session in the app, a plain Session
# elsewhere; both answer the same calls.
DbSession: TypeAlias = Session | scoped_session[Any]

SQLITE_BEGIN_OPTION = "sqlite_begin"
_IN_UNIT = "lamalle.unit_of_work"
_STRAY_WRITE = "lamalle.flushed_outside_unit"

T = TypeVar("T")


def install_engine_events(engine: Engine) -> None:
    """Bind the SQLite connection settings to this one engine (called by create_app)."""
    if engine.dialect.name != "sqlite" or event.contains(engine, "connect", _sqlite_on_connect):
        return
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _plain(session: DbSession) -> Session:
    return session() if isinstance(session, scoped_session) else session


@event.listens_for(Session, "after_flush")
def _note_stray_write(session: Session, _context: Any) -> None:
    # A write flushed outside any unit of work would otherwise be committed, or silently
    # dropped, by whichever unit of work came next.
    if not session.info.get(_IN_UNIT):
        session.info[_STRAY_WRITE] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_stray_write(session: Session, *_args: Any) -> None:
    # Committed on purpose (a test's factory), or thrown away: either way nothing is pending.
    session.info.pop(_STRAY_WRITE, None)


class StrayWrite(RuntimeError):
    """Changes were made outside a unit of work: a bug in the caller, never a user's error."""


@contextmanager
def unit_of_work(session: DbSession) -> Iterator[Session]:
    """One write transaction owned by the caller: commit at the end, roll back on any error.

    Inside another unit of work it joins that one (the outer one commits). A read-only
    transaction left open by the caller (loading the logged-in person) is ended first, so
    that the write transaction starts with the write lock and a fresh snapshot; pending or
    flushed changes made outside a unit of work are refused rather than committed.
    """
    plain = _plain(session)
    if plain.info.get(_IN_UNIT):
        yield plain
        return
    if plain.new or plain.dirty or plain.deleted or plain.info.get(_STRAY_WRITE):
        plain.info.pop(_STRAY_WRITE, None)
        plain.rollback()
        raise StrayWrite("changes were made outside a unit of work")
    if plain.in_transaction():
        plain.rollback()  # read-only: nothing is lost, objects reload inside the new transaction
    plain.info[_IN_UNIT] = True
    try:
        plain.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        yield plain
        plain.commit()
    except BaseException:
        plain.rollback()
        raise
    finally:
        plain.info.pop(_IN_UNIT, None)


@contextmanager
def savepoint(session: DbSession) -> Iterator[None]:
    """A part of the unit of work that may fail alone (trying one unit after another)."""
    with _plain(session).begin_nested():
        yield


def lock(session: DbSession, model: type[T], ident: int) -> T | None:
    """The row, re-read inside the unit of work; locked until it ends on PostgreSQL.

    The lock makes concurrent writers of one row wait for each other, so that the loser
    gets the service's clear message rather than a constraint's error. On SQLite the unit
    of work already holds the database's write lock.
    """
    query = select(model).where(model.id == ident)  # type: ignore[attr-defined]  # every model has an id
    if is_postgres(session):
        query = query.with_for_update(of=model)
    return session.scalars(query.execution_options(populate_existing=True)).unique().one_or_none()


def lock_all(session: DbSession, model: type[Any], ids: set[int]) -> None:
    """Lock several rows on PostgreSQL, always in id order: two writers locking overlapping
    sets then wait for each other instead of deadlocking. SQLite's unit of work holds the lock."""
    if ids and is_postgres(session):
        session.execute(select(model.id).where(model.id.in_(ids)).order_by(model.id).with_for_update())


def is_postgres(session: DbSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"
