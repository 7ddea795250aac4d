"""Session-wide test setup. Keep this generic; area-specific fixtures belong in sub-conftests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Real-server fixtures (test CA, Prosody, ...), started only by the tests that ask for them.
# pytest allows ``pytest_plugins`` only in the top-level conftest, hence here and not per directory.
pytest_plugins = [
    "tests.servers.fixtures",
    "tests.servers.synapse_fixtures",
    "tests.servers.irc_fixtures",
    "tests.servers.postgres_fixtures",
    "tests.ui.xmpp_world",
]

# Qt must never need a display in tests; set before anything imports PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def cli_env(home: Path) -> dict[str, str]:
    """Environment for running the ``aggregator`` console script in a subprocess on profile ``home``.

    Import it with ``from tests.conftest import cli_env``.

    Inherits os.environ (so DBUS_SESSION_BUS_ADDRESS reaches the test keyring) and drops
    AGGREGATOR_POLICY so a caller's policy file never leaks into a test; set it explicitly if needed.
    """
    env = dict(os.environ)
    env.pop("AGGREGATOR_POLICY", None)
    env["AGGREGATOR_HOME"] = str(home)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


@pytest.fixture
def tmp_home(tmp_path: Path) -> Path:
    """A fresh, empty profile directory (use with ``--home`` or ``cli_env``)."""
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture(scope="session")
def keyring_env() -> Iterator[None]:
    """Require a real Secret Service. Fails (never skips) when keyring has no usable backend."""
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        pytest.fail(
            "No keyring backend: keyring.get_keyring() is the 'fail' backend "
            f"(DBUS_SESSION_BUS_ADDRESS={os.environ.get('DBUS_SESSION_BUS_ADDRESS')!r}). "
            "Run the tests with scripts/test, which starts a D-Bus session with an unlocked "
            "gnome-keyring.",
            pytrace=False,
        )
    yield
