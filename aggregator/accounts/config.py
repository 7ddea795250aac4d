"""Account settings as stored in the profile: no secrets, ever."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from aggregator.api import AccountId, AccountSettings, ConfigurationError, Sphere

log = logging.getLogger(__name__)

FILE_VERSION = 1


@dataclass(frozen=True, slots=True)
class AccountConfig:
    id: AccountId
    protocol: str
    address: str
    sphere: Sphere = Sphere.PERSONAL
    label: str = ""
    server: str | None = None
    ca_file: str | None = None
    allow_plaintext: bool = False
    enabled: bool = True
    options: Mapping[str, str] = field(default_factory=dict)
    #: SHA-256 fingerprint (``AB:CD:...``) of the server certificate the user trusts for this account
    #: whatever its issuer, name or dates (``aggregator.accounts.trust``); None: usual verification.
    pinned_certificate: str | None = None

    @property
    def display_name(self) -> str:
        return self.label or self.address

    def to_settings(self, data_dir: Path | None) -> AccountSettings:
        return AccountSettings(
            account_id=self.id,
            address=self.address,
            server=self.server,
            ca_file=Path(self.ca_file) if self.ca_file else None,
            allow_plaintext=self.allow_plaintext,
            options=dict(self.options),
            data_dir=data_dir,
            pinned_certificate=self.pinned_certificate,
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sphere"] = self.sphere.value
        data["options"] = dict(self.options)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccountConfig:
        try:
            return cls(
                id=str(data["id"]),
                protocol=str(data["protocol"]),
                address=str(data["address"]),
                sphere=Sphere(data.get("sphere", Sphere.PERSONAL.value)),
                label=str(data.get("label", "")),
                server=data.get("server"),
                ca_file=data.get("ca_file"),
                allow_plaintext=bool(data.get("allow_plaintext", False)),
                enabled=bool(data.get("enabled", True)),
                options={str(k): str(v) for k, v in dict(data.get("options", {})).items()},
                pinned_certificate=_pin(data.get("pinned_certificate")),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigurationError(f"an account entry is malformed: {exc}") from exc


def _pin(value: Any) -> str | None:
    if value is None:
        return None
    bare = str(value).replace(":", "").upper()
    if len(bare) != 64 or any(c not in "0123456789ABCDEF" for c in bare):
        raise ValueError(f"pinned_certificate {value!r} is not a SHA-256 fingerprint")
    return ":".join(bare[i : i + 2] for i in range(0, 64, 2))


def make_account_id(protocol: str, address: str) -> AccountId:
    return f"{protocol}:{address}"


def write_private_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file, fsync, rename) with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class AccountStore:
    """The profile's ``accounts.json``."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> list[AccountConfig]:
        if not self._path.exists():
            return []
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"cannot read {self._path}: {exc}") from exc
        accounts: list[AccountConfig] = []
        for entry in data.get("accounts", []):
            try:
                accounts.append(AccountConfig.from_json(entry))
            except ConfigurationError as exc:
                log.error("Skipping an account in %s: %s", self._path, exc)
        return accounts

    def save(self, accounts: Iterable[AccountConfig]) -> None:
        write_private_json(self._path, {"version": FILE_VERSION, "accounts": [a.to_json() for a in accounts]})

    def get(self, account_id: AccountId) -> AccountConfig | None:
        return next((a for a in self.load() if a.id == account_id), None)

    def add(self, account: AccountConfig) -> None:
        accounts = self.load()
        if any(a.id == account.id for a in accounts):
            raise ConfigurationError(f"account {account.id} already exists")
        self.save([*accounts, account])

    def remove(self, account_id: AccountId) -> AccountConfig:
        accounts = self.load()
        found = next((a for a in accounts if a.id == account_id), None)
        if found is None:
            raise ConfigurationError(f"no account {account_id}")
        self.save([a for a in accounts if a.id != account_id])
        return found

    def set_enabled(self, account_id: AccountId, enabled: bool) -> AccountConfig:
        accounts = self.load()
        changed: AccountConfig | None = None
        out: list[AccountConfig] = []
        for a in accounts:
            if a.id == account_id:
                changed = replace(a, enabled=enabled)
                out.append(changed)
            else:
                out.append(a)
        if changed is None:
            raise ConfigurationError(f"no account {account_id}")
        self.save(out)
        return changed

    def resolve(self, ref: str) -> AccountConfig:
        """Find an account by id, address or label; ambiguous or unknown references are errors."""
        accounts = self.load()
        exact = [a for a in accounts if a.id == ref]
        if exact:
            return exact[0]
        matches = [a for a in accounts if ref.casefold() in (a.address.casefold(), a.label.casefold())]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            known = ", ".join(a.id for a in accounts) or "none"
            raise ConfigurationError(f"no account {ref!r} (accounts: {known})")
        raise ConfigurationError(
            f"{ref!r} matches several accounts ({', '.join(a.id for a in matches)}); use the account id"
        )
