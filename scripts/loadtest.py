"""Load test: 20 help-desk users asking gold-set questions of the server on loopback, for at most 60 s.

    .venv/bin/python scripts/loadtest.py                      # starts `python app.py` on a free loopback port
    .venv/bin/python scripts/loadtest.py --cold               # ... with an empty embedding cache (worst case)
    .venv/bin/python scripts/loadtest.py --host http://127.0.0.1:7860 --token "$TOKEN"   # a server already running

Each simulated user has its own API token (the script writes a token file for the
server it starts), so auth and the per-token rate limit stay on, as they would for
a help desk; users pause 1-3 s between questions, as staff typing would. Prints
requests per second, p50/p95 latency and the error count; exits 1 on any error.
Uses locust (https://locust.io) as a library; loopback only.
"""

from __future__ import annotations

# locust patches the standard library with gevent on import; it must come first.
from locust import HttpUser, between, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import itertools
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlsplit
from urllib.request import urlopen

import gevent

ROOT = Path(__file__).resolve().parent.parent
QUESTION_FILES = (ROOT / "eval" / "gold.jsonl", ROOT / "tests" / "data" / "dev_questions.jsonl")
MAX_SECONDS = 60
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def load_questions() -> list[str]:
    for path in QUESTION_FILES:
        if path.is_file():
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            questions = [row["question"] for row in rows if row.get("question")]
            if questions:
                return questions
    raise SystemExit(f"error: no questions found in {', '.join(str(p) for p in QUESTION_FILES)}")


class HelpDeskUser(HttpUser):
    """One staff member at a help desk: asks a gold-set question, reads the answer, asks another."""

    wait_time = between(1, 3)
    questions: list[str] = []
    tokens: itertools.cycle | None = None

    def on_start(self) -> None:
        token = next(self.tokens) if self.tokens else None
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    @task
    def ask(self) -> None:
        question = random.choice(self.questions)
        with self.client.post("/api/v1/ask", json={"question": question}, headers=self.headers, name="POST /api/v1/ask", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            answer = response.json()
            if answer.get("question") != question or "text" not in answer:
                response.failure("the body is not the Answer to the question asked")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(base_url: str, server: subprocess.Popen | None, timeout: float, log_path: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:] if log_path else ""
            raise SystemExit(f"error: the server exited with code {server.returncode} before it was ready:\n{tail}")
        try:
            with urlopen(f"{base_url}/ready", timeout=5) as response:
                if response.status == 200:
                    return
        except (URLError, OSError):
            pass
        time.sleep(1)
    raise SystemExit(f"error: {base_url}/ready did not answer 200 within {timeout:.0f} s")


def start_server(users: int, workdir: Path, cold: bool) -> tuple[subprocess.Popen, str, list[str], Path]:
    """`python app.py` on a free loopback port, with one API token per simulated user.

    The server uses the configured data folder (and so its embedding cache), as
    `python app.py` would; ``cold`` gives it an empty one, so every question and
    candidate sentence is embedded afresh: the worst case, right after install.
    """
    tokens = [secrets.token_urlsafe(24) for _ in range(users)]
    token_file = workdir / "tokens.txt"
    token_file.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "ASSISTANT_API_TOKEN_FILE": str(token_file),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    if cold:
        env["ASSISTANT_DATA_DIR"] = str(workdir / "data")
    log_path = workdir / "server.log"
    with log_path.open("w", encoding="utf-8") as log:
        server = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return server, f"http://127.0.0.1:{port}", tokens, log_path


def run_load(base_url: str, users: int, seconds: int, questions: list[str], tokens: list[str]) -> dict[str, float]:
    HelpDeskUser.questions = questions
    HelpDeskUser.tokens = itertools.cycle(tokens) if tokens else None
    env = Environment(user_classes=[HelpDeskUser], host=base_url)
    runner = env.create_local_runner()
    started = time.monotonic()
    runner.start(users, spawn_rate=users)
    gevent.spawn_later(seconds, runner.quit)
    runner.greenlet.join()
    elapsed = time.monotonic() - started
    total = env.stats.total
    for error in env.stats.errors.values():
        print(f"  error x{error.occurrences}: {error.error}", file=sys.stderr)
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "requests": total.num_requests,
        "errors": total.num_failures,
        "requests_per_s": round(total.num_requests / elapsed, 2) if elapsed else 0.0,
        "p50_ms": total.get_response_time_percentile(0.5),
        "p95_ms": total.get_response_time_percentile(0.95),
        "max_ms": round(total.max_response_time or 0.0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", help="base URL of a running server on loopback; by default the script starts one")
    parser.add_argument("--token", help="API token for --host (one token shared by all users)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=MAX_SECONDS, help=f"run time, at most {MAX_SECONDS}")
    parser.add_argument("--startup-timeout", type=float, default=600.0, help="seconds to wait for /ready (index build included)")
    parser.add_argument("--cold", action="store_true", help="start the server with an empty data folder (no embedding cache)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    seconds = max(1, min(args.seconds, MAX_SECONDS))
    questions = load_questions()

    with tempfile.TemporaryDirectory(prefix="assistant-loadtest-") as tmp:
        server = log_path = None
        if args.host:
            if urlsplit(args.host).hostname not in LOOPBACK:
                print(f"error: --host must be on loopback ({sorted(LOOPBACK)}); this script never loads other machines", file=sys.stderr)
                return 2
            base_url, tokens = args.host.rstrip("/"), [args.token] if args.token else []
        else:
            server, base_url, tokens, log_path = start_server(args.users, Path(tmp), args.cold)
            print(f"started the server at {base_url} (pid {server.pid}); waiting for /ready ...", file=sys.stderr, flush=True)
        try:
            wait_until_ready(base_url, server, args.startup_timeout, log_path)
            print(f"{args.users} users asking {len(questions)} gold-set questions for {seconds} s ...", file=sys.stderr, flush=True)
            figures = run_load(base_url, args.users, seconds, questions, tokens)
        finally:
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()

    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"users {figures['users']}  duration {figures['seconds']} s  requests {figures['requests']}  errors {figures['errors']}\n"
            f"requests/s {figures['requests_per_s']}  p50 {figures['p50_ms']} ms  p95 {figures['p95_ms']} ms  max {figures['max_ms']} ms"
        )
    return 0 if figures["errors"] == 0 and figures["requests"] > 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
