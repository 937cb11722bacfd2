"""Exit 0 when a PostgreSQL server answers at the given SQLAlchemy URL (used by `make test`)."""

import sys

import psycopg


def main(url: str) -> int:
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        psycopg.connect(dsn, connect_timeout=3).close()
    except psycopg.Error:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
