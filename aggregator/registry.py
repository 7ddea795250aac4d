"""Which protocols exist: discovered through the ``aggregator.protocols`` entry point group.

The core never imports ``protocols``; each protocol package registers its ``ProtocolInfo`` in
``pyproject.toml`` and is loaded here by name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.metadata import entry_points

from aggregator.api import ConfigurationError, ProtocolInfo

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "aggregator.protocols"


class ProtocolRegistry:
    def __init__(self, protocols: Iterable[ProtocolInfo] = ()) -> None:
        self._protocols: dict[str, ProtocolInfo] = {p.id: p for p in protocols}

    @classmethod
    def discover(cls) -> ProtocolRegistry:
        found: list[ProtocolInfo] = []
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                info = ep.load()
            except Exception:
                log.exception("Protocol %s could not be loaded", ep.name)
                continue
            if not isinstance(info, ProtocolInfo):
                log.error("Entry point %s is not a ProtocolInfo", ep.name)
                continue
            found.append(info)
        return cls(found)

    def register(self, info: ProtocolInfo) -> None:
        self._protocols[info.id] = info

    def get(self, protocol_id: str) -> ProtocolInfo:
        try:
            return self._protocols[protocol_id]
        except KeyError:
            known = ", ".join(sorted(p.id for p in self.all(include_testing=False))) or "none"
            raise ConfigurationError(f"unknown protocol {protocol_id!r} (known: {known})") from None

    def all(self, include_testing: bool = True) -> list[ProtocolInfo]:
        return sorted((p for p in self._protocols.values() if include_testing or not p.testing), key=lambda p: p.id)
