"""The feedback store in PostgreSQL, for several app processes behind a load balancer writing into one database.

Same table, same versioned migrations as the SQLite store (``assistant.web.feedback``),
written for PostgreSQL: an identity column for the row id, and a transaction-level
advisory lock so two processes starting at once do not both upgrade the schema.
Selected by ``ASSISTANT_DATABASE_URL=postgresql://user:password@host:5432/dbname``;
the driver is psycopg 3. The URL's password never appears in a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg

from assistant.web.feedback import MIGRATIONS, FeedbackError, FeedbackStore

# The SQLite store's migrations, one for one, with PostgreSQL's identity column for the row id.
POSTGRES_MIGRATIONS: tuple[str, ...] = tuple(script.replace("id INTEGER PRIMARY KEY AUTOINCREMENT", "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY") for script in MIGRATIONS)
# Any fixed number: the key of the advisory lock held while the schema is checked and upgraded.
MIGRATION_LOCK = 7_310_624


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class PostgresFeedbackStore(FeedbackStore):
    """Feedback rows in a PostgreSQL database; creates and upgrades the schema on first use."""

    migrations = POSTGRES_MIGRATIONS
    driver_error = psycopg.Error

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = redacted(url)  # type: ignore[assignment] - where the rows are, as messages name it
        self._migrate()

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    @contextmanager
    def _connect(self) -> Iterator[psycopg.Connection]:
        try:
            conn = psycopg.connect(self.url, connect_timeout=10, autocommit=True)
        except psycopg.Error as exc:
            raise FeedbackError(f"{self.path}: cannot connect to the feedback database ({str(exc).strip().splitlines()[0]}); check ASSISTANT_DATABASE_URL") from exc
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection]:
        with self._connect() as conn, conn.transaction():
            yield conn

    def _migrate(self) -> None:
        try:
            with self._write() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                self.upgrade(conn)
        except psycopg.Error as exc:
            raise FeedbackError(f"{self.path}: not a usable feedback database ({str(exc).strip().splitlines()[0]})") from exc
