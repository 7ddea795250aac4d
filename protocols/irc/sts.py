"""IRCv3 STS (strict transport security) policies remembered per host, in the account's data directory.

A server that offers ``sts=port=P`` on a plaintext connection is reconnected to with TLS on port P at once;
one that offers ``sts=duration=D`` on a TLS connection makes the host TLS-only for D seconds (counted again
each time the policy is seen and when the connection ends; ``duration=0`` forgets it). While a policy
holds, the account connects only with TLS (to the port of the policy when the account says plaintext)
and never falls back to plaintext. The file is JSON: ``{host: {"port": P, "expires": ISO time}}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

log = logging.getLogger(__name__)

STS_FILE = "irc-sts.json"


@dataclass(frozen=True, slots=True)
class StsPolicy:
    port: int
    expires: datetime
    duration: int


class StsStore:
    """The policies of one account (``path`` None: kept in memory only)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._policies: dict[str, StsPolicy] = self._load()

    @staticmethod
    def _key(host: str) -> str:
        return host.strip().lower().rstrip(".")

    def get(self, host: str, now: datetime | None = None) -> StsPolicy | None:
        """The policy in force for ``host``, if any (an expired one is forgotten)."""
        policy = self._policies.get(self._key(host))
        if policy is None:
            return None
        if policy.expires <= (now or datetime.now(UTC)):
            self.forget(host)
            return None
        return policy

    def remember(self, host: str, port: int, duration: int, now: datetime | None = None) -> None:
        """Records (or renews) the policy of ``host``; ``duration`` 0 removes it."""
        if duration <= 0:
            self.forget(host)
            return
        expires = (now or datetime.now(UTC)) + timedelta(seconds=duration)
        self._policies[self._key(host)] = StsPolicy(port, expires, duration)
        self._save()

    def forget(self, host: str) -> None:
        if self._policies.pop(self._key(host), None) is not None:
            self._save()

    def _load(self) -> dict[str, StsPolicy]:
        if self._path is None:
            return {}
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("cannot read the STS policies in %s: %s", self._path, exc)
            return {}
        policies: dict[str, StsPolicy] = {}
        if not isinstance(data, dict):
            return policies
        for host, item in data.items():
            try:
                port, expires, duration = (
                    int(item["port"]),
                    datetime.fromisoformat(item["expires"]),
                    int(item["duration"]),
                )
            except (KeyError, TypeError, ValueError):
                continue
            if 0 < port < 65536 and expires.tzinfo is not None:
                policies[str(host)] = StsPolicy(port, expires, duration)
        return policies

    def _save(self) -> None:
        if self._path is None:
            return
        data = {
            host: {"port": p.port, "expires": p.expires.isoformat(), "duration": p.duration}
            for host, p in self._policies.items()
        }
        temporary = self._path.with_suffix(".tmp")
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
            temporary.replace(self._path)
        except OSError as exc:
            log.warning("cannot write the STS policies to %s: %s", self._path, exc)
            with contextlib.suppress(OSError):
                temporary.unlink()
