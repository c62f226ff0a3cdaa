"""Staff feedback on answers: a small SQLite store (or one PostgreSQL database for several replicas) that curators turn into gold-set candidates.

Why SQLite: one file under ``settings.data_dir``, no server to run, and in WAL
mode several UI sessions and API workers can write at once while a curator
reads. Every call opens its own short-lived connection, so one ``FeedbackStore``
is safe to share between threads.

Example::

    store = FeedbackStore.from_settings(settings)
    row_id = store.add(FeedbackRecord(question="Who must enrol a child?", answer=answer, rating="down",
                                      wrong_citation=True, citation_label="s 2.1.1(1)"))
    candidates = store.export_candidates()
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.errors import AssistantError
from assistant.records import Answer
from assistant.settings import Settings

FEEDBACK_FILENAME = "feedback.sqlite3"
MAX_COMMENT_CHARS = 4000
MAX_QUESTION_CHARS = 20_000

# Each entry upgrades the schema by one version; never edit a released entry, append a new one.
# Version 1: the feedback table. Version 2: where the feedback came from (ui, api, cli),
# and an index for listing newest first.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        question TEXT NOT NULL,
        answer_json TEXT,
        answer_text TEXT NOT NULL DEFAULT '',
        citations_json TEXT NOT NULL DEFAULT '[]',
        rating TEXT CHECK (rating IN ('up', 'down')),
        comment TEXT NOT NULL DEFAULT '',
        wrong_citation INTEGER NOT NULL DEFAULT 0,
        citation_label TEXT,
        settings_json TEXT NOT NULL DEFAULT '{}'
    );
    """,
    """
    ALTER TABLE feedback ADD COLUMN source TEXT NOT NULL DEFAULT 'ui';
    CREATE INDEX feedback_created_at ON feedback (created_at);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

# Settings that would let someone in: never copied into a feedback row.
_SECRET_SETTINGS = {"api_tokens", "api_token_file", "ui_username", "ui_password", "database_url"}


class FeedbackError(AssistantError):
    """The feedback database cannot be opened, upgraded or written."""


class FeedbackRecord(BaseModel):
    """One piece of feedback on one answer, as the UI and ``POST /api/v1/feedback`` send it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: Answer | None = None
    rating: Literal["up", "down"] | None = None
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS)
    wrong_citation: bool = False
    citation_label: str | None = Field(default=None, description="Which citation is wrong, e.g. 's 2.1.1(1)'; empty means the answer's citations in general.")
    settings: dict[str, Any] = Field(default_factory=dict, description="The settings the answer was made with (no secrets).")
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    source: Literal["ui", "api", "cli"] = "ui"

    @model_validator(mode="after")
    def _says_something(self) -> FeedbackRecord:
        if not self.question.strip():
            raise ValueError("question is empty")
        if self.rating is None and not self.comment.strip() and not self.wrong_citation:
            raise ValueError("feedback needs a rating ('up' or 'down'), a comment, or wrong_citation")
        if self.citation_label and self.answer is not None:
            labels = [c.label for c in self.answer.citations]
            if self.citation_label not in labels:
                raise ValueError(f"citation_label '{self.citation_label}' is not one of the answer's citations {labels}")
        return self


class FeedbackEntry(FeedbackRecord):
    """A stored feedback row: the record plus its row id."""

    id: int


def settings_snapshot(settings: Settings) -> dict[str, Any]:
    """The settings as JSON-ready values, without credentials, to store next to feedback."""
    return settings.model_dump(mode="json", exclude=_SECRET_SETTINGS)


