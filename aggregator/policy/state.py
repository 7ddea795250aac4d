"""What the profile remembers about the policy (``policy-state.json`` in the config dir).

* ``seeded``: the ``defaults`` already written into the user's settings (each is seeded once);
* ``logging``: which spheres and accounts the last good policy required to be logged (the fail safe
  for a policy file that later becomes unusable);
* ``profiles``: which account each preseeded profile made (profile name -> account id);
* ``usernames``: usernames the user typed for profiles whose template asks for one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aggregator.accounts.config import write_private_json
from aggregator.api import Sphere
from aggregator.policy.engine import FailSafe

log = logging.getLogger(__name__)

STATE_FILE = "policy-state.json"


@dataclass
class PolicyState:
    path: Path
    seeded: dict[str, float] = field(default_factory=dict)
    logging_spheres: set[Sphere] = field(default_factory=set)
    logging_accounts: set[str] = field(default_factory=set)
    profiles: dict[str, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, config_dir: Path) -> PolicyState:
        path = config_dir / STATE_FILE
        state = cls(path)
        if not path.exists():
            return state
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
            state.seeded = {str(k): float(v) for k, v in dict(data.get("seeded", {})).items()}
            logging_ = dict(data.get("logging", {}))
            state.logging_spheres = {Sphere(s) for s in logging_.get("spheres", [])}
            state.logging_accounts = {str(a) for a in logging_.get("accounts", [])}
            state.profiles = {str(k): str(v) for k, v in dict(data.get("profiles", {})).items()}
            state.usernames = {str(k): str(v) for k, v in dict(data.get("usernames", {})).items()}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            # Losing this file must not lose the fail safe silently: say so loudly.
            log.error("Cannot read %s (%s); the policy state starts afresh", path, exc)
        return state

    def save(self) -> None:
        write_private_json(
            self.path,
            {
                "seeded": self.seeded,
                "logging": {
                    "spheres": sorted(s.value for s in self.logging_spheres),
                    "accounts": sorted(self.logging_accounts),
                },
                "profiles": self.profiles,
                "usernames": self.usernames,
            },
        )

    @property
    def fail_safe(self) -> FailSafe:
        return FailSafe(frozenset(self.logging_spheres), frozenset(self.logging_accounts))
