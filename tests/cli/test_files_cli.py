"""Files from the command line (issue 16, item 7): ``aggregator send ACCOUNT TO --file PATH [TEXT]`` on our
own and through a running instance, ``aggregator files [--with] [--json]`` and ``files save ID -o PATH``,
with the real console script, the session's Prosody and bob as a plain slixmpp client with his own upload."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from tests.cli.conftest import Profile
from tests.cli.test_xmpp_e2e import add_account, new_account, online, start_headless
from tests.files.peer_upload import fetch, peer_upload, send_link
from tests.servers.prosody import ProsodyServer

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(4000)


async def test_send_a_file_alone_and_through_the_running_instance(
    profile: Profile, running_prosody: ProsodyServer, tmp_path: Path
) -> None:
    prosody = running_prosody
    alice, bob = await new_account(prosody, "alice"), await new_account(prosody, "bob")
    await add_account(profile, prosody, alice)
    picture = tmp_path / "team photo.png"
    picture.write_bytes(PNG)
    async with online(prosody, bob) as peer:
        sent = await profile.run("send", alice.account_id, bob.address, "--file", str(picture))
        assert sent.rc == 0, sent
        _sender, url = await peer.next_message()
        assert hashlib.sha256(await fetch(prosody.certs.ca_file, url)).digest() == hashlib.sha256(PNG).digest()

        headless = await start_headless(profile, alice)
        notes = tmp_path / "notes.txt"
        notes.write_text("agenda\n")
        through = await profile.run("send", alice.account_id, bob.address, "the agenda", "--file", str(notes))
        assert through.rc == 0, through
        assert (await peer.next_message())[1] == "the agenda"
        assert (await peer.next_message())[1].endswith("/notes.txt")

        missing = await profile.run("send", alice.account_id, bob.address, "--file", str(tmp_path / "nope.png"))
        assert missing.rc != 0 and "is not a file" in missing.stderr

        listed = await profile.run("files", "--json")
        rows = [json.loads(line) for line in listed.ok().stdout.splitlines()]
        assert [r["name"] for r in rows] == ["notes.txt", "team photo.png"]
        assert all(r["direction"] == "out" and r["state"] == "clean" and r["url"] for r in rows)
        await headless.stop()


async def test_a_received_file_is_listed_and_saved_intact(
    profile: Profile, running_prosody: ProsodyServer, tmp_path: Path
) -> None:
    prosody = running_prosody
    alice, bob = await new_account(prosody, "alice"), await new_account(prosody, "bob")
    await add_account(profile, prosody, alice)
    headless = await start_headless(profile, alice)
    async with online(prosody, bob) as peer:
        url = await peer_upload(peer, prosody.domain, prosody.certs.ca_file, "report.png", PNG, "image/png")
        send_link(peer, alice.address, url, "cli-file-1")

    deadline = time.monotonic() + 30
    while True:  # the sync point: the file's row says clean (fetched and checked by the running instance)
        result = await profile.run("files", "--with", bob.address, "--json")
        rows = [json.loads(line) for line in result.ok().stdout.splitlines()]
        if rows and rows[0]["state"] == "clean":
            break
        assert time.monotonic() < deadline, f"the received file never became clean: {rows}"
    (row,) = rows
    assert row["name"] == "report.png" and row["direction"] == "in" and row["sha256"] == hashlib.sha256(PNG).hexdigest()
    saved = await profile.run("files", "save", str(row["id"]), "-o", str(tmp_path))
    assert saved.ok().stdout.strip() == f"Saved {tmp_path / 'report.png'}"
    assert (tmp_path / "report.png").read_bytes() == PNG
    text = (await profile.run("files")).ok().stdout
    assert "report.png" in text and "clean" in text and "←" in text
    assert (await profile.run("files", "--with", "nobody@localhost")).ok().stdout.strip() == "No files."
    await headless.stop()
