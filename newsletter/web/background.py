"""Subscription emails sent off the request's thread.

A signup answers the same whatever the address's state (no enumeration), so it must also take
the same time: the email a signup calls for (which only some states do) is handed to a small
thread pool and the answer goes out at once. :meth:`Outbox.drain` waits for what is queued
(tests, and a clean shutdown).
"""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import Flask, current_app

from .. import notices
from ..signup import Notice

KEY = "newsletter.notices"


class Outbox:
    def __init__(self, config, workers: int = 2):
        self.config = config
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="newsletter-notice")
        self.lock = threading.Lock()
        self.pending: set[Future] = set()

    def submit(self, notice: Notice) -> None:
        future = self.pool.submit(notices.send, self.config, notice)
        with self.lock:
            self.pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        with self.lock:
            self.pending.discard(future)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every email queued so far is sent (or failed); whether all finished."""
        with self.lock:
            queued = list(self.pending)
        return not wait(queued, timeout=timeout).not_done


def outbox() -> Outbox:
    return current_app.extensions[KEY]


def init_app(app: Flask) -> None:
    app.extensions[KEY] = Outbox(app.config["NEWSLETTER"])
