"""One database connection per request (flaskr style: SQLite or PostgreSQL), closed when the request ends."""
from __future__ import annotations

from flask import Flask, current_app, g

from .. import store
from ..store import Connection


def get_db() -> Connection:
    if "db" not in g:
        g.db = store.connect(current_app.config["NEWSLETTER"])
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
