"""Numbers from requests: route parts, query strings and form fields.

Every one is ASCII digits and at most a database id (:data:`~newsletter.store.MAX_ID`): a
bigger number could not even be looked up, and ``int()`` takes digits of any script
(``"١"``) and ``str.isdigit()`` takes ``"²"``, which ``int()`` then refuses.
"""
from __future__ import annotations

import re

from flask import Flask, abort
from werkzeug.routing import IntegerConverter, Map

from ..store import MAX_ID

_DIGITS = re.compile(r"[0-9]{1,19}")


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in every route: ASCII digits up to :data:`MAX_ID`; anything else is 404
    before a view sees it."""

    regex = r"[0-9]+"

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = MAX_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)


#: the highest page number of a paged list: its offset (pages x page size) must stay a number
#: the database can take
MAX_PAGE = 10**9


def form_number(value: str | None, default: int, maximum: int = MAX_ID) -> int:
    """A whole number from a query or form field: ``default`` when the field is missing or
    blank, HTTP 400 when it holds anything but ASCII digits or more than ``maximum``."""
    if value is None or not value.strip():
        return default
    value = value.strip()
    if not _DIGITS.fullmatch(value) or int(value) > maximum:
        abort(400, "A number in the form is not a whole number this app can use.")
    return int(value)


def page_number(value: str | None) -> int:
    """``?page=N`` of a paged list: 1 when missing or blank; HTTP 404 (no such page) for
    anything but a number from 1 to :data:`MAX_PAGE`."""
    if value is None or not value.strip():
        return 1
    value = value.strip()
    if not _DIGITS.fullmatch(value) or not 1 <= int(value) <= MAX_PAGE:
        abort(404)
    return int(value)


def init_app(app: Flask) -> None:
    """Before any blueprint: ``<int:...>`` then means :class:`RowIdConverter` in every route."""
    app.url_map.converters["int"] = RowIdConverter
