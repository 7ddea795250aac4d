"""Files through the real core on a real Prosody, scanned by a real clamd (issue 16, "How to see it works"):
a picture from a second client arrives, is scanned and saved with the same SHA-256; the EICAR test file is
quarantined with the message kept and the event in the policy log; a blocked extension is refused before
any byte moves; our own file reaches the second client intact, and a blocked one is refused by name."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aggregator.accounts.config import AccountConfig
from aggregator.api import PolicyError
from aggregator.archive.attachments import StoredAttachment
from aggregator.core import Core
from aggregator.events import AttachmentChanged
from aggregator.files.model import AttachmentState
from tests.contract.xmpp_harness import XmppHarness, XmppPeer
from tests.core.conftest import eventually
from tests.core.live_core import live_account
from tests.files.peer_upload import fetch, peer_upload, send_link
from tests.servers.clamd import EICAR, SIGNATURE_NAME, ClamdServer

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(5000)


@pytest.fixture
async def scanning(
    xmpp_harness: XmppHarness,
    clamd_server: ClamdServer,
    tmp_path: Path,
    keyring_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Core, str, XmppPeer, list[AttachmentChanged]]]:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        "version = 1\n[rules]\n"
        f'clamd_socket = "{clamd_server.socket}"\n'
        '[rules.personal]\nfile_transfer = "scan"\nscan_required = true\nmax_file_mb = 60\n'
        'blocked_extensions = ["exe", "scr", "js", "bat"]\n'
    )
    monkeypatch.setenv("AGGREGATOR_POLICY", str(policy))
    jid, password = await xmpp_harness.new_user()
    peer = await xmpp_harness.new_peer()
    await xmpp_harness.make_contacts(jid, peer.address)
    config = AccountConfig(
        id="",
        protocol="xmpp",
        address=jid,
        server=xmpp_harness.server.starttls_address,
        ca_file=str(xmpp_harness.certs.ca_file),
    )
    async with live_account(tmp_path, config, password) as account, account.running() as core:
        seen: list[AttachmentChanged] = []
        core.bus.subscribe(AttachmentChanged, seen.append)
        yield core, jid, peer, seen


def final(seen: list[AttachmentChanged], name: str) -> StoredAttachment | None:
    settled = {
        AttachmentState.CLEAN,
        AttachmentState.INFECTED,
        AttachmentState.QUARANTINED,
        AttachmentState.BLOCKED,
        AttachmentState.FAILED,
    }
    for event in reversed(seen):
        if event.attachment.attachment.name == name and event.attachment.attachment.state in settled:
            return event.attachment
    return None


async def test_a_picture_arrives_is_scanned_and_saves_with_the_same_hash(
    scanning: tuple[Core, str, XmppPeer, list[AttachmentChanged]], xmpp_harness: XmppHarness, tmp_path: Path
) -> None:
    core, jid, peer, seen = scanning
    url = await peer_upload(
        peer, xmpp_harness.server.domain, xmpp_harness.certs.ca_file, "holiday.png", PNG, "image/png"
    )
    send_link(peer, jid, url, "pic-1")
    await eventually(lambda: final(seen, "holiday.png") is not None, 30)
    stored = final(seen, "holiday.png")
    assert stored is not None and stored.attachment.state is AttachmentState.CLEAN, stored
    states = [e.attachment.attachment.state for e in seen if e.attachment.id == stored.id]
    assert states[0] is AttachmentState.OFFERED and AttachmentState.TRANSFERRING in states
    assert stored.attachment.sha256 == hashlib.sha256(PNG).hexdigest()
    assert core.files is not None
    saved = await core.files.save(stored.id, tmp_path)
    assert (
        saved == tmp_path / "holiday.png"
        and hashlib.sha256(saved.read_bytes()).digest() == hashlib.sha256(PNG).digest()
    )


async def test_eicar_is_quarantined_the_message_kept_and_the_event_logged(
    scanning: tuple[Core, str, XmppPeer, list[AttachmentChanged]], xmpp_harness: XmppHarness, tmp_path: Path
) -> None:
    core, jid, peer, seen = scanning
    url = await peer_upload(
        peer, xmpp_harness.server.domain, xmpp_harness.certs.ca_file, "invoice.pdf", EICAR, "application/pdf"
    )
    send_link(peer, jid, url, "eicar-1")
    await eventually(lambda: final(seen, "invoice.pdf") is not None, 30)
    stored = final(seen, "invoice.pdf")
    assert stored is not None and stored.attachment.state is AttachmentState.INFECTED
    assert SIGNATURE_NAME in stored.attachment.reason
    message = core.archive.get(stored.message_id)
    assert message is not None and message.body == url  # the sender's message is kept
    assert core.files is not None
    with pytest.raises(PolicyError, match="cannot be saved"):
        await core.files.save(stored.id, tmp_path)
    assert core.policy_log is not None
    logged = [r for r in core.policy_log.records() if r.action == "file_transfer"]
    assert logged and logged[-1].rule == "scan" and SIGNATURE_NAME in logged[-1].reason


async def test_a_blocked_extension_is_refused_before_it_is_fetched(
    scanning: tuple[Core, str, XmppPeer, list[AttachmentChanged]], xmpp_harness: XmppHarness
) -> None:
    core, jid, peer, seen = scanning
    url = await peer_upload(
        peer,
        xmpp_harness.server.domain,
        xmpp_harness.certs.ca_file,
        "report.pdf.exe",
        b"MZ" + b"\x00" * 100,
        "application/pdf",
    )
    send_link(peer, jid, url, "exe-1")
    await eventually(lambda: final(seen, "report.pdf.exe") is not None, 30)
    stored = final(seen, "report.pdf.exe")
    assert stored is not None and stored.attachment.state is AttachmentState.BLOCKED
    assert "blocked_extensions" in stored.attachment.reason
    assert [e.attachment.attachment.state for e in seen if e.attachment.id == stored.id] == [AttachmentState.BLOCKED]
    assert core.policy_log is not None
    assert any(r.rule == "blocked_extensions" for r in core.policy_log.records())


async def test_our_file_reaches_the_other_client_and_a_blocked_one_is_refused_by_name(
    scanning: tuple[Core, str, XmppPeer, list[AttachmentChanged]], xmpp_harness: XmppHarness, tmp_path: Path
) -> None:
    core, jid, peer, _seen = scanning
    account_id = f"xmpp:{jid}"
    path = tmp_path / "minutes.png"
    path.write_bytes(PNG)
    row = await core.outbound.send(account_id, peer.address, "", file=path)
    assert row.body == "minutes.png"
    _sender, body = await peer.next_message()
    assert hashlib.sha256(await fetch(xmpp_harness.certs.ca_file, body)).digest() == hashlib.sha256(PNG).digest()
    assert core.files is not None
    (stored,) = core.files.for_messages([row.id])[row.id]
    assert stored.attachment.remote_url == body and stored.attachment.state is AttachmentState.CLEAN
    bad = tmp_path / "tool.scr"
    bad.write_bytes(b"hello")
    with pytest.raises(PolicyError) as refused:
        await core.outbound.send(account_id, peer.address, "try this", file=bad)
    assert refused.value.rule == "blocked_extensions" and ".scr" in str(refused.value)
