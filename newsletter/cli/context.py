"""What every command shares: the config chosen by the top-level options and one database
connection, both opened on first use and closed when the command ends."""
from __future__ import annotations

import click

from ..config import Config, load_config
from ..store import Connection, connect


class State:
    """The top-level options (the config file), and what is loaded from them on first use.

    A program that embeds the commands may hand in a ready ``config`` instead (as click's
    ``obj``); the commands then use it as they would the file's.
    """

    def __init__(self, config_path: str | None, config: Config | None = None):
        self.config_path = config_path
        self._config = config
        self._db: Connection | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def db(self) -> Connection:
        if self._db is None:
            self._db = connect(self.config)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def current_config() -> Config:
    """The config of the running command."""
    return click.get_current_context().find_object(State).config


def current_db() -> Connection:
    """The database of the running command (opened once, closed when the command ends)."""
    return click.get_current_context().find_object(State).db
