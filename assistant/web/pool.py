"""The bounded worker pool every API request's inference runs in, and the 503 it answers when full.

Inference blocks (models run on threads, not in the event loop), so requests
share ``settings.api_workers`` threads. When more than ``settings.api_queue_limit``
requests wait, new ones are refused at once with a Retry-After estimate instead
of hanging until the client gives up.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from assistant.errors import AssistantError

T = TypeVar("T")


class BusyError(AssistantError):
    """More requests wait than the queue allows, or the assistant is not loaded yet."""

    def __init__(self, retry_after: int, reason: str = "the assistant is busy"):
        super().__init__(f"{reason}; retry in {retry_after} s")
        self.retry_after = retry_after


class InferencePool:
    """Runs blocking inference on ``workers`` threads, with at most ``queue_limit`` waiting.

    Admission is counted up when a job is submitted and down when its thread
    finishes (hence the lock: slots are freed from worker threads). A request whose
    client has gone still holds its slot until then, so the bound is on real work,
    not on open connections.
    """

    def __init__(self, workers: int, queue_limit: int):
        self.workers = max(1, workers)
        self.capacity = self.workers + max(0, queue_limit)
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="assistant-infer")
        self._admitted = 0
        self._count_lock = threading.Lock()
        self._mean_seconds = 1.0

    @property
    def waiting(self) -> int:
        return max(0, self._admitted - self.workers)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._count_lock:
            if self._admitted >= self.capacity:
                raise BusyError(self.retry_after())
            self._admitted += 1
        context = contextvars.copy_context()
        future = self._executor.submit(context.run, functools.partial(self._timed, fn, *args, **kwargs))
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def _timed(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            # Exponential moving average of one job's time, for an honest Retry-After.
            self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * (time.perf_counter() - started)

    def _release(self, _future: Any) -> None:
        with self._count_lock:
            self._admitted -= 1

    def retry_after(self) -> int:
        """Seconds until the queue has likely drained by one worker's worth of jobs."""
        return max(1, math.ceil(self._mean_seconds * (self.waiting + 1) / self.workers))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
