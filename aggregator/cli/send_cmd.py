"""``aggregator send ACCOUNT TO TEXT``: through the running instance if there is one, else on our own."""

from __future__ import annotations

import argparse
import asyncio
import logging

from aggregator.accounts.config import AccountConfig, AccountStore
from aggregator.api import AggregatorError, ConfigurationError, ConversationKey, MessageState, PolicyError
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.archive import StoredMessage
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out
from aggregator.cli.session import running_core
from aggregator.control.client import request
from aggregator.control.protocol import message_json
from aggregator.core import Core
from aggregator.events import ConnectionState
from aggregator.policy.engine import ConfirmationRequiredError, Verdict

log = logging.getLogger(__name__)

CONNECT_WAIT = 45.0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    send = sub.add_parser("send", help="send a message and wait until the server accepts it")
    send.add_argument("account", metavar="ACCOUNT", help="account id, address or label")
    send.add_argument("to", metavar="TO", help="the recipient's address")
    send.add_argument("text", metavar="TEXT")
    send.add_argument(
        "--confirm", action="store_true", help="send even though the organisation's policy warns about the text"
    )
    send.set_defaults(func=cmd_send)


def _report(message: dict[str, object], account: AccountConfig) -> int:
    state = message.get("state")
    if state == "failed":
        raise AggregatorError(f"the message could not be sent: {message.get('error') or 'unknown reason'}")
    if state == "pending":
        out(
            f"Queued message {message['id']} to {message['conversation']}: {account.id} is not connected; "
            "it will be sent when it reconnects."
        )
        return 0
    out(f"Sent message {message['id']} to {message['conversation']}.")
    return 0


def cmd_send(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    store = AccountStore(paths.accounts_file)
    try:
        account = store.resolve(args.account)
        registry.get(account.protocol).normalize_handle(args.to)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    if not args.text.strip():
        raise UsageError("the message is empty")
    if not account.enabled:
        raise AggregatorError(f"{account.id} is disabled; enable it first with: aggregator account enable {account.id}")
    lock = InstanceLock(paths.lock_file)
    if lock.is_held_elsewhere():
        reply = request(
            paths.control_socket,
            {"op": "send", "account": account.id, "to": args.to, "text": args.text, "confirm": args.confirm},
        )
        if not reply.get("ok"):
            error = str(reply.get("error", "the running instance refused the message"))
            raise UsageError(error) if reply.get("usage") else AggregatorError(error)
        message = reply["message"]
        assert isinstance(message, dict)
        return _report(message, account)
    lock.acquire()
    try:
        with running_core(paths) as (engine, core):
            row = engine.call(_send_alone(core, account, args.to, args.text, args.confirm))
    finally:
        lock.release()
    if row.state is MessageState.PENDING:
        sup_reason = row.error or "the account could not connect"
        raise AggregatorError(
            f"{sup_reason}; message {row.id} is queued and will be sent when {account.id} next connects"
        )
    return _report(message_json(row), account)


async def _send_alone(core: Core, account: AccountConfig, to: str, text: str, confirm: bool = False) -> StoredMessage:
    """Connect just this account, send what was pending before, then this message; wait for the ack."""
    conversation = core.outbound.prepare(account.id, to, text)  # validate before connecting
    _check_policy(core, account, conversation, text, confirm)
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
    row = await core.outbound.send(account.id, to, text, confirmed=confirm)
    await supervisor.drain()
    if row.state is MessageState.PENDING:
        row = core.archive.update_message(row.id, error=f"could not connect: {reason}") or row
    return row


def _check_policy(core: Core, account: AccountConfig, conversation: ConversationKey, text: str, confirm: bool) -> None:
    """Refuse before connecting what the policy would refuse anyway (``send`` records the decision)."""
    decision = core.policy.peek_outbound(account.id, conversation, text)
    if decision.verdict is Verdict.DENY or (decision.verdict is Verdict.WARN and not confirm):
        # The real check (which records the decision) is the same call ``send`` makes.
        core.policy.check_outbound(account.id, conversation, text, confirmed=confirm)
        if decision.verdict is Verdict.DENY:
            raise PolicyError(decision.reason, decision.rule)
        raise ConfirmationRequiredError(decision.reason, decision.rule)
