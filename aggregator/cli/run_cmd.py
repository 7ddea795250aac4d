"""``aggregator run --headless``: connect every enabled account and log everything until stopped."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

from aggregator.app.accounts import AccountCommands
from aggregator.app.offline.policy import has_preseeded_accounts
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.app.types import pinned_warning
from aggregator.cli.contacts_cmd import watch_requests
from aggregator.cli.database import database_url
from aggregator.cli.output import out, warn
from aggregator.cli.session import running_app
from aggregator.events import AccountStateChanged, ArchiveStorageChanged, ConnectionState, MessageStored
from aggregator.policy.events import PolicyDenied, PolicyNotice

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="run the client")
    run.add_argument("--headless", action="store_true", help="no window: connect, log, serve `aggregator send`")
    run.add_argument("--print-messages", action="store_true", help="print one line per message stored")
    run.set_defaults(func=cmd_run)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def state_line(event: AccountStateChanged, pinned: str | None = None) -> str:
    """One account's state; ``pinned`` (the account's pin warning) is repeated on every connect."""
    line = f"{_stamp()} {event.account_id}: {event.state.value}"
    if pinned is not None and event.state is ConnectionState.CONNECTED:
        line += f"; WARNING: it {pinned}"
    if event.reason:
        line += f": {event.reason}"
    if event.retry_in is not None:
        line += f"; retrying in {event.retry_in:.1f} s"
    if event.certificate is not None:
        line += (
            f"; the server presented SHA-256 {event.certificate.fingerprint_sha256}"
            f" (review it: aggregator account trust-cert {event.account_id})"
        )
    return line


def _policy_notice(event: PolicyNotice) -> None:
    if event.warning:
        out(f"{_stamp()} policy: WARNING: {event.message}")  # once: not again on stderr
    else:
        out(f"{_stamp()} policy: {event.message}")


def storage_line(event: ArchiveStorageChanged) -> str:
    if event.writable:
        return f"{_stamp()} archive: writable again; held accounts reconnect"
    return f"{_stamp()} archive: WARNING: cannot store messages: {event.reason}; accounts are held until there is space"


def denied_line(event: PolicyDenied) -> str:
    e = event.event
    where = " ".join(x for x in (e.account_id, e.conversation) if x)
    d = e.decision
    return f"{_stamp()} policy: {d.verdict.value} {e.action} {where}: {d.reason} [rule {d.rule}]"


def cmd_run(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    if not args.headless:
        from aggregator.cli.gui_cmd import cmd_gui

        return cmd_gui(args, paths, registry)
    paths.ensure()
    accounts = AccountCommands.offline(paths).accounts()
    if not any(a.enabled for a in accounts) and not has_preseeded_accounts():
        from aggregator.cli.errors import UsageError

        raise UsageError("no enabled account to run; add one with: aggregator account add PROTOCOL ADDRESS")
    lock = InstanceLock(paths.lock_file)
    lock.acquire()
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("Received signal %s; stopping", signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with running_app(paths, database_url(args, paths)) as (engine, app):
            app.subscribe(AccountStateChanged, lambda e: out(state_line(e, app.pinned_warning(e.account_id))))
            app.subscribe(PolicyNotice, _policy_notice)
            app.subscribe(PolicyDenied, lambda e: out(denied_line(e)))
            app.subscribe(ArchiveStorageChanged, lambda e: out(storage_line(e)))
            show_pending_requests = watch_requests(app, out, _stamp)
            if args.print_messages:
                app.subscribe(
                    MessageStored,
                    lambda e: out(
                        f"{_stamp()} {e.message.account_id}: stored message {e.message.id} "
                        f"{e.message.direction.label} {e.message.conversation.handle}"
                    ),
                )
            control = app.control_server(paths.control_socket)
            engine.call(control.start())
            engine.call(app.start())
            engine.call_soon(show_pending_requests)
            enabled = sum(a.enabled for a in app.configured_accounts())
            out(f"{_stamp()} running headless with {enabled} account(s); Ctrl+C stops")
            for account in app.configured_accounts():
                if (pinned := pinned_warning(account)) is not None and account.enabled:
                    out(f"{_stamp()} {account.id}: WARNING: it {pinned}")
                    warn(f"{account.id} {pinned}")
            while not stop.wait(0.5):
                pass
            out(f"{_stamp()} stopping")
            try:
                engine.call(control.stop(), timeout=10)
            except TimeoutError:
                warn("the control socket did not close within 10 s")
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        lock.release()
    out(f"{_stamp()} stopped")
    return 0
