"""A real HTTP server on 127.0.0.1 for the tests (http.server in a thread, port 0).

``Site.routes`` maps a path to a :class:`Page` (status, headers, body) or to a function
``handler -> None`` that answers by itself (to stream, to redirect, to answer conditionally).
Every request's path and headers are kept in ``Site.requests``.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator


@dataclass
class Page:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Site:
    routes: dict[str, Page | Callable] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler_for(site: Site):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep the test output clean
            pass

        def do_GET(self) -> None:
            site.requests.append((self.path, dict(self.headers)))
            route = site.routes.get(self.path.split("?")[0])
            if route is None:
                route = Page(b"not found", 404)
            if callable(route):
                route(self)
                return
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

    return Handler


@contextmanager
def http_site(site: Site | None = None) -> Iterator[Site]:
    """Serve ``site`` on 127.0.0.1 (a free port, set on ``site.port``) until the block ends."""
    site = site or Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(site))
    server.daemon_threads = True
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
