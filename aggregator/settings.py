"""The user's settings (``settings.json`` in the profile's config dir).

Each key is validated on its own: a bad value is reported and the default is used, the rest apply.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Settings:
    #: First wait before reconnecting a dropped account, in seconds.
    reconnect_initial_delay: float = 1.0
    #: The longest wait between reconnection attempts, in seconds.
    reconnect_max_delay: float = 60.0
    #: How long to wait for a server to accept a connection, in seconds.
    connect_timeout: float = 30.0

    @classmethod
    def names(cls) -> frozenset[str]:
        """Every setting's key (what the policy file's ``defaults`` and ``locked`` tables may name)."""
        return frozenset(f.name for f in fields(cls))

    @classmethod
    def load(cls, path: Path) -> Settings:
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.error("Cannot read %s (%s); using the default settings", path, exc)
            return cls()
        if not isinstance(data, dict):
            log.error("%s does not hold a JSON object; using the default settings", path)
            return cls()
        values: dict[str, Any] = {}
        known = {f.name: f for f in fields(cls)}
        for key, value in data.items():
            if key not in known:
                log.warning("Unknown setting %r in %s is ignored", key, path)
                continue
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 3600:
                log.warning("Setting %r in %s must be a number of seconds in (0, 3600]; ignored", key, path)
                continue
            values[key] = float(value)
        return cls(**values)
