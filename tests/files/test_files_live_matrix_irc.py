"""Files through the real core on Synapse and InspIRCd, scanned by a real clamd (issue 16, "How to see it
works", for Matrix and IRC as ``test_files_live_xmpp.py`` does for XMPP): a picture and a 50 MB file from
another client arrive, are scanned and save with the same SHA-256; the EICAR test file stays quarantined
with the message kept; on IRC a DCC offer waits until the user asks, then goes the same way."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import nio
import pytest

from aggregator.accounts.config import AccountConfig
from aggregator.archive.attachments import StoredAttachment
from aggregator.core import Core
from aggregator.events import AttachmentChanged
from aggregator.files.model import AttachmentState
from protocols.irc import dcc
from tests.contract.irc_harness import IrcHarness
from tests.contract.matrix_harness import MatrixHarness
from tests.core.conftest import eventually
from tests.core.live_core import live_account
from tests.servers.clamd import EICAR, SIGNATURE_NAME, ClamdServer

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(20_000)
SETTLED = {
    AttachmentState.CLEAN,
    AttachmentState.INFECTED,
    AttachmentState.QUARANTINED,
    AttachmentState.BLOCKED,
    AttachmentState.FAILED,
}


def _policy(tmp_path: Path, clamd: ClamdServer, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'version = 1\n[rules]\nclamd_socket = "{clamd.socket}"\n'
        '[rules.personal]\nfile_transfer = "scan"\nscan_required = true\nmax_file_mb = 80\n'
    )
    monkeypatch.setenv("AGGREGATOR_POLICY", str(policy))


def _final(seen: list[AttachmentChanged], name: str) -> StoredAttachment | None:
    for event in reversed(seen):
        if event.attachment.attachment.name == name and event.attachment.attachment.state in SETTLED:
            return event.attachment
    return None


async def _settles(core: Core, seen: list[AttachmentChanged], name: str, timeout: float = 60) -> StoredAttachment:
    await eventually(lambda: _final(seen, name) is not None, timeout)
    stored = _final(seen, name)
    assert stored is not None
    return stored


async def _saved_intact(core: Core, stored: StoredAttachment, data: bytes, tmp_path: Path) -> None:
    assert stored.attachment.state is AttachmentState.CLEAN, stored
    assert core.files is not None
    saved = await core.files.save(stored.id, tmp_path / f"saved-{stored.id}")
    assert hashlib.sha256(saved.read_bytes()).digest() == hashlib.sha256(data).digest()


@pytest.fixture
async def matrix_core(
    matrix_harness: MatrixHarness,
    clamd_server: ClamdServer,
    tmp_path: Path,
    keyring_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Core, str, nio.AsyncClient, str, list[AttachmentChanged]]]:
    _policy(tmp_path, clamd_server, monkeypatch)
    user = await matrix_harness.new_matrix_user()
    peer = await matrix_harness.new_peer()
    room_id = await matrix_harness.make_direct_room(peer.address, user.user_id)
    config = AccountConfig(
        id="", protocol="matrix", address=user.user_id, server=matrix_harness.server.url, allow_plaintext=True
    )
    async with live_account(tmp_path, config, user.password) as account, account.running() as core:
        seen: list[AttachmentChanged] = []
        core.bus.subscribe(AttachmentChanged, seen.append)
        yield core, room_id, peer.client, user.user_id, seen


async def _matrix_send_file(client: nio.AsyncClient, room_id: str, name: str, data: bytes, mime: str) -> None:
    answer, _keys = await client.upload(io.BytesIO(data), content_type=mime, filename=name, filesize=len(data))
    assert isinstance(answer, nio.UploadResponse), answer
    msgtype = "m.image" if mime.startswith("image/") else "m.file"
    content = {
        "msgtype": msgtype,
        "body": name,
        "url": answer.content_uri,
        "info": {"mimetype": mime, "size": len(data)},
    }
    sent = await client.room_send(room_id, "m.room.message", content)
    assert isinstance(sent, nio.RoomSendResponse), sent


async def test_matrix_a_picture_and_50_mb_arrive_scanned_and_save_intact(
    matrix_core: tuple[Core, str, nio.AsyncClient, str, list[AttachmentChanged]], tmp_path: Path
) -> None:
    core, room_id, peer, _me, seen = matrix_core
    big = os.urandom(1024 * 1024) * 50
    await _matrix_send_file(peer, room_id, "holiday.png", PNG, "image/png")
    await _matrix_send_file(peer, room_id, "dataset.bin", big, "application/octet-stream")
    await _saved_intact(core, await _settles(core, seen, "holiday.png"), PNG, tmp_path)
    await _saved_intact(core, await _settles(core, seen, "dataset.bin", 120), big, tmp_path)


async def test_matrix_eicar_stays_quarantined_with_the_message_kept(
    matrix_core: tuple[Core, str, nio.AsyncClient, str, list[AttachmentChanged]],
) -> None:
    core, room_id, peer, _me, seen = matrix_core
    await _matrix_send_file(peer, room_id, "invoice.pdf", EICAR, "application/pdf")
    stored = await _settles(core, seen, "invoice.pdf")
    assert stored.attachment.state is AttachmentState.INFECTED and SIGNATURE_NAME in stored.attachment.reason
    message = core.archive.get(stored.message_id)
    assert message is not None and message.body == "invoice.pdf"


@pytest.mark.parametrize("payload", ["picture", "eicar"])
async def test_irc_a_dcc_offer_waits_for_the_user_then_is_scanned(
    irc_harness: IrcHarness,
    clamd_server: ClamdServer,
    tmp_path: Path,
    keyring_env: None,
    monkeypatch: pytest.MonkeyPatch,
    payload: str,
) -> None:
    _policy(tmp_path, clamd_server, monkeypatch)
    nick, password = await irc_harness.new_user()
    peer = await irc_harness.new_peer()
    config = AccountConfig(
        id="",
        protocol="irc",
        address=nick,
        server=irc_harness.server.tls_address,
        ca_file=str(irc_harness.certs.ca_file),
    )
    data, name = (PNG, "photo.png") if payload == "picture" else (EICAR, "invoice.pdf")
    source = tmp_path / "to-send"
    source.write_bytes(data)
    async with live_account(tmp_path, config, password) as account, account.running() as core:
        seen: list[AttachmentChanged] = []
        core.bus.subscribe(AttachmentChanged, seen.append)

        async def announce(offer: dcc.DccOffer) -> None:
            peer.write(peer.client.ctcp(nick, offer.ctcp()))

        sending = asyncio.create_task(dcc.Sending(source, name, len(data), "127.0.0.1").run(announce))
        await eventually(lambda: any(e.attachment.attachment.name == name for e in seen), 20)
        offered = next(e.attachment for e in seen if e.attachment.attachment.name == name)
        assert offered.attachment.state is AttachmentState.OFFERED  # a stranger's address: not dialled on its own
        assert core.files is not None
        final = await core.files.fetch(offered.id)
        await sending
        if payload == "picture":
            await _saved_intact(core, final, data, tmp_path)
        else:
            assert final.attachment.state is AttachmentState.INFECTED
