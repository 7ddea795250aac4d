"""The own-status commands as JSON requests (control socket and CLI): ``status.show``, ``status.set``
(``kind``, ``message``, ``sphere``, ``account``; kind ``clear`` drops a sphere or account status)."""

from __future__ import annotations

from typing import Any

from aggregator.api import ConfigurationError, Presence, Sphere
from aggregator.presence.status import StatusBook, parse_kind

OPS = frozenset({"status.show", "status.set"})


def book_json(book: StatusBook, shown: dict[str, Presence] | None = None) -> dict[str, Any]:
    data = book.to_json()
    if shown is not None:
        data["shown"] = {a: {"kind": p.kind.value, "message": p.status} for a, p in shown.items()}
    return data


def changed_book(book: StatusBook, request: dict[str, Any]) -> StatusBook:
    sphere_text, account = request.get("sphere"), request.get("account")
    try:
        sphere = Sphere(sphere_text) if sphere_text else None
    except ValueError:
        raise ConfigurationError(f"a sphere is 'work' or 'personal', not {sphere_text!r}") from None
    kind_text = str(request["kind"])
    if kind_text == "clear":
        if sphere is None and not account:
            raise ConfigurationError("'clear' needs --sphere or --account")
        presence = None
    else:
        presence = Presence(parse_kind(kind_text), str(request.get("message") or ""))
    return book.with_status(presence, sphere=sphere, account=account or None)
