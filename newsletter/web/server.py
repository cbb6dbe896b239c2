"""The production web server: gunicorn, in-process, serving :func:`create_app`.

``workers`` processes with ``threads`` threads each. The app is made once, before the workers
start (a bad config stops the server with one line, as every command does); everything the
app keeps between requests that matters across workers lives in the database (login
throttle, signup limits) or in files (login tokens), never in one process's memory.
"""
from __future__ import annotations

from typing import Callable

from flask import Flask


def run(app: Flask, host: str, port: int, *, workers: int, threads: int,
        on_ready: Callable[[str, int], None]) -> None:
    """Serve ``app`` until stopped (SIGTERM or Ctrl-C); ``on_ready(host, port)`` is called
    once listening, with the port the kernel gave when ``port`` is 0."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": 60,
                "graceful_timeout": 30,
                "preload_app": True,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "forwarded_allow_ips": "",  # the app's ProxyFix decides what to trust
                "when_ready": lambda arbiter: on_ready(*_address(arbiter)),
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    Server().run()


def _address(arbiter) -> tuple[str, int]:
    """The host and port the server really listens on."""
    sockname = arbiter.LISTENERS[0].sock.getsockname()
    return str(sockname[0]), int(sockname[1])



