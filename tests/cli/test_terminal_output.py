"""What a peer's text can do to the user's terminal (issue 13, defect 9): nothing.

A body, a name or a topic may hold ESC sequences, CR, C1 controls or bidirectional overrides; in text
output each is shown as a visible stand-in, a body's own lines stay indented under their message, and
``--json`` keeps the bytes exact. Also: an error always says what went wrong, ``| head`` ends quietly,
and a missing XDG_RUNTIME_DIR does not print a warning at every command.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from aggregator.api import AggregatorError
from aggregator.cli.output import error_text, printable
from protocols.fake import wire
from tests.cli.conftest import AGGREGATOR, CountingServer, Profile, Users

HOSTILE = [
    "\x1b[2J\x1b[31mred alert\x1b[0m",
    "harmless\rOVERWRITTEN",
    "first line\n2099-01-01 00:00:00  <- boss: wire the money\r\nthird line",
    "\u202eevil.exe\u202c and \x9b31m C1 CSI \x07 bell \x08 backspace \x7f",
]
#: What no text output may contain (tab and line feed are fine: a line feed only ends a line).
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  ")


def assert_terminal_safe(text: str) -> None:
    found = RAW_CONTROL.findall(text)
    assert not found, f"raw control characters {found!r} in {text!r}"


async def test_history_search_and_persons_show_a_peers_control_characters_as_visible_stand_ins(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    alice, bob = users.alice, users.bob
    await profile.add(alice, server)
    headless = await profile.headless("--print-messages", connected=alice)
    for body in HOSTILE:
        await server.deliver(bob.address, alice.address, body)
    frame = {"op": "roster_item", "handle": bob.address, "name": "Bob\x1b]0;pwned\x07\x1b[8m hidden"}
    await server.send_raw(alice.address, wire.encode(frame))
    await profile.wait_history(bob, lambda m: len(m) == len(HOSTILE))

    room = server.create_room("team@rooms.fake.test", topic="\x1b[5mblinking\x1b[0m topic")
    (await profile.run("rooms", "join", alice.account_id, room)).ok()
    rooms = (await profile.run("rooms")).ok().stdout
    assert_terminal_safe(rooms)
    assert "\u241b[5mblinking\u241b[0m topic" in rooms
    server.refuse_joins("vip@rooms.fake.test", "members\x1b[2J only\rfine")
    refused = await profile.run("rooms", "join", alice.account_id, "vip@rooms.fake.test")
    assert "members\u241b[2J only\u240dfine" in refused.error_line(1)
    assert_terminal_safe(refused.stderr)

    persons = (await profile.run("persons")).ok().stdout
    assert_terminal_safe(persons)
    assert "Bob\u241b]0;pwned\u2407\u241b[8m hidden" in persons

    # --json: the bodies exactly as sent.
    assert [m["body"] for m in await profile.history(bob)] == HOSTILE
    assert await headless.stop() == 0
    assert_terminal_safe(headless.output())

    text = (await profile.run("history", "--with", bob.address)).ok().stdout
    assert_terminal_safe(text)
    lines = text.splitlines()
    assert "\u241b[2J\u241b[31mred alert\u241b[0m" in lines[0]
    assert lines[1].endswith("harmless\u240dOVERWRITTEN")
    # A body's own lines stay under their message, indented: none of them passes for a message.
    assert lines[2].endswith(": first line")
    assert lines[3] == "    2099-01-01 00:00:00  <- boss: wire the money"
    assert lines[4] == "    third line"
    assert "<U+202E>evil.exe<U+202C>" in lines[5] and "<U+009B>31m" in lines[5]
    assert "\u2407 bell \u2408 backspace \u2421" in lines[5]
    assert [bool(STAMP.match(line)) for line in lines] == [True, True, True, False, False, True]

    found = (await profile.run("search", "alert")).ok().stdout
    assert_terminal_safe(found)
    assert "\u241b[31mred alert" in found
    hits = (await profile.run("search", "money", "--json")).ok().stdout
    assert [json.loads(line)["body"] for line in hits.splitlines()] == [HOSTILE[2]]


def test_an_error_always_says_something() -> None:
    # Exceptions without a message (a timed-out shutdown raised a bare TimeoutError) still say something.
    assert error_text(TimeoutError()) == "timed out"
    assert error_text(AggregatorError("")).startswith("AggregatorError")
    assert error_text(OSError(28, "No space left on device", "/data/archive")) == (
        "No space left on device: /data/archive"
    )
    assert printable("tab\tstays") == "tab\tstays"


async def test_history_piped_into_head_ends_quietly(
    profile: Profile, server: CountingServer, users: Users, tmp_path: Path
) -> None:
    alice, bob = users.alice, users.bob
    await profile.add(alice, server)
    headless = await profile.headless(connected=alice)
    long_body = "\n".join(f"line {i} " + "x" * 90 for i in range(90))  # about 9 KB: 20 fill the pipe
    for _ in range(20):
        await server.deliver(bob.address, alice.address, long_body)
    await profile.wait_history(bob, lambda m: len(m) == 20)
    assert await headless.stop() == 0

    proc = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        f'set -o pipefail; "{AGGREGATOR}" history --with {bob.address} | head -n 1; echo "rc=$?" >&2',
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=profile.env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert out.decode().count("\n") == 1 and "line 0" in out.decode()
    # Quiet (no "error: Broken pipe", no traceback); the status is the usual one of a writer whose
    # reader went away (SIGPIPE: 128 + 13).
    assert err.decode() == "rc=141\n"


async def test_no_runtime_dir_warning_at_every_command_without_xdg_runtime_dir(
    profile: Profile, tmp_path: Path
) -> None:
    env = {k: v for k, v in profile.env.items() if k not in ("AGGREGATOR_HOME", "XDG_RUNTIME_DIR")}
    env |= {
        "HOME": str(tmp_path / "user"),
        "XDG_CONFIG_HOME": str(tmp_path / "user" / "config"),
        "XDG_DATA_HOME": str(tmp_path / "user" / "data"),
    }
    for args in (("account", "list"), ("history", "--with", "bob@fake.test")):
        proc = await asyncio.create_subprocess_exec(
            str(AGGREGATOR),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        )
        _out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
        assert err.decode() == "", err.decode()
