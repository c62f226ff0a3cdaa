"""The benchmark command's own logic: closed-loop clients through a bounded pool, the side-by-side table, bad options."""

from __future__ import annotations

import threading
import time

import pytest

from assistant.cli import main
from assistant.cli.bench import closed_loop, comparison_table


class SlowAssistant:
    """Answers after a fixed pause, remembering how many answers ran at once."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.running = 0
        self.most_at_once = 0
        self.asked: list[str] = []
        self._lock = threading.Lock()

    def ask(self, question: str, mode: str | None = None):
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.asked.append(question)
        time.sleep(self.seconds)
        with self._lock:
            self.running -= 1


def test_closed_loop_clients_share_the_workers_and_count_queueing():
    assistant = SlowAssistant(0.02)
    rate, latencies = closed_loop(assistant, ["q1", "q2", "q3"], clients=4, seconds=0.3, workers=2)
    assert assistant.most_at_once == 2  # four clients, two workers: the rest wait, as behind the API's pool
    assert len(latencies) == len(assistant.asked) and rate > 0
    # Waiting in the queue is part of what a client sees: about two answers' time, not one.
    assert sorted(latencies)[len(latencies) // 2] >= 30
    assert set(assistant.asked) == {"q1", "q2", "q3"}


def test_the_comparison_table_puts_backends_side_by_side():
    metrics = {"recall@5": 0.9, "mrr@10": 0.8, "citation_precision": 0.7, "key_fact_recall": 0.6, "abstention_recall": 0.5, "false_abstention_rate": 0.03}
    rows = [
        ("torch/torch", {"single_p50_ms": 246, "single_p95_ms": 303, "clients_1": {"answers_per_s": 5.8}, "clients_20": {"answers_per_s": 5.27}, "peak_rss_mb": 1102, "metrics": metrics}),
        ("onnx/onnx-int8", {"single_p50_ms": 167, "single_p95_ms": 190, "clients_1": {"answers_per_s": 8.24}, "peak_rss_mb": 1047}),
    ]
    table = comparison_table(rows).splitlines()
    assert "answers/s, 1 client" in table[0] and "answers/s, 20 clients" in table[0]
    assert table[2].startswith("| torch/torch | 246 / 303 | 5.80 | 5.27 | 1102 | 0.900 | 0.800")
    assert table[3].startswith("| onnx/onnx-int8 | 167 / 190 | 8.24 | — | 1047 | —")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "--clients", "1,four"], "--clients takes numbers separated by commas"),
        (["bench", "--clients", "0"], "each level must be at least 1"),
        (["bench", "--compare", "onnx"], "--compare takes query-encoder/cross-encoder pairs"),
    ],
)
def test_bad_benchmark_options_get_a_message_before_anything_loads(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
