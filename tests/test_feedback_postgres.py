"""The feedback store on a real PostgreSQL server that the test starts itself: the same records as SQLite, and no write lost when
two app processes with eight writers each store feedback at once.

Debian's ``postgresql`` package provides the server (``.ci/run`` installs it when missing);
where it is not installed and cannot be, the tests skip saying why.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.web.feedback import FeedbackError, FeedbackRecord, FeedbackStore

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def _initdb() -> str | None:
    found = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)), None)
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], capture_output=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=600)
        found = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)), None)
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def database_url():
    initdb = _initdb()
    if initdb is None:
        pytest.skip("PostgreSQL is not installed and could not be installed with apt-get (Debian package 'postgresql')")
    bin_dir = Path(initdb).parent
    pg_ctl = shutil.which("pg_ctl", path=str(bin_dir)) or shutil.which("pg_ctl")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="assistant-pg-", dir="/tmp"))
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    folder.chmod(0o755)
    data, port = folder / "data", _free_port()
    subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"], check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w", "start"], check=True, capture_output=True, timeout=120)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def test_the_store_is_chosen_by_the_url_and_keeps_what_sqlite_keeps(database_url, tmp_path):
    store = FeedbackStore.from_settings(Settings(data_dir=tmp_path, database_url=database_url))
    assert type(store).__name__ == "PostgresFeedbackStore" and store.schema_version() == 2
    row = store.add(FeedbackRecord(question="Until what age must a child attend school?", rating="down", comment="wrong section", wrong_citation=True))
    store.amend(row, FeedbackRecord(question="Until what age must a child attend school?", rating="up", comment="on reflection, right"))
    [entry] = [e for e in store.list() if e.id == row]
    assert (entry.rating, entry.comment, entry.wrong_citation, entry.source) == ("up", "on reflection, right", False, "ui")
    assert FeedbackStore.from_settings(Settings(data_dir=tmp_path, database_url=database_url)).schema_version() == 2  # a second start migrates nothing


def test_a_bad_url_is_one_line_without_the_password(tmp_path):
    with pytest.raises(FeedbackError) as refused:
        FeedbackStore.from_settings(Settings(data_dir=tmp_path, database_url=f"postgresql://staff:s3cret@127.0.0.1:{_free_port()}/feedback"))
    assert "s3cret" not in str(refused.value) and "ASSISTANT_DATABASE_URL" in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(FeedbackError, match="postgresql://"):
        FeedbackStore.from_settings(Settings(data_dir=tmp_path, database_url="mysql://x@y/z"))


WRITER = textwrap.dedent(
    """
    import sys, threading
    from assistant.web.feedback import FeedbackRecord
    from assistant.web.feedback import PostgresFeedbackStore
    url, process = sys.argv[1], sys.argv[2]
    store = PostgresFeedbackStore(url)
    def write(writer):
        for n in range(50):
            store.add(FeedbackRecord(question=f"load {process}-{writer}-{n}", rating="up"))
    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    """
)


def test_two_processes_with_eight_writers_each_lose_nothing(database_url):
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, database_url, str(p)], cwd=ROOT, stderr=subprocess.PIPE, text=True) for p in range(2)]
    for process in processes:
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors
    stored = {e.question for e in FeedbackStore.from_settings(Settings(database_url=database_url)).list() if e.question.startswith("load ")}
    assert stored == {f"load {p}-{w}-{n}" for p in range(2) for w in range(8) for n in range(50)}
