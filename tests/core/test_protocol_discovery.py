"""Discovering the protocols is cheap: their libraries load with the first account that needs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from aggregator.api import FieldKind
from aggregator.registry import ProtocolRegistry

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ("nio", "slixmpp", "aiohttp", "cryptography", "protocols.irc.adapter", "protocols.fake.adapter")

_PROBE = """
import asyncio, json, sys
from aggregator.api import AccountSettings
from aggregator.registry import ProtocolRegistry

LIBRARIES = %r
def loaded():
    return sorted(m for m in LIBRARIES if m in sys.modules)

registry = ProtocolRegistry.discover()
after_discover = loaded()
info = registry.get("irc")
checks = [info.normalize_address("Alice"), info.normalize_handle("#Team[1]"), info.is_room_handle("#team")]
after_normalize = loaded()
settings = AccountSettings(account_id="a1", address="alice", server="irc.example.org:6697")
adapter = info.create(settings, lambda event: None)
print(json.dumps({
    "protocols": [p.id for p in registry.all()],
    "after_discover": after_discover,
    "after_normalize": after_normalize,
    "after_create": loaded(),
    "adapter": type(adapter).__name__,
    "checks": checks,
}))
"""


def test_discovery_and_addresses_need_no_protocol_library_until_an_account_is_created() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE % (LIBRARIES,)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["protocols"] == ["fake", "irc", "matrix", "xmpp"]
    assert found["after_discover"] == []  # no matrix-nio, slixmpp, aiohttp, cryptography, no adapter module
    assert found["after_normalize"] == []
    assert found["checks"] == ["Alice", "#team{1}", True]  # IRC casemapping without the client
    assert found["adapter"] == "IrcAdapter"
    assert "protocols.irc.adapter" in found["after_create"]
    assert "nio" not in found["after_create"] and "slixmpp" not in found["after_create"]


def test_every_protocol_declares_the_standard_fields_first_and_no_field_twice() -> None:
    for info in ProtocolRegistry.discover().all():
        names = [f.name for f in info.fields]
        assert len(names) == len(set(names)), info.id
        assert names[:3] == ["address", "password", "server"], info.id
        assert "allow_plaintext" in names, info.id
        by_name = {f.name: f for f in info.fields}
        assert by_name["address"].required and by_name["password"].secret
        assert by_name["password"].kind is FieldKind.PASSWORD
        assert by_name["allow_plaintext"].kind is FieldKind.BOOL and by_name["allow_plaintext"].default == "false"
        assert ("ca_file" in by_name) == (info.id != "fake")
