"""The settings commands as JSON requests (control socket and CLI): ``settings.show`` and
``settings.set`` (``key``, ``value``)."""

from __future__ import annotations

from typing import Any

from aggregator.api import PolicyError
from aggregator.prefs.keys import SettingView
from aggregator.prefs.service import Preferences

OPS = frozenset({"settings.show", "settings.set"})


def view_json(view: SettingView) -> dict[str, Any]:
    return {"key": view.key, "value": view.value, "text": view.text, "source": view.source.value, "reason": view.reason}


def run(prefs: Preferences, request: dict[str, Any]) -> dict[str, Any]:
    """Answer one request; a policy refusal is ``{"ok": false, "policy": true, "rule": ..., "error": ...}``."""
    if request["op"] == "settings.set":
        try:
            view = prefs.set(str(request["key"]), str(request["value"]))
        except PolicyError as exc:
            return {"ok": False, "policy": True, "rule": exc.rule, "error": str(exc)}
        return {"ok": True, "setting": view_json(view)}
    return {"ok": True, "settings": [view_json(v) for v in prefs.views()]}
