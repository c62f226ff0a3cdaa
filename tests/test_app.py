"""`python app.py`: a clear message and exit code, never a stack trace, when it cannot start."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_app(env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("port", ["http", "70000", "0"])
def test_bad_port_is_a_message(port):
    result = run_app({"GRADIO_SERVER_PORT": port}, timeout=60)
    assert result.returncode == 2
    assert f"GRADIO_SERVER_PORT={port!r} is not a port number" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_in_use_is_a_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_app({"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}, timeout=60)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "GRADIO_SERVER_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_is_a_message():
    result = run_app({"GRADIO_SERVER_PORT": str(free_port()), "ASSISTANT_API_WORKERS": "many"}, timeout=60)
    assert result.returncode == 2
    assert "api_workers" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_corrupt_index_is_a_message_naming_the_fix(built_index_settings: Settings, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(built_index_settings.index_dir, index_dir)
    (index_dir / "dense.faiss").write_bytes(b"not a faiss index")
    result = run_app({"GRADIO_SERVER_PORT": str(free_port()), "ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 2
    assert "corrupt" in result.stderr and "assistant index build" in result.stderr
    assert "Traceback" not in result.stderr
