"""One-shot commands on a core that runs for one command only (the CLI while no instance runs): connect
one account alone, send one message and wait for its fate, connect and review or pin a certificate."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aggregator.accounts.config import AccountConfig
from aggregator.accounts.trust import pin_and_connect, trust_presented_certificate
from aggregator.api import CertificateDetails, ConversationKey, MessageState, PolicyError
from aggregator.archive.records import StoredMessage
from aggregator.core import Core
from aggregator.events import ConnectionState
from aggregator.policy.engine import ConfirmationRequiredError, Verdict

#: How long a one-shot command waits for its account to connect (seconds).
CONNECT_WAIT = 45.0
_SETTLED = (ConnectionState.CONNECTED, ConnectionState.FAILED, ConnectionState.WAITING)


async def send_alone(
    core: Core, account: AccountConfig, to: str, text: str, confirm: bool = False, file: Path | None = None
) -> StoredMessage:
    """Connect just this account, send what was pending before, then this message; wait for the ack."""
    conversation = core.outbound.prepare(account.id, to, text, with_file=file is not None)  # before connecting
    check_policy(core, account, conversation, text, confirm)
    await core.start(only=[account.id])
    supervisor = core.accounts.supervisor(account.id)
    assert supervisor is not None
    try:
        state = await supervisor.wait_for_state(
            ConnectionState.CONNECTED, ConnectionState.FAILED, ConnectionState.WAITING, timeout=CONNECT_WAIT
        )
    except TimeoutError:
        state = supervisor.state
    reason = supervisor.reason
    if state is ConnectionState.CONNECTED:
        await asyncio.sleep(0)  # let the reconnect flush start first, so older messages go out first
        await core.outbound.wait_flushed()
    row = await core.outbound.send(account.id, to, text, confirmed=confirm, file=file)
    await supervisor.drain()
    if row.state is MessageState.PENDING:
        row = core.archive.update_message(row.id, error=f"could not connect: {reason}") or row
    return row


def check_policy(core: Core, account: AccountConfig, conversation: ConversationKey, text: str, confirm: bool) -> None:
    """Refuse before connecting what the policy would refuse anyway (``send`` records the decision)."""
    decision = core.policy.peek_outbound(account.id, conversation, text)
    if decision.verdict is Verdict.DENY or (decision.verdict is Verdict.WARN and not confirm):
        # The real check (which records the decision) is the same call ``send`` makes.
        core.policy.check_outbound(account.id, conversation, text, confirmed=confirm)
        if decision.verdict is Verdict.DENY:
            raise PolicyError(decision.reason, decision.rule)
        raise ConfirmationRequiredError(decision.reason, decision.rule)


async def connect_alone(core: Core, account: AccountConfig) -> tuple[ConnectionState, str, CertificateDetails | None]:
    """Connect the account alone (again, when already started) and wait until it settles."""
    await core.accounts.stop_account(account.id)
    core.accounts.configure([account])
    await core.start(only=[account.id])
    supervisor = core.accounts.supervisor(account.id)
    assert supervisor is not None
    try:
        state = await supervisor.wait_for_state(*_SETTLED, timeout=CONNECT_WAIT)
    except TimeoutError:
        state = supervisor.state
    return state, supervisor.reason, core.accounts.presented_certificate(account.id)


async def trust_and_wait(core: Core, account_id: str, fingerprint: str) -> tuple[ConnectionState, str]:
    await trust_presented_certificate(core, account_id, fingerprint)
    supervisor = core.accounts.supervisor(account_id)
    assert supervisor is not None
    try:
        state = await supervisor.wait_for_state(*_SETTLED, timeout=CONNECT_WAIT)
    except TimeoutError:
        state = supervisor.state
    return state, supervisor.reason


async def pin_and_wait(core: Core, account: AccountConfig, fingerprint: str) -> tuple[ConnectionState, str]:
    return await pin_and_connect(core, account.id, fingerprint, CONNECT_WAIT, restart_after_undo=False)
