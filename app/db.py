"""Database behaviour that SQLAlchemy does not give by default.

SQLite: WAL so readers never wait for the writer, a busy timeout so writers queue instead
of failing, foreign keys on, and transactions begun by us so that a write transaction can
take the write lock at its first statement (BEGIN IMMEDIATE). Without that, two processes
may both read "the slot is free" and both insert. See pysqlite's "Serializable isolation"
notes in the SQLAlchemy documentation.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

SQLITE_BEGIN_OPTION = "sqlite_begin"


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    if conn.dialect.name != "sqlite":
        return
    mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One write transaction: commit on success, roll back on any error.

    On SQLite it begins with BEGIN IMMEDIATE, so that the checks made inside it and the
    write that follows them cannot interleave with another process's. On PostgreSQL the
    callers lock the rows they check (SELECT … FOR UPDATE) and constraints do the rest.
    Whatever the session held before is committed first: a read-only transaction left
    open by the caller (loading the current user) would otherwise keep the old snapshot.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