class FeedbackStore:
    """Feedback rows in one SQLite file; creates and upgrades the schema on first use.

    ``PostgresFeedbackStore`` keeps the same rows in PostgreSQL for several replicas;
    it overrides the connection, the migrations and how a statement names its
    parameters, nothing else.
    """

    migrations: tuple[str, ...] = MIGRATIONS
    driver_error: type[Exception] = sqlite3.Error

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FeedbackError(f"{self.path.parent}: cannot create the feedback folder ({exc}); set ASSISTANT_DATA_DIR to a writable folder") from exc
        self._migrate()

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        """PostgreSQL when ``ASSISTANT_DATABASE_URL`` names one, else the SQLite file under the data folder."""
        url = settings.database_url.get_secret_value().strip()
        if not url:
            return cls(settings.data_dir / FEEDBACK_FILENAME)
        if url.startswith(("postgresql://", "postgres://")):
            return PostgresFeedbackStore(url)
        raise FeedbackError("ASSISTANT_DATABASE_URL must be a postgresql:// URL (or empty for the SQLite file under ASSISTANT_DATA_DIR)")

    def sql(self, statement: str) -> str:
        """The statement with this database's parameter markers (SQLite's '?')."""
        return statement

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for one unit of work; commits on success, rolls back on error."""
        try:
            # isolation_level=None: transactions are opened explicitly with BEGIN IMMEDIATE,
            # which takes the write lock up front so concurrent writers queue instead of failing.
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise FeedbackError(f"{self.path}: cannot open the feedback database ({exc})") from exc
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _migrate(self) -> None:
        try:
            with self._connect() as conn:
                # WAL is a property of the file: set once, every later connection uses it.
                conn.execute("PRAGMA journal_mode = WAL")
            with self._write() as conn:
                self.upgrade(conn)
        except sqlite3.DatabaseError as exc:
            raise FeedbackError(f"{self.path}: not a usable feedback database ({exc}); move it aside and a new one is created") from exc

    def upgrade(self, conn: Any) -> None:
        """Bring the schema to this version's within the caller's transaction, one migration after another."""
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else 0
        if version > SCHEMA_VERSION:
            raise FeedbackError(
                f"{self.path}: feedback schema version {version} is newer than this code knows ({SCHEMA_VERSION}); "
                "upgrade the assistant or point ASSISTANT_DATA_DIR or ASSISTANT_DATABASE_URL elsewhere"
            )
        for script in self.migrations[version:]:
            for statement in _statements(script):
                conn.execute(statement)
        if row is None:
            conn.execute(self.sql("INSERT INTO schema_version (version) VALUES (?)"), (SCHEMA_VERSION,))
        elif version != SCHEMA_VERSION:
            conn.execute(self.sql("UPDATE schema_version SET version = ?"), (SCHEMA_VERSION,))

    def schema_version(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT version FROM schema_version").fetchone()[0])

    def add(self, record: FeedbackRecord) -> int:
        """Store one record; returns its row id."""
        answer = record.answer
        citations = [c.model_dump(mode="json") for c in answer.citations] if answer else []
        values = (
            record.created_at.astimezone(timezone.utc).isoformat(),
            record.question,
            answer.model_dump_json() if answer else None,
            answer.text if answer else "",
            json.dumps(citations, ensure_ascii=False),
            record.rating,
            record.comment,
            int(record.wrong_citation),
            record.citation_label,
            json.dumps(record.settings, ensure_ascii=False, default=str),
            record.source,
        )
        try:
            with self._write() as conn:
                cursor = conn.execute(
                    self.sql(
                        "INSERT INTO feedback (created_at, question, answer_json, answer_text, citations_json, rating, comment,"
                        " wrong_citation, citation_label, settings_json, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
                    ),
                    values,
                )
                return int(cursor.fetchone()[0])
        except self.driver_error as exc:
            raise FeedbackError(f"{self.path}: could not save feedback ({exc})") from exc

    def amend(self, row_id: int, record: FeedbackRecord) -> None:
        """Replace a stored row's rating, comment and flag with ``record``'s: a thumb, then a comment on it, stay one record."""
        try:
            with self._write() as conn:
                changed = conn.execute(
                    self.sql("UPDATE feedback SET rating = ?, comment = ?, wrong_citation = ?, citation_label = ? WHERE id = ? AND question = ?"),
                    (record.rating, record.comment, int(record.wrong_citation), record.citation_label, row_id, record.question),
                ).rowcount
        except self.driver_error as exc:
            raise FeedbackError(f"{self.path}: could not save feedback ({exc})") from exc
        if changed != 1:
            raise FeedbackError(f"feedback #{row_id} for this question is not in {self.path}")

    def list(self, limit: int | None = None) -> list[FeedbackEntry]:
        """Stored feedback, oldest first (``limit`` keeps the newest ``limit`` rows)."""
        query = (
            "SELECT id, created_at, question, answer_json, rating, comment, wrong_citation, citation_label, settings_json, source"
            " FROM feedback ORDER BY id"
        )
        with self._connect() as conn:
            rows = conn.execute(query).fetchall()
        if limit is not None:
            rows = rows[-limit:] if limit > 0 else []
        return [_entry(row) for row in rows]

    def count(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def export_candidates(self) -> list[dict[str, Any]]:
        """Feedback grouped by question, in the ``eval/gold.jsonl`` format, for curators to complete.

        ``expected`` holds the answer's cited provisions minus any flagged as wrong;
        ``answerable`` is what the assistant decided (a thumbs-down on an abstention is
        a hint that it should not have). ``kind`` and ``difficulty`` are left for the
        curator (the gold format's 'unspecified', so the file loads as a gold set as it is); the feedback itself rides along under ``feedback``.
        """
        groups: dict[str, list[FeedbackEntry]] = {}
        for entry in self.list():
            if entry.answer is None:
                continue  # a comment on a question, not bound to an answer that was served: not gold-set material
            groups.setdefault(" ".join(entry.question.lower().split()), []).append(entry)
        return [_candidate(entries) for entries in groups.values()]


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _entry(row: tuple) -> FeedbackEntry:
    (row_id, created_at, question, answer_json, rating, comment, wrong, label, settings_json, source) = row
    return FeedbackEntry.model_construct(
        id=row_id,
        created_at=datetime.fromisoformat(created_at),
        question=question,
        answer=Answer.model_validate_json(answer_json) if answer_json else None,
        rating=rating,
        comment=comment,
        wrong_citation=bool(wrong),
        citation_label=label,
        settings=json.loads(settings_json),
        source=source,
    )


def _candidate(entries: list[FeedbackEntry]) -> dict[str, Any]:
    latest = entries[-1]
    answer = next((e.answer for e in reversed(entries) if e.answer is not None), None)
    flagged = {e.citation_label for e in entries if e.wrong_citation and e.citation_label}
    all_flagged = any(e.wrong_citation and not e.citation_label for e in entries)
    expected: list[dict[str, str]] = []
    if answer is not None and not all_flagged:
        for citation in answer.citations:
            ref = {"document": citation.document_id, "provision": citation.provision_id}
            if citation.label not in flagged and ref not in expected:
                expected.append(ref)
    abstained = answer is not None and answer.abstained
    # An abstention expects no provision; a delegated one records the provision that delegates (what the gold format calls delegated_by).
    kind = {"delegated": "delegated", "advice_or_opinion": "advice_or_opinion"}.get((answer.abstain_kind or "") if abstained and answer else "")
    unanswerable = {"unanswerable_kind": kind} if kind else {}
    if kind == "delegated" and expected:
        unanswerable["delegated_by"] = expected[0]
    return {
        "id": f"fb-{entries[0].id:06d}",
        "question": latest.question,
        "answerable": not abstained,
        "expected": [] if abstained else expected,
        **unanswerable,
        "key_facts": [],
        "evidence": "",
        "kind": "unanswerable" if abstained else "unspecified",
        "difficulty": "unspecified",
        "feedback": [
            {
                "feedback_id": e.id,
                "created_at": e.created_at.isoformat(),
                "rating": e.rating,
                "comment": e.comment,
                "wrong_citation": e.wrong_citation,
                "citation_label": e.citation_label,
                "answer": e.answer.text if e.answer else "",
                "cited": [c.label for c in e.answer.citations] if e.answer else [],
                "abstained": e.answer.abstained if e.answer else None,
                "source": e.source,
            }
            for e in entries
        ],
    }


# --- PostgreSQL, for several app processes writing into one database -------------------------------

# The SQLite migrations, one for one, with PostgreSQL's identity column for the row id.
POSTGRES_MIGRATIONS: tuple[str, ...] = tuple(script.replace("id INTEGER PRIMARY KEY AUTOINCREMENT", "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY") for script in MIGRATIONS)
MIGRATION_LOCK = 7_310_624  # any fixed number: the advisory lock held while the schema is upgraded


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    netloc = (f"{parts.username}@" if parts.username else "") + (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class PostgresFeedbackStore(FeedbackStore):
    """Feedback rows in a PostgreSQL database (``ASSISTANT_DATABASE_URL``, psycopg 3); creates and upgrades the schema on first use.

    A transaction-level advisory lock keeps two processes starting at once from both
    upgrading the schema. The URL's password never appears in a message.
    """

    migrations = POSTGRES_MIGRATIONS

    def __init__(self, url: str) -> None:
        import psycopg  # only deployments that use PostgreSQL load the driver

        self.psycopg = psycopg
        self.driver_error = psycopg.Error  # type: ignore[misc]
        self.url = url
        self.path = redacted(url)  # type: ignore[assignment] - where the rows are, as messages name it
        self._migrate()

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        try:
            conn = self.psycopg.connect(self.url, connect_timeout=10, autocommit=True)
        except self.psycopg.Error as exc:
            raise FeedbackError(f"{self.path}: cannot connect to the feedback database ({str(exc).strip().splitlines()[0]}); check ASSISTANT_DATABASE_URL") from exc
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[Any]:
        with self._connect() as conn, conn.transaction():
            yield conn

    def _migrate(self) -> None:
        try:
            with self._write() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                self.upgrade(conn)
        except self.psycopg.Error as exc:
            raise FeedbackError(f"{self.path}: not a usable feedback database ({str(exc).strip().splitlines()[0]})") from exc
