"""The core's pending queue on a real IRC connection (issue 13, defect 4): a row queued for a target that no
IRC line can carry (as an older version let through) fails with its reason at the next connect, is never
sent, and does not hold back the message queued after it. Against the scripted server (no echo-message).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountConfig
from aggregator.api import ConversationKey, MessageState
from aggregator.archive import Direction
from aggregator.bootstrap import build_core
from tests.core.conftest import eventually
from tests.core.live_core import live_account
from tests.servers.scripted_irc import ScriptedIrcServer


async def test_a_queued_message_to_a_bad_target_fails_and_the_next_one_goes_out(
    tmp_path: Path, keyring_env: None
) -> None:
    async with ScriptedIrcServer() as server:
        config = AccountConfig(id="", protocol="irc", address="alice", server=server.address, allow_plaintext=True)
        async with live_account(tmp_path, config, "") as account:
            core = build_core(account.paths, backoff_factory=lambda: Backoff(initial=0.1, cap=1.0))
            try:
                rows = []
                for handle, body in (("bob\r\nquit :injected", "poisoned"), ("bob", "after it")):
                    key = ConversationKey.direct(account.account_id, handle)
                    conv_id = core.archive.conversation_id(key)
                    assert conv_id is not None
                    row = core.archive.insert_message(
                        conversation_id=conv_id, account_id=account.account_id, direction=Direction.OUT,
                        sender="alice", body=body, sent_at=datetime.now(UTC), state=MessageState.PENDING,
                        idempotency_key=uuid.uuid4().hex,
                    )  # fmt: skip
                    assert row is not None
                    rows.append(row.id)
                await core.start()
                await account.wait_connected(core)

                def state(row_id: int) -> MessageState | None:
                    found = core.archive.get(row_id)
                    return found.state if found is not None else None

                await eventually(lambda: state(rows[1]) is MessageState.SENT, 20)
                poisoned = core.archive.get(rows[0])
                assert poisoned is not None and poisoned.state is MessageState.FAILED
                assert "carriage return" in poisoned.error
                assert server.texts() == ["after it"]
                assert not [line for _, line in server.lines if line.upper().startswith("QUIT")]
            finally:
                await core.stop()
                core.close()


async def test_echo_message_without_labels_confirms_the_row_and_stores_nothing_twice(
    tmp_path: Path, keyring_env: None
) -> None:
    """A server with echo-message but no labeled-response (no labels, no msgid): the echoes are matched to
    the message by their text, in order; a body of two lines is one row, sent, and no echo is a new row."""
    async with ScriptedIrcServer(caps="echo-message") as server:
        config = AccountConfig(id="", protocol="irc", address="alice", server=server.address, allow_plaintext=True)
        async with live_account(tmp_path, config, "") as account:
            core = build_core(account.paths, backoff_factory=lambda: Backoff(initial=0.1, cap=1.0))
            try:
                await core.start()
                await account.wait_connected(core)
                first = await core.outbound.send(account.account_id, "bob", "line one\nline two")
                second = await core.outbound.send(account.account_id, "bob", "line one")
                assert (first.state, second.state) == (MessageState.SENT, MessageState.SENT)
                assert server.texts() == ["line one", "line two", "line one"]
                key = ConversationKey.direct(account.account_id, "bob")
                conv_id = core.archive.conversation_id(key, create=False)
                assert conv_id is not None
                rows = core.archive.read_rows(
                    "SELECT body, state FROM messages WHERE conversation_id = ? ORDER BY id", (conv_id,)
                )
                assert [tuple(r) for r in rows] == [
                    ("line one\nline two", MessageState.SENT),
                    ("line one", MessageState.SENT),
                ]
            finally:
                await core.stop()
                core.close()
