"""A profile with one fake account (a work account on a FakeServer, its password in the keyring), as the
core and window tests set it up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.api import Sphere
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id


@dataclass(frozen=True)
class FakeProfile:
    paths: ProfilePaths
    account_id: str
    secrets: SecretStore

    def forget_password(self) -> None:
        self.secrets.delete(self.account_id)


def fake_profile(home: Path, server_address: str, address: str, password: str) -> FakeProfile:
    """The profile at ``home`` with the fake account ``address`` on the server at ``server_address``."""
    paths = ProfilePaths.resolve(home)
    paths.ensure()
    account_id = make_account_id("fake", address)
    AccountStore(paths.accounts_file).add(
        AccountConfig(
            id=account_id,
            protocol="fake",
            address=address,
            server=server_address,
            allow_plaintext=True,
            sphere=Sphere.WORK,
        )
    )
    secrets = SecretStore(profile_id(paths))
    secrets.set_password(account_id, password)
    return FakeProfile(paths, account_id, secrets)
