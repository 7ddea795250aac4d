"""The second XMPP client's side of a file transfer: its own XEP-0363 upload and an OOB message, as
Conversations or Gajim send them (a bare slixmpp session plus aiohttp), and a plain HTTPS fetch."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp

from tests.contract.xmpp_harness import XmppPeer


def tls(ca_file: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))


async def peer_upload(peer: XmppPeer, domain: str, ca_file: Path, name: str, data: bytes, mime: str) -> str:
    """A slot from the server's upload service and a PUT with the headers it names; returns the GET URL."""
    peer.client.register_plugin("xep_0363")
    plugin = peer.client.plugin["xep_0363"]
    info = await plugin.find_upload_service(domain=domain)
    slot = (await plugin.request_slot(info["from"], name, len(data), mime))["http_upload_slot"]
    headers = {"Content-Type": mime, **{h["name"]: h["value"] for h in slot["put"]["headers"]}}
    async with (
        aiohttp.ClientSession() as session,
        session.put(slot["put"]["url"], data=data, headers=headers, ssl=tls(ca_file)) as response,
    ):
        assert response.status < 300, await response.text()
    return str(slot["get"]["url"])


def send_link(peer: XmppPeer, to: str, url: str, stanza_id: str) -> None:
    """The link as body and as XEP-0066 OOB, which is what other clients show inline."""
    peer.send_raw(
        f"<message to='{to}' type='chat' id='{stanza_id}'><body>{url}</body>"
        f"<x xmlns='jabber:x:oob'><url>{url}</url></x></message>"
    )


async def fetch(ca_file: Path, url: str) -> bytes:
    async with aiohttp.ClientSession() as session, session.get(url, ssl=tls(ca_file)) as response:
        assert response.status == 200
        return await response.read()
