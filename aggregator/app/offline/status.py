"""Your own status and work hours on a profile no instance runs: ``status.json`` changes, and the next
start applies it. The requests and replies are the running app's (``aggregator.app.status``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aggregator.app.status import book_json, changed_book, changed_hours, hours_json
from aggregator.paths import ProfilePaths
from aggregator.presence.status import StatusFile


def _file(paths: ProfilePaths) -> StatusFile:
    return StatusFile(paths.config_dir / "status.json")


def status(paths: ProfilePaths, request: dict[str, Any]) -> dict[str, Any]:
    """The status book (after a ``status.set`` request, changed and saved); a bad request:
    ``ConfigurationError``, nothing saved."""
    file = _file(paths)
    book = file.load()
    if request["op"] == "status.set":
        book = changed_book(book, request)
        file.save(book)
    return book_json(book)


def workhours(paths: ProfilePaths, request: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The work hours after a ``status.workhours`` request (saved when it changed them)."""
    file = _file(paths)
    book = file.load()
    changed = changed_hours(book, request, now)
    if changed != book:
        file.save(changed)
    return hours_json(changed, now)
