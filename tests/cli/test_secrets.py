"""The password never reaches a file of the profile, nor any output, even at -vv."""

from __future__ import annotations

import secrets

from tests.cli.conftest import CountingServer, Profile, User, Users


def files_containing(profile: Profile, needle: bytes) -> list[str]:
    found = []
    for path in sorted(profile.home.rglob("*")):
        if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
            found.append(str(path))
    return found


async def test_the_password_is_nowhere_but_in_the_keyring(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    password = f"S3cret-Pass-{secrets.token_hex(8)}"
    alice = User(server.add_user(f"secret-{secrets.token_hex(4)}@fake.test", password), password)
    bob = users.bob
    needle = password.encode()
    profile.global_args = ("-vv",)

    await profile.add(alice, server, "--label", "Secret")
    assert profile.keyring_password(alice) == password
    headless = await profile.headless("--print-messages", connected=alice)
    await server.deliver(bob.address, alice.address, "hello secret alice")
    (await profile.run("send", alice.address, bob.address, "through the instance")).ok()
    await profile.wait_history(bob, lambda m: len(m) >= 2)
    (await profile.run("account", "list")).ok()
    assert (profile.home / "data" / "archive.sqlite3-wal").exists()  # WAL files are searched too
    assert files_containing(profile, needle) == []
    assert await headless.stop() == 0

    (await profile.run("send", alice.address, bob.address, "on my own")).ok()
    (await profile.run("history", "--with", bob.address)).ok()
    assert len(await profile.history(bob)) == 3

    assert files_containing(profile, needle) == []
    outputs = [r.stdout + r.stderr for r in profile.transcript]
    outputs += ["\n".join(i.lines + i.errors) for i in profile.instances]
    assert any("DEBUG" in text for text in outputs)  # -vv really was verbose
    assert not [text for text in outputs if password in text]
